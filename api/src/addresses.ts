/**
 * The address operations. Each change follows one pattern so that a failure midway leaves nothing half done:
 * write the item (conditionally, so a concurrent request or another owner cannot be overwritten), then
 * reconcile the subdomain's DNS with the table; if Route 53 fails, undo the write and report the error.
 */
import { randomInt } from "node:crypto";
import { ChangeResourceRecordSetsCommand, type Change } from "@aws-sdk/client-route-53";
import { DeleteCommand, GetCommand, paginateQuery, paginateScan, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ADDRESS_TABLE_KEYS, type AddressItem, type AddressStatus, addressProblem, parseAddress } from "../../lib/address";
import type { ApiDeps } from "./deps";
import { subdomainChanges } from "./dns";
import { ApiError, awsErrorName, badRequest, conflict, errorMessage, notFound } from "./errors";
import type { ApiRequest, ApiResult, Caller } from "./request";

export const COMMENT_MAX_LENGTH = 200;
const RANDOM_LABEL_LENGTH = 8;
const RANDOM_ATTEMPTS = 5;

// ---------------------------------------------------------------------------------------------------------------
// Request parsing

function requireObject(body: unknown): Record<string, unknown> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw badRequest('The request body must be a JSON object, e.g. {"address": "shop@acme.example.com", "comment": "Acme Inc."}');
    }
    return body as Record<string, unknown>;
}

function parseComment(value: unknown): string {
    if (value === undefined || value === null) throw badRequest('"comment" is required: say whom the address is given to, e.g. "Acme Inc. newsletter"');
    if (typeof value !== "string") throw badRequest('"comment" must be a string');
    const comment = value.trim();
    if (comment.length === 0) throw badRequest('"comment" must not be empty: say whom the address is given to');
    if (comment.length > COMMENT_MAX_LENGTH) throw badRequest(`"comment" is ${comment.length} characters long; at most ${COMMENT_MAX_LENGTH} are allowed`);
    // Control characters would corrupt terminals and logs that print the comment.
    if (/[\u0000-\u001f\u007f]/.test(comment)) throw badRequest('"comment" must not contain control characters such as newlines or tabs');
    return comment;
}

function parseDomain(value: unknown, mailDomains: readonly string[]): string {
    if (typeof value !== "string") throw badRequest(`"domain" must be a string: one of ${mailDomains.join(", ")}`);
    const domain = value.trim().toLowerCase();
    if (!mailDomains.includes(domain)) throw badRequest(`"${value.slice(0, 80)}" is not a configured mail domain; use one of ${mailDomains.join(", ")}`);
    return domain;
}

/** Lower-cases (addresses are case-insensitive) and checks the address against the shared rules. */
export function validateNewAddress(value: unknown, mailDomains: readonly string[]): { address: string; subdomain: string; domain: string } {
    if (typeof value !== "string") throw badRequest('"address" must be a string such as "shop@acme.example.com"');
    const address = value.trim().toLowerCase();
    const problem = addressProblem(address, mailDomains);
    if (problem) throw badRequest(`Cannot create this address: ${problem}.`);
    const parsed = parseAddress(address, mailDomains)!;
    return { address, subdomain: parsed.subdomain, domain: parsed.domain };
}

/** The `{address}` path parameter, which API Gateway may pass still percent-encoded. */
function pathAddress(request: ApiRequest, mailDomains: readonly string[]): string {
    const raw = request.pathParameters.address ?? "";
    let address = raw;
    try {
        address = decodeURIComponent(raw);
    } catch {
        throw badRequest(`The address in the path is not validly percent-encoded: ${raw.slice(0, 80)}`);
    }
    address = address.trim().toLowerCase();
    if (!parseAddress(address, mailDomains)) throw notFound(`No address ${address.slice(0, 254)} among ${request.caller.isAdmin ? "all addresses" : "your addresses"}: it is not on a configured mail domain (${mailDomains.join(", ")}).`);
    return address;
}

const RANDOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A random label that starts with a letter, so it reads as a name. */
function randomLabel(): string {
    let label = RANDOM_ALPHABET[randomInt(26)];
    while (label.length < RANDOM_LABEL_LENGTH) label += RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)];
    return label;
}

// ---------------------------------------------------------------------------------------------------------------
// DNS reconciliation

const { partitionKey: ADDRESS_KEY, bySubdomain, byUser } = ADDRESS_TABLE_KEYS;

/** Does `<subdomain>.<domain>` have an active address? The index answers which addresses; consistent reads say which still exist and are active. */
async function subdomainHasActiveAddress(deps: ApiDeps, subdomain: string, domain: string): Promise<boolean> {
    const pages = paginateQuery({ client: deps.dynamo }, {
        TableName: deps.settings.tableName,
        IndexName: bySubdomain.indexName,
        KeyConditionExpression: "#s = :s AND #d = :d",
        ExpressionAttributeNames: { "#s": bySubdomain.partitionKey, "#d": bySubdomain.sortKey },
        ExpressionAttributeValues: { ":s": subdomain, ":d": domain },
    });
    for await (const page of pages) {
        for (const candidate of page.Items ?? []) {
            // The index is eventually consistent: confirm with a strongly consistent read of the item itself.
            const current = await deps.dynamo.send(
                new GetCommand({ TableName: deps.settings.tableName, Key: { [ADDRESS_KEY]: candidate[ADDRESS_KEY] }, ConsistentRead: true }),
            );
            if ((current.Item as AddressItem | undefined)?.status === "active") return true;
        }
    }
    return false;
}

async function changeRecords(deps: ApiDeps, domain: string, changes: Change[], comment: string): Promise<void> {
    const zoneId = deps.settings.hostedZoneIds[domain];
    if (!zoneId) throw new ApiError(500, `No Route 53 hosted zone is configured for the mail domain ${domain}; the operator must add it to the AddressApi's hostedZoneIds.`);
    await deps.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Comment: comment, Changes: changes } }));
}

const isAlreadyGone = (error: unknown) => awsErrorName(error) === "InvalidChangeBatch" && /not found/i.test(errorMessage(error));

/**
 * Makes Route 53 agree with the table for one subdomain: records published while an address there is active,
 * withdrawn otherwise. Withdrawing records that are already gone is not an error.
 */
export async function reconcileSubdomainDns(deps: ApiDeps, subdomain: string, domain: string, reason: string): Promise<void> {
    const { controlDomain } = deps.settings;
    if (await subdomainHasActiveAddress(deps, subdomain, domain)) {
        await changeRecords(deps, domain, subdomainChanges("UPSERT", subdomain, domain, controlDomain), reason);
        return;
    }
    try {
        await changeRecords(deps, domain, subdomainChanges("DELETE", subdomain, domain, controlDomain), reason);
    } catch (error) {
        if (!isAlreadyGone(error)) throw error;
        // Some records were already gone (a batch is all or nothing): remove the rest one by one.
        for (const change of subdomainChanges("DELETE", subdomain, domain, controlDomain)) {
            try {
                await changeRecords(deps, domain, [change], reason);
            } catch (single) {
                if (!isAlreadyGone(single)) throw single;
            }
        }
    }
    // A concurrent create on the same subdomain may have published between our check and our delete: look again.
    if (await subdomainHasActiveAddress(deps, subdomain, domain)) {
        await changeRecords(deps, domain, subdomainChanges("UPSERT", subdomain, domain, controlDomain), reason);
    }
}

/** Reconciles DNS (Route 53, and the index reads it needs); if that fails, runs `undo` (restoring the item) and reports a 502 that says nothing changed. */
async function reconcileOrUndo(deps: ApiDeps, item: AddressItem, action: string, undo: () => Promise<unknown>): Promise<void> {
    try {
        await reconcileSubdomainDns(deps, item.subdomain, item.domain, `cabalmail: ${action} ${item.address}`);
    } catch (error) {
        if (error instanceof ApiError) throw error;
        try {
            await undo();
        } catch (undoError) {
            throw new ApiError(500, `Updating the DNS failed while trying to ${action} ${item.address} (${awsErrorName(error)}: ${errorMessage(error)}), and undoing the table change failed too (${errorMessage(undoError)}). Retry the request; an administrator may need to check the address.`);
        }
        throw new ApiError(502, `Updating the DNS failed while trying to ${action} ${item.address} (${awsErrorName(error)}: ${errorMessage(error)}). Nothing was changed; retry later.`);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

function isConditionFailure(error: unknown): boolean {
    return awsErrorName(error) === "ConditionalCheckFailedException";
}

export async function createAddress(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const body = requireObject(request.body);
    const { mailDomains } = deps.settings;
    for (const key of Object.keys(body)) {
        if (!["address", "random", "domain", "comment"].includes(key)) throw badRequest(`Unknown field "${key.slice(0, 40)}"; the fields are address, random, domain and comment`);
    }
    const comment = parseComment(body.comment);
    if (body.random !== undefined && typeof body.random !== "boolean") throw badRequest('"random" must be true or false');
    const random = body.random === true;
    if (random && body.address !== undefined) throw badRequest('Give either "address" or "random": true, not both');
    if (!random && body.address === undefined) throw badRequest('Give "address" (e.g. "shop@acme.example.com") or "random": true');
    if (!random && body.domain !== undefined) throw badRequest('"domain" goes with "random": true; with "address" the domain is part of the address');

    const domain = random ? (body.domain === undefined ? mailDomains[0] : parseDomain(body.domain, mailDomains)) : undefined;
    for (let attempt = 1; ; attempt++) {
        const target = random ? validateNewAddress(`${randomLabel()}@${randomLabel()}.${domain}`, mailDomains) : validateNewAddress(body.address, mailDomains);
        const item: AddressItem = {
            address: target.address,
            user: request.caller.user,
            subdomain: target.subdomain,
            domain: target.domain,
            comment,
            createdAt: deps.now().toISOString(),
            status: "active",
        };
        try {
            await deps.dynamo.send(
                new PutCommand({
                    TableName: deps.settings.tableName,
                    Item: item,
                    ConditionExpression: "attribute_not_exists(#a)",
                    ExpressionAttributeNames: { "#a": ADDRESS_KEY },
                }),
            );
        } catch (error) {
            if (!isConditionFailure(error)) throw error;
            if (random && attempt < RANDOM_ATTEMPTS) continue;
            throw conflict(`The address ${item.address} already exists. Choose another local part or subdomain.`);
        }
        await reconcileOrUndo(deps, item, "create", () =>
            deps.dynamo.send(
                new DeleteCommand({
                    TableName: deps.settings.tableName,
                    Key: { [ADDRESS_KEY]: item.address },
                    ConditionExpression: "#u = :u AND #c = :c",
                    ExpressionAttributeNames: { "#u": "user", "#c": "createdAt" },
                    ExpressionAttributeValues: { ":u": item.user, ":c": item.createdAt },
                }),
            ),
        );
        return { statusCode: 201, body: { address: item } };
    }
}

function applyFilters(items: AddressItem[], request: ApiRequest, mailDomains: readonly string[]): AddressItem[] {
    const { domain, search } = request.query;
    let result = items;
    if (domain !== undefined && domain !== "") {
        const wanted = parseDomain(domain, mailDomains);
        result = result.filter((item) => item.domain === wanted);
    }
    if (search !== undefined && search !== "") {
        const needle = search.toLowerCase();
        result = result.filter((item) => item.address.includes(needle) || item.comment.toLowerCase().includes(needle));
    }
    return result.sort((a, b) => a.address.localeCompare(b.address));
}

export async function listAddresses(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const items: AddressItem[] = [];
    const pages = paginateQuery({ client: deps.dynamo }, {
        TableName: deps.settings.tableName,
        IndexName: byUser.indexName,
        KeyConditionExpression: "#u = :u",
        ExpressionAttributeNames: { "#u": byUser.partitionKey },
        ExpressionAttributeValues: { ":u": request.caller.user },
    });
    for await (const page of pages) items.push(...((page.Items ?? []) as AddressItem[]));
    return { statusCode: 200, body: { addresses: applyFilters(items, request, deps.settings.mailDomains) } };
}

export async function adminListAddresses(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const items: AddressItem[] = [];
    for await (const page of paginateScan({ client: deps.dynamo }, { TableName: deps.settings.tableName })) items.push(...((page.Items ?? []) as AddressItem[]));
    const { user } = request.query;
    const owned = user ? items.filter((item) => item.user === user) : items;
    return { statusCode: 200, body: { addresses: applyFilters(owned, request, deps.settings.mailDomains) } };
}

/** The caller's item for `address`, or a 404 that does not reveal whether someone else owns it. */
async function ownedItem(deps: ApiDeps, caller: Caller, address: string): Promise<AddressItem> {
    const result = await deps.dynamo.send(new GetCommand({ TableName: deps.settings.tableName, Key: { [ADDRESS_KEY]: address }, ConsistentRead: true }));
    const item = result.Item as AddressItem | undefined;
    if (!item || (!caller.isAdmin && item.user !== caller.user)) {
        throw notFound(`No address ${address} among ${caller.isAdmin ? "all addresses" : "your addresses"}. List yours with GET /addresses.`);
    }
    return item;
}

async function setStatus(deps: ApiDeps, request: ApiRequest, to: AddressStatus): Promise<ApiResult> {
    const address = pathAddress(request, deps.settings.mailDomains);
    const item = await ownedItem(deps, request.caller, address);
    const from: AddressStatus = to === "active" ? "suspended" : "active";
    const verb = to === "active" ? "reinstate" : "suspend";
    if (item.status === to) throw conflict(`The address ${address} is already ${to}.`);
    const update = (status: AddressStatus, expected: AddressStatus) =>
        deps.dynamo.send(
            new UpdateCommand({
                TableName: deps.settings.tableName,
                Key: { [ADDRESS_KEY]: address },
                UpdateExpression: "SET #s = :to",
                // The owner in the condition: the item cannot have changed hands (revoked and re-created) since we read it.
                ConditionExpression: "#u = :u AND #s = :from",
                ExpressionAttributeNames: { "#s": "status", "#u": "user" },
                ExpressionAttributeValues: { ":to": status, ":from": expected, ":u": item.user },
            }),
        );
    try {
        await update(to, from);
    } catch (error) {
        if (isConditionFailure(error)) throw conflict(`The address ${address} changed while this request ran; list your addresses and retry.`);
        throw error;
    }
    await reconcileOrUndo(deps, item, verb, () => update(from, to));
    return { statusCode: 200, body: { address: { ...item, status: to } } };
}

export const suspendAddress = (deps: ApiDeps, request: ApiRequest) => setStatus(deps, request, "suspended");
export const reinstateAddress = (deps: ApiDeps, request: ApiRequest) => setStatus(deps, request, "active");

export async function revokeAddress(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const address = pathAddress(request, deps.settings.mailDomains);
    const item = await ownedItem(deps, request.caller, address);
    try {
        await deps.dynamo.send(
            new DeleteCommand({
                TableName: deps.settings.tableName,
                Key: { [ADDRESS_KEY]: address },
                ConditionExpression: "#u = :u AND #c = :c",
                ExpressionAttributeNames: { "#u": "user", "#c": "createdAt" },
                ExpressionAttributeValues: { ":u": item.user, ":c": item.createdAt },
            }),
        );
    } catch (error) {
        if (isConditionFailure(error)) throw conflict(`The address ${address} changed while this request ran; list your addresses and retry.`);
        throw error;
    }
    await reconcileOrUndo(deps, item, "revoke", () =>
        deps.dynamo.send(
            new PutCommand({
                TableName: deps.settings.tableName,
                Item: item,
                ConditionExpression: "attribute_not_exists(#a)",
                ExpressionAttributeNames: { "#a": ADDRESS_KEY },
            }),
        ),
    );
    return { statusCode: 200, body: { revoked: address } };
}
