/**
 * smtp-in end to end on loopback: the shipped Postfix config in front of the resolver, dynalite and the
 * shipped Dovecot config; mail sent with nodemailer (or a raw SMTP probe), read back over IMAP.
 */
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as net from "node:net";
import nodemailer from "nodemailer";
import { MailHarness, startMailHarness } from "./harness";
import { ehloKeywords, rcptReplies } from "./smtpProbe";

const PASSWORD = "Inbound-pass-1";

describe("mail: smtp-in (Postfix + resolver + Dovecot LMTP, shipped configs)", function () {
    this.timeout(120000);
    let mail: MailHarness;

    before(async function () {
        this.timeout(90000);
        mail = await startMailHarness({ basePort: 20100, tiers: ["smtp-in", "imap"] });
        await mail.createUser("alice", PASSWORD);
        await mail.createUser("bob", PASSWORD);
        await mail.putAddress({ address: "shop@acme.example.com", user: "alice" });
        await mail.putAddress({ address: "bank@money.example.com", user: "alice" });
        await mail.putAddress({ address: "news@paper.example.com", user: "alice" });
        await mail.putAddress({ address: "club@golf.example.com", user: "bob" });
    });

    after(async function () {
        this.timeout(60000);
        await mail?.stop();
    });

    /** Sends one message as the internet would; resolves with the server's reply, rejects with its error. */
    async function send(to: string, subject: string, options: { requireTLS?: boolean; text?: string } = {}): Promise<string> {
        const transport = nodemailer.createTransport({
            host: "127.0.0.1",
            port: mail.smtpInPort,
            secure: false,
            ignoreTLS: !options.requireTLS,
            requireTLS: options.requireTLS,
            tls: { rejectUnauthorized: false },
            name: "sender.example.net",
        });
        try {
            const info = await transport.sendMail({ from: "someone@example.net", to, subject, text: options.text ?? `test message ${subject}` });
            return info.response;
        } finally {
            transport.close();
        }
    }

    /** The SMTP reply code of a refused send (throws if the message was accepted). */
    async function refusal(to: string): Promise<{ code: number; response: string }> {
        try {
            const response = await send(to, `refused-${randomUUID()}`);
            throw new assert.AssertionError({ message: `mail to ${to} was accepted: ${response}` });
        } catch (err) {
            const e = err as { responseCode?: number; response?: string };
            if (e instanceof assert.AssertionError) throw e;
            return { code: e.responseCode ?? 0, response: e.response ?? String(err) };
        }
    }

    async function inboxSubjects(user: string): Promise<string[]> {
        const messages = await mail.readInbox(user, PASSWORD);
        return messages.map((m) => /^Subject: (.*)$/im.exec(m.source.toString("utf8"))?.[1]?.trim() ?? "");
    }

    async function waitForSubjects(user: string, subjects: string[], timeoutMs = 30000): Promise<string[]> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const present = await inboxSubjects(user);
            const missing = subjects.filter((s) => !present.includes(s));
            if (missing.length === 0) return present;
            if (Date.now() > deadline) throw new Error(`${user}'s INBOX lacks ${missing.join(", ")} after ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 300));
        }
    }

    /** Retries a send as a sending MTA would, until accepted; returns every refusal seen before that. */
    async function sendUntilAccepted(to: string, subject: string, timeoutMs = 40000): Promise<{ code: number; response: string }[]> {
        const refusals: { code: number; response: string }[] = [];
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            try {
                await send(to, subject);
                return refusals;
            } catch (err) {
                const e = err as { responseCode?: number; response?: string };
                refusals.push({ code: e.responseCode ?? 0, response: e.response ?? String(err) });
                if (Date.now() > deadline) throw new Error(`mail to ${to} still refused after ${timeoutMs} ms: ${JSON.stringify(refusals.slice(-3))}`);
                await new Promise((r) => setTimeout(r, 500));
            }
        }
    }

    it("delivers mail for several addresses of one user into that user's one mailbox, and keeps users apart", async () => {
        const tag = randomUUID().slice(0, 8);
        const subjects = [`shop-${tag}`, `bank-${tag}`, `news-${tag}`];
        assert.match(await send("shop@acme.example.com", subjects[0]), /^250 /);
        assert.match(await send("BANK@Money.Example.com", subjects[1]), /^250 /);
        assert.match(await send("news@paper.example.com", subjects[2]), /^250 /);
        assert.match(await send("club@golf.example.com", `club-${tag}`), /^250 /);
        const alice = await waitForSubjects("alice", subjects);
        assert.ok(!alice.includes(`club-${tag}`), "bob's mail landed in alice's mailbox");
        await waitForSubjects("bob", [`club-${tag}`]);
        const bob = await inboxSubjects("bob");
        for (const s of subjects) assert.ok(!bob.includes(s), `alice's ${s} landed in bob's mailbox`);
    });

    it("keeps the address the mail was sent to in the delivered message", async () => {
        const subject = `delivered-to-${randomUUID().slice(0, 8)}`;
        await send("shop@acme.example.com", subject);
        await waitForSubjects("alice", [subject]);
        const message = (await mail.readInbox("alice", PASSWORD)).map((m) => m.source.toString("utf8")).find((s) => s.includes(subject))!;
        assert.match(message, /for <shop@acme\.example\.com>/, "the Received header names the original recipient");
        assert.match(message, /\[203\.0\.113\.10\]/, "the client address comes from the load balancer's proxy protocol header");
        assert.doesNotMatch(message, /mailbox\.invalid/, "the internal recipient name leaked into the delivered message");
    });

    it("refuses unknown addresses, unknown subdomains and unknown domains", async () => {
        const unknown = await refusal("nobody@acme.example.com");
        assert.equal(unknown.code, 550);
        assert.match(unknown.response, /5\.1\.1/);
        const unknownSubdomain = await refusal("shop@nowhere.example.com");
        assert.equal(unknownSubdomain.code, 550);
        assert.match(unknownSubdomain.response, /5\.1\.1/);
        const foreign = await refusal("someone@example.org");
        assert.ok(foreign.code >= 500 && foreign.code < 600, `foreign domain answered ${foreign.code} ${foreign.response}`);
        const bareMailDomain = await refusal("shop@example.com");
        assert.ok(bareMailDomain.code >= 500 && bareMailDomain.code < 600, `bare mail domain answered ${bareMailDomain.code}`);
        const twoLabels = await refusal("shop@x.acme.example.com");
        assert.ok(twoLabels.code >= 500 && twoLabels.code < 600, `two-label subdomain answered ${twoLabels.code}`);
    });

    it("accepts a newly created address without a restart, and refuses it with 550 5.1.1 once revoked", async () => {
        const address = `fresh-${randomUUID().slice(0, 8)}@acme.example.com`;
        assert.equal((await refusal(address)).code, 550);
        await mail.putAddress({ address, user: "alice" });
        const subject = `fresh-${randomUUID().slice(0, 8)}`;
        await sendUntilAccepted(address, subject, 10000);
        await waitForSubjects("alice", [subject]);
        await mail.deleteAddress(address);
        const deadline = Date.now() + 10000;
        let last: { code: number; response: string } | undefined;
        while (Date.now() < deadline) {
            try {
                await send(address, `after-revoke-${randomUUID()}`);
            } catch (err) {
                const e = err as { responseCode?: number; response?: string };
                last = { code: e.responseCode ?? 0, response: e.response ?? "" };
                break;
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(last, "the revoked address kept accepting mail");
        assert.equal(last.code, 550);
        assert.match(last.response, /5\.1\.1/);
    });

    it("refuses a suspended address with 550 5.1.1 and accepts it again when reinstated", async () => {
        const address = `paused-${randomUUID().slice(0, 8)}@acme.example.com`;
        await mail.putAddress({ address, user: "alice", status: "suspended" });
        const refused = await refusal(address);
        assert.equal(refused.code, 550);
        assert.match(refused.response, /5\.1\.1/);
        await mail.putAddress({ address, user: "alice", status: "active" });
        await sendUntilAccepted(address, `reinstated-${randomUUID().slice(0, 8)}`, 10000);
    });

    it("is no open relay: percent hack, bang paths, source routes, quoted local parts, unlisted and internal domains are refused", async () => {
        const tricks = [
            "victim@evil.example.net",
            "victim%evil.example.net@acme.example.com",
            "shop%evil.example.net@acme.example.com",
            "evil.example.net!victim@acme.example.com",
            "acme.example.com!victim@evil.example.net",
            "@acme.example.com:victim@evil.example.net",
            "@acme.example.com,@evil.example.net:victim@evil.example.net",
            '"victim@evil.example.net"@acme.example.com',
            '"victim%evil.example.net"@acme.example.com',
            "victim@evil.example.net@acme.example.com",
            "victim@[203.0.113.5]",
            "victim@acme.example.com.evil.example.net",
            "victim@evil.example.net.",
            "victim",
            "postmaster@evil.example.net",
            "alice@mailbox.invalid",
            "victim@localhost",
        ];
        // (A bare RCPT TO:<postmaster> is accepted, as RFC 5321 requires; it can only mean this host's postmaster.)
        const failures: string[] = [];
        for (const recipient of tricks) {
            const [reply] = await rcptReplies(mail.smtpInPort, "someone@example.net", [recipient]);
            if (!/^5\d\d /.test(reply)) failures.push(`${recipient} → ${reply}`);
        }
        assert.deepEqual(failures, [], "every relay trick must be refused with a 5xx reply");
        // The same session still accepts a real recipient: the refusals came from the recipient checks.
        const [real] = await rcptReplies(mail.smtpInPort, "someone@example.net", ["shop@acme.example.com"]);
        assert.match(real, /^250 /);
    });

    it("talks only to the load balancer: a client without a proxy protocol header gets no SMTP session", async () => {
        const greeting = await new Promise<string>((resolve) => {
            const socket = net.connect(mail.directPorts.smtpIn, "127.0.0.1");
            let text = "";
            socket.setEncoding("latin1");
            socket.on("data", (chunk: string) => (text += chunk));
            socket.on("connect", () => socket.write("EHLO direct.example.net\r\n"));
            socket.on("close", () => resolve(text));
            socket.on("error", () => resolve(text));
            setTimeout(() => socket.destroy(), 3000);
        });
        assert.doesNotMatch(greeting, /^220 /m, `a direct client was greeted: ${JSON.stringify(greeting)}`);
    });

    it("offers STARTTLS and a size limit, and delivers over TLS", async () => {
        const keywords = await ehloKeywords(mail.smtpInPort);
        assert.ok(keywords.includes("STARTTLS"), `EHLO keywords: ${keywords.join(", ")}`);
        assert.ok(keywords.includes("SIZE 1048576"), `EHLO keywords: ${keywords.join(", ")}`);
        const subject = `tls-${randomUUID().slice(0, 8)}`;
        assert.match(await send("shop@acme.example.com", subject, { requireTLS: true }), /^250 /);
        await waitForSubjects("alice", [subject]);
    });

    it("refuses a message over the size limit", async () => {
        const refused = await (async () => {
            try {
                await send("shop@acme.example.com", "too big", { text: "x".repeat(1100 * 1024) });
                return undefined;
            } catch (err) {
                return err as { responseCode?: number };
            }
        })();
        assert.ok(refused, "an oversized message was accepted");
        assert.equal(refused.responseCode, 552);
    });

    it("answers 4xx while the resolver is down (never a bounce, never acceptance) and accepts again when it is back", async () => {
        const known = "shop@acme.example.com";
        await mail.resolvers["smtp-in"]!.stop();
        try {
            for (const to of [known, "nobody@acme.example.com"]) {
                const refused = await refusal(to);
                assert.ok(refused.code >= 400 && refused.code < 500, `with the resolver down, ${to} got ${refused.code} ${refused.response}`);
            }
        } finally {
            await mail.resolvers["smtp-in"]!.start();
        }
        const subject = `after-resolver-${randomUUID().slice(0, 8)}`;
        const refusals = await sendUntilAccepted(known, subject);
        assert.deepEqual(refusals.filter((r) => r.code >= 500), [], "a real address got a 5xx while the resolver recovered");
        await waitForSubjects("alice", [subject]);
    });

    it("answers 4xx while DynamoDB is unreachable and delivers after it is back", async () => {
        const known = "bank@money.example.com";
        await mail.dynamo.cut();
        try {
            await new Promise((r) => setTimeout(r, 600)); // past the resolver's cache
            for (const to of [known, "nobody@money.example.com"]) {
                const refused = await refusal(to);
                assert.ok(refused.code >= 400 && refused.code < 500, `with DynamoDB down, ${to} got ${refused.code} ${refused.response}`);
            }
        } finally {
            await mail.dynamo.restore();
        }
        const subject = `after-dynamo-${randomUUID().slice(0, 8)}`;
        const refusals = await sendUntilAccepted(known, subject);
        assert.deepEqual(refusals.filter((r) => r.code >= 500), [], "a real address got a 5xx while DynamoDB recovered");
        await waitForSubjects("alice", [subject]);
    });

    it("delivers every accepted message after Postfix is killed with SIGKILL and restarted", async () => {
        const postfix = mail.postfix["smtp-in"]!;
        const tag = randomUUID().slice(0, 8);
        const subjects = Array.from({ length: 5 }, (_, i) => `sigkill-${tag}-${i}`);
        // With the imap tier down, accepted mail can only wait in the queue.
        await mail.dovecot!.stop();
        try {
            for (const subject of subjects) assert.match(await send("news@paper.example.com", subject), /^250 /);
            assert.ok(postfix.queueIds().length >= subjects.length, `queue holds ${postfix.queueIds().length} files`);
            await postfix.kill9();
            await postfix.start();
        } finally {
            await mail.dovecot!.start();
        }
        await waitForSubjects("alice", subjects, 40000);
    });
});
