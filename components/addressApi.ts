import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_HANDLER, bundleArchive } from "../api/bundle";
import { type Permission, ROUTES, type RouteSpec } from "../api/src/routes";
import { API_ENV } from "../api/src/settings";
import type { AddressTableRef } from "./addressStore";

/** Arguments of the AddressApi component. */
export interface AddressApiArgs {
    /** The Cognito user pool whose access tokens the API accepts (the Identity component's outputs). */
    identity: {
        userPoolId: pulumi.Input<string>;
        userPoolArn: pulumi.Input<string>;
        userPoolClientId: pulumi.Input<string>;
        /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
        issuerUrl: pulumi.Input<string>;
    };
    /** The address table (the AddressStore component): its name, ARN and index ARNs. */
    addressStore: AddressTableRef;
    /** Apex domains on which addresses are created (lower case). */
    mailDomains: string[];
    /** The operator's domain: the MX target, SPF include and DKIM key live there. Must not be a mail domain. */
    controlDomain: string;
    /** Mail domain → Route 53 hosted zone id, for every mail domain (the MailDns component's `hostedZoneIds`). */
    hostedZoneIds: pulumi.Input<Record<string, string>>;
    /** Days to keep the functions' and the API's logs. Defaults to 30. */
    logRetentionDays?: number;
    /** Requests per second the API accepts on average, and in a burst. Defaults to 10 and 20: one person's CLI. */
    throttle?: { rateLimit: number; burstLimit: number };
}

const DEFAULTS = { logRetentionDays: 30, throttle: { rateLimit: 10, burstLimit: 20 } };

const DOMAIN_RE = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const LAMBDA_ASSUME_ROLE = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** The Cognito actions behind each symbolic user permission. */
const USER_ACTIONS: Record<"users:List" | "users:Approve" | "users:Disable", string[]> = {
    "users:List": ["cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup"],
    "users:Approve": ["cognito-idp:AdminGetUser", "cognito-idp:AdminConfirmSignUp", "cognito-idp:AdminEnableUser"],
    "users:Disable": ["cognito-idp:AdminGetUser", "cognito-idp:AdminDisableUser", "cognito-idp:AdminUserGlobalSignOut"],
};

interface PolicyStatement {
    Effect: "Allow";
    Action: string[];
    Resource: pulumi.Input<string | string[]>;
    Condition?: Record<string, Record<string, string[]>>;
}

/** `POST /addresses/{address}/suspend` → `POST/addresses/*\/suspend`, the route part of an execute-api ARN. */
function executeApiRoutePath(route: RouteSpec): string {
    return `${route.method}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}

/**
 * The HTTP API behind the `cabalmail` CLI: API Gateway (HTTP API) with a Cognito JWT authorizer on every route,
 * and one Lambda function (Node.js 22, bundled by esbuild at program run time) per route of api/src/routes.ts,
 * each with its own role allowed exactly what that route does: named actions on the table, its indexes, the
 * mail domains' hosted zones (only MX/TXT/CNAME records on subdomains) or the user pool.
 */
export class AddressApi extends pulumi.ComponentResource {
    /** Base URL of the API, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com`. */
    public readonly apiUrl: pulumi.Output<string>;
    public readonly apiId: pulumi.Output<string>;
    /** Route key → function name. */
    public readonly functionNames: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AddressApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:AddressApi", name, {}, opts);
        const settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & AddressApiArgs;
        const { mailDomains, controlDomain, identity, addressStore: table } = settings;
        if (!Array.isArray(mailDomains) || mailDomains.length === 0) throw new Error(`AddressApi ${name}: mailDomains is empty; pass at least one mail domain`);
        for (const domain of [...mailDomains, controlDomain]) {
            if (typeof domain !== "string" || !DOMAIN_RE.test(domain)) throw new Error(`AddressApi ${name}: ${JSON.stringify(domain)} is not a lower-case domain name such as example.com (check mailDomains and controlDomain)`);
        }
        if (mailDomains.includes(controlDomain)) throw new Error(`AddressApi ${name}: controlDomain ${controlDomain} is also in mailDomains; addresses need domains of their own`);
        if (!Number.isInteger(settings.logRetentionDays) || settings.logRetentionDays < 1) throw new Error(`AddressApi ${name}: logRetentionDays must be a whole number of days, at least 1, got ${settings.logRetentionDays}`);
        const { rateLimit, burstLimit } = settings.throttle;
        if (!(rateLimit > 0) || !(burstLimit > 0)) throw new Error(`AddressApi ${name}: throttle.rateLimit and throttle.burstLimit must be positive, got ${rateLimit} and ${burstLimit}`);

        const hostedZoneIds = pulumi.output(args.hostedZoneIds).apply((zones) => {
            const missing = mailDomains.filter((d) => !zones[d]);
            if (missing.length > 0) throw new Error(`AddressApi ${name}: hostedZoneIds has no zone for ${missing.join(", ")}; pass one zone id per mail domain`);
            return Object.fromEntries(mailDomains.map((d) => [d, zones[d]]));
        });
        const zoneArns = hostedZoneIds.apply((zones) => Object.values(zones).map((id) => `arn:aws:route53:::hostedzone/${id.replace(/^\/hostedzone\//, "")}`));

        const api = new aws.apigatewayv2.Api(name, {
            protocolType: "HTTP",
            description: "Cabalmail: create, list, suspend, reinstate and revoke addresses; manage users",
        }, { parent: this });

        const authorizer = new aws.apigatewayv2.Authorizer(name, {
            apiId: api.id,
            authorizerType: "JWT",
            identitySources: ["$request.header.Authorization"],
            jwtConfiguration: { issuer: identity.issuerUrl, audiences: [identity.userPoolClientId] },
            name: "cognito",
        }, { parent: this });

        const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access`, { retentionInDays: settings.logRetentionDays }, { parent: this });
        new aws.apigatewayv2.Stage(name, {
            apiId: api.id,
            name: "$default",
            autoDeploy: true,
            defaultRouteSettings: { throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit },
            accessLogSettings: {
                destinationArn: accessLogs.arn,
                format: JSON.stringify({ requestId: "$context.requestId", ip: "$context.identity.sourceIp", user: "$context.authorizer.claims.username", routeKey: "$context.routeKey", status: "$context.status", error: "$context.authorizer.error", integrationError: "$context.integrationErrorMessage" }),
            },
        }, { parent: this });

        const statementFor = (permission: Permission): PolicyStatement => {
            if (permission.startsWith("table:")) return { Effect: "Allow", Action: [`dynamodb:${permission.slice("table:".length)}`], Resource: table.tableArn };
            if (permission === "byUserIndex:Query") return { Effect: "Allow", Action: ["dynamodb:Query"], Resource: table.userIndexArn };
            if (permission === "bySubdomainIndex:Query") return { Effect: "Allow", Action: ["dynamodb:Query"], Resource: table.subdomainIndexArn };
            if (permission === "dns:ChangeRecords") {
                return {
                    Effect: "Allow",
                    Action: ["route53:ChangeResourceRecordSets"],
                    Resource: zoneArns,
                    // Only the record types and names an address has: never the apex, NS or SOA of a mail domain.
                    Condition: {
                        "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["MX", "TXT", "CNAME"], "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"] },
                        "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": mailDomains.map((d) => `*.${d}`) },
                    },
                };
            }
            if (permission in USER_ACTIONS) return { Effect: "Allow", Action: USER_ACTIONS[permission as keyof typeof USER_ACTIONS], Resource: identity.userPoolArn };
            throw new Error(`AddressApi ${name}: no IAM statement for permission ${permission}`);
        };

        const environment = {
            [API_ENV.tableName]: table.tableName,
            [API_ENV.mailDomains]: mailDomains.join(","),
            [API_ENV.controlDomain]: controlDomain,
            [API_ENV.hostedZoneIds]: hostedZoneIds.apply((zones) => JSON.stringify(zones)),
            [API_ENV.userPoolId]: identity.userPoolId,
        };

        const functionNames: Record<string, pulumi.Output<string>> = {};
        for (const route of ROUTES) {
            const fnName = `${name}-${route.operation.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
            const logGroup = new aws.cloudwatch.LogGroup(fnName, { retentionInDays: settings.logRetentionDays }, { parent: this });
            const role = new aws.iam.Role(fnName, { assumeRolePolicy: LAMBDA_ASSUME_ROLE, description: `Cabalmail ${route.routeKey}` }, { parent: this });
            new aws.iam.RolePolicy(fnName, {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logGroup.arn}:*` },
                        ...route.permissions.map(statementFor),
                    ],
                }),
            }, { parent: this });
            const fn = new aws.lambda.Function(fnName, {
                description: `Cabalmail ${route.routeKey}`,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                handler: BUNDLE_HANDLER,
                code: bundleArchive(`handlers/${route.operation}.ts`),
                role: role.arn,
                memorySize: 256,
                // API Gateway gives up after 30 s; the slowest path (an undo after a Route 53 failure) takes a few seconds.
                timeout: 20,
                loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
                environment: { variables: environment },
            }, { parent: this });
            functionNames[route.routeKey] = fn.name;

            const integration = new aws.apigatewayv2.Integration(fnName, {
                apiId: api.id,
                integrationType: "AWS_PROXY",
                integrationUri: fn.arn,
                payloadFormatVersion: "2.0",
            }, { parent: this });
            new aws.apigatewayv2.Route(fnName, {
                apiId: api.id,
                routeKey: route.routeKey,
                target: pulumi.interpolate`integrations/${integration.id}`,
                authorizationType: "JWT",
                authorizerId: authorizer.id,
            }, { parent: this });
            new aws.lambda.Permission(fnName, {
                action: "lambda:InvokeFunction",
                function: fn.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${api.executionArn}/*/${executeApiRoutePath(route)}`,
            }, { parent: this });
        }

        this.apiId = api.id;
        this.apiUrl = api.apiEndpoint;
        this.functionNames = pulumi.output(functionNames);
        this.registerOutputs({ apiUrl: this.apiUrl, apiId: this.apiId, functionNames: this.functionNames });
    }
}
