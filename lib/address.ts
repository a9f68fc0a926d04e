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

/**
 * Address rules shared by the address API (which refuses bad requests) and the mail resolver (which can refuse
 * the same names at SMTP time). Each label is lower-case letters, digits and inner hyphens: the subdomain is a
 * DNS label (RFC 1035, at most 63 characters) and the local part follows the same alphabet so it can never
 * carry quoting, comments or routing syntax (RFC 5321 allows at most 64 characters).
 */
export const ADDRESS_LIMITS = {
    /** RFC 5321 4.5.3.1.1. */
    localPartMaxLength: 64,
    /** RFC 1035 2.3.4. */
    labelMaxLength: 63,
    /** RFC 1035 2.3.4: a whole domain name, here the longest one we publish (`cabal._domainkey.<sub>.<domain>`). */
    domainNameMaxLength: 253,
    /** RFC 5321 4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
    addressMaxLength: 254,
} as const;

/** Local parts that RFC 2142 and common practice give to roles; nobody may claim them as a personal address. */
export const RESERVED_LOCAL_PARTS: readonly string[] = [
    "postmaster", "abuse", "hostmaster", "webmaster", "security", "noc", "root", "admin", "administrator",
    "mailer-daemon", "nobody", "no-reply", "noreply",
];

/** Subdomains that name infrastructure or well-known services; an address there would shadow them. */
export const RESERVED_SUBDOMAINS: readonly string[] = [
    "www", "mail", "mx", "smtp", "smtp-in", "smtp-out", "imap", "pop", "pop3", "ns", "ns1", "ns2", "ns3", "ns4",
    "autoconfig", "autodiscover", "mta-sts", "dmarc", "dkim", "spf", "api", "admin",
];

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Why `label` is not a valid local part or subdomain label, or undefined when it is. `what` names it in the message. */
export function labelProblem(label: string, what: "local part" | "subdomain", maxLength: number): string | undefined {
    if (label.length === 0) return `the ${what} is empty`;
    if (label.length > maxLength) return `the ${what} "${label.slice(0, 80)}" is ${label.length} characters long; at most ${maxLength} are allowed`;
    if (!LABEL_RE.test(label)) return `the ${what} "${label.slice(0, 80)}" may contain only lower-case letters a-z, digits and hyphens, and must not begin or end with a hyphen`;
    // Punycode labels (xn--) and other "??--" labels are reserved for IDNA; accepting them would let an address look like another.
    if (label.length >= 4 && label[2] === "-" && label[3] === "-") return `the ${what} "${label}" has hyphens in the third and fourth positions, which DNS reserves for internationalized names`;
    return undefined;
}

/**
 * Why `address` cannot be created on `mailDomains`, or undefined when it can: it must be `local@subdomain.domain`
 * with `domain` one of the mail domains, valid labels, and no reserved name.
 */
export function addressProblem(address: string, mailDomains: readonly string[]): string | undefined {
    if (address.length > ADDRESS_LIMITS.addressMaxLength) return `the address is ${address.length} characters long; at most ${ADDRESS_LIMITS.addressMaxLength} are allowed`;
    const at = address.indexOf("@");
    if (at < 0 || at !== address.lastIndexOf("@")) return `"${address.slice(0, 80)}" is not an address of the form local@subdomain.domain (exactly one @)`;
    const parsed = parseAddress(address, mailDomains);
    if (!parsed) return `"${address.slice(0, 80)}" is not on a configured mail domain: use local@subdomain.D where D is one of ${mailDomains.join(", ")}`;
    const problem =
        labelProblem(parsed.localPart, "local part", ADDRESS_LIMITS.localPartMaxLength) ??
        labelProblem(parsed.subdomain, "subdomain", ADDRESS_LIMITS.labelMaxLength);
    if (problem) return problem;
    if (RESERVED_LOCAL_PARTS.includes(parsed.localPart)) return `the local part "${parsed.localPart}" is reserved for a role (${RESERVED_LOCAL_PARTS.join(", ")}); choose another`;
    if (RESERVED_SUBDOMAINS.includes(parsed.subdomain)) return `the subdomain "${parsed.subdomain}" is reserved for infrastructure (${RESERVED_SUBDOMAINS.join(", ")}); choose another`;
    const longestName = `${DKIM_SELECTOR}._domainkey.${parsed.subdomain}.${parsed.domain}`;
    if (longestName.length > ADDRESS_LIMITS.domainNameMaxLength) return `the subdomain and domain are too long: ${longestName} exceeds ${ADDRESS_LIMITS.domainNameMaxLength} characters`;
    return undefined;
}
