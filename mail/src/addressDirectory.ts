/**
 * Live address lookups against the AddressStore table, with a short cache.
 *
 * Postfix asks about the same address several times per message (smtpd's RCPT check, cleanup's alias expansion,
 * the sender-login check on submission), so a cache of well under a second collapses those into one read per
 * message while keeping "created → accepted" and "revoked → refused" within a second. Reads are strongly
 * consistent for the same reason: an eventually consistent read could still see a just-revoked item.
 *
 * Cache misses that arrive together (several SMTP sessions asking at once) are read with one BatchGetItem of up to
 * 100 keys: each request costs the resolver a fixed amount of SDK CPU, and on a busy mail host that CPU is what
 * limits a cold cache. Misses are collected for 2 ms (a lone lookup waits that long, well inside the second that
 * "created → accepted" may take); a batch failure fails exactly its keys, temporarily, and nothing is cached.
 */
import { AttributeValue, BatchGetItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ADDRESS_TABLE_KEYS, AddressItem, parseAddress } from "../../lib/address";

/** The table (or the network to it) failed: the caller must answer with a temporary error, never a bounce. */
export class TemporaryLookupError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TemporaryLookupError";
    }
}

export interface AddressDirectoryOptions {
    /** The AddressStore table's name. */
    tableName: string;
    /** The configured mail domains; keys outside them are answered "not found" without a read. */
    mailDomains: readonly string[];
    /** How long an answer (found or not found) is reused, in milliseconds. Default 400. */
    cacheTtlMs?: number;
    /** A DynamoDB endpoint override (dynalite in tests); production uses the SDK's own resolution. */
    endpoint?: string;
    /** The AWS region; defaults to the SDK's (AWS_REGION). */
    region?: string;
    /** Explicit credentials (tests against dynalite); production uses the task role through the SDK's chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
    /** Per-request timeout in milliseconds, so a hung network gives a quick temporary error. Default 2000. */
    requestTimeoutMs?: number;
    /**
     * How long cache misses are collected into one BatchGetItem, in milliseconds. Default 2 (bench/ measured the
     * resolver's CPU per cold-cache message at 0.65-0.79 ms when batches were only collected until setImmediate, 0.53 ms with
     * 2 ms: batches of 4-5 keys instead of 1-2 under load). 0 collects until setImmediate only.
     */
    batchWindowMs?: number;
}

/** BatchGetItem's limit on keys per request. */
export const MAX_BATCH_KEYS = 100;
/** How often keys DynamoDB returns unprocessed (throttling, 16 MB responses) are asked again, and the first pause. */
const UNPROCESSED_RETRIES = 4;
const UNPROCESSED_FIRST_BACKOFF_MS = 10;
/** DynamoDB's limit on a partition key value: no item can have a longer one. */
const MAX_KEY_BYTES = 2048;

interface CacheEntry {
    expires: number;
    item: Promise<AddressItem | undefined>;
}

/** A mailbox name must be usable as one directory name on the mail store. */
const MAILBOX_NAME_RE = /^[a-z0-9][a-z0-9._+-]{0,127}$/;

/** The mailbox (directory) name for a user-pool user name, or undefined if the name cannot be one safely. */
export function mailboxName(user: string): string | undefined {
    const lower = user.toLowerCase();
    return MAILBOX_NAME_RE.test(lower) && !lower.includes("..") ? lower : undefined;
}

/** A lookup waiting for the next batch. */
interface PendingRead {
    promise: Promise<AddressItem | undefined>;
    resolve(item: AddressItem | undefined): void;
    reject(err: Error): void;
}

export class AddressDirectory {
    private readonly client: DynamoDBClient;
    private readonly cache = new Map<string, CacheEntry>();
    private readonly cacheTtlMs: number;
    private readonly batchWindowMs: number;
    /** Keys to read in the next batch, in arrival order. */
    private pending = new Map<string, PendingRead>();
    /** Cancels the scheduled flush of `pending`, when one is scheduled. */
    private cancelFlush?: () => void;

    constructor(private readonly options: AddressDirectoryOptions) {
        if (!options.tableName) throw new Error("AddressDirectory: tableName is empty; set ADDRESS_TABLE to the AddressStore table's name");
        if (options.mailDomains.length === 0) throw new Error("AddressDirectory: mailDomains is empty; set MAIL_DOMAINS to the comma-separated mail domains");
        this.cacheTtlMs = options.cacheTtlMs ?? 400;
        this.batchWindowMs = options.batchWindowMs ?? 2;
        this.client = new DynamoDBClient({
            endpoint: options.endpoint,
            region: options.region,
            credentials: options.credentials,
            maxAttempts: 2,
            // Resolve the middleware stack once per command class, not on every request: this client never changes
            // its middleware, and the lookup path is CPU-bound on a busy host. (lib-dynamodb's document client refuses
            // this option, so items are unmarshalled here with its own util-dynamodb.)
            cacheMiddleware: true,
            requestHandler: { connectionTimeout: 1000, requestTimeout: options.requestTimeoutMs ?? 2000 },
        });
    }

    /**
     * The item for an address, or undefined when there is none (revoked, never created, or not one of our domains).
     * Throws TemporaryLookupError when the table cannot be read.
     */
    async find(address: string): Promise<AddressItem | undefined> {
        const parsed = parseAddress(address, this.options.mailDomains);
        if (!parsed) return undefined;
        const key = `${parsed.localPart}@${parsed.subdomain}.${parsed.domain}`;
        // A key DynamoDB could not store names no item (and would fail the whole batch it travels in).
        if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return undefined;
        const now = Date.now();
        const cached = this.cache.get(key);
        if (cached && cached.expires > now) return cached.item;
        const item = this.read(key);
        const entry: CacheEntry = { expires: Number.POSITIVE_INFINITY, item };
        this.cache.set(key, entry);
        // The entry's lifetime starts when the answer arrives, and failures are never reused.
        item.then(
            () => (entry.expires = Date.now() + this.cacheTtlMs),
            () => this.cache.get(key) === entry && this.cache.delete(key),
        );
        if (this.cache.size > 10000) this.evictExpired(now);
        return item;
    }

    /** The owner of an address that accepts mail, or undefined if it is unknown, revoked or suspended. */
    async activeOwner(address: string): Promise<string | undefined> {
        const item = await this.find(address);
        return item && item.status === "active" ? item.user : undefined;
    }

    /** Forgets every cached answer (tests, and after a table outage). */
    clearCache(): void {
        this.cache.clear();
    }

    destroy(): void {
        // Lookups still waiting for their batch fail temporarily rather than never answering.
        this.cancelFlush?.();
        this.cancelFlush = undefined;
        const waiting = [...this.pending.values()];
        this.pending = new Map();
        for (const read of waiting) read.reject(new TemporaryLookupError("the address directory was closed before the lookup was sent"));
        this.client.destroy();
    }

    /** Queues one key for the next batch (a key already queued shares its read). */
    private read(key: string): Promise<AddressItem | undefined> {
        const queued = this.pending.get(key);
        if (queued) return queued.promise;
        let resolve!: PendingRead["resolve"];
        let reject!: PendingRead["reject"];
        const promise = new Promise<AddressItem | undefined>((res, rej) => {
            resolve = res;
            reject = rej;
        });
        this.pending.set(key, { promise, resolve, reject });
        if (this.pending.size >= MAX_BATCH_KEYS) {
            this.flush();
        } else if (!this.cancelFlush) {
            if (this.batchWindowMs > 0) {
                const timer = setTimeout(() => this.flush(), this.batchWindowMs);
                this.cancelFlush = () => clearTimeout(timer);
            } else {
                const immediate = setImmediate(() => this.flush());
                this.cancelFlush = () => clearImmediate(immediate);
            }
        }
        return promise;
    }

    /** Sends everything queued, in batches of at most MAX_BATCH_KEYS keys. */
    private flush(): void {
        this.cancelFlush?.();
        this.cancelFlush = undefined;
        const queued = [...this.pending];
        this.pending = new Map();
        for (let i = 0; i < queued.length; i += MAX_BATCH_KEYS) void this.readBatch(new Map(queued.slice(i, i + MAX_BATCH_KEYS)));
    }

    /**
     * One BatchGetItem for these keys (strongly consistent), asking again for the keys DynamoDB leaves unprocessed.
     * Settles every key's promise: the item, undefined when there is none, or TemporaryLookupError.
     */
    private async readBatch(batch: Map<string, PendingRead>): Promise<void> {
        const table = this.options.tableName;
        const keyName = ADDRESS_TABLE_KEYS.partitionKey;
        let keys: Record<string, AttributeValue>[] = [...batch.keys()].map((key) => ({ [keyName]: { S: key } }));
        try {
            for (let attempt = 0; ; attempt++) {
                const result = await this.client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
                for (const raw of result.Responses?.[table] ?? []) {
                    const item = unmarshall(raw) as AddressItem;
                    const key = raw[keyName]?.S;
                    const waiting = key === undefined ? undefined : batch.get(key);
                    if (!waiting) continue;
                    waiting.resolve(item);
                    batch.delete(key!);
                }
                const unprocessed = result.UnprocessedKeys?.[table]?.Keys ?? [];
                const retry = new Set(unprocessed.map((k) => k[keyName]?.S));
                // Keys neither returned nor left unprocessed have no item.
                for (const [key, waiting] of batch) {
                    if (retry.has(key)) continue;
                    waiting.resolve(undefined);
                    batch.delete(key);
                }
                if (batch.size === 0) return;
                if (attempt >= UNPROCESSED_RETRIES) {
                    throw new Error(`DynamoDB left ${batch.size} key(s) unprocessed after ${attempt + 1} requests`);
                }
                keys = [...batch.keys()].map((key) => ({ [keyName]: { S: key } }));
                const backoff = UNPROCESSED_FIRST_BACKOFF_MS * 2 ** attempt;
                await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
            }
        } catch (err) {
            const e = err as Error;
            const keys = [...batch.keys()];
            const what = keys.length === 1 ? keys[0] : `${keys.length} addresses (${keys.slice(0, 3).join(", ")}${keys.length > 3 ? ", ..." : ""})`;
            const failure = new TemporaryLookupError(`reading ${what} from table ${table} failed: ${e.name}: ${e.message}`);
            for (const waiting of batch.values()) waiting.reject(failure);
        }
    }

    private evictExpired(now: number): void {
        for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
    }
}
