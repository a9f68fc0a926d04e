/**
 * imap and smtp-out end to end on loopback: logins against the user pool (cognito-local), authenticated
 * submission through the shipped smtp-out config, and DKIM signatures checked by a real verifier (mailauth).
 */
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ImapFlow } from "imapflow";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import nodemailer from "nodemailer";
import { DKIM_SELECTOR } from "../../lib/address";
import { MailHarness, startMailHarness } from "./harness";
import { rcptReplies } from "./smtpProbe";

const PASSWORD = { alice: "Alice-pass-1", bob: "Bob-pass-1", carol: "Carol-pass-1" };

describe("mail: imap logins and smtp-out submission (Dovecot + Postfix + Cognito, shipped configs)", function () {
    this.timeout(120000);
    let mail: MailHarness;

    before(async function () {
        this.timeout(90000);
        mail = await startMailHarness({ basePort: 20200 });
        await mail.createUser("alice", PASSWORD.alice);
        await mail.createUser("bob", PASSWORD.bob);
        await mail.createUser("carol", PASSWORD.carol);
        await mail.putAddress({ address: "me@acme.example.com", user: "alice" });
        await mail.putAddress({ address: "held@quiet.example.com", user: "alice", status: "suspended" });
        await mail.putAddress({ address: "bob@golf.example.com", user: "bob" });
        await mail.putAddress({ address: "carol@tennis.example.com", user: "carol" });
    });

    after(async function () {
        this.timeout(60000);
        await mail?.stop();
    });

    function submitter(auth?: { user: string; pass: string }) {
        return nodemailer.createTransport({ host: "127.0.0.1", port: mail.submissionPort, secure: false, ignoreTLS: true, auth, name: "laptop.example.net" });
    }

    async function submitError(auth: { user: string; pass: string } | undefined, envelopeFrom: string, headerFrom: string): Promise<{ code?: number; response?: string; message: string }> {
        const transport = submitter(auth);
        try {
            const info = await transport.sendMail({ envelope: { from: envelopeFrom, to: ["friend@elsewhere.example.net"] }, from: headerFrom, to: "friend@elsewhere.example.net", subject: "should not leave", text: "x" });
            throw new assert.AssertionError({ message: `submission was accepted: ${info.response}` });
        } catch (err) {
            if (err instanceof assert.AssertionError) throw err;
            const e = err as { responseCode?: number; response?: string; message: string };
            return { code: e.responseCode, response: e.response, message: e.message };
        } finally {
            transport.close();
        }
    }

    /** mailauth's DNS lookups, answered as the real zone would: the subdomain's selector CNAMEs to the control domain's key. */
    function dnsFor(controlDomain: string, publicKeyPem: string) {
        const keyRecord = `v=DKIM1; k=rsa; p=${publicKeyPem.replace(/-----[^-]+-----|\s/g, "")}`;
        return async (name: string, type: string): Promise<string[][]> => {
            const lower = name.toLowerCase();
            if (type === "TXT" && (lower === `${DKIM_SELECTOR}._domainkey.${controlDomain}` || (lower.startsWith(`${DKIM_SELECTOR}._domainkey.`) && lower.endsWith(".example.com")))) {
                return [[keyRecord]];
            }
            const error = new Error(`no ${type} record for ${name}`) as Error & { code: string };
            error.code = "ENOTFOUND";
            throw error;
        };
    }

    it("logs a user into IMAP with the user pool password", async () => {
        const client = new ImapFlow({ host: "127.0.0.1", port: mail.imapPort, secure: false, auth: { user: "alice", pass: PASSWORD.alice }, logger: false });
        await client.connect();
        const folders = (await client.list()).map((f) => f.path);
        await client.logout();
        assert.ok(folders.includes("INBOX") && folders.includes("Sent"), `folders: ${folders.join(", ")}`);
    });

    it("relays an authenticated user's mail from their own address, DKIM-signed for the address's domain", async () => {
        const subject = `signed-${randomUUID().slice(0, 8)}`;
        const before = mail.relayed.messages.length;
        const transport = submitter({ user: "alice", pass: PASSWORD.alice });
        const info = await transport.sendMail({ from: "Alice <me@acme.example.com>", to: "friend@elsewhere.example.net", subject, text: "Signed, sealed, delivered.\n" });
        transport.close();
        assert.match(info.response, /^250 /);
        const relayed = (await mail.relayed.waitFor(before + 1)).find((m) => m.raw.toString("latin1").includes(subject));
        assert.ok(relayed, "the message did not reach the relay");
        assert.equal(relayed.from, "me@acme.example.com");
        assert.deepEqual(relayed.to, ["friend@elsewhere.example.net"]);

        const verification = await dkimVerify(relayed.raw, { resolver: dnsFor(mail.controlDomain, mail.dkim.publicKeyPem) as never });
        assert.equal(verification.results.length, 1, `signatures: ${JSON.stringify(verification.results.map((r) => r.status))}`);
        const [result] = verification.results;
        assert.equal(result.status.result, "pass", JSON.stringify(result.status));
        assert.equal(result.signingDomain, "acme.example.com");
        assert.equal(result.selector, DKIM_SELECTOR);

        // And the verifier is not a rubber stamp: a changed body fails.
        const tampered = Buffer.from(relayed.raw.toString("latin1").replace("Signed, sealed", "Forged, sealed"), "latin1");
        const bad = await dkimVerify(tampered, { resolver: dnsFor(mail.controlDomain, mail.dkim.publicKeyPem) as never });
        assert.notEqual(bad.results[0].status.result, "pass");
    });

    it("refuses unauthenticated senders", async () => {
        const refused = await submitError(undefined, "me@acme.example.com", "me@acme.example.com");
        assert.ok(refused.code && refused.code >= 500, `unauthenticated submission: ${refused.code} ${refused.response ?? refused.message}`);
        const [rcpt] = await rcptReplies(mail.submissionPort, "me@acme.example.com", ["friend@elsewhere.example.net"]);
        assert.match(rcpt, /^5\d\d /, `raw unauthenticated RCPT: ${rcpt}`);
    });

    it("refuses an authenticated user forging another user's address, in the envelope or in the From header", async () => {
        const alice = { user: "alice", pass: PASSWORD.alice };
        const envelope = await submitError(alice, "bob@golf.example.com", "bob@golf.example.com");
        assert.equal(envelope.code, 553, envelope.response ?? envelope.message);
        const header = await submitError(alice, "me@acme.example.com", "Bob <bob@golf.example.com>");
        assert.equal(header.code, 550, header.response ?? header.message);
        assert.match(header.response ?? "", /5\.7\.1/);
        const outsider = await submitError(alice, "alice@gmail.example.net", "alice@gmail.example.net");
        assert.ok(outsider.code && outsider.code >= 500, `foreign sender address: ${outsider.code} ${outsider.response}`);
        const suspended = await submitError(alice, "held@quiet.example.com", "held@quiet.example.com");
        assert.ok(suspended.code && suspended.code >= 500, `suspended own address: ${suspended.code} ${suspended.response}`);
        const bobAsAlice = await submitError({ user: "bob", pass: PASSWORD.bob }, "me@acme.example.com", "me@acme.example.com");
        assert.equal(bobAsAlice.code, 553, bobAsAlice.response ?? bobAsAlice.message);
    });

    it("answers IMAP logins with a temporary failure while the user pool is unreachable, refuses submission, and logs in when it is back", async () => {
        // carol logs in nowhere else, so no remembered success can answer for the user pool.
        await mail.userPool!.cut();
        try {
            const client = new ImapFlow({ host: "127.0.0.1", port: mail.imapPort, secure: false, auth: { user: "carol", pass: PASSWORD.carol }, logger: false });
            client.on("error", () => undefined);
            const error = await client.connect().then(
                () => undefined,
                (err: { authenticationFailed?: boolean; serverResponseCode?: string; response?: string; message: string }) => err,
            );
            assert.ok(error, "carol logged in while the user pool was unreachable");
            assert.equal(error.serverResponseCode, "UNAVAILABLE", `IMAP answered ${error.response ?? error.message}`);
            // Submission is refused too. Postfix 3.7 (Debian bookworm) does not recognise Dovecot 2.3's temporary-failure
            // flag and answers 535 rather than 454; either way nothing is sent and the client keeps the message.
            const submission = await submitError({ user: "carol", pass: PASSWORD.carol }, "carol@tennis.example.com", "carol@tennis.example.com");
            assert.ok(submission.code === 454 || submission.code === 535, `submission AUTH answered ${submission.code} ${submission.response ?? submission.message}`);
        } finally {
            await mail.userPool!.restore();
        }
        const client = new ImapFlow({ host: "127.0.0.1", port: mail.imapPort, secure: false, auth: { user: "carol", pass: PASSWORD.carol }, logger: false });
        await client.connect();
        await client.logout();
        const transport = submitter({ user: "carol", pass: PASSWORD.carol });
        const info = await transport.sendMail({ from: "carol@tennis.example.com", to: "friend@elsewhere.example.net", subject: "after the outage", text: "x" });
        transport.close();
        assert.match(info.response, /^250 /);
    });

    it("refuses a submission login with a wrong password", async () => {
        const refused = await submitError({ user: "alice", pass: "not-the-password" }, "me@acme.example.com", "me@acme.example.com");
        assert.equal(refused.code, 535, refused.response ?? refused.message);
    });

    // Failed logins last: Dovecot slows down further logins from the same client address after failures.
    it("refuses IMAP logins with a wrong password or an unknown user", async () => {
        const wrong = new ImapFlow({ host: "127.0.0.1", port: mail.imapPort, secure: false, auth: { user: "alice", pass: "not-the-password" }, logger: false });
        wrong.on("error", () => undefined);
        await assert.rejects(wrong.connect(), (err: { authenticationFailed?: boolean }) => err.authenticationFailed === true);
        const nobody = new ImapFlow({ host: "127.0.0.1", port: mail.imapPort, secure: false, auth: { user: "mallory", pass: PASSWORD.alice }, logger: false });
        nobody.on("error", () => undefined);
        await assert.rejects(nobody.connect(), (err: { authenticationFailed?: boolean }) => err.authenticationFailed === true);
    });
});
