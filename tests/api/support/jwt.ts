/**
 * A test key set and Cognito-shaped access tokens signed with it, so the gateway below verifies tokens for
 * real (aws-jwt-verify: signature, issuer, expiry, client id) instead of trusting whatever a test sends.
 */
import { createSign, generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";

export const TEST_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool";
export const TEST_CLIENT_ID = "testclient0123456789abcdef";

export interface TestKeySet {
    kid: string;
    privateKey: KeyObject;
    jwks: { keys: Record<string, unknown>[] };
}

export function createTestKeySet(): TestKeySet {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const kid = randomUUID();
    const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
    return { kid, privateKey, jwks: { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] } };
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

export function signJwt(keys: TestKeySet, payload: Record<string, unknown>): string {
    const header = base64url(JSON.stringify({ alg: "RS256", kid: keys.kid, typ: "JWT" }));
    const body = base64url(JSON.stringify(payload));
    const signer = createSign("RSA-SHA256");
    signer.update(`${header}.${body}`);
    return `${header}.${body}.${base64url(signer.sign(keys.privateKey))}`;
}

/** An access token as Cognito issues it: `username`, `client_id`, `token_use: access`, `cognito:groups`. */
export function accessToken(keys: TestKeySet, username: string, options: { groups?: string[]; expiresIn?: number; issuer?: string; clientId?: string; tokenUse?: string } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(keys, {
        sub: randomUUID(),
        iss: options.issuer ?? TEST_ISSUER,
        client_id: options.clientId ?? TEST_CLIENT_ID,
        token_use: options.tokenUse ?? "access",
        scope: "aws.cognito.signin.user.admin",
        username,
        ...(options.groups ? { "cognito:groups": options.groups } : {}),
        iat: now - 5,
        exp: now + (options.expiresIn ?? 3600),
    });
}
