/**
 * The address item: one row of the AddressStore table, shared by the Pulumi program (which creates the table
 * and its indexes), the mail servers' resolver (which reads it on every SMTP transaction) and the address API
 * (which writes it). Keep this file free of runtime dependencies: it is bundled into Lambda handlers and the
 * mail images.
 */

/** Whether mail to an address is accepted. A revoked address has no item at all. */
export type AddressStatus = "active" | "suspended";

export const ADDRESS_STATUSES: readonly AddressStatus[] = ["active", "suspended"];

/** One address, as stored in the AddressStore table. */
export interface AddressItem {
    /** Partition key: the whole address in lower case, `local@subdomain.domain` (e.g. `shop@acme.example.com`). */
    address: string;
    /** The owner's user name in the user pool. Partition key of the `byUser` index. */
    user: string;
    /** The single DNS label between the local part and the mail domain (`acme`). Partition key of `bySubdomain`. */
    subdomain: string;
    /** The configured mail domain the address lives on (`example.com`). Sort key of `bySubdomain`. */
    domain: string;
    /** Who the address was given to, so its owner knows whom to blame when it attracts spam. */
    comment: string;
    /** When the address was created, ISO 8601 in UTC. */
    createdAt: string;
    /** `active` accepts mail; `suspended` refuses it and has its DNS withdrawn until reinstated. */
    status: AddressStatus;
}

/** Table and index key names: the single source for the table definition, the resolver and the API. */
export const ADDRESS_TABLE_KEYS = {
    /** Partition key of the table. */
    partitionKey: "address",
    /** Lists one user's addresses without a scan. */
    byUser: { indexName: "byUser", partitionKey: "user", sortKey: "address" },
    /** Finds the addresses on one subdomain of one mail domain: does `acme.example.com` still have a live address? */
    bySubdomain: { indexName: "bySubdomain", partitionKey: "subdomain", sortKey: "domain" },
} as const;

/** The host names, under the operator's control domain, that every address's DNS points at. */
export interface MailHosts {
    /** Target of every address's MX record; the Network Load Balancer's port 25. */
    smtpIn: string;
    /** Where mail clients read mail (IMAP over TLS, 993). */
    imap: string;
    /** Where mail clients send mail (submission over TLS, 465). */
    smtpOut: string;
}

export function mailHosts(controlDomain: string): MailHosts {
    return {
        smtpIn: `smtp-in.${controlDomain}`,
        imap: `imap.${controlDomain}`,
        smtpOut: `smtp-out.${controlDomain}`,
    };
}

/** The DKIM selector under which the control domain publishes its public key; addresses CNAME to it. */
export const DKIM_SELECTOR = "cabal";

/** Splits `local@subdomain.domain` against the configured mail domains, or returns undefined if it is not one of ours. */
export function parseAddress(
    address: string,
    mailDomains: readonly string[],
): { localPart: string; subdomain: string; domain: string } | undefined {
    const lower = address.toLowerCase();
    const at = lower.lastIndexOf("@");
    if (at <= 0) return undefined;
    const localPart = lower.slice(0, at);
    const host = lower.slice(at + 1);
    for (const domain of mailDomains) {
        const suffix = `.${domain.toLowerCase()}`;
        if (host.endsWith(suffix)) {
            const subdomain = host.slice(0, -suffix.length);
            if (subdomain.length > 0 && !subdomain.includes(".")) return { localPart, subdomain, domain: domain.toLowerCase() };
        }
    }
    return undefined;
}
