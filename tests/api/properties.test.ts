/**
 * Property-based tests (fast-check): whatever the input, no DNS record carries it beyond a validated label, no
 * address lands outside the configured domains, and no user can take or change another user's address.
 */
import assert from "node:assert/strict";
import { ChangeResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { validateNewAddress } from "../../api/src/addresses";
import { subdomainRecordSets } from "../../api/src/dns";
import { ApiError } from "../../api/src/errors";
import { CONTROL_DOMAIN, MAIL_DOMAINS, startApiFixture, type ApiFixture } from "./support/fixture";

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const FIXED_VALUES = new Set(subdomainRecordSets("x", "example.com", CONTROL_DOMAIN).map((r) => r.ResourceRecords![0].Value));

/** Strings built from the characters that matter for DNS zone files, mail syntax and Unicode case mapping. */
const nasty = fc.string({
    unit: fc.constantFrom(..."aZ09-._@ \t\n\r\"'\\;()<>[],:%*/\u0000\u00e9\u0130\u212a\u017f\uff21".split(""), "xn--", "example.com", ".example.net", "acme"),
    maxLength: 40,
});
const localPart = fc.oneof(nasty, fc.stringMatching(/^[a-z0-9-]{1,70}$/), fc.string({ unit: "grapheme", maxLength: 10 }));
const subdomain = fc.oneof(nasty, fc.stringMatching(/^[a-z0-9-]{1,70}$/), fc.constantFrom("", "a.b", "_dmarc", "smtp-in", "ACME"));
const domain = fc.oneof(fc.constantFrom(...MAIL_DOMAINS, "EXAMPLE.COM", "example.org", "com", "evil.example.com.attacker.org", "example.com.", ""), nasty);
/** Mostly valid shapes (mixed case, edge hyphens, reserved names) so that the accepting side is exercised too. */
const labelish = fc.oneof(fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,12}[a-zA-Z0-9-]?$/), fc.constantFrom("postmaster", "www", "xn--p1ai", "a", "-a", "a-"));
const addressInput = fc.oneof(
    fc.tuple(localPart, subdomain, domain).map(([l, s, d]) => `${l}@${s}.${d}`),
    fc.tuple(labelish, labelish, fc.constantFrom(...MAIL_DOMAINS, "Example.Com", "example.org")).map(([l, s, d]) => `${l}@${s}.${d}`),
    nasty,
);

/** Checks what a valid address turns into in DNS: names built only from its subdomain label and its domain; values fixed. */
function assertSafeRecords(sub: string, dom: string) {
    assert.ok(LABEL.test(sub), `subdomain ${JSON.stringify(sub)} is a DNS label`);
    assert.ok(MAIL_DOMAINS.includes(dom), `domain ${dom} is configured`);
    for (const record of subdomainRecordSets(sub, dom, CONTROL_DOMAIN)) {
        assert.ok([`${sub}.${dom}.`, `_dmarc.${sub}.${dom}.`, `cabal._domainkey.${sub}.${dom}.`].includes(record.Name!), record.Name);
        for (const value of record.ResourceRecords!.map((r) => r.Value!)) {
            assert.ok(FIXED_VALUES.has(value), `value ${value} is one of the fixed values`);
        }
    }
}

describe("address API properties", () => {
    it("validation accepts only local@label.<configured domain>, and then the DNS records carry nothing but the label", () => {
        fc.assert(
            fc.property(addressInput, (input) => {
                let parsed: ReturnType<typeof validateNewAddress>;
                try {
                    parsed = validateNewAddress(input, MAIL_DOMAINS);
                } catch (error) {
                    assert.ok(error instanceof ApiError && error.statusCode === 400, String(error));
                    return;
                }
                const [local, host] = parsed.address.split("@");
                assert.ok(LABEL.test(local) && local.length <= 64, `local part ${JSON.stringify(local)}`);
                assert.equal(host, `${parsed.subdomain}.${parsed.domain}`);
                assertSafeRecords(parsed.subdomain, parsed.domain);
            }),
            { numRuns: 5000 },
        );
    });

    describe("through the API", () => {
        let api: ApiFixture;
        before(async () => (api = await startApiFixture()));
        after(async () => api?.stop());

        it("no request body creates an address outside the configured domains or injects into a change batch", async () => {
            const body = fc.record(
                { address: fc.oneof(addressInput, fc.anything()), random: fc.oneof(fc.boolean(), fc.anything()), domain: fc.oneof(domain, fc.anything()), comment: fc.oneof(nasty, fc.anything()) },
                { requiredKeys: [] },
            );
            await fc.assert(
                fc.asyncProperty(body, async (request) => {
                    api.route53.resetHistory();
                    const response = await api.call("POST", "/addresses", { user: "alice", body: request });
                    assert.ok([201, 400, 409].includes(response.status), `${response.status} ${JSON.stringify(response.body)}`);
                    assert.equal(typeof response.body, "object");
                    if (response.status !== 201) {
                        assert.equal(typeof response.body.error, "string");
                        assert.deepEqual(api.changeBatches(), []);
                        return;
                    }
                    const created = response.body.address;
                    for (const call of api.route53.commandCalls(ChangeResourceRecordSetsCommand)) {
                        assert.equal(call.args[0].input.HostedZoneId, { "example.com": "Z0EXAMPLECOM", "example.net": "Z0EXAMPLENET" }[created.domain as string]);
                    }
                    assertSafeRecords(created.subdomain, created.domain);
                    for (const change of api.changeBatches().flatMap((b) => b.changes) as { ResourceRecordSet: { Name: string } }[]) {
                        assert.ok(change.ResourceRecordSet.Name.endsWith(`${created.subdomain}.${created.domain}.`));
                    }
                }),
                { numRuns: 150 },
            );
        });

        it("no sequence of requests lets one user take, change or see another user's address", async () => {
            const users = ["alice", "bob"] as const;
            const spelling = fc.constantFrom(
                (a: string) => a,
                (a: string) => a.toUpperCase(),
                (a: string) => encodeURIComponent(a),
                (a: string) => ` ${a} `,
                (a: string) => a.replace("k", "\u212a"),
                (a: string) => a.replace("@", "%40"),
            );
            const target = fc.constantFrom("shop@acme.example.com", "billing@acme.example.com", "key@acme.example.net");
            const step = fc.record({
                who: fc.constantFrom(...users),
                action: fc.constantFrom("create", "suspend", "reinstate", "revoke", "list"),
                target,
                spelling,
            });
            await fc.assert(
                fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
                    await api.reset();
                    const owners = new Map<string, string>();
                    for (const { who, action, target: address, spelling: spell } of steps) {
                        const written = spell(address);
                        let response;
                        if (action === "create") response = await api.call("POST", "/addresses", { user: who, body: { address: decodeURIComponent(written), comment: who } });
                        else if (action === "list") response = await api.call("GET", "/addresses", { user: who });
                        else if (action === "revoke") response = await api.call("DELETE", `/addresses/${encodeURIComponent(written)}`, { user: who });
                        else response = await api.call("POST", `/addresses/${encodeURIComponent(written)}/${action}`, { user: who });

                        const owner = owners.get(address);
                        if (action === "list") {
                            for (const item of response.body.addresses) assert.equal(item.user, who);
                            continue;
                        }
                        if (owner && owner !== who) {
                            assert.ok([404, 409, 400].includes(response.status), `${who} ${action} ${written} of ${owner}: ${response.status}`);
                            continue;
                        }
                        if (action === "create" && response.status === 201) owners.set(response.body.address.address, who);
                        if (action === "revoke" && response.status === 200) owners.delete(address);
                    }
                    const items = (await api.deps.dynamo.send(new ScanCommand({ TableName: api.deps.settings.tableName }))).Items ?? [];
                    assert.deepEqual(new Map(items.map((i) => [i.address, i.user])), owners);
                }),
                { numRuns: 40 },
            );
        });
    });
});
