/**
 * The `cabalmail` CLI end to end on loopback: configure from stack outputs, sign up (real pre-sign-up trigger),
 * approval by an admin, sign in against cognito-local, and every address and user command through the local
 * gateway (real JWT verification) to the handlers on dynalite. Also: expired sessions and API errors.
 */
import assert from "node:assert/strict";
import { AdminAddUserToGroupCommand, AdminConfirmSignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSignUp, sha256Hex } from "../../api/triggers/preSignUp";
import { runCli } from "../../cli/program";
import { startCognitoLocal, type LocalCognito } from "../api/support/cognitoLocal";
import { startApiFixture, type ApiFixture } from "../api/support/fixture";
import { jwtVerifier, startGateway, type LocalGateway } from "../api/support/gateway";
import { accessToken, createTestKeySet } from "../api/support/jwt";

const INVITATION_CODE = "welcome-to-the-cabal";

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret, as an authenticator app computes it. */
function totp(secretBase32: string, now = Date.now()): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = "";
    for (const c of secretBase32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
    const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(now / 30000)));
    const hmac = createHmac("sha1", key).update(counter).digest();
    const offset = hmac[hmac.length - 1] & 0xf;
    return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
const PASSWORD = "Correct-Horse-9-Battery";

describe("cabalmail CLI", () => {
    let cognito: LocalCognito;
    let api: ApiFixture;
    let gateway: LocalGateway;
    let home: string;
    const dirs: Record<string, string> = {};

    /** Runs the CLI as `who` (each with their own config directory); answers every prompt with `answers` in turn. */
    async function cli(who: string, args: string[], answers: string[] = [PASSWORD, PASSWORD]) {
        dirs[who] ??= mkdtempSync(join(home, `${who}-`));
        const out: string[] = [];
        const err: string[] = [];
        const queue = [...answers];
        const code = await runCli(args, { configDir: dirs[who], stdout: (t) => out.push(t), stderr: (t) => err.push(t), prompt: async () => queue.shift() ?? "" });
        return { code, out: out.join("\n"), err: err.join("\n") };
    }

    before(async () => {
        cognito = await startCognitoLocal({ triggers: { "pre-sign-up": async (event) => checkSignUp(event, sha256Hex(INVITATION_CODE)) }, preSignUp: "pre-sign-up" });
        api = await startApiFixture({ userPoolId: cognito.userPoolId });
        api.deps.cognito = cognito.client;
        gateway = await startGateway({ deps: () => api.deps, verifier: jwtVerifier(cognito.issuer, cognito.clientId, await cognito.jwks()) });
        home = mkdtempSync(join(tmpdir(), "cabal-cli-"));
        const outputs = join(home, "outputs.json");
        writeFileSync(outputs, JSON.stringify({ apiUrl: `${gateway.url}/`, userPoolRegion: "us-east-1", userPoolId: cognito.userPoolId, userPoolClientId: cognito.clientId, vpcId: "vpc-1" }));
        for (const who of ["root", "alice", "bob"]) {
            const configured = await cli(who, ["configure", "--from-outputs", outputs, "--cognito-endpoint", cognito.endpoint]);
            assert.equal(configured.code, 0, configured.err);
        }
        // The first admin is made by the operator with the AWS CLI (api/README.md).
        assert.equal((await cli("root", ["signup", "--username", "root", "--email", "root@home.example.org", "--invitation-code", INVITATION_CODE])).code, 0);
        await cognito.client.send(new AdminConfirmSignUpCommand({ UserPoolId: cognito.userPoolId, Username: "root" }));
        await cognito.client.send(new AdminAddUserToGroupCommand({ UserPoolId: cognito.userPoolId, Username: "root", GroupName: "admin" }));
        assert.equal((await cli("root", ["login", "--username", "root"], [PASSWORD])).code, 0);
    });
    after(async () => {
        await gateway?.stop();
        await api?.stop();
        await cognito?.stop();
        if (home) rmSync(home, { recursive: true, force: true });
    });

    it("explains what to do when it is not configured, and when the stack outputs are incomplete", async () => {
        const fresh = await cli("nobody", ["address", "list"]);
        assert.equal(fresh.code, 1);
        assert.match(fresh.err, /not configured yet .*cabalmail configure --from-stack DIR/s);
        const partial = join(home, "partial.json");
        writeFileSync(partial, JSON.stringify({ apiUrl: "https://x" }));
        const bad = await cli("nobody", ["configure", "--from-outputs", partial]);
        assert.equal(bad.code, 1);
        assert.match(bad.err, /lacks the stack outputs userPoolRegion, userPoolId, userPoolClientId/);
        const fromStack = await runCli(["configure", "--from-stack", "/srv/stack"], {
            configDir: join(home, "stack-config"),
            stdout: () => undefined,
            stderr: () => undefined,
            prompt: async () => "",
            readStackOutputs: (dir) => (dir === "/srv/stack" ? { apiUrl: "https://api.example", userPoolRegion: "eu-west-1", userPoolId: "eu-west-1_X", userPoolClientId: "c" } : {}),
        });
        assert.equal(fromStack, 0);
        assert.equal(JSON.parse(readFileSync(join(home, "stack-config", "config.json"), "utf8")).region, "eu-west-1");
    });

    it("signs up, waits for approval, and signs in once an admin approves", async () => {
        const refused = await cli("alice", ["signup", "--username", "alice", "--email", "alice@home.example.org"]);
        assert.equal(refused.code, 1);
        assert.match(refused.err, /Sign-up refused: This user pool needs an invitation code/);

        const signedUp = await cli("alice", ["signup", "--username", "alice", "--email", "alice@home.example.org", "--invitation-code", INVITATION_CODE]);
        assert.equal(signedUp.code, 0, signedUp.err);
        assert.match(signedUp.out, /An administrator must approve/);

        const early = await cli("alice", ["login", "--username", "alice"], [PASSWORD]);
        assert.equal(early.code, 1);
        assert.match(early.err, /not approved yet/);

        const users = await cli("root", ["user", "list"]);
        assert.match(users.out, /alice\s+waiting for approval/);
        assert.equal((await cli("root", ["user", "approve", "alice"])).code, 0);
        assert.match((await cli("root", ["user", "list"])).out, /alice\s+active/);

        const login = await cli("alice", ["login", "--username", "alice"], [PASSWORD]);
        assert.equal(login.code, 0, login.err);
        assert.equal(statSync(join(dirs.alice, "session.json")).mode & 0o777, 0o600);
        const wrong = await cli("alice", ["login", "--username", "alice"], ["not-the-password"]);
        assert.match(wrong.err, /Wrong user name or password/);
        assert.equal((await cli("alice", ["login", "--username", "alice"], [PASSWORD])).code, 0);
    });

    it("creates, lists, suspends, reinstates and revokes addresses", async () => {
        const created = await cli("alice", ["address", "new", "shop@acme.example.com", "--comment", "Acme Inc."]);
        assert.equal(created.code, 0, created.err);
        assert.equal(created.out, "shop@acme.example.com");
        const random = await cli("alice", ["address", "new", "--random", "--domain", "example.net", "--comment", "a forum"]);
        assert.match(random.out, /^[a-z][a-z0-9]{7}@[a-z][a-z0-9]{7}\.example\.net$/);

        const listed = await cli("alice", ["address", "list"]);
        assert.match(listed.out, /^ADDRESS\s+STATUS\s+CREATED\s+COMMENT/);
        assert.match(listed.out, /shop@acme\.example\.com\s+active\s+\d{4}-\d\d-\d\d\s+Acme Inc\./);
        assert.equal(JSON.parse((await cli("alice", ["address", "list", "--json", "--search", "acme"])).out).length, 1);

        assert.match((await cli("alice", ["address", "suspend", "shop@acme.example.com"])).out, /is suspended/);
        assert.match((await cli("alice", ["address", "list", "--domain", "example.com"])).out, /shop@acme\.example\.com\s+suspended/);
        assert.match((await cli("alice", ["address", "reinstate", "shop@acme.example.com"])).out, /is active again/);
        assert.match((await cli("alice", ["address", "revoke", "shop@acme.example.com"])).out, /is revoked/);
        assert.doesNotMatch((await cli("alice", ["address", "list"])).out, /shop@acme/);
    });

    it("prints the API's error and exits 1; refuses bad usage with exit 2", async () => {
        await cli("alice", ["address", "new", "dup@acme.example.com", "--comment", "first"]);
        const duplicate = await cli("alice", ["address", "new", "dup@acme.example.com", "--comment", "second"]);
        assert.equal(duplicate.code, 1);
        assert.equal(duplicate.err, "Error (409): The address dup@acme.example.com already exists. Choose another local part or subdomain.");
        const reserved = await cli("alice", ["address", "new", "postmaster@acme.example.com", "--comment", "x"]);
        assert.match(reserved.err, /^Error \(400\): Cannot create this address: the local part "postmaster" is reserved/);
        const notAdmin = await cli("alice", ["user", "list"]);
        assert.match(notAdmin.err, /^Error \(403\): GET \/admin\/users is for administrators/);
        assert.equal((await cli("alice", ["address", "new", "x@y.example.com"])).code, 2, "--comment is required");
        assert.equal((await cli("alice", ["address", "new", "--comment", "x"])).code, 2, "an address or --random");
        const others = await cli("bob", ["address", "revoke", "dup@acme.example.com"]);
        assert.equal(others.code, 1);
        assert.match(others.err, /You are not signed in/);
    });

    it("refreshes an expired access token silently, and says to sign in again when the session is gone", async () => {
        const sessionFile = join(dirs.alice, "session.json");
        const session = JSON.parse(readFileSync(sessionFile, "utf8"));
        const expired = accessToken(createTestKeySet(), "alice", { expiresIn: -10 });
        writeFileSync(sessionFile, JSON.stringify({ ...session, accessToken: expired }));
        const refreshed = await cli("alice", ["address", "list"]);
        assert.equal(refreshed.code, 0, refreshed.err);
        assert.notEqual(JSON.parse(readFileSync(sessionFile, "utf8")).accessToken, expired);

        writeFileSync(sessionFile, JSON.stringify({ ...session, accessToken: expired, refreshToken: "revoked-or-expired" }));
        const gone = await cli("alice", ["address", "list"]);
        assert.equal(gone.code, 1);
        assert.equal(gone.err, "Your session has expired. Sign in again with: cabalmail login");
        assert.match((await cli("alice", ["address", "list"])).err, /You are not signed in/);
    });

    it("turns TOTP on: the next sign-in asks for the authenticator's code", async () => {
        assert.equal((await cli("bob", ["signup", "--username", "bob", "--email", "bob@home.example.org", "--invitation-code", INVITATION_CODE])).code, 0);
        assert.equal((await cli("root", ["user", "approve", "bob"])).code, 0);
        assert.equal((await cli("bob", ["login", "--username", "bob"], [PASSWORD])).code, 0);

        const wrong = await cli("bob", ["mfa", "enable"], ["000000"]);
        assert.equal(wrong.code, 1);
        assert.match(wrong.err, /does not match; TOTP stays off/);

        // The prompt answers with a code computed from the secret the CLI printed, as the app would.
        dirs.bob ??= "";
        const out: string[] = [];
        const code = await runCli(["mfa", "enable"], {
            configDir: dirs.bob,
            stdout: (t) => out.push(t),
            stderr: (t) => out.push(t),
            prompt: async () => totp(/authenticator app: (\S+)/.exec(out.join("\n"))![1]),
        });
        assert.equal(code, 0, out.join("\n"));
        assert.match(out.join("\n"), /otpauth:\/\/totp\/Cabalmail:bob\?secret=/);

        assert.equal((await cli("bob", ["logout"])).code, 0);
        const secret = /authenticator app: (\S+)/.exec(out.join("\n"))![1];
        const badCode = await cli("bob", ["login", "--username", "bob"], [PASSWORD, "123456" === totp(secret) ? "654321" : "123456"]);
        assert.equal(badCode.code, 1);
        assert.match(badCode.err, /one-time code is wrong or expired/);
        const login = await cli("bob", ["login", "--username", "bob"], [PASSWORD, totp(secret)]);
        assert.equal(login.code, 0, login.err);
        assert.equal((await cli("bob", ["address", "list"])).code, 0);
        assert.equal((await cli("bob", ["mfa", "disable"])).code, 0);
        assert.equal((await cli("bob", ["login", "--username", "bob"], [PASSWORD])).code, 0, "no code asked any more");
    });

    it("lets an admin list everyone's addresses and disable a user", async () => {
        const all = await cli("root", ["address", "list", "--all"]);
        assert.match(all.out, /USER/);
        assert.match(all.out, /dup@acme\.example\.com.*alice/);
        assert.match((await cli("root", ["user", "disable", "alice"])).out, /alice is disabled/);
        assert.match((await cli("root", ["user", "list"])).out, /alice\s+disabled/);
    });
});
