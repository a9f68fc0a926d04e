/**
 * Per-subdomain DNS for addresses, in the mail domain's Route 53 hosted zone. Every address on
 * `<sub>.<domain>` shares these four records, so they are published while at least one address there is
 * active and withdrawn when none is.
 *
 * - MX    `<sub>.<domain>`                   → `10 smtp-in.<controlDomain>.`
 * - TXT   `<sub>.<domain>`                   → `"v=spf1 include:<controlDomain> -all"`: the control domain's SPF
 *   record says which hosts send our mail (direct or through SES), so it can change without touching addresses.
 * - CNAME `cabal._domainkey.<sub>.<domain>`  → `cabal._domainkey.<controlDomain>.`: one DKIM key for all.
 * - TXT   `_dmarc.<sub>.<domain>`            → `"v=DMARC1; p=reject; adkim=r; aspf=r"`.
 *
 * Only validated labels and configured domains reach these names (see `addressProblem` in lib/address.ts);
 * record values carry no request input at all.
 */
import type { Change, ResourceRecordSet } from "@aws-sdk/client-route-53";
import { DKIM_SELECTOR, mailHosts } from "../../lib/address";

/** Short enough that a withdrawn subdomain stops attracting delivery attempts soon; mail is refused at once anyway. */
export const ADDRESS_RECORD_TTL = 300;

export const DMARC_POLICY = "v=DMARC1; p=reject; adkim=r; aspf=r";

export function spfRecord(controlDomain: string): string {
    return `v=spf1 include:${controlDomain} -all`;
}

/** The four record sets of `<subdomain>.<domain>`. */
export function subdomainRecordSets(subdomain: string, domain: string, controlDomain: string): ResourceRecordSet[] {
    const host = `${subdomain}.${domain}.`;
    const record = (Name: string, Type: "MX" | "TXT" | "CNAME", Value: string): ResourceRecordSet => ({
        Name,
        Type,
        TTL: ADDRESS_RECORD_TTL,
        ResourceRecords: [{ Value }],
    });
    return [
        record(host, "MX", `10 ${mailHosts(controlDomain).smtpIn}.`),
        record(host, "TXT", `"${spfRecord(controlDomain)}"`),
        record(`${DKIM_SELECTOR}._domainkey.${host}`, "CNAME", `${DKIM_SELECTOR}._domainkey.${controlDomain}.`),
        record(`_dmarc.${host}`, "TXT", `"${DMARC_POLICY}"`),
    ];
}

/** UPSERT publishes idempotently; DELETE must name the exact records, which is why both come from one function. */
export function subdomainChanges(action: "UPSERT" | "DELETE", subdomain: string, domain: string, controlDomain: string): Change[] {
    return subdomainRecordSets(subdomain, domain, controlDomain).map((ResourceRecordSet) => ({ Action: action, ResourceRecordSet }));
}
