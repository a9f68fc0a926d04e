/**
 * Sign-up, approval and the admin user routes against cognito-local, with the real pre-sign-up handler invoked
 * as a trigger and the pool's own tokens verified by the gateway (aws-jwt-verify, against the pool's JWKS).
 */
import assert from "node:assert/strict";
import {
    AdminAddUserToGroupCommand,
    AdminConfirmSignUpCommand,
    AdminGetUserCommand,
    InitiateAuthCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { checkSignUp, sha256Hex } from "../../api/triggers/preSignUp";
import { startCognitoLocal, type LocalCognito } from "./support/cognitoLocal";
import { startApiFixture, type ApiFixture } from "./support/fixture";
import { jwtVerifier, startGateway, type LocalGateway } from "./support/gateway";

const INVITATION_CODE = "open-sesame-2026";
const PASSWORD = "Correct-Horse-9-Battery";

describe("users: sign-up with invitation code, approval by an admin, admin user routes (cognito-local)", () => {
    let cognito: LocalCognito;
    let api: ApiFixture;
    let gateway: LocalGateway;

    before(async () => {
        cognito = await startCognitoLocal({ triggers: { "cabal-pre-sign-up": async (event) => checkSignUp(event, sha256Hex(INVITATION_CODE)) }, preSignUp: "cabal-pre-sign-up" });
        api = await startApiFixture({ userPoolId: cognito.userPoolId });
        api.deps.cognito = cognito.client;
        gateway = await startGateway({ deps: () => api.deps, verifier: jwtVerifier(cognito.issuer, cognito.clientId, await cognito.jwks()) });
        // The first admin is made by the operator with the AWS CLI (see api/README.md); here, directly.
        await signUp("root", INVITATION_CODE);
        await cognito.client.send(new AdminConfirmSignUpCommand({ UserPoolId: cognito.userPoolId, Username: "root" }));
        await cognito.client.send(new AdminAddUserToGroupCommand({ UserPoolId: cognito.userPoolId, Username: "root", GroupName: "admin" }));
    });
    after(async () => {
        await gateway?.stop();
        await api?.stop();
        await cognito?.stop();
    });

    const signUp = (username: string, invitationCode?: string) =>
        cognito.client.send(
            new SignUpCommand({
                ClientId: cognito.clientId,
                Username: username,
                Password: PASSWORD,
                UserAttributes: [{ Name: "email", Value: `${username}@home.example.org` }],
                ClientMetadata: invitationCode ? { invitationCode } : undefined,
            }),
        );
    const signIn = async (username: string) =>
        (await cognito.client.send(new InitiateAuthCommand({ ClientId: cognito.clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD } }))).AuthenticationResult!.AccessToken!;
    const call = async (method: string, path: string, token: string) => {
        const response = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, body: (await response.json()) as any };
    };

    it("refuses a sign-up without the invitation code, with a wrong one, or with a user name unfit for a mailbox", async () => {
        await assert.rejects(signUp("mallory"), /needs an invitation code/);
        await assert.rejects(signUp("mallory", "guess"), /invitation code is not valid/);
        await assert.rejects(signUp("Mallory Smith", INVITATION_CODE), /user name "Mallory Smith" is not allowed/);
    });

    it("keeps a new user waiting: signed up but unable to sign in until an admin approves", async () => {
        await signUp("alice", INVITATION_CODE);
        await assert.rejects(signIn("alice"), (error: Error) => error.name === "UserNotConfirmedException");

        const admin = await signIn("root");
        const listed = await call("GET", "/admin/users", admin);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        const byName = Object.fromEntries(listed.body.users.map((u: { username: string }) => [u.username, u]));
        assert.equal(byName.alice.status, "UNCONFIRMED");
        assert.equal(byName.alice.admin, false);
        assert.equal(byName.alice.email, "alice@home.example.org");
        assert.equal(byName.root.admin, true);

        const approved = await call("POST", "/admin/users/alice/approve", admin);
        assert.equal(approved.status, 200, JSON.stringify(approved.body));
        const token = await signIn("alice");
        assert.equal((await call("GET", "/addresses", token)).status, 200, "the pool's own access token passes the authorizer");
        assert.equal((await call("GET", "/admin/users", token)).status, 403, "alice is no admin");
    });

    it("disables a user; refuses to disable oneself; 404 for unknown users and 400 for malformed names", async () => {
        await signUp("bob", INVITATION_CODE);
        const admin = await signIn("root");
        await call("POST", "/admin/users/bob/approve", admin);
        const disabled = await call("POST", "/admin/users/bob/disable", admin);
        assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
        const bob = await cognito.client.send(new AdminGetUserCommand({ UserPoolId: cognito.userPoolId, Username: "bob" }));
        assert.equal(bob.Enabled, false);
        const listed = await call("GET", "/admin/users", admin);
        assert.equal(listed.body.users.find((u: { username: string }) => u.username === "bob").enabled, false);

        const self = await call("POST", "/admin/users/root/disable", admin);
        assert.equal(self.status, 400);
        assert.match(self.body.error, /cannot disable yourself/);
        assert.equal((await call("POST", "/admin/users/nobody-here/approve", admin)).status, 404);
        assert.equal((await call("POST", "/admin/users/Bad%20Name/approve", admin)).status, 400);
    });
});
