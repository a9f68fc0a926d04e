/**
 * Checks a user's Cognito password for IMAP and SMTP-submission logins (see mail/README.md for why mail clients
 * use the user's own password rather than app passwords).
 *
 * Mail clients log in on every connection and often hold several, so successful checks are remembered for a
 * short while under a salted hash of user name and password; failures are never remembered, so a changed
 * password works at once. The user name that comes back is the pool's canonical one (from the ID token), so a
 * login by e-mail alias still opens the user's own mailbox.
 */
import {
    CognitoIdentityProviderClient,
    InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { createHash, randomBytes } from "node:crypto";
import { TemporaryLookupError } from "./addressDirectory";

export interface CognitoPasswordOptions {
    /** The user pool's app client id (USER_POOL_CLIENT_ID); the client must allow USER_PASSWORD_AUTH and have no secret. */
    clientId: string;
    /** The user pool id (USER_POOL_ID): only used to derive the region when none is given. */
    userPoolId?: string;
    /** The AWS region; defaults to the user pool id's prefix, then to the SDK's (AWS_REGION). */
    region?: string;
    /** An endpoint override (cognito-local in tests). */
    endpoint?: string;
    /** Explicit credentials (tests against cognito-local); InitiateAuth itself needs none. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
    /** How long a successful check is reused, in milliseconds. Default 60000. */
    successCacheTtlMs?: number;
}

export type PasswordCheck = { ok: true; user: string } | { ok: false; reason: string };

/** Failures that mean "wrong credentials or unusable account", as opposed to "Cognito is unreachable". */
const REFUSALS = new Set([
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
    "InvalidParameterException",
]);

export class CognitoPasswordChecker {
    private readonly client: CognitoIdentityProviderClient;
    private readonly salt = randomBytes(16);
    private readonly successes = new Map<string, { user: string; expires: number }>();
    private readonly ttlMs: number;

    constructor(private readonly options: CognitoPasswordOptions) {
        if (!options.clientId) throw new Error("CognitoPasswordChecker: clientId is empty; set USER_POOL_CLIENT_ID to the user pool's app client id");
        const region = options.region ?? (options.userPoolId?.includes("_") ? options.userPoolId.split("_")[0] : undefined);
        this.client = new CognitoIdentityProviderClient({
            region,
            endpoint: options.endpoint,
            credentials: options.credentials,
            maxAttempts: 2,
            requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
        });
        this.ttlMs = options.successCacheTtlMs ?? 60000;
    }

    /** Throws TemporaryLookupError when Cognito cannot be asked. */
    async check(username: string, password: string): Promise<PasswordCheck> {
        if (!username || !password) return { ok: false, reason: "empty user name or password" };
        const cacheKey = createHash("sha256").update(this.salt).update(username).update("\0").update(password).digest("base64");
        const cached = this.successes.get(cacheKey);
        if (cached && cached.expires > Date.now()) return { ok: true, user: cached.user };
        let result;
        try {
            result = await this.client.send(
                new InitiateAuthCommand({
                    AuthFlow: "USER_PASSWORD_AUTH",
                    ClientId: this.options.clientId,
                    AuthParameters: { USERNAME: username, PASSWORD: password },
                }),
            );
        } catch (err) {
            const e = err as Error;
            if (REFUSALS.has(e.name)) return { ok: false, reason: `${e.name}: ${e.message}` };
            throw new TemporaryLookupError(`Cognito InitiateAuth failed: ${e.name}: ${e.message}`);
        }
        if (result.ChallengeName) {
            return { ok: false, reason: `the account needs the ${result.ChallengeName} challenge, which a mail client cannot answer: sign in on the web first` };
        }
        const user = canonicalUserName(result.AuthenticationResult?.IdToken) ?? canonicalUserName(result.AuthenticationResult?.AccessToken);
        if (!user) throw new TemporaryLookupError("Cognito answered without a token naming the user");
        if (this.successes.size > 10000) this.successes.clear();
        this.successes.set(cacheKey, { user, expires: Date.now() + this.ttlMs });
        return { ok: true, user };
    }

    destroy(): void {
        this.client.destroy();
    }
}

/**
 * The user name claim of a token that Cognito has just handed us over TLS: no signature check is needed for a
 * token we did not receive from the client.
 */
function canonicalUserName(token: string | undefined): string | undefined {
    if (!token) return undefined;
    try {
        const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as Record<string, unknown>;
        const name = payload["cognito:username"] ?? payload["username"];
        return typeof name === "string" && name.length > 0 ? name : undefined;
    } catch {
        return undefined;
    }
}
