/**
 * The address routes against dynalite (the real DynamoDB API) through the local gateway (real JWT checks),
 * with Route 53 mocked so the exact change batches can be asserted, including failures midway.
 */
import assert from "node:assert/strict";
import { ChangeResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { startApiFixture, type ApiFixture } from "./support/fixture";

const records = (action: string, host: string) => [
    { Action: action, ResourceRecordSet: { Name: `${host}.`, Type: "MX", TTL: 300, ResourceRecords: [{ Value: "10 smtp-in.mail-admin.example.org." }] } },
    { Action: action, ResourceRecordSet: { Name: `${host}.`, Type: "TXT", TTL: 300, ResourceRecords: [{ Value: '"v=spf1 include:mail-admin.example.org -all"' }] } },
    { Action: action, ResourceRecordSet: { Name: `cabal._domainkey.${host}.`, Type: "CNAME", TTL: 300, ResourceRecords: [{ Value: "cabal._domainkey.mail-admin.example.org." }] } },
    { Action: action, ResourceRecordSet: { Name: `_dmarc.${host}.`, Type: "TXT", TTL: 300, ResourceRecords: [{ Value: '"v=DMARC1; p=reject; adkim=r; aspf=r"' }] } },
];

describe("address API: create, list, suspend, reinstate, revoke", () => {
    let api: ApiFixture;
    before(async () => (api = await startApiFixture()));
    after(async () => api?.stop());
    beforeEach(async () => {
        await api.reset();
        api.route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    });

    const item = async (address: string) =>
        (await api.deps.dynamo.send(new GetCommand({ TableName: api.deps.settings.tableName, Key: { address }, ConsistentRead: true }))).Item;

    it("creates an address: writes the item and upserts the subdomain's four records in the domain's zone", async () => {
        const created = await api.call("POST", "/addresses", { user: "alice", body: { address: "Shop@Acme.Example.com", comment: "Acme Inc." } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.address.address, "shop@acme.example.com");
        const stored = await item("shop@acme.example.com");
        assert.deepEqual({ ...stored, createdAt: "x" }, { address: "shop@acme.example.com", user: "alice", subdomain: "acme", domain: "example.com", comment: "Acme Inc.", status: "active", createdAt: "x" });
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("UPSERT", "acme.example.com") }]);
    });

    it("creates a random address on the requested domain and refuses a second create of the same address", async () => {
        const random = await api.call("POST", "/addresses", { user: "alice", body: { random: true, domain: "example.net", comment: "a shop" } });
        assert.equal(random.status, 201);
        assert.match(random.body.address.address, /^[a-z][a-z0-9]{7}@[a-z][a-z0-9]{7}\.example\.net$/);
        assert.equal(api.changeBatches()[0].zone, "Z0EXAMPLENET");

        await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
        const again = await api.call("POST", "/addresses", { user: "bob", body: { address: "shop@acme.example.com", comment: "mine now" } });
        assert.equal(again.status, 409);
        assert.match(again.body.error, /already exists/);
        assert.equal((await item("shop@acme.example.com"))?.user, "alice");
    });

    it("refuses bad requests with a 400 that names the problem", async () => {
        const cases: [unknown, RegExp][] = [
            [{ address: "shop@acme.example.com" }, /"comment" is required/],
            [{ address: "shop@acme.example.com", comment: "  " }, /must not be empty/],
            [{ address: "shop@acme.example.com", comment: "a\nb" }, /control characters/],
            [{ address: "shop@acme.other.org", comment: "x" }, /not on a configured mail domain/],
            [{ address: "shop@example.com", comment: "x" }, /not on a configured mail domain/],
            [{ address: "sh_op@acme.example.com", comment: "x" }, /only lower-case letters/],
            [{ address: "-shop@acme.example.com", comment: "x" }, /must not begin or end with a hyphen/],
            [{ address: `${"a".repeat(65)}@acme.example.com`, comment: "x" }, /at most 64/],
            [{ address: `shop@${"a".repeat(64)}.example.com`, comment: "x" }, /at most 63/],
            [{ address: "postmaster@acme.example.com", comment: "x" }, /reserved for a role/],
            [{ address: "shop@smtp-in.example.com", comment: "x" }, /reserved for infrastructure/],
            [{ address: "shop@xn--80ak6aa92e.example.com", comment: "x" }, /internationalized/],
            [{ random: true, domain: "example.org", comment: "x" }, /not a configured mail domain/],
            [{ random: true, address: "a@b.example.com", comment: "x" }, /either "address" or "random"/],
            [{ comment: "x" }, /Give "address"/],
            [{ address: "a@b.example.com", comment: "x", owner: "bob" }, /Unknown field "owner"/],
            [[1, 2], /must be a JSON object/],
            ["{not json", /not valid JSON/],
        ];
        for (const [body, message] of cases) {
            const response = await api.call("POST", "/addresses", { user: "alice", body });
            assert.equal(response.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
            assert.match(response.body.error, message, JSON.stringify(body));
        }
        assert.deepEqual(api.changeBatches(), []);
    });

    it("lists only the caller's addresses, filtered by domain and text", async () => {
        for (const [user, address, comment] of [
            ["alice", "shop@acme.example.com", "Acme Inc."],
            ["alice", "news@paper.example.net", "The Daily Paper"],
            ["bob", "bob@acme.example.com", "Acme for Bob"],
        ]) {
            assert.equal((await api.call("POST", "/addresses", { user, body: { address, comment } })).status, 201);
        }
        const all = await api.call("GET", "/addresses", { user: "alice" });
        assert.deepEqual(all.body.addresses.map((a: { address: string }) => a.address), ["news@paper.example.net", "shop@acme.example.com"]);
        const net = await api.call("GET", "/addresses?domain=example.net", { user: "alice" });
        assert.deepEqual(net.body.addresses.map((a: { address: string }) => a.address), ["news@paper.example.net"]);
        const text = await api.call("GET", "/addresses?search=ACME", { user: "alice" });
        assert.deepEqual(text.body.addresses.map((a: { address: string }) => a.address), ["shop@acme.example.com"]);
        const badDomain = await api.call("GET", "/addresses?domain=example.org", { user: "alice" });
        assert.equal(badDomain.status, 400);
        const everything = await api.call("GET", "/admin/addresses", { user: "root", admin: true });
        assert.equal(everything.body.addresses.length, 3);
    });

    it("suspends and reinstates: status changes, DNS is withdrawn and republished", async () => {
        await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
        api.route53.resetHistory();
        const suspended = await api.call("POST", "/addresses/shop%40acme.example.com/suspend", { user: "alice" });
        assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
        assert.equal((await item("shop@acme.example.com"))?.status, "suspended");
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("DELETE", "acme.example.com") }]);

        assert.equal((await api.call("POST", "/addresses/shop@acme.example.com/suspend", { user: "alice" })).status, 409);

        api.route53.resetHistory();
        const reinstated = await api.call("POST", "/addresses/shop@acme.example.com/reinstate", { user: "alice" });
        assert.equal(reinstated.status, 200);
        assert.equal((await item("shop@acme.example.com"))?.status, "active");
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("UPSERT", "acme.example.com") }]);
    });

    it("keeps a shared subdomain's DNS while another address there is active; withdraws it with the last one", async () => {
        await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme shop" } });
        await api.call("POST", "/addresses", { user: "alice", body: { address: "billing@acme.example.com", comment: "Acme billing" } });
        api.route53.resetHistory();

        assert.equal((await api.call("POST", "/addresses/shop@acme.example.com/suspend", { user: "alice" })).status, 200);
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("UPSERT", "acme.example.com") }], "billing@ is still active");

        api.route53.resetHistory();
        const revoked = await api.call("DELETE", "/addresses/billing@acme.example.com", { user: "alice" });
        assert.equal(revoked.status, 200);
        assert.equal(await item("billing@acme.example.com"), undefined);
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("DELETE", "acme.example.com") }], "shop@ is only suspended");

        api.route53.resetHistory();
        assert.equal((await api.call("DELETE", "/addresses/shop@acme.example.com", { user: "alice" })).status, 200);
        assert.equal(await item("shop@acme.example.com"), undefined);
        // Already withdrawn: Route 53 would answer "not found"; the mock accepts, so one more DELETE batch is sent.
        assert.deepEqual(api.changeBatches(), [{ zone: "Z0EXAMPLECOM", changes: records("DELETE", "acme.example.com") }]);
        assert.equal((await api.call("DELETE", "/addresses/shop@acme.example.com", { user: "alice" })).status, 404);
    });

    it("treats records that are already gone as withdrawn", async () => {
        await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
        api.route53.resetHistory();
        const notFound = Object.assign(new Error("Tried to delete resource record set [name='acme.example.com.', type='MX'] but it was not found"), { name: "InvalidChangeBatch" });
        api.route53.on(ChangeResourceRecordSetsCommand).rejects(notFound);
        const revoked = await api.call("DELETE", "/addresses/shop@acme.example.com", { user: "alice" });
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        assert.equal(await item("shop@acme.example.com"), undefined);
        // the whole batch, then each record on its own
        assert.equal(api.changeBatches().length, 5);
        assert.deepEqual(api.changeBatches().slice(1).map((b) => b.changes), records("DELETE", "acme.example.com").map((c) => [c]));
    });

    describe("when Route 53 fails midway, nothing is left half done", () => {
        const failure = () => Object.assign(new Error("Rate exceeded"), { name: "Throttling" });

        it("create: the item is removed again and the error says nothing was created", async () => {
            api.route53.on(ChangeResourceRecordSetsCommand).rejects(failure());
            const response = await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
            assert.equal(response.status, 502);
            assert.match(response.body.error, /Updating the DNS failed while trying to create shop@acme\.example\.com \(Throttling: Rate exceeded\)\. Nothing was changed/);
            assert.equal(await item("shop@acme.example.com"), undefined);
        });

        it("suspend and reinstate: the status is restored", async () => {
            await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
            api.route53.on(ChangeResourceRecordSetsCommand).rejects(failure());
            assert.equal((await api.call("POST", "/addresses/shop@acme.example.com/suspend", { user: "alice" })).status, 502);
            assert.equal((await item("shop@acme.example.com"))?.status, "active");

            api.route53.on(ChangeResourceRecordSetsCommand).resolves({});
            await api.call("POST", "/addresses/shop@acme.example.com/suspend", { user: "alice" });
            api.route53.on(ChangeResourceRecordSetsCommand).rejects(failure());
            assert.equal((await api.call("POST", "/addresses/shop@acme.example.com/reinstate", { user: "alice" })).status, 502);
            assert.equal((await item("shop@acme.example.com"))?.status, "suspended");
        });

        it("revoke: the item is put back unchanged", async () => {
            await api.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
            const before = await item("shop@acme.example.com");
            api.route53.on(ChangeResourceRecordSetsCommand).rejects(failure());
            const response = await api.call("DELETE", "/addresses/shop@acme.example.com", { user: "alice" });
            assert.equal(response.status, 502);
            assert.deepEqual(await item("shop@acme.example.com"), before);
        });
    });

    it("reports a DynamoDB failure as a JSON error without touching DNS", async () => {
        const broken = await startApiFixture({ tableName: "no-such-table" });
        try {
            const response = await broken.call("POST", "/addresses", { user: "alice", body: { address: "shop@acme.example.com", comment: "Acme" } });
            assert.equal(response.status, 500);
            assert.match(response.body.error, /Internal error \(ResourceNotFoundException\); nothing was changed/);
            assert.deepEqual(broken.changeBatches(), []);
        } finally {
            await broken.stop();
        }
    });
});
