import * as assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { configKeys, parseStackConfig, type RawConfig } from "../../lib/config";
import { PROJECT_ROOT, readProjectFile, readStackConfig } from "../../plan/stackFile";
import { runPlan } from "../support/plan";

/** A valid minimal config, as Pulumi hands it over (strings), keyed without the namespace. */
const VALID: RawConfig = { controlDomain: "cabal-admin.example.org", mailDomains: '["example.com"]' };

describe("stack config", () => {
    describe("valid values, in the forms `pulumi config set` stores them", () => {
        it("reads `pulumi config set backup true` (the string \"true\") as a boolean", () => {
            assert.equal(parseStackConfig({ ...VALID, backup: "true" }, "us-east-1").backup, true);
            assert.equal(parseStackConfig({ ...VALID, backup: "false" }, "us-east-1").backup, false);
        });

        it("applies the defaults that Pulumi.yaml declares when keys are unset", () => {
            const config = parseStackConfig(VALID, "us-east-1");
            assert.equal(config.backup, false);
            assert.equal(config.availabilityZones, 2);
            assert.equal(config.natGateway, false);
            assert.equal(config.backupCopyRegion, undefined);
        });

        it("lower-cases domains, so Example.COM and example.com are one domain", () => {
            const config = parseStackConfig({ controlDomain: "Cabal-Admin.Example.ORG", mailDomains: '["Example.COM"]' }, "us-east-1");
            assert.equal(config.controlDomain, "cabal-admin.example.org");
            assert.deepEqual(config.mailDomains, ["example.com"]);
        });

        it("turns hostedZoneIds entries into a map of lower-case domain to zone id", () => {
            const config = parseStackConfig({ ...VALID, hostedZoneIds: '["Example.com=Z0123456789ABCDEFGHIJ","cabal-admin.example.org=Z9876543210ZYXWVUTSRQ"]' }, "us-east-1");
            assert.deepEqual(config.existingZoneIds, { "example.com": "Z0123456789ABCDEFGHIJ", "cabal-admin.example.org": "Z9876543210ZYXWVUTSRQ" });
            assert.deepEqual(parseStackConfig(VALID, "us-east-1").existingZoneIds, {});
        });

        it("reads the structured form written by `pulumi config set --path` from a stack file", () => {
            const dir = mkdtempSync(path.join(tmpdir(), "cabalmail-config-"));
            try {
                copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
                // What `pulumi config set --path 'mailDomains[0]' a.example` (and [1]) and `--path backup true` write.
                writeFileSync(path.join(dir, "Pulumi.dev.yaml"), [
                    "config:",
                    "  aws:region: eu-west-1",
                    "  cabalmail:controlDomain: ctl.example.org",
                    "  cabalmail:mailDomains:",
                    "    - a.example",
                    "    - b.example",
                    "  cabalmail:backup: true",
                    "",
                ].join("\n"));
                const flat = readStackConfig("dev", {}, dir);
                const raw = Object.fromEntries(Object.entries(flat).filter(([k]) => k.startsWith("cabalmail:")).map(([k, v]) => [k.slice(10), v]));
                const config = parseStackConfig(raw, flat["aws:region"]);
                assert.deepEqual(config.mailDomains, ["a.example", "b.example"]);
                assert.equal(config.backup, true);
                assert.equal(config.region, "eu-west-1");
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("invalid values fail with one message naming the key, the value and the fix", () => {
        const cases: { what: string; raw: RawConfig; region?: string; message: RegExp }[] = [
            { what: "a non-boolean backup", raw: { ...VALID, backup: "yes" }, message: /^Invalid stack config cabalmail:backup: must be true or false; got "yes"\. Fix: pulumi config set backup true$/ },
            { what: "a numeric backup", raw: { ...VALID, backup: "1" }, message: /cabalmail:backup: must be true or false; got "1"/ },
            { what: "an empty controlDomain", raw: { ...VALID, controlDomain: "" }, message: /cabalmail:controlDomain: must be a DNS domain name.*got ""\. Fix: pulumi config set controlDomain / },
            { what: "a missing controlDomain", raw: { mailDomains: VALID.mailDomains }, message: /cabalmail:controlDomain: is required; got nothing \(the key is not set\)\. Fix: pulumi config set controlDomain/ },
            { what: "a malformed controlDomain", raw: { ...VALID, controlDomain: "-bad-.example.org" }, message: /cabalmail:controlDomain: must be a DNS domain name.*got "-bad-\.example\.org"/ },
            { what: "a single-label domain", raw: { ...VALID, controlDomain: "localhost" }, message: /cabalmail:controlDomain: must be a DNS domain name.*got "localhost"/ },
            { what: "a mail domain with a space", raw: { ...VALID, mailDomains: '["exa mple.com"]' }, message: /cabalmail:mailDomains\[0\]: must be a DNS domain name.*got "exa mple\.com"\. Fix: pulumi config set --path 'mailDomains\[0\]' example\.com/ },
            { what: "an empty mail domain in the list", raw: { ...VALID, mailDomains: '["example.com", ""]' }, message: /cabalmail:mailDomains\[1\]: must be a DNS domain name.*got ""/ },
            { what: "mailDomains that is not a list", raw: { ...VALID, mailDomains: "example.com" }, message: /cabalmail:mailDomains: must be a list of domain names; got "example\.com"\. Fix: pulumi config set --path 'mailDomains\[0\]' example\.com/ },
            { what: "mailDomains that is an object", raw: { ...VALID, mailDomains: '{"a":"example.com"}' }, message: /cabalmail:mailDomains: must be a list of domain names/ },
            { what: "an empty mailDomains", raw: { ...VALID, mailDomains: "[]" }, message: /cabalmail:mailDomains: must list at least one mail domain; got "\[\]"/ },
            { what: "a missing mailDomains", raw: { controlDomain: VALID.controlDomain }, message: /cabalmail:mailDomains: is required: at least one mail domain; got nothing/ },
            { what: "a duplicate mail domain", raw: { ...VALID, mailDomains: '["example.com","EXAMPLE.com"]' }, message: /cabalmail:mailDomains: lists example\.com twice/ },
            { what: "the control domain as a mail domain", raw: { ...VALID, mailDomains: '["cabal-admin.example.org"]' }, message: /cabalmail:mailDomains: includes the controlDomain cabal-admin\.example\.org/ },
            { what: "a second region equal to the stack's region", raw: { ...VALID, backupCopyRegion: "us-east-1" }, message: /cabalmail:backupCopyRegion: is the stack's own region \(aws:region = us-east-1\).*got "us-east-1"\. Fix: pulumi config set backupCopyRegion <another region>/ },
            { what: "a malformed second region", raw: { ...VALID, backupCopyRegion: "mars" }, message: /cabalmail:backupCopyRegion: must be an AWS region name such as us-west-2; got "mars"/ },
            { what: "delete-after less than 90 days after cold storage", raw: { ...VALID, backupColdStorageAfterDays: "30", backupDeleteAfterDays: "100" }, message: /cabalmail:backupDeleteAfterDays: must be at least 90 days after backupColdStorageAfterDays \(30\).*got "100"\. Fix: pulumi config set backupDeleteAfterDays 120/ },
            { what: "a zero retention", raw: { ...VALID, backupDeleteAfterDays: "0" }, message: /cabalmail:backupDeleteAfterDays: backupDeleteAfterDays must be at least 1 day; got "0"/ },
            { what: "a fractional retention", raw: { ...VALID, backupColdStorageAfterDays: "1.5" }, message: /cabalmail:backupColdStorageAfterDays: must be a whole number of days; got "1\.5"/ },
            { what: "delete-after beyond the vault lock's maximum", raw: { ...VALID, backupDeleteAfterDays: "400", backupMaxRetentionDays: "365" }, message: /cabalmail:backupDeleteAfterDays: must lie within the vault lock's retention/ },
            { what: "a lock minimum above its maximum", raw: { ...VALID, backupMinRetentionDays: "400", backupMaxRetentionDays: "365" }, message: /cabalmail:backupMinRetentionDays: must not exceed backupMaxRetentionDays \(365\)/ },
            { what: "a zero availability-zone count", raw: { ...VALID, availabilityZones: "0" }, message: /cabalmail:availabilityZones: must be at least 2.*got "0"\. Fix: pulumi config set availabilityZones 2/ },
            { what: "a negative availability-zone count", raw: { ...VALID, availabilityZones: "-3" }, message: /cabalmail:availabilityZones: must be at least 2.*got "-3"/ },
            { what: "a non-numeric availability-zone count", raw: { ...VALID, availabilityZones: "two" }, message: /cabalmail:availabilityZones: must be a whole number; got "two"/ },
            { what: "a malformed backup schedule", raw: { ...VALID, backupSchedule: "nightly" }, message: /cabalmail:backupSchedule: must be an AWS cron expression.*got "nightly"/ },
            { what: "a hosted zone listed twice", raw: { ...VALID, hostedZoneIds: '["example.com=Z0123456789ABCDEFGHIJ","EXAMPLE.com=Z9876543210ZYXWVUTSRQ"]' }, message: /cabalmail:hostedZoneIds: lists example\.com twice/ },
            { what: "a hosted zone for a domain of no use", raw: { ...VALID, hostedZoneIds: '["other.example=Z0123456789ABCDEFGHIJ"]' }, message: /cabalmail:hostedZoneIds: names other\.example, which is neither the controlDomain nor a mail domain/ },
            { what: "a misspelt key", raw: { ...VALID, bakup: "true" }, message: /cabalmail:bakup: is not a config key of this project \(known keys: .*backup.*\); got "true"\. Fix: pulumi config rm bakup/ },
            { what: "a stack without a region", raw: VALID, region: "", message: /aws:region: the stack has no AWS region.*Fix: pulumi config set aws:region us-east-1/ },
        ];
        for (const c of cases) {
            it(`rejects ${c.what}`, () => {
                assert.throws(() => parseStackConfig(c.raw, c.region ?? "us-east-1"), (error: Error) => {
                    assert.equal(error.name, "StackConfigError");
                    assert.match(error.message, c.message);
                    assert.doesNotMatch(error.message, /\n/, "one line, no stack trace");
                    return true;
                });
            });
        }

        it("stops the program before any resource is registered, with the message alone (pulumi.RunError)", async () => {
            const plan = await runPlan({ config: { backup: "maybe" } });
            assert.equal(plan.error, 'Invalid stack config cabalmail:backup: must be true or false; got "maybe". Fix: pulumi config set backup true');
            assert.deepEqual(plan.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.type), []);
        });
    });

    describe("Pulumi.yaml", () => {
        const project = readProjectFile();
        const declared = project.config as Record<string, { type: string; description?: string; default?: unknown }>;
        const typeOf: Record<string, string> = {};

        it("declares every key of the schema, with its description and the schema's default", () => {
            for (const key of configKeys()) {
                const spec = declared[key.key];
                assert.ok(spec, `Pulumi.yaml declares no config key ${key.key}`);
                assert.equal(spec.description, key.description, `description of ${key.key}`);
                assert.deepEqual(spec.default, key.default, `default of ${key.key}`);
                typeOf[key.key] = spec.type;
            }
            assert.deepEqual(Object.keys(declared).sort(), configKeys().map((k) => k.key).sort(), "Pulumi.yaml declares keys the schema does not know");
        });

        it("gives each key a type the schema accepts for its default", () => {
            for (const [key, spec] of Object.entries(declared)) {
                assert.ok(["string", "integer", "boolean", "array"].includes(spec.type), `${key}: type ${spec.type}`);
                if (spec.default !== undefined) {
                    assert.doesNotThrow(() => parseStackConfig({ ...VALID, [key]: typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default) }, "us-east-1"));
                }
            }
        });

        it("is the project cabalmail", () => assert.equal(project.name, "cabalmail"));

        it("and the README document the same keys", () => {
            const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
            const documented = [...readme.matchAll(/^\| `([a-z][A-Za-z]+)` \| (?:string|boolean|integer|list)/gm)].map((m) => m[1]);
            assert.deepEqual(documented.sort(), configKeys().map((k) => k.key).sort());
        });
    });
});
