/**
 * Security group ingress, read the same way from the three resource types that can open a port: inline `ingress`
 * blocks of `aws:ec2/securityGroup:SecurityGroup`, `aws:ec2/securityGroupRule:SecurityGroupRule` (type ingress) and
 * `aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule`. Pure functions of a resource's properties.
 */

import { known } from "./known";

export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
export const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const INGRESS_TYPES = [SECURITY_GROUP, SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE];

/** One ingress permission: a protocol, a port range and where traffic may come from. */
export interface Ingress {
    /** "tcp", "udp", "icmp", ... or "all" (protocol -1). */
    protocol: string;
    fromPort: number;
    toPort: number;
    /** IPv4 and IPv6 CIDR blocks. */
    cidrs: string[];
    /** Source security group ids. */
    securityGroups: string[];
    /** True when the group admits its own members. */
    self: boolean;
    prefixLists: string[];
}

const PROTOCOL_NUMBERS: Record<string, string> = { "-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6" };

function protocolName(value: unknown): string {
    const text = String(value ?? "all").toLowerCase();
    return PROTOCOL_NUMBERS[text] ?? text;
}

/** A list-valued property; a list (or an element) unknown during a preview counts as absent. */
function list(read: () => unknown): string[] {
    const value = known(read);
    if (value === undefined || value === null || value === "") return [];
    const items = Array.isArray(value) ? [...Array(value.length).keys()].map((i) => known(() => value[i])) : [value];
    return items.filter((v): v is string => typeof v === "string" && v !== "");
}

function portRange(protocol: string, fromPort: unknown, toPort: unknown): { fromPort: number; toPort: number } {
    // Protocol -1 means every port whatever fromPort/toPort say; AWS uses -1 or 0..0 for it.
    if (protocol === "all") return { fromPort: 0, toPort: 65535 };
    const from = typeof fromPort === "number" ? fromPort : Number(fromPort ?? 0);
    const to = typeof toPort === "number" ? toPort : Number(toPort ?? from);
    if ((protocol === "tcp" || protocol === "udp") && from === -1) return { fromPort: 0, toPort: 65535 };
    return { fromPort: from, toPort: to };
}

/** Every ingress permission a resource of one of INGRESS_TYPES grants; none for other types. */
export function ingressOf(type: string, props: Record<string, any>): Ingress[] {
    switch (type) {
        case SECURITY_GROUP: {
            const rules = known(() => props.ingress);
            return (Array.isArray(rules) ? rules : []).map((rule: Record<string, any>) => {
                const protocol = protocolName(rule.protocol);
                return {
                    protocol,
                    ...portRange(protocol, rule.fromPort, rule.toPort),
                    cidrs: [...list(() => rule.cidrBlocks), ...list(() => rule.ipv6CidrBlocks)],
                    securityGroups: list(() => rule.securityGroups),
                    self: rule.self === true,
                    prefixLists: list(() => rule.prefixListIds),
                };
            });
        }
        case SECURITY_GROUP_RULE: {
            if (props.type !== "ingress") return [];
            const protocol = protocolName(props.protocol);
            return [{
                protocol,
                ...portRange(protocol, props.fromPort, props.toPort),
                cidrs: [...list(() => props.cidrBlocks), ...list(() => props.ipv6CidrBlocks)],
                securityGroups: list(() => props.sourceSecurityGroupId),
                self: props.self === true,
                prefixLists: list(() => props.prefixListIds),
            }];
        }
        case SECURITY_GROUP_INGRESS_RULE: {
            const protocol = protocolName(props.ipProtocol);
            return [{
                protocol,
                ...portRange(protocol, props.fromPort, props.toPort),
                cidrs: [...list(() => props.cidrIpv4), ...list(() => props.cidrIpv6)],
                securityGroups: list(() => props.referencedSecurityGroupId),
                self: false,
                prefixLists: list(() => props.prefixListId),
            }];
        }
        default:
            return [];
    }
}

/** True when the permission lets TCP traffic reach `port`. */
export function admitsTcpPort(ingress: Ingress, port: number): boolean {
    return (ingress.protocol === "tcp" || ingress.protocol === "all") && ingress.fromPort <= port && port <= ingress.toPort;
}

function ipv4ToNumber(address: string): number | undefined {
    const parts = address.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** Address ranges that are not routed on the internet: RFC 1918, carrier-grade NAT, loopback, link-local. */
const NON_INTERNET_V4: [string, number][] = [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16]];

/**
 * True when a CIDR block reaches beyond private address space: 0.0.0.0/0 and ::/0, but also any public address
 * range (a single public /32 is still "the internet" for this system's rules).
 */
export function isInternetCidr(cidr: string): boolean {
    const [address, bitsText] = cidr.trim().split("/");
    const bits = Number(bitsText ?? (address.includes(":") ? 128 : 32));
    if (address.includes(":")) {
        const lower = address.toLowerCase();
        // Unique local (fc00::/7), link-local (fe80::/10) and loopback stay inside; the rest is internet.
        return !(bits >= 7 && /^f[cd]/.test(lower)) && !(bits >= 10 && /^fe[89ab]/.test(lower)) && lower !== "::1";
    }
    const value = ipv4ToNumber(address);
    if (value === undefined || !Number.isInteger(bits)) return true;
    return !NON_INTERNET_V4.some(([base, prefix]) => {
        if (bits < prefix) return false;
        const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
        return ((value & mask) >>> 0) === ((ipv4ToNumber(base)! & mask) >>> 0);
    });
}

/** "tcp 25", "tcp 0-65535", "all protocols": for messages. */
export function describeIngress(ingress: Ingress): string {
    if (ingress.protocol === "all") return "all protocols and ports";
    const ports = ingress.fromPort === ingress.toPort ? `${ingress.fromPort}` : `${ingress.fromPort}-${ingress.toPort}`;
    return `${ingress.protocol} ${ports}`;
}
