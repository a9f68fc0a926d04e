import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_HANDLER, bundleArchive } from "../api/bundle";
import { ADMIN_GROUP } from "../api/src/routes";
import { INVITATION_CODE_SHA256_ENV } from "../api/triggers/preSignUp";

/** Arguments of the Identity component. */
export interface IdentityArgs {
    /**
     * When set, a self sign-up must carry this code (client metadata `invitationCode`). Only its SHA-256 reaches
     * the pre-sign-up function. Pass a secret. Defaults to none: anyone may sign up, and still waits for approval.
     */
    invitationCode?: pulumi.Input<string>;
    /** Shortest password the pool accepts. Defaults to 12; at least 8 (Cognito allows 6). */
    passwordMinimumLength?: number;
    /**
     * How long an access token (what the API accepts) lives, in minutes: 5 to 1440. Defaults to 5, Cognito's
     * shortest: it bounds how long a disabled user keeps API access (API Gateway checks signatures, not user
     * state), and the `cabalmail` CLI refreshes it without asking.
     */
    accessTokenValidityMinutes?: number;
    /** How long a sign-in lasts before the password is asked again, in days: 1 to 3650. Defaults to 30. */
    refreshTokenValidityDays?: number;
    /** Cognito's deletion protection on the pool. Defaults to true: deleting the pool deletes every user. */
    deletionProtection?: boolean;
    /** Days to keep the pre-sign-up function's logs. Defaults to 30. */
    logRetentionDays?: number;
}

const DEFAULTS = {
    passwordMinimumLength: 12,
    accessTokenValidityMinutes: 5,
    refreshTokenValidityDays: 30,
    deletionProtection: true,
    logRetentionDays: 30,
};

const LAMBDA_ASSUME_ROLE = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/**
 * The Cognito user pool of Cabalmail's users, and the app client that the CLI and the IMAP servers sign in with.
 *
 * - Self sign-up, optionally with an invitation code, checked by a pre-sign-up function that also keeps user
 *   names fit for mailbox names. New users stay UNCONFIRMED (no e-mail verification is configured, and the
 *   trigger never auto-confirms) until an admin (a member of the `admin` group) approves them with
 *   AdminConfirmSignUp; an admin disables a user with AdminDisableUser. See api/README.md.
 * - A password policy of length and all four character classes; optional TOTP; account recovery by admins only
 *   (no unverified e-mail can be used to take an account over).
 */
export class Identity extends pulumi.ComponentResource {
    public readonly userPoolId: pulumi.Output<string>;
    public readonly userPoolArn: pulumi.Output<string>;
    /** The public app client (no secret) used by the CLI and, with USER_PASSWORD_AUTH, by the IMAP servers. */
    public readonly userPoolClientId: pulumi.Output<string>;
    /** The pool's token issuer, `https://cognito-idp.<region>.amazonaws.com/<pool id>`: what JWT authorizers check. */
    public readonly issuerUrl: pulumi.Output<string>;
    /** The pool's region, where clients send sign-in requests. */
    public readonly region: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:Identity", name, {}, opts);
        const settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & IdentityArgs;
        const wholeIn = (key: keyof typeof DEFAULTS, min: number, max: number) => {
            const value = settings[key] as number;
            if (!Number.isInteger(value) || value < min || value > max) throw new Error(`Identity ${name}: ${key} must be a whole number from ${min} to ${max}, got ${value}`);
        };
        wholeIn("passwordMinimumLength", 8, 99);
        wholeIn("accessTokenValidityMinutes", 5, 1440);
        wholeIn("refreshTokenValidityDays", 1, 3650);
        wholeIn("logRetentionDays", 1, 3653);

        const logGroup = new aws.cloudwatch.LogGroup(`${name}-pre-sign-up`, { retentionInDays: settings.logRetentionDays }, { parent: this });
        const role = new aws.iam.Role(`${name}-pre-sign-up`, { assumeRolePolicy: LAMBDA_ASSUME_ROLE, description: "Cabalmail pre-sign-up trigger: writes its own logs, nothing else" }, { parent: this });
        new aws.iam.RolePolicy(`${name}-pre-sign-up`, {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logGroup.arn}:*` }],
            }),
        }, { parent: this });

        const invitationCodeSha256 = args.invitationCode === undefined ? undefined : pulumi.secret(pulumi.output(args.invitationCode).apply((code) => {
            if (code.trim().length < 8) throw new Error(`Identity ${name}: invitationCode must be at least 8 characters long, or left unset`);
            return createHash("sha256").update(code, "utf8").digest("hex");
        }));
        const preSignUp = new aws.lambda.Function(`${name}-pre-sign-up`, {
            description: "Cabalmail: checks the invitation code and user name on sign-up; never auto-confirms",
            runtime: aws.lambda.Runtime.NodeJS22dX,
            architectures: ["arm64"],
            handler: BUNDLE_HANDLER,
            code: bundleArchive("triggers/preSignUp.ts"),
            role: role.arn,
            memorySize: 128,
            timeout: 5,
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
            environment: invitationCodeSha256 ? { variables: { [INVITATION_CODE_SHA256_ENV]: invitationCodeSha256 } } : undefined,
        }, { parent: this });

        const pool = new aws.cognito.UserPool(name, {
            // Sign-in by user name (also the mailbox name); case-insensitive so Alice and alice are one user.
            usernameConfiguration: { caseSensitive: false },
            schemas: [{ name: "email", attributeDataType: "String", required: true, mutable: true, stringAttributeConstraints: { minLength: "3", maxLength: "254" } }],
            // No auto-verified attributes: Cognito sends no confirmation code, so only an admin can confirm a sign-up.
            autoVerifiedAttributes: [],
            passwordPolicy: {
                minimumLength: settings.passwordMinimumLength,
                requireLowercase: true,
                requireUppercase: true,
                requireNumbers: true,
                requireSymbols: true,
                temporaryPasswordValidityDays: 3,
            },
            mfaConfiguration: "OPTIONAL",
            softwareTokenMfaConfiguration: { enabled: true },
            accountRecoverySetting: { recoveryMechanisms: [{ name: "admin_only", priority: 1 }] },
            adminCreateUserConfig: { allowAdminCreateUserOnly: false },
            lambdaConfig: { preSignUp: preSignUp.arn },
            deletionProtection: settings.deletionProtection ? "ACTIVE" : "INACTIVE",
        }, { parent: this });

        new aws.lambda.Permission(`${name}-pre-sign-up`, {
            action: "lambda:InvokeFunction",
            function: preSignUp.name,
            principal: "cognito-idp.amazonaws.com",
            sourceArn: pool.arn,
        }, { parent: this });

        new aws.cognito.UserGroup(`${name}-${ADMIN_GROUP}`, {
            name: ADMIN_GROUP,
            userPoolId: pool.id,
            description: "Cabalmail administrators: approve and disable users, see and manage every address",
        }, { parent: this });

        const client = new aws.cognito.UserPoolClient(`${name}-cli`, {
            userPoolId: pool.id,
            // A public client: a CLI and a mail server cannot keep a client secret secret from their users anyway.
            generateSecret: false,
            // The password flow, over TLS to Cognito: the IMAP servers need it to check passwords, and the CLI uses it too.
            explicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            preventUserExistenceErrors: "ENABLED",
            enableTokenRevocation: true,
            accessTokenValidity: settings.accessTokenValidityMinutes,
            idTokenValidity: settings.accessTokenValidityMinutes,
            refreshTokenValidity: settings.refreshTokenValidityDays,
            tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
            authSessionValidity: 3,
        }, { parent: this });

        this.userPoolId = pool.id;
        this.userPoolArn = pool.arn;
        this.userPoolClientId = client.id;
        this.region = pool.arn.apply((arn) => arn.split(":")[3]);
        this.issuerUrl = pulumi.interpolate`https://cognito-idp.${this.region}.amazonaws.com/${pool.id}`;
        this.registerOutputs({ userPoolId: this.userPoolId, userPoolArn: this.userPoolArn, userPoolClientId: this.userPoolClientId, issuerUrl: this.issuerUrl, region: this.region });
    }
}
