/**
 * End to end: an address created through the API's handler (behind the local JWT-verifying gateway) receives
 * mail through the real mail tiers (tests/mail/harness.ts: Postfix, Dovecot, the resolver, dynalite), read back
 * over IMAP; suspended it is refused, reinstated it is accepted again, revoked it is refused.
 * Needs root and the postfix, dovecot-imapd and dovecot-lmtpd packages, like the mail tests.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ChangeResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { CognitoIdentityProviderClient, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import nodemailer from "nodemailer";
import { type ApiDeps, documentClient } from "../../api/src/deps";
import { startMailHarness, type MailHarness } from "../mail/harness";
import { jwtVerifier, startGateway, type LocalGateway } from "./support/gateway";
import { accessToken, createTestKeySet, TEST_CLIENT_ID, TEST_ISSUER } from "./support/jwt";

const PASSWORD = "Secret-pass-1-long";
/** 20 consecutive ports from here, inside this suite's range and outside its ephemeral ports (support/ports.ts). */
const MAIL_HARNESS_BASE_PORT = 21100;

describe("end to end: address API → smtp-in → IMAP", function () {
    this.timeout(120000);
    let mail: MailHarness;
    let gateway: LocalGateway;
    const keys = createTestKeySet();
    // An instance mock, created in before(): a class-wide mock made at load time would leak into other test files.
    const route53Client = new Route53Client({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    let route53: ReturnType<typeof mockRoute53>;
    const mockRoute53 = () => mockClient(route53Client);

    before(async function () {
        this.timeout(120000);
        mail = await startMailHarness({ basePort: MAIL_HARNESS_BASE_PORT, tiers: ["smtp-in", "imap"], mailDomains: ["example.com"], controlDomain: "mail-admin.example.org" });
        await mail.createUser("alice", PASSWORD);
        route53 = mockRoute53();
        route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
        const deps: ApiDeps = {
            settings: { tableName: mail.tableName, mailDomains: mail.mailDomains, controlDomain: mail.controlDomain, hostedZoneIds: { "example.com": "Z0EXAMPLECOM" }, userPoolId: mail.userPoolId ?? "" },
            dynamo: documentClient(new DynamoDBClient({ endpoint: mail.dynamoEndpoint, region: mail.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } })),
            route53: route53Client,
            cognito: new CognitoIdentityProviderClient({ region: mail.region, endpoint: mail.cognitoEndpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
            now: () => new Date(),
        };
        gateway = await startGateway({ deps: () => deps, verifier: jwtVerifier(TEST_ISSUER, TEST_CLIENT_ID, keys.jwks) });
    });
    after(async function () {
        this.timeout(60000);
        route53?.restore();
        await gateway?.stop();
        await mail?.stop();
    });

    async function api(method: string, path: string, body?: unknown, as: { user: string; admin?: boolean } = { user: "alice" }) {
        const response = await fetch(`${gateway.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${accessToken(keys, as.user, { groups: as.admin ? ["admin"] : [] })}`, "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as any };
    }

    /** Sends as the internet would; resolves with the reply, rejects with the SMTP error. */
    async function send(to: string, subject: string): Promise<string> {
        const transport = nodemailer.createTransport({ host: "127.0.0.1", port: mail.smtpInPort, secure: false, ignoreTLS: true, name: "sender.example.net" });
        try {
            return (await transport.sendMail({ from: "someone@example.net", to, subject, text: `test ${subject}` })).response;
        } finally {
            transport.close();
        }
    }

    /** The SMTP reply code once the server refuses `to`, retrying while it still accepts (the resolver may cache). */
    async function refusedCode(to: string): Promise<number> {
        for (let attempt = 0; attempt < 50; attempt++) {
            try {
                await send(to, `should-be-refused-${randomUUID().slice(0, 8)}`);
            } catch (error) {
                return (error as { responseCode?: number }).responseCode ?? 0;
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error(`mail to ${to} kept being accepted`);
    }

    async function acceptedAfterRetries(to: string, subject: string): Promise<string> {
        let lastError: unknown;
        for (let attempt = 0; attempt < 50; attempt++) {
            try {
                return await send(to, subject);
            } catch (error) {
                lastError = error;
                await new Promise((r) => setTimeout(r, 200));
            }
        }
        throw new Error(`mail to ${to} kept being refused: ${lastError}`);
    }

    async function inboxSubjects(user = "alice"): Promise<string[]> {
        const messages = await mail.readInbox(user, PASSWORD);
        return messages.map((m) => /^Subject: (.*)$/m.exec(m.source.toString("utf8"))?.[1]?.trim() ?? "");
    }

    async function waitForSubject(subject: string, user = "alice"): Promise<void> {
        for (let attempt = 0; attempt < 50; attempt++) {
            if ((await inboxSubjects(user)).includes(subject)) return;
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.fail(`no message "${subject}" in ${user}'s INBOX`);
    }

    it("creates an address, receives mail for it, refuses it suspended, accepts it reinstated, refuses it revoked", async () => {
        const created = await api("POST", "/addresses", { address: "shop@acme.example.com", comment: "Acme Inc." });
        assert.equal(created.status, 201, JSON.stringify(created.body));

        const first = `first-${randomUUID().slice(0, 8)}`;
        assert.match(await acceptedAfterRetries("shop@acme.example.com", first), /^250 /);
        await waitForSubject(first);

        assert.equal((await api("POST", "/addresses/shop@acme.example.com/suspend")).status, 200);
        assert.equal(await refusedCode("shop@acme.example.com"), 550);

        assert.equal((await api("POST", "/addresses/shop@acme.example.com/reinstate")).status, 200);
        const second = `reinstated-${randomUUID().slice(0, 8)}`;
        assert.match(await acceptedAfterRetries("shop@acme.example.com", second), /^250 /);
        await waitForSubject(second);

        assert.equal((await api("DELETE", "/addresses/shop@acme.example.com")).status, 200);
        assert.equal(await refusedCode("shop@acme.example.com"), 550);
        // DNS followed every step: published, withdrawn, republished, withdrawn.
        assert.deepEqual(route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes![0].Action), ["UPSERT", "DELETE", "UPSERT", "DELETE"]);
    });

    it("a random address works the same way", async () => {
        const created = await api("POST", "/addresses", { random: true, comment: "a forum" });
        assert.equal(created.status, 201);
        const subject = `random-${randomUUID().slice(0, 8)}`;
        assert.match(await acceptedAfterRetries(created.body.address.address, subject), /^250 /);
        await waitForSubject(subject);
    });

    it("a user who signs up reads mail over IMAP only once an admin has approved them through the API", async () => {
        const pool = new CognitoIdentityProviderClient({ region: mail.region, endpoint: mail.cognitoEndpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        try {
            await pool.send(new SignUpCommand({ ClientId: mail.userPoolClientId, Username: "carol", Password: PASSWORD, UserAttributes: [{ Name: "email", Value: "carol@home.example.org" }] }));
        } finally {
            pool.destroy();
        }
        await assert.rejects(mail.readInbox("carol", PASSWORD), "an unapproved user cannot sign in to IMAP");
        assert.equal((await api("POST", "/admin/users/carol/approve", undefined, { user: "carol" })).status, 403, "nobody approves themselves");
        const approved = await api("POST", "/admin/users/carol/approve", undefined, { user: "root", admin: true });
        assert.equal(approved.status, 200, JSON.stringify(approved.body));

        const created = await api("POST", "/addresses", { address: "club@golf.example.com", comment: "the golf club" }, { user: "carol" });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const subject = `carol-${randomUUID().slice(0, 8)}`;
        assert.match(await acceptedAfterRetries("club@golf.example.com", subject), /^250 /);
        await waitForSubject(subject, "carol");
        assert.ok(!(await inboxSubjects("alice")).includes(subject), "carol's mail is not in alice's mailbox");
    });
});
