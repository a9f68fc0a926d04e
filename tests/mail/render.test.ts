/**
 * The images' side of the contract in lib/mailTiers.ts: what the entrypoints read, what the templates render to
 * with the production layout (checked by Postfix's and Dovecot's own parsers), what the Dockerfiles copy, and
 * that the esbuild bundle the images run works.
 */
import * as assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as esbuild from "esbuild";
import { MAILBOX_OWNER, MAIL_ENV, MAIL_MOUNTS, MAIL_PORTS, MAIL_TIER_NAMES, MailTierName } from "../../lib/mailTiers";
import { MailConfigError, TEMPLATE_FILES, contractFromEnv, renderTemplate, renderTier, templateVariables } from "../../mail/src/render";
import { encodeNetstring, parseNetstrings } from "../../mail/src/socketmap";

const run = promisify(execFile);
const MAIL_DIR = path.join(__dirname, "..", "..", "mail");
const CONTRACT_NAMES = new Set<string>(Object.values(MAIL_ENV));

/** Everything the MailServer component sets, for every tier at once. */
const FULL_ENV: Record<string, string> = {
    [MAIL_ENV.addressTable]: "cabal-addresses",
    [MAIL_ENV.region]: "us-east-1",
    [MAIL_ENV.mailDomains]: "example.com, Example.org",
    [MAIL_ENV.controlDomain]: "mail-admin.example.net",
    [MAIL_ENV.imapHost]: "imap.cabal.local",
    [MAIL_ENV.messageSizeLimit]: "26214400",
    [MAIL_ENV.userPoolId]: "us-east-1_AbCdEf123",
    [MAIL_ENV.userPoolClientId]: "client123",
    [MAIL_ENV.dkimPrivateKey]: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    [MAIL_ENV.outbound]: "direct",
};

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "cabal-render-"));
}

function has(command: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

describe("mail: images, templates and the tier contract", () => {
    it("reads no environment variable outside lib/mailTiers.ts's MAIL_ENV", () => {
        for (const tier of MAIL_TIER_NAMES) {
            const read = new Set<string>();
            const env = new Proxy(FULL_ENV, {
                get(target, name: string) {
                    read.add(name);
                    return target[name];
                },
            });
            contractFromEnv(tier, env);
            const outside = [...read].filter((name) => !CONTRACT_NAMES.has(name));
            assert.deepEqual(outside, [], `${tier} reads ${outside.join(", ")}`);
        }
    });

    it("uses no environment variable outside MAIL_ENV in the entrypoints", () => {
        for (const tier of MAIL_TIER_NAMES) {
            const script = fs.readFileSync(path.join(MAIL_DIR, tier, "entrypoint.sh"), "utf8");
            const names = [...script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
            const outside = names.filter((name) => !CONTRACT_NAMES.has(name));
            assert.deepEqual(outside, [], `mail/${tier}/entrypoint.sh reads ${outside.join(", ")}`);
        }
    });

    it("names the variable and the fix when the environment is incomplete or wrong", () => {
        const without = (name: string, extra: Record<string, string> = {}) => {
            const env = { ...FULL_ENV, ...extra };
            delete env[name];
            return env;
        };
        assert.throws(() => contractFromEnv("smtp-in", without(MAIL_ENV.addressTable)), (e: Error) => e instanceof MailConfigError && /ADDRESS_TABLE is not set; set it to/.test(e.message));
        assert.throws(() => contractFromEnv("smtp-in", without(MAIL_ENV.imapHost)), /IMAP_HOST is not set/);
        assert.throws(() => contractFromEnv("imap", without(MAIL_ENV.userPoolClientId)), /USER_POOL_CLIENT_ID is not set/);
        assert.throws(() => contractFromEnv("smtp-out", without(MAIL_ENV.dkimPrivateKey)), /DKIM_PRIVATE_KEY is not set/);
        assert.throws(() => contractFromEnv("smtp-in", { ...FULL_ENV, [MAIL_ENV.mailDomains]: "example.com,not a domain" }), /MAIL_DOMAINS lists "not a domain"/);
        assert.throws(() => contractFromEnv("smtp-in", { ...FULL_ENV, [MAIL_ENV.messageSizeLimit]: "10MB" }), /MESSAGE_SIZE_LIMIT is "10MB"; set it to a whole number of bytes/);
        assert.throws(() => contractFromEnv("smtp-out", { ...FULL_ENV, [MAIL_ENV.outbound]: "smarthost" }), /OUTBOUND_MODE is "smarthost"; set it to direct or ses/);
        assert.throws(() => contractFromEnv("smtp-out", { ...FULL_ENV, [MAIL_ENV.outbound]: "ses" }), /RELAY_HOST is not set/);
        // Tiers do not demand what they do not use.
        assert.doesNotThrow(() => contractFromEnv("smtp-in", without(MAIL_ENV.dkimPrivateKey)));
        assert.doesNotThrow(() => contractFromEnv("imap", without(MAIL_ENV.imapHost)));
    });

    it("rejects an override that is not a template variable, and a placeholder without a value", () => {
        const contract = contractFromEnv("smtp-in", FULL_ENV);
        assert.throws(() => templateVariables("smtp-in", contract, { SMPT_LISTEN: "127.0.0.1:2525" }), /override SMPT_LISTEN is not a template variable of this tier/);
        assert.throws(() => renderTemplate("port = {{NO_SUCH}}\n", {}, "x.cf"), /x\.cf: placeholder \{\{NO_SUCH\}\} has no value/);
    });

    it("renders the production layout of lib/mailTiers.ts: ports, mounts, the mailbox owner", () => {
        const dir = tempDir();
        try {
            const render = (tier: MailTierName) => {
                const contract = contractFromEnv(tier, FULL_ENV);
                renderTier(tier, contract, templateVariables(tier, contract), path.join(dir, tier));
                return (name: string) => fs.readFileSync(path.join(dir, tier, name), "utf8");
            };
            const smtpIn = render("smtp-in");
            assert.match(smtpIn("master.cf"), new RegExp(`^0\\.0\\.0\\.0:${MAIL_PORTS.smtpIn} +inet`, "m"));
            assert.match(smtpIn("main.cf"), new RegExp(`^queue_directory = ${MAIL_MOUNTS.queue}$`, "m"));
            assert.match(smtpIn("main.cf"), new RegExp(`socketmap:inet:127\\.0\\.0\\.1:${MAIL_PORTS.resolver}:alias`));
            assert.match(smtpIn("main.cf"), new RegExp(`lmtp:inet:imap\\.cabal\\.local:${MAIL_PORTS.lmtp}`));
            assert.match(smtpIn("main.cf"), /^message_size_limit = 26214400$/m);
            assert.match(smtpIn("main.cf"), /^myhostname = smtp-in\.mail-admin\.example\.net$/m);
            assert.match(smtpIn("address_domains.regexp"), /\\\.example\\\.com\$\/ OK/);
            assert.match(smtpIn("address_domains.regexp"), /\\\.example\\\.org\$\/ OK/);

            const imap = render("imap");
            for (const p of [MAIL_PORTS.imap, MAIL_PORTS.lmtp, MAIL_PORTS.auth]) assert.match(imap("dovecot.conf"), new RegExp(`port = ${p}$`, "m"));
            assert.match(imap("dovecot.conf"), new RegExp(`uid=${MAILBOX_OWNER.uid} gid=${MAILBOX_OWNER.gid} home=${MAIL_MOUNTS.mailboxes}/%Ln`));
            assert.match(imap("dovecot.conf"), /^base_dir = \/run\/dovecot$/m, "lib/mailTiers.ts's health check reads /run/dovecot/master.pid");
            assert.match(imap("checkpassword.sh"), new RegExp(`^resolver_port=${MAIL_PORTS.resolver}$`, "m"));

            const smtpOut = render("smtp-out");
            assert.match(smtpOut("master.cf"), new RegExp(`^0\\.0\\.0\\.0:${MAIL_PORTS.submission} +inet`, "m"));
            assert.match(smtpOut("main.cf"), new RegExp(`^smtpd_sasl_path = inet:imap\\.cabal\\.local:${MAIL_PORTS.auth}$`, "m"));
            assert.match(smtpOut("main.cf"), /^relayhost = $/m);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("smtp-in: a recipient the resolver rewrote maps to itself before the resolver is asked, which ends alias expansion", function () {
        if (!has("postmap")) return this.skip();
        const dir = tempDir();
        try {
            const contract = contractFromEnv("smtp-in", FULL_ENV);
            renderTier("smtp-in", contract, templateVariables("smtp-in", contract), dir);
            const mainCf = fs.readFileSync(path.join(dir, "main.cf"), "utf8");
            const maps = /^virtual_alias_maps = (.*)$/m.exec(mainCf)?.[1].split(/,\s*/) ?? [];
            assert.deepEqual(maps, ["regexp:/etc/postfix/mailbox_identity.regexp", `socketmap:inet:127.0.0.1:${MAIL_PORTS.resolver}:alias`]);
            const lookup = (key: string) => {
                try {
                    return execFileSync("postmap", ["-q", key, `regexp:${path.join(dir, "mailbox_identity.regexp")}`], { encoding: "utf8" }).trim();
                } catch {
                    return undefined; // postmap -q exits 1 when the key is not found
                }
            };
            // Postfix stops expanding when an address maps to itself (virtual(5)), so cleanup never asks the resolver
            // about the rewritten recipient; everything else, including look-alikes, falls through to the resolver.
            assert.equal(lookup("alice@mailbox.invalid"), "alice@mailbox.invalid");
            assert.equal(lookup("shop@acme.example.com"), undefined);
            assert.equal(lookup("alice@mailbox.invalid.example.com"), undefined);
            assert.equal(lookup("alice@mailboxxinvalid"), undefined);
            assert.equal(lookup("@mailbox.invalid"), undefined);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("renders the SES relay with its credentials in a private table", () => {
        const dir = tempDir();
        try {
            const env = { ...FULL_ENV, [MAIL_ENV.outbound]: "ses", [MAIL_ENV.relayHost]: "email-smtp.us-east-1.amazonaws.com:587", [MAIL_ENV.relayUser]: "AKIAEXAMPLE", [MAIL_ENV.relayPassword]: "pass/word+=" };
            const contract = contractFromEnv("smtp-out", env);
            renderTier("smtp-out", contract, templateVariables("smtp-out", contract), dir);
            const main = fs.readFileSync(path.join(dir, "main.cf"), "utf8");
            assert.match(main, /^relayhost = \[email-smtp\.us-east-1\.amazonaws\.com\]:587$/m);
            assert.match(main, /^smtp_tls_security_level = encrypt$/m);
            assert.match(main, /^smtp_sasl_auth_enable = yes$/m);
            assert.match(main, /^smtp_sasl_password_maps = texthash:\/etc\/postfix\/relay_passwords$/m);
            const passwords = path.join(dir, "relay_passwords");
            assert.equal(fs.readFileSync(passwords, "utf8"), "[email-smtp.us-east-1.amazonaws.com]:587 AKIAEXAMPLE:pass/word+=\n");
            assert.equal(fs.statSync(passwords).mode & 0o777, 0o600);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("renders production configs that Postfix's and Dovecot's own parsers accept without warnings", async function () {
        if (!has("postconf") || !has("doveconf")) this.skip();
        const dir = tempDir();
        try {
            for (const tier of MAIL_TIER_NAMES) {
                const contract = contractFromEnv(tier, FULL_ENV);
                renderTier(tier, contract, templateVariables(tier, contract), path.join(dir, tier));
            }
            for (const tier of ["smtp-in", "smtp-out"]) {
                const { stdout, stderr } = await run("postconf", ["-c", path.join(dir, tier), "-n"]);
                assert.equal(stderr, "", `postconf on ${tier}: ${stderr}`);
                assert.ok(stdout.includes("virtual_alias_maps") || tier === "smtp-out");
                const master = await run("postconf", ["-c", path.join(dir, tier), "-M"]);
                assert.equal(master.stderr, "", `postconf -M on ${tier}: ${master.stderr}`);
            }
            const dovecot = await run("doveconf", ["-c", path.join(dir, "imap", "dovecot.conf"), "-n"]);
            assert.equal(dovecot.stderr, "");
            // The parsers can fail: a misspelt setting is caught.
            fs.appendFileSync(path.join(dir, "smtp-in", "main.cf"), "smtpd_recipent_restrictions = permit\n");
            const broken = await run("postconf", ["-c", path.join(dir, "smtp-in"), "-n"]);
            assert.match(broken.stderr, /unused parameter: smtpd_recipent_restrictions/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("has Dockerfiles that copy every template and the entrypoint, and build the resolver bundle from mail/src", () => {
        for (const tier of MAIL_TIER_NAMES) {
            const dockerfile = fs.readFileSync(path.join(MAIL_DIR, tier, "Dockerfile"), "utf8");
            assert.match(dockerfile, /^FROM debian:bookworm-slim$/m);
            assert.match(dockerfile, /esbuild mail\/src\/cli\.ts --bundle/);
            for (const file of [...TEMPLATE_FILES[tier], "entrypoint.sh"]) {
                assert.ok(fs.existsSync(path.join(MAIL_DIR, tier, file)), `mail/${tier}/${file} is missing`);
                assert.ok(dockerfile.includes(`mail/${tier}/${file}`), `mail/${tier}/Dockerfile does not copy ${file}`);
            }
            for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
                for (const source of match[1].split(/\s+/)) assert.ok(fs.existsSync(path.join(MAIL_DIR, "..", source)), `mail/${tier}/Dockerfile copies ${source}, which does not exist`);
            }
            const entrypoint = fs.statSync(path.join(MAIL_DIR, tier, "entrypoint.sh"));
            assert.ok(entrypoint.mode & 0o100, `mail/${tier}/entrypoint.sh is not executable`);
        }
    });

    it("bundles into one program that renders from the environment and explains a missing variable", async function () {
        this.timeout(30000);
        const dir = tempDir();
        try {
            const bundle = path.join(dir, "cabal-mail.js");
            await esbuild.build({ entryPoints: [path.join(MAIL_DIR, "src", "cli.ts")], bundle: true, platform: "node", target: "node20", outfile: bundle, logLevel: "error" });
            const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...FULL_ENV };
            await run(process.execPath, [bundle, "render", "smtp-in", path.join(MAIL_DIR, "smtp-in"), path.join(dir, "etc")], { env });
            assert.match(fs.readFileSync(path.join(dir, "etc", "main.cf"), "utf8"), /^myhostname = smtp-in\.mail-admin\.example\.net$/m);
            const withoutDomains = { ...env };
            delete withoutDomains[MAIL_ENV.mailDomains];
            await assert.rejects(run(process.execPath, [bundle, "render", "smtp-in", path.join(MAIL_DIR, "smtp-in"), path.join(dir, "etc2")], { env: withoutDomains }), (err: { code?: number; stderr?: string }) => {
                assert.equal(err.code, 1);
                assert.match(err.stderr ?? "", /MAIL_DOMAINS is not set; set it to the comma-separated mail domains/);
                return true;
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("speaks socketmap netstrings: whole, split across reads, and refuses malformed ones", () => {
        const one = encodeNetstring("alias shop@acme.example.com");
        assert.equal(one.toString(), "27:alias shop@acme.example.com,");
        const both = Buffer.concat([one, encodeNetstring("owner x@y.example.com")]);
        const whole = parseNetstrings(both);
        assert.deepEqual(whole.requests, ["alias shop@acme.example.com", "owner x@y.example.com"]);
        assert.equal(whole.rest.length, 0);
        const partial = parseNetstrings(both.subarray(0, 35));
        assert.deepEqual(partial.requests, ["alias shop@acme.example.com"]);
        assert.equal(partial.rest.toString(), "21:o");
        assert.throws(() => parseNetstrings(Buffer.from("5:hello;")), /does not end with a comma/);
        assert.throws(() => parseNetstrings(Buffer.from("x5:hello,")), /bad netstring length/);
        assert.throws(() => parseNetstrings(Buffer.from("999999:")), /too long/);
    });
});
