import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { HOSTED_ZONE_ID_RE } from "../lib/mailServerLimits";

/** Arguments of the MailDns component. */
export interface MailDnsArgs {
    /** The operator's domain: the mail hosts, SPF, DMARC and DKIM key live in its zone. */
    controlDomain: string;
    /** The apex domains addresses are created on; each gets a zone the address API writes per-address records into. */
    mailDomains: string[];
    /**
     * Hosted zones that already exist, by domain (`{"example.com": "Z0123456789ABCDEFGHIJ"}`): used as they are,
     * never created or deleted by this stack. Keys must be the control domain or a mail domain. Defaults to none.
     */
    existingZoneIds?: Record<string, string>;
}

const DEFAULTS = { existingZoneIds: {} as Record<string, string> };


/**
 * The Route 53 hosted zones of the control domain and the mail domains: created by the stack, or existing ones
 * taken by id. The name servers of the zones the stack creates are outputs, to enter at the registrar.
 */
export class MailDns extends pulumi.ComponentResource {
    /** The control domain's zone. */
    public readonly controlZoneId: pulumi.Output<string>;
    /** Mail domain → zone id: where the address API writes each address's MX, SPF, DKIM and DMARC records. */
    public readonly hostedZoneIds: pulumi.Output<Record<string, string>>;
    /** Domain → name servers, for every zone this stack created (existing zones are already delegated). */
    public readonly nameServers: pulumi.Output<Record<string, string[]>>;

    constructor(name: string, args: MailDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:MailDns", name, {}, opts);
        const { controlDomain, mailDomains, existingZoneIds } = { ...DEFAULTS, ...args };
        const domains = [controlDomain, ...mailDomains];
        if (mailDomains.length === 0) throw new Error(`MailDns ${name}: mailDomains is empty; pass at least one mail domain`);
        if (new Set(domains).size !== domains.length) {
            throw new Error(`MailDns ${name}: controlDomain and mailDomains must all differ, got ${JSON.stringify(domains)}`);
        }
        for (const [domain, zoneId] of Object.entries(existingZoneIds)) {
            if (!domains.includes(domain)) {
                throw new Error(`MailDns ${name}: existingZoneIds names ${domain}, which is neither the controlDomain nor a mail domain (${domains.join(", ")}); remove it or fix the domain`);
            }
            if (!HOSTED_ZONE_ID_RE.test(zoneId)) {
                throw new Error(`MailDns ${name}: existingZoneIds["${domain}"] must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got ${JSON.stringify(zoneId)}`);
            }
        }

        const zoneIds: Record<string, pulumi.Output<string>> = {};
        const created: Record<string, pulumi.Output<string[]>> = {};
        for (const domain of domains) {
            const existing = existingZoneIds[domain];
            if (existing) {
                zoneIds[domain] = pulumi.output(existing);
                continue;
            }
            const zone = new aws.route53.Zone(`${name}-${domain}`, {
                name: domain,
                comment: domain === controlDomain ? "Cabalmail control domain: mail hosts, SPF, DMARC, DKIM key" : "Cabalmail mail domain: per-address records",
                // The address API adds records at run time: deleting the zone with them in it must be deliberate.
                forceDestroy: false,
            }, { parent: this });
            zoneIds[domain] = zone.zoneId;
            created[domain] = zone.nameServers;
        }

        this.controlZoneId = zoneIds[controlDomain];
        this.hostedZoneIds = pulumi.output(Object.fromEntries(mailDomains.map((d) => [d, zoneIds[d]]))) as pulumi.Output<Record<string, string>>;
        this.nameServers = pulumi.output(created) as pulumi.Output<Record<string, string[]>>;
        this.registerOutputs({ controlZoneId: this.controlZoneId, hostedZoneIds: this.hostedZoneIds, nameServers: this.nameServers });
    }
}
