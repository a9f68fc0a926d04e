/**
 * Live address lookups against the AddressStore table, with a short cache.
 *
 * Postfix asks about the same address several times per message (smtpd's RCPT check, cleanup's alias expansion,
 * the sender-login check on submission), so a cache of well under a second collapses those into one read per
 * message while keeping "created → accepted" and "revoked → refused" within a second. Reads are strongly
 * consistent for the same reason: an eventually consistent read could still see a just-revoked item.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
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
}

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

export class AddressDirectory {
    private readonly documents: DynamoDBDocumentClient;
    private readonly cache = new Map<string, CacheEntry>();
    private readonly cacheTtlMs: number;

    constructor(private readonly options: AddressDirectoryOptions) {
        if (!options.tableName) throw new Error("AddressDirectory: tableName is empty; set ADDRESS_TABLE to the AddressStore table's name");
        if (options.mailDomains.length === 0) throw new Error("AddressDirectory: mailDomains is empty; set MAIL_DOMAINS to the comma-separated mail domains");
        this.cacheTtlMs = options.cacheTtlMs ?? 400;
        const client = new DynamoDBClient({
            endpoint: options.endpoint,
            region: options.region,
            credentials: options.credentials,
            maxAttempts: 2,
            requestHandler: { connectionTimeout: 1000, requestTimeout: options.requestTimeoutMs ?? 2000 },
        });
        this.documents = DynamoDBDocumentClient.from(client);
    }

    /**
     * The item for an address, or undefined when there is none (revoked, never created, or not one of our domains).
     * Throws TemporaryLookupError when the table cannot be read.
     */
    async find(address: string): Promise<AddressItem | undefined> {
        const parsed = parseAddress(address, this.options.mailDomains);
        if (!parsed) return undefined;
        const key = `${parsed.localPart}@${parsed.subdomain}.${parsed.domain}`;
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
        this.documents.destroy();
    }

    private async read(address: string): Promise<AddressItem | undefined> {
        try {
            const result = await this.documents.send(
                new GetCommand({
                    TableName: this.options.tableName,
                    Key: { [ADDRESS_TABLE_KEYS.partitionKey]: address },
                    ConsistentRead: true,
                }),
            );
            return result.Item as AddressItem | undefined;
        } catch (err) {
            const e = err as Error;
            throw new TemporaryLookupError(`reading ${address} from table ${this.options.tableName} failed: ${e.name}: ${e.message}`);
        }
    }

    private evictExpired(now: number): void {
        for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
    }
}
