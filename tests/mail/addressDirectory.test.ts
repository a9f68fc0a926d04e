/**
 * The resolver's AddressDirectory against dynalite (in this process, on loopback): cache misses that arrive
 * together become one strongly consistent BatchGetItem, unprocessed keys are asked again, an outage fails every
 * waiting lookup temporarily (and nothing of it is cached), and answers follow the table within the cache TTL.
 * Every request dynalite receives is recorded, so the tests count requests and keys, not time.
 */
import * as assert from "node:assert/strict";
import type { IncomingMessage, Server } from "node:http";
import { ADDRESS_TABLE_KEYS, AddressItem } from "../../lib/address";
import { AddressDirectory, AddressDirectoryOptions, MAX_BATCH_KEYS, TemporaryLookupError } from "../../mail/src/addressDirectory";
import { CuttableProxy } from "./netTools";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

const DYNALITE_PORT = 20300;
const PROXY_PORT = 20301;
const TABLE = "cabal-addresses-unit";
const REGION = "us-east-1";
const DOMAINS = ["example.com"];

interface RecordedRequest {
    action: string;
    body: Record<string, any>;
}

describe("mail: AddressDirectory (batched reads against dynalite)", function () {
    let server: Server;
    let proxy: CuttableProxy;
    const requests: RecordedRequest[] = [];
    const directories: AddressDirectory[] = [];

    async function call(action: string, body: object): Promise<Record<string, any>> {
        const response = await fetch(`http://127.0.0.1:${DYNALITE_PORT}`, {
            method: "POST",
            headers: {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": `DynamoDB_20120810.${action}`,
                "X-Amz-Date": "20260101T000000Z",
                Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000`,
            },
            body: JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${action} failed (${response.status}): ${text}`);
        return text ? (JSON.parse(text) as Record<string, any>) : {};
    }

    async function put(address: string, fields: Partial<AddressItem> = {}): Promise<void> {
        const [local, host] = address.split("@");
        const item: AddressItem = { address, user: local, subdomain: host.split(".")[0], domain: "example.com", comment: "unit test", createdAt: "2026-12-01T00:00:00.000Z", status: "active", ...fields };
        await call("PutItem", { TableName: TABLE, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: String(v) }])) });
    }

    async function remove(address: string): Promise<void> {
        await call("DeleteItem", { TableName: TABLE, Key: { [ADDRESS_TABLE_KEYS.partitionKey]: { S: address } } });
    }

    function directory(options: Partial<AddressDirectoryOptions> = {}): AddressDirectory {
        const d = new AddressDirectory({
            tableName: TABLE,
            mailDomains: DOMAINS,
            endpoint: `http://127.0.0.1:${PROXY_PORT}`,
            region: REGION,
            credentials: { accessKeyId: "test", secretAccessKey: "test" },
            ...options,
        });
        directories.push(d);
        return d;
    }

    /** The requests the SDK made (the tests' own PutItem/DeleteItem calls excluded), from `since` on. */
    function reads(since: number): RecordedRequest[] {
        return requests.slice(since).filter((r) => r.action !== "PutItem" && r.action !== "DeleteItem");
    }

    /** The keys of one recorded BatchGetItem request. */
    function keysOf(request: RecordedRequest): string[] {
        return (request.body.RequestItems[TABLE].Keys as Record<string, { S: string }>[]).map((k) => k[ADDRESS_TABLE_KEYS.partitionKey].S);
    }

    before(async function () {
        server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
        server.on("request", (req: IncomingMessage) => {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                const action = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
                requests.push({ action, body: chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {} });
            });
        });
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(DYNALITE_PORT, "127.0.0.1", () => resolve()));
        proxy = new CuttableProxy(PROXY_PORT, DYNALITE_PORT);
        await proxy.open();
        await call("CreateTable", {
            TableName: TABLE,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: ADDRESS_TABLE_KEYS.partitionKey, AttributeType: "S" }],
            KeySchema: [{ AttributeName: ADDRESS_TABLE_KEYS.partitionKey, KeyType: "HASH" }],
        });
    });

    afterEach(async function () {
        await proxy.open();
        for (const d of directories.splice(0)) d.destroy();
    });

    after(async function () {
        await proxy?.close();
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("reads concurrent misses with one strongly consistent BatchGetItem and answers each key", async function () {
        await put("shop@acme.example.com", { user: "alice" });
        await put("bank@money.example.com", { user: "alice" });
        await put("club@golf.example.com", { user: "bob", status: "suspended" });
        const d = directory();
        const since = requests.length;
        const [shop, bank, club, unknown, shopAgain] = await Promise.all([
            d.find("shop@acme.example.com"),
            d.find("Bank@Money.Example.com"),
            d.find("club@golf.example.com"),
            d.find("nobody@acme.example.com"),
            d.find("SHOP@acme.example.com"),
        ]);
        assert.equal(shop?.user, "alice");
        assert.equal(shop?.address, "shop@acme.example.com");
        assert.equal(shop?.status, "active");
        assert.equal(bank?.user, "alice");
        assert.equal(club?.status, "suspended");
        assert.equal(unknown, undefined);
        assert.deepEqual(shopAgain, shop);
        const made = reads(since);
        assert.deepEqual(made.map((r) => r.action), ["BatchGetItem"]);
        assert.deepEqual(keysOf(made[0]).sort(), ["bank@money.example.com", "club@golf.example.com", "nobody@acme.example.com", "shop@acme.example.com"]);
        assert.equal(made[0].body.RequestItems[TABLE].ConsistentRead, true);
        // activeOwner: only active addresses have an owner.
        assert.equal(await d.activeOwner("shop@acme.example.com"), "alice");
        assert.equal(await d.activeOwner("club@golf.example.com"), undefined);
        assert.equal(reads(since).length, 1, "the answers above were cached");
    });

    it("with no collection window, still reads the misses of one turn of the event loop together", async function () {
        await put("shop@acme.example.com", { user: "alice" });
        const d = directory({ batchWindowMs: 0 });
        const since = requests.length;
        const found = await Promise.all(["shop@acme.example.com", "nobody@acme.example.com", "none@acme.example.com"].map((a) => d.activeOwner(a)));
        assert.deepEqual(found, ["alice", undefined, undefined]);
        const made = reads(since);
        assert.equal(made.length, 1);
        assert.equal(keysOf(made[0]).length, 3);
    });

    it(`splits more than ${MAX_BATCH_KEYS} concurrent misses into batches of at most ${MAX_BATCH_KEYS} keys`, async function () {
        const addresses = Array.from({ length: 2 * MAX_BATCH_KEYS + 50 }, (_, i) => `many${i}@bulk.example.com`);
        for (const a of addresses.filter((_, i) => i % 3 === 0)) await put(a, { user: "carol" });
        const d = directory();
        const since = requests.length;
        const found = await Promise.all(addresses.map((a) => d.find(a)));
        found.forEach((item, i) => assert.equal(item?.user, i % 3 === 0 ? "carol" : undefined, addresses[i]));
        const made = reads(since);
        assert.equal(made.length, 3);
        assert.ok(made.every((r) => r.action === "BatchGetItem" && keysOf(r).length <= MAX_BATCH_KEYS));
        assert.deepEqual(made.flatMap(keysOf).sort(), [...addresses].sort());
    });

    it("asks again for the keys DynamoDB leaves unprocessed", async function () {
        // dynalite, like DynamoDB, returns about 1 MB per BatchGetItem and leaves the rest as UnprocessedKeys.
        const big = "x".repeat(300 * 1024);
        const addresses = Array.from({ length: 6 }, (_, i) => `large${i}@huge.example.com`);
        for (const a of addresses) await put(a, { user: "dave", comment: big });
        const d = directory();
        const since = requests.length;
        const found = await Promise.all(addresses.map((a) => d.find(a)));
        assert.deepEqual(found.map((item) => item?.user), addresses.map(() => "dave"));
        const made = reads(since);
        assert.ok(made.length >= 2, `expected the unprocessed keys to be asked again, saw ${made.length} request(s)`);
        assert.ok(made.every((r) => r.action === "BatchGetItem"));
        assert.equal(keysOf(made[0]).length, addresses.length);
        assert.ok(made.slice(1).every((r) => keysOf(r).length < addresses.length && r.body.RequestItems[TABLE].ConsistentRead === true));
    });

    it("fails every waiting lookup temporarily when the table cannot be reached, caches none of it, and recovers", async function () {
        await put("shop@acme.example.com", { user: "alice" });
        const d = directory({ requestTimeoutMs: 1000 });
        const addresses = ["shop@acme.example.com", "nobody@acme.example.com", "other@acme.example.com"];
        await proxy.close();
        const results = await Promise.allSettled(addresses.map((a) => d.find(a)));
        for (const result of results) {
            assert.equal(result.status, "rejected");
            assert.ok((result as PromiseRejectedResult).reason instanceof TemporaryLookupError, String((result as PromiseRejectedResult).reason));
        }
        await assert.rejects(d.activeOwner("shop@acme.example.com"), TemporaryLookupError);
        await proxy.open();
        const since = requests.length;
        const after = await Promise.all(addresses.map((a) => d.find(a)));
        assert.equal(after[0]?.user, "alice");
        assert.equal(after[1], undefined);
        assert.equal(after[2], undefined);
        assert.equal(reads(since).length, 1, "nothing was cached from the outage: the addresses are read again, in one batch");
    });

    it("a failed batch fails only its own keys: lookups in a later batch are read normally", async function () {
        await put("shop@acme.example.com", { user: "alice" });
        const d = directory({ requestTimeoutMs: 1000 });
        await proxy.close();
        const failing = d.find("shop@acme.example.com");
        await assert.rejects(failing, TemporaryLookupError);
        await proxy.open();
        assert.equal((await d.find("shop@acme.example.com"))?.user, "alice");
    });

    it("answers a revoked address as not found once the cache TTL has passed, and a new one at once", async function () {
        await put("temp@acme.example.com", { user: "alice" });
        const cached = directory({ cacheTtlMs: 60000 });
        const short = directory({ cacheTtlMs: 50 });
        assert.equal(await cached.activeOwner("temp@acme.example.com"), "alice");
        assert.equal(await short.activeOwner("temp@acme.example.com"), "alice");
        await remove("temp@acme.example.com");
        // Within the TTL the cached answer stands (that is what the cache is for) ...
        assert.equal(await cached.activeOwner("temp@acme.example.com"), "alice");
        // ... and once it has passed, the table's answer is read again.
        await new Promise((r) => setTimeout(r, 80));
        assert.equal(await short.activeOwner("temp@acme.example.com"), undefined);
        assert.equal(await short.find("temp@acme.example.com"), undefined);
        // A not-found answer expires the same way: an address created later is found.
        await put("temp@acme.example.com", { user: "bob" });
        await new Promise((r) => setTimeout(r, 80));
        assert.equal(await short.activeOwner("temp@acme.example.com"), "bob");
        // A suspended address has no active owner, though its item is found.
        await put("temp@acme.example.com", { user: "bob", status: "suspended" });
        await new Promise((r) => setTimeout(r, 80));
        assert.equal(await short.activeOwner("temp@acme.example.com"), undefined);
        assert.equal((await short.find("temp@acme.example.com"))?.status, "suspended");
        cached.clearCache();
        assert.equal(await cached.activeOwner("temp@acme.example.com"), undefined);
    });

    it("answers keys outside the mail domains, and keys no item could have, without a read", async function () {
        const d = directory();
        const since = requests.length;
        assert.equal(await d.find("someone@elsewhere.example.net"), undefined);
        assert.equal(await d.find("@acme.example.com"), undefined);
        assert.equal(await d.find("postmaster"), undefined);
        assert.equal(await d.find(`${"a".repeat(2100)}@acme.example.com`), undefined);
        assert.equal(reads(since).length, 0);
    });
});
