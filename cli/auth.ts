/** Signing in and up with Cognito, and keeping the session's access token fresh. */
import {
    AssociateSoftwareTokenCommand,
    type AuthenticationResultType,
    CognitoIdentityProviderClient,
    SetUserMFAPreferenceCommand,
    VerifySoftwareTokenCommand,
    InitiateAuthCommand,
    RespondToAuthChallengeCommand,
    RevokeTokenCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CliError, type CliConfig, type Session } from "./config";

export function cognitoClient(config: CliConfig): CognitoIdentityProviderClient {
    return new CognitoIdentityProviderClient({
        region: config.region,
        // Sign-in, sign-up, refresh and revocation are unauthenticated Cognito calls: no AWS credentials are used.
        ...(config.cognitoEndpoint ? { endpoint: config.cognitoEndpoint } : {}),
    });
}

const errorName = (error: unknown) => (error as { name?: string })?.name ?? "";
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Cognito's answers, in words a user can act on. */
function signInError(error: unknown, username: string): CliError {
    switch (errorName(error)) {
        case "UserNotConfirmedException":
            return new CliError(`${username} has signed up but is not approved yet: an administrator must approve the account (cabalmail user approve ${username}).`);
        case "NotAuthorizedException":
            return /disabled/i.test(errorText(error))
                ? new CliError(`The account ${username} is disabled; ask an administrator.`)
                : new CliError("Wrong user name or password.");
        case "CodeMismatchException":
        case "ExpiredCodeException":
            return new CliError("The one-time code is wrong or expired; sign in again with the code your app shows now.");
        case "PasswordResetRequiredException":
            return new CliError("Your password must be reset by an administrator before you can sign in.");
        case "UserNotFoundException":
        case "InvalidPasswordException": // what cognito-local answers for a wrong password
            return new CliError("Wrong user name or password.");
        default:
            return new CliError(`Sign-in failed: ${errorText(error)}`);
    }
}

export type Prompt = (question: string, options?: { secret?: boolean }) => Promise<string>;

/** USER_PASSWORD_AUTH, then the one-time code when the user turned TOTP on. */
export async function signIn(config: CliConfig, username: string, password: string, prompt: Prompt): Promise<Session> {
    const cognito = cognitoClient(config);
    let result: AuthenticationResultType | undefined;
    try {
        const response = await cognito.send(new InitiateAuthCommand({ ClientId: config.userPoolClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: password } }));
        result = response.AuthenticationResult;
        if (!result && response.ChallengeName === "SOFTWARE_TOKEN_MFA") {
            const code = (await prompt("One-time code from your authenticator app: ")).trim();
            const answer = await cognito.send(
                new RespondToAuthChallengeCommand({ ClientId: config.userPoolClientId, ChallengeName: "SOFTWARE_TOKEN_MFA", Session: response.Session, ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code } }),
            );
            result = answer.AuthenticationResult;
        } else if (!result) {
            throw new CliError(`Sign-in needs a step this CLI does not support (${response.ChallengeName}); an administrator can set a permanent password for you.`);
        }
    } catch (error) {
        if (error instanceof CliError) throw error;
        throw signInError(error, username);
    } finally {
        cognito.destroy();
    }
    if (!result?.AccessToken) throw new CliError("Cognito returned no access token.");
    return { username, accessToken: result.AccessToken, refreshToken: result.RefreshToken };
}

export async function signUp(config: CliConfig, username: string, password: string, email: string, invitationCode?: string): Promise<void> {
    const cognito = cognitoClient(config);
    try {
        const metadata = invitationCode ? { invitationCode } : undefined;
        await cognito.send(
            new SignUpCommand({ ClientId: config.userPoolClientId, Username: username, Password: password, UserAttributes: [{ Name: "email", Value: email }], ClientMetadata: metadata, ValidationData: invitationCode ? [{ Name: "invitationCode", Value: invitationCode }] : undefined }),
        );
    } catch (error) {
        const name = errorName(error);
        if (name === "UsernameExistsException") throw new CliError(`The user name ${username} is taken; choose another.`);
        if (name === "InvalidPasswordException") throw new CliError(`The password is too weak: ${errorText(error)}`);
        // The pre-sign-up trigger's message comes back as "PreSignUp failed with error <message>."
        if (name === "UserLambdaValidationException") throw new CliError(`Sign-up refused: ${errorText(error).replace(/^.*failed with error\s*/i, "")}`);
        throw new CliError(`Sign-up failed: ${errorText(error)}`);
    } finally {
        cognito.destroy();
    }
}

/** Seconds until the token's `exp`, or -Infinity when it cannot be read. */
export function secondsLeft(token: string, now = Date.now()): number {
    try {
        const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
        return typeof payload.exp === "number" ? payload.exp - now / 1000 : -Infinity;
    } catch {
        return -Infinity;
    }
}

export const SESSION_EXPIRED = "Your session has expired. Sign in again with: cabalmail login";

/** A fresh access token from the refresh token; a CliError telling the user to sign in when that fails. */
export async function refreshSession(config: CliConfig, session: Session): Promise<Session> {
    if (!session.refreshToken) throw new CliError(SESSION_EXPIRED);
    const cognito = cognitoClient(config);
    try {
        const response = await cognito.send(new InitiateAuthCommand({ ClientId: config.userPoolClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: session.refreshToken } }));
        const accessToken = response.AuthenticationResult?.AccessToken;
        if (!accessToken) throw new CliError(SESSION_EXPIRED);
        return { ...session, accessToken };
    } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(SESSION_EXPIRED);
    } finally {
        cognito.destroy();
    }
}

export async function revokeSession(config: CliConfig, session: Session): Promise<void> {
    if (!session.refreshToken) return;
    const cognito = cognitoClient(config);
    try {
        await cognito.send(new RevokeTokenCommand({ ClientId: config.userPoolClientId, Token: session.refreshToken }));
    } catch {
        // Signing out locally is what the user asked for; a failed revocation only leaves a token that expires.
    } finally {
        cognito.destroy();
    }
}

/**
 * Turns on TOTP for the signed-in user: shows the secret (and an otpauth URI for QR-code apps), asks for a code
 * from the app to prove it is set up, then makes TOTP required at every sign-in.
 */
export async function enableTotp(config: CliConfig, session: Session, prompt: Prompt, print: (text: string) => void): Promise<void> {
    const cognito = cognitoClient(config);
    try {
        const { SecretCode } = await cognito.send(new AssociateSoftwareTokenCommand({ AccessToken: session.accessToken }));
        if (!SecretCode) throw new CliError("Cognito returned no TOTP secret.");
        print(`Add this key to your authenticator app: ${SecretCode}`);
        print(`(or as a URI: otpauth://totp/Cabalmail:${encodeURIComponent(session.username)}?secret=${SecretCode}&issuer=Cabalmail)`);
        const code = (await prompt("Code the app shows now: ")).trim();
        const verified = await cognito.send(new VerifySoftwareTokenCommand({ AccessToken: session.accessToken, UserCode: code, FriendlyDeviceName: "cabalmail" }));
        if (verified.Status !== "SUCCESS") throw new CliError("That code does not match; TOTP stays off. Check the app's clock and try again.");
        await cognito.send(new SetUserMFAPreferenceCommand({ AccessToken: session.accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
    } catch (error) {
        if (error instanceof CliError) throw error;
        if (errorName(error) === "EnableSoftwareTokenMFAException" || errorName(error) === "CodeMismatchException") throw new CliError("That code does not match; TOTP stays off. Check the app's clock and try again.");
        throw new CliError(`Turning on TOTP failed: ${errorText(error)}`);
    } finally {
        cognito.destroy();
    }
}

export async function disableTotp(config: CliConfig, session: Session): Promise<void> {
    const cognito = cognitoClient(config);
    try {
        await cognito.send(new SetUserMFAPreferenceCommand({ AccessToken: session.accessToken, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false } }));
    } catch (error) {
        throw new CliError(`Turning off TOTP failed: ${errorText(error)}`);
    } finally {
        cognito.destroy();
    }
}
