/**
 * MailServer, MailDns and MailCertificate reject argument combinations that cannot work, with a message that names
 * the argument; and the pure record builders produce what DNS and Route 53 accept.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { dkimRecordText, spfRecordText, txtRecordValue } from "../../components/mailServer";
import { MAIL_HEALTH_CHECKS } from "../../lib/mailTiers";
import { fargateMemoryChoices } from "../../lib/mailServerLimits";
import type { Scenario } from "./argumentScenarios";

function runScenarios(): Promise<Record<Scenario, string | null>> {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "argumentScenarios.ts")], { cwd: path.resolve(__dirname, "../..") }, (error, stdout, stderr) => {
            // The printed results are the answer. Pulumi's runtime also complains on exit about the outputs the
            // components left pending (nothing is deployed under mocks); that noise is not a failure.
            const line = stdout.trim().split("\n").pop() ?? "";
            if (!line.startsWith("{")) return reject(new Error(`scenarios failed: ${stderr || error?.message}`));
            resolve(JSON.parse(line));
        });
    });
}

describe("MailServer arguments", () => {
    let results: Record<Scenario, string | null>;
    before(async () => {
        results = await runScenarios();
    });

    it("accepts a valid set of arguments", () => assert.equal(results.valid, null));

    const expectations: [Scenario, RegExp][] = [
        ["direct without NAT", /^MailServer s1: outbound "direct" needs network\.natGateway: .*Turn the NAT gateway on, or use outbound "ses"$/],
        ["direct without source addresses", /^MailServer s2: outbound "direct" needs outboundSourceAddresses \(the NAT gateway's public addresses\)/],
        ["two imap tasks", /^MailServer s3: tiers\["imap"\]\.desiredCount must be 0 or 1, got 2: /],
        ["memory Fargate does not offer", /^MailServer s4: tiers\["smtp-in"\]\.memory 4096 MiB is not offered by Fargate with 256 CPU units; choose one of 512, 1024, 2048$/],
        ["unknown CPU size", /^MailServer s5: tiers\["smtp-out"\]\.cpu must be a Fargate CPU size \(256, 512, 1024, 2048 or 4096\), got 300$/],
        ["log retention CloudWatch does not offer", /^MailServer s6: logRetentionDays must be one of CloudWatch Logs' values \(1, 3, .*\), got 31$/],
        ["message too large for SES", /^MailServer s7: messageSizeLimit 52428800 exceeds what SES relays \(41943040 bytes, 40 MiB\)/],
        ["one availability zone", /^MailServer s8: network\.availabilityZoneCount must be at least 2/],
        ["no mail domains", /^MailServer s9: mailDomains is empty/],
        ["zone for a foreign domain", /^MailDns d1: existingZoneIds names example\.org, which is neither the controlDomain nor a mail domain/],
        ["malformed zone id", /^MailDns d2: existingZoneIds\["example\.com"\] must be a Route 53 hosted zone id .*got "zone-1"$/],
        ["certificate without names", /^MailCertificate c1: hostNames is empty/],
    ];
    for (const [scenario, message] of expectations) {
        it(`rejects ${scenario}, naming the argument`, () => assert.match(results[scenario] ?? "(accepted)", message));
    }
});

describe("mail DNS record values", () => {
    it("splits a TXT value into strings of at most 255 characters that join back to it", () => {
        const text = "x".repeat(600);
        const value = txtRecordValue(text);
        const parts = value.split('""');
        assert.deepEqual(parts.map((p) => p.length), [255, 255, 90]);
        assert.equal(parts.join(""), text);
        assert.equal(txtRecordValue("v=spf1 -all"), "v=spf1 -all");
    });

    it("turns a PEM public key into a DKIM record with the bare base64 key", () => {
        const pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\nBgkqhkiG\n-----END PUBLIC KEY-----\n";
        assert.equal(dkimRecordText(pem), "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG");
    });

    it("publishes SES's senders or exactly the NAT's addresses in SPF, and fails everything else", () => {
        assert.equal(spfRecordText("ses", []), "v=spf1 include:amazonses.com -all");
        assert.equal(spfRecordText("direct", ["198.51.100.7"]), "v=spf1 ip4:198.51.100.7 -all");
        assert.equal(spfRecordText("direct", ["198.51.100.7", "2001:db8::1"]), "v=spf1 ip4:198.51.100.7 ip6:2001:db8::1 -all");
    });
});

describe("Fargate sizes and health checks", () => {
    it("knows which memory sizes each CPU size allows", () => {
        assert.deepEqual(fargateMemoryChoices(256), [512, 1024, 2048]);
        assert.deepEqual(fargateMemoryChoices(512), [1024, 2048, 3072, 4096]);
        assert.equal(fargateMemoryChoices(4096).at(-1), 30720);
        assert.deepEqual(fargateMemoryChoices(300), []);
    });

    it("checks the server and the resolver in every tier, never the proxied public port", () => {
        for (const [tier, command] of Object.entries(MAIL_HEALTH_CHECKS)) {
            assert.match(command, /127\.0\.0\.1\/10030/, tier);
            assert.doesNotMatch(command, /\/(25|143|587)\b/, tier);
        }
    });
});
