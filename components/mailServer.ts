import * as path from "node:path";
import * as aws from "@pulumi/aws";
// The ecr module alone: the package index also loads awsx "classic", which costs every preview ~80 ms.
import * as awsxEcr from "@pulumi/awsx/ecr";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DKIM_SELECTOR, mailHosts } from "../lib/address";
import { fargateMemoryChoices, LOG_RETENTION_DAYS, SES_MESSAGE_SIZE_LIMIT } from "../lib/mailServerLimits";
import { MAIL_ENV, MAIL_HEALTH_CHECKS, MAIL_MOUNTS, MAIL_PORTS, MAIL_TIER_NAMES, type MailTierName } from "../lib/mailTiers";
import type { AddressTableRef } from "./addressStore";
import { ecrRepositoryArnOf, ecsTasksTrustPolicy, mailExecutionRolePolicy, mailTaskRolePolicy, sesRelayPolicy } from "./mailTierPolicies";

/** Size, count and image of one mail tier's Fargate service. */
export interface MailTierSettings {
    /** Fargate CPU units of the task (256 = a quarter vCPU). Defaults to 256. */
    cpu?: number;
    /** Task memory in MiB; must be a size Fargate offers for the CPU (256 → 512, 1024 or 2048). Defaults to 512. */
    memory?: number;
    /**
     * Running tasks: 0 (tier stopped) or 1. Not more: each tier's state is one directory tree on EFS (a Postfix queue,
     * a Dovecot mailbox tree) that only one server may own at a time. Defaults to 1.
     */
    desiredCount?: number;
    /** A prebuilt image (`registry/repository:tag`). Unset: built from `mail/<tier>/Dockerfile` and pushed to ECR at `pulumi up`. */
    image?: string;
}

/** Arguments of the MailServer component. */
export interface MailServerArgs {
    /** The operator's domain: mail host names, SPF, DMARC and the DKIM key live under it. */
    controlDomain: string;
    /** The apex domains addresses are created on. */
    mailDomains: string[];
    /** The stack's AWS region: the containers' AWS_REGION and the SES relay's endpoint. */
    region: string;
    /** The VPC (from the Network component). */
    network: {
        /** The VPC's id. */
        vpcId: pulumi.Input<string>;
        /** The VPC's address range: the load balancer may reach targets only inside it. */
        vpcCidrBlock: pulumi.Input<string>;
        /** Public subnets, one per availability zone, in zone order: the load balancer's, and the tasks' without NAT. */
        publicSubnetIds: pulumi.Input<string[]>;
        /** Private subnets: the tasks' when the VPC has a NAT gateway. */
        privateSubnetIds: pulumi.Input<string[]>;
        /** How many zones (and so public subnets and load balancer addresses) there are. */
        availabilityZoneCount: number;
        /** Whether the private subnets have a NAT gateway (a fixed outbound address). */
        natGateway: boolean;
        /** The security group the mail store admits NFS from: every mail task carries it. */
        mailTierSecurityGroupId: pulumi.Input<string>;
    };
    /** The mail store (from the MailStore component): file system and one access point per tier. */
    mailStore: {
        /** The EFS file system's id. */
        fileSystemId: pulumi.Input<string>;
        /** The EFS file system's ARN (task roles mount it). */
        fileSystemArn: pulumi.Input<string>;
        /** The imap tier's mailbox tree. */
        mailboxAccessPointId: pulumi.Input<string>;
        /** Its ARN. */
        mailboxAccessPointArn: pulumi.Input<string>;
        /** The smtp-in tier's Postfix queue. */
        inboundQueueAccessPointId: pulumi.Input<string>;
        /** Its ARN. */
        inboundQueueAccessPointArn: pulumi.Input<string>;
        /** The smtp-out tier's Postfix queue. */
        outboundQueueAccessPointId: pulumi.Input<string>;
        /** Its ARN. */
        outboundQueueAccessPointArn: pulumi.Input<string>;
    };
    /** The address table (the AddressStore component): read, never written, by every tier; its name is the containers' ADDRESS_TABLE. */
    addressStore: AddressTableRef;
    /** The control domain's hosted zone (MailDns): host names, SPF, DMARC and the DKIM key go there. */
    controlZoneId: pulumi.Input<string>;
    /** Mail domain → hosted zone id (MailDns): the SES identities' DKIM records go there in `ses` mode. */
    mailZoneIds: pulumi.Input<Record<string, string>>;
    /** The ACM certificate for the mail host names (MailCertificate), validated: the TLS listeners use it. */
    certificateArn: pulumi.Input<string>;
    /** The Cognito user pool the imap tier authenticates against (Identity). */
    userPoolId: pulumi.Input<string>;
    /** The user pool's app client the imap tier authenticates with (Identity). */
    userPoolClientId: pulumi.Input<string>;
    /**
     * How smtp-out delivers: `ses` relays through Amazon SES (needs SES production access), `direct` talks SMTP to
     * the recipients' servers from the NAT gateway's fixed address (needs `network.natGateway`, port 25 unblocked and
     * reverse DNS by AWS). Defaults to `ses`.
     */
    outbound?: "direct" | "ses";
    /** `direct` only, required there: the NAT gateway's public addresses, published in the control domain's SPF record. */
    outboundSourceAddresses?: pulumi.Input<string[]>;
    /** Per-tier task size, count and image. Defaults: 256 CPU, 512 MiB, 1 task, image built from mail/<tier>. */
    tiers?: Partial<Record<MailTierName, MailTierSettings>>;
    /** Days the tiers' logs are kept; one of CloudWatch Logs' retention values. Defaults to 30. */
    logRetentionDays?: number;
    /** The largest message smtp-in and smtp-out accept, in bytes. Defaults to 25 MiB; at most 40 MiB with `ses` (SES's limit). */
    messageSizeLimit?: number;
    /** The folder the images are built from (it holds mail/ and lib/). Defaults to the repository root. */
    imageBuildContext?: string;
    /** The private DNS namespace smtp-in and smtp-out find the imap tier in. Defaults to `cabalmail.internal`. */
    serviceDiscoveryNamespace?: string;
}

const TIER_DEFAULTS: Required<Omit<MailTierSettings, "image">> = { cpu: 256, memory: 512, desiredCount: 1 };
const DEFAULTS = {
    outbound: "ses" as "direct" | "ses",
    tiers: {} as Partial<Record<MailTierName, MailTierSettings>>,
    logRetentionDays: 30,
    messageSizeLimit: 25 * 1024 * 1024,
    imageBuildContext: path.resolve(__dirname, ".."),
    serviceDiscoveryNamespace: "cabalmail.internal",
};

/** The public ports of the load balancer, and where each goes. */
export const MAIL_LISTENERS: readonly { tier: MailTierName; port: number; protocol: "TCP" | "TLS"; targetPort: number }[] = [
    { tier: "smtp-in", port: 25, protocol: "TCP", targetPort: MAIL_PORTS.smtpIn },
    { tier: "imap", port: 993, protocol: "TLS", targetPort: MAIL_PORTS.imap },
    { tier: "smtp-out", port: 465, protocol: "TLS", targetPort: MAIL_PORTS.submission },
];

/** TLS 1.3 and 1.2 with forward secrecy only: what current mail clients speak. */
const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** Splits a TXT value into Route 53's 255-character strings (Route 53 joins `"a""b"` back into one value). */
export function txtRecordValue(text: string): string {
    const chunks = text.match(/.{1,255}/g) ?? [""];
    return chunks.join('""');
}

/** The DKIM TXT value for a PEM public key: `v=DKIM1; k=rsa; p=<base64 of the key>`. */
export function dkimRecordText(publicKeyPem: string): string {
    const base64 = publicKeyPem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
    return `v=DKIM1; k=rsa; p=${base64}`;
}

/** The control domain's SPF record: SES's senders, or the NAT gateway's fixed addresses. */
export function spfRecordText(outbound: "direct" | "ses", sourceAddresses: string[]): string {
    if (outbound === "ses") return "v=spf1 include:amazonses.com -all";
    return `v=spf1 ${sourceAddresses.map((a) => (a.includes(":") ? `ip6:${a}` : `ip4:${a}`)).join(" ")} -all`;
}

/** DMARC for the control domain: quarantine what fails, relaxed alignment (addresses sign as their own subdomain). */
export const DMARC_RECORD_TEXT = "v=DMARC1; p=quarantine; adkim=r; aspf=r";

/**
 * The mail tiers on ECS Fargate (ARM64) behind an internet-facing Network Load Balancer with one Elastic IP per zone:
 * smtp-in (25), imap (993, and LMTP/auth inside the VPC), smtp-out (465, and outbound delivery direct or via SES),
 * each with its own security group, log group, task role and execution role; the DKIM key, and the control domain's
 * records (mail hosts, SPF, DMARC, DKIM).
 *
 * Where the tasks run (the cost trade-off): without a NAT gateway (the default) the tasks sit in the PUBLIC subnets
 * with public IPs, so they reach ECR, CloudWatch Logs, Secrets Manager, Cognito and SES through the internet gateway
 * for free; their security groups admit nothing from the internet (only the load balancer and each other). The
 * alternatives cost more than the whole stack otherwise does: interface endpoints for those five services are about
 * $7 each per zone per month (≈ $70 for two zones), a NAT gateway about $33 a month plus traffic. With `natGateway`
 * on, tasks move to the private subnets without public IPs, and outbound mail leaves from the NAT's fixed address,
 * which `direct` delivery needs (a Fargate public IP changes with every task).
 */
export class MailServer extends pulumi.ComponentResource {
    /** The load balancer's DNS name (the host names are aliases of it). */
    public readonly loadBalancerDnsName: pulumi.Output<string>;
    /** The load balancer's fixed public addresses, one per zone: the MX host's addresses, for reverse DNS. */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** The ECS cluster's name. */
    public readonly clusterName: pulumi.Output<string>;
    /** Tier → ECS service name. */
    public readonly serviceNames: Record<MailTierName, pulumi.Output<string>>;
    /** The fully qualified name of the DKIM public key record, `<selector>._domainkey.<controlDomain>`. */
    public readonly dkimRecordName: string;

    constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:MailServer", name, {}, opts);
        const a = { ...DEFAULTS, ...args };
        const tiers = Object.fromEntries(MAIL_TIER_NAMES.map((t) => [t, { ...TIER_DEFAULTS, ...(a.tiers[t] ?? {}) }])) as Record<MailTierName, Required<Omit<MailTierSettings, "image">> & { image?: string }>;
        validate(name, a, tiers);
        const child = { parent: this };
        const hosts = mailHosts(a.controlDomain);
        const identity = aws.getCallerIdentityOutput({}, child);
        const accountId = identity.accountId;

        // ── Network placement and security groups ──────────────────────────────────────────────────────────────
        const usePrivateSubnets = a.network.natGateway;
        const taskSubnetIds = usePrivateSubnets ? a.network.privateSubnetIds : a.network.publicSubnetIds;

        const loadBalancerGroup = new aws.ec2.SecurityGroup(`${name}-nlb`, {
            vpcId: a.network.vpcId,
            description: "Mail load balancer: SMTP, IMAPS and submission from the internet",
            ingress: MAIL_LISTENERS.map((l) => ({ protocol: "tcp", fromPort: l.port, toPort: l.port, cidrBlocks: ["0.0.0.0/0"], description: `${l.tier} from the internet` })),
            egress: MAIL_LISTENERS.map((l) => ({ protocol: "tcp", fromPort: l.targetPort, toPort: l.targetPort, cidrBlocks: [a.network.vpcCidrBlock], description: `to ${l.tier} tasks` })),
            tags: { Name: `${name}-nlb` },
        }, child);
        const tierGroup = (tier: MailTierName, ingress: aws.types.input.ec2.SecurityGroupIngress[]) =>
            new aws.ec2.SecurityGroup(`${name}-${tier}`, {
                vpcId: a.network.vpcId,
                description: `Mail tier ${tier}: its own ports, from the load balancer or the tier that talks to it`,
                ingress,
                // No egress here: outbound traffic goes through the shared mail-tier group every task also carries.
                tags: { Name: `${name}-${tier}` },
            }, child);
        const fromBalancer = (port: number, what: string) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [loadBalancerGroup.id], description: `${what} from the load balancer` });
        const smtpInGroup = tierGroup("smtp-in", [fromBalancer(MAIL_PORTS.smtpIn, "SMTP")]);
        const smtpOutGroup = tierGroup("smtp-out", [fromBalancer(MAIL_PORTS.submission, "submission")]);
        const imapGroup = tierGroup("imap", [
            fromBalancer(MAIL_PORTS.imap, "IMAP"),
            { protocol: "tcp", fromPort: MAIL_PORTS.lmtp, toPort: MAIL_PORTS.lmtp, securityGroups: [smtpInGroup.id], description: "LMTP delivery from smtp-in" },
            { protocol: "tcp", fromPort: MAIL_PORTS.auth, toPort: MAIL_PORTS.auth, securityGroups: [smtpOutGroup.id], description: "SASL authentication for smtp-out" },
        ]);
        const groups: Record<MailTierName, aws.ec2.SecurityGroup> = { "smtp-in": smtpInGroup, imap: imapGroup, "smtp-out": smtpOutGroup };

        // ── Load balancer: one Elastic IP per zone, TCP 25, TLS 993 and 465, proxy protocol v2 to the tasks ───────
        const addresses = Array.from({ length: a.network.availabilityZoneCount }, (_, i) =>
            new aws.ec2.Eip(`${name}-nlb-${i}`, { domain: "vpc", tags: { Name: `${name}-nlb-${i}` } }, child));
        const subnetMappings = pulumi.all([pulumi.output(a.network.publicSubnetIds), pulumi.all(addresses.map((e) => e.id))]).apply(([subnetIds, allocationIds]) => {
            if (subnetIds.length !== allocationIds.length) {
                throw new Error(`MailServer ${name}: network.publicSubnetIds has ${subnetIds.length} subnets but network.availabilityZoneCount is ${allocationIds.length}; pass one public subnet per zone`);
            }
            return subnetIds.map((subnetId: string, i: number) => ({ subnetId, allocationId: allocationIds[i] }));
        });
        const loadBalancer = new aws.lb.LoadBalancer(`${name}`, {
            loadBalancerType: "network",
            internal: false,
            ipAddressType: "ipv4",
            subnetMappings,
            securityGroups: [loadBalancerGroup.id],
            // One task per tier lives in one zone: every zone's address must reach it.
            enableCrossZoneLoadBalancing: true,
            tags: { Name: name },
        }, child);

        const targetGroups = {} as Record<MailTierName, aws.lb.TargetGroup>;
        const listeners: aws.lb.Listener[] = [];
        for (const listener of MAIL_LISTENERS) {
            const targetGroup = new aws.lb.TargetGroup(`${name}-${listener.tier}`, {
                vpcId: a.network.vpcId,
                targetType: "ip",
                protocol: "TCP",
                port: listener.targetPort,
                // The servers learn the client's address from the header (SPF checks, rate limits, logs).
                proxyProtocolV2: true,
                preserveClientIp: "false",
                // SMTP and IMAP sessions are long; give them time to finish when a task is replaced.
                deregistrationDelay: 120,
                healthCheck: { protocol: "TCP", port: "traffic-port", interval: 30, healthyThreshold: 3, unhealthyThreshold: 3 },
                tags: { Name: `${name}-${listener.tier}` },
            }, child);
            targetGroups[listener.tier] = targetGroup;
            listeners.push(new aws.lb.Listener(`${name}-${listener.port}`, {
                loadBalancerArn: loadBalancer.arn,
                port: listener.port,
                protocol: listener.protocol,
                certificateArn: listener.protocol === "TLS" ? a.certificateArn : undefined,
                sslPolicy: listener.protocol === "TLS" ? TLS_POLICY : undefined,
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            }, child));
        }

        // ── Service discovery: smtp-in finds imap's LMTP, smtp-out its auth service ──────────────────────────────
        const namespace = new aws.servicediscovery.PrivateDnsNamespace(`${name}-internal`, {
            name: a.serviceDiscoveryNamespace,
            vpc: a.network.vpcId,
            description: "Mail tiers inside the VPC",
        }, child);
        const imapDiscovery = new aws.servicediscovery.Service(`${name}-imap`, {
            name: "imap",
            namespaceId: namespace.id,
            dnsConfig: { namespaceId: namespace.id, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] },
            healthCheckCustomConfig: { failureThreshold: 1 },
            forceDestroy: true,
        }, child);
        const imapHost = `imap.${a.serviceDiscoveryNamespace}`;

        // ── DKIM key: generated once, kept in the stack's (encrypted) state and in Secrets Manager for smtp-out ──
        const dkimKey = new tls.PrivateKey(`${name}-dkim`, { algorithm: "RSA", rsaBits: 2048 }, child);
        const dkimSecret = new aws.secretsmanager.Secret(`${name}-dkim`, {
            description: `DKIM private key (selector ${DKIM_SELECTOR}) of ${a.controlDomain}, for smtp-out`,
            recoveryWindowInDays: 7,
        }, child);
        new aws.secretsmanager.SecretVersion(`${name}-dkim`, { secretId: dkimSecret.id, secretString: dkimKey.privateKeyPem }, child);

        // ── Outbound through SES: a verified identity per mail domain, an SMTP user that may only send as them ───
        const smtpOutSecrets: { name: string; valueFrom: pulumi.Input<string> }[] = [{ name: MAIL_ENV.dkimPrivateKey, valueFrom: dkimSecret.arn }];
        const smtpOutSecretArns: pulumi.Input<string>[] = [dkimSecret.arn];
        let relayEnvironment: { name: string; value: string }[] = [];
        if (a.outbound === "ses") {
            const zoneIds = pulumi.output(a.mailZoneIds);
            const identities = a.mailDomains.map((domain) => {
                const sesIdentity = new aws.sesv2.EmailIdentity(`${name}-${domain}`, { emailIdentity: domain }, child);
                // Easy DKIM's three CNAMEs verify the domain (and so its address subdomains) with SES.
                for (let i = 0; i < 3; i++) {
                    const token = sesIdentity.dkimSigningAttributes.apply((d) => d?.tokens?.[i] ?? "");
                    new aws.route53.Record(`${name}-${domain}-ses-dkim-${i}`, {
                        zoneId: zoneIds.apply((z) => requireZone(name, z, domain)),
                        name: pulumi.interpolate`${token}._domainkey.${domain}`,
                        type: "CNAME",
                        ttl: 1800,
                        records: [pulumi.interpolate`${token}.dkim.amazonses.com`],
                    }, child);
                }
                return sesIdentity;
            });
            const relayUser = new aws.iam.User(`${name}-ses-relay`, { path: "/cabalmail/", tags: { purpose: "SES SMTP relay of smtp-out" } }, child);
            new aws.iam.UserPolicy(`${name}-ses-relay`, {
                user: relayUser.name,
                policy: pulumi.all(identities.map((i) => i.arn)).apply((arns) => JSON.stringify(sesRelayPolicy(arns))),
            }, child);
            const relayKey = new aws.iam.AccessKey(`${name}-ses-relay`, { user: relayUser.name }, child);
            const relaySecret = new aws.secretsmanager.Secret(`${name}-ses-relay`, {
                description: "SES SMTP credentials of smtp-out (username, password)",
                recoveryWindowInDays: 7,
            }, child);
            new aws.secretsmanager.SecretVersion(`${name}-ses-relay`, {
                secretId: relaySecret.id,
                secretString: pulumi.jsonStringify({ username: relayKey.id, password: relayKey.sesSmtpPasswordV4 }),
            }, child);
            smtpOutSecrets.push(
                { name: MAIL_ENV.relayUser, valueFrom: pulumi.interpolate`${relaySecret.arn}:username::` },
                { name: MAIL_ENV.relayPassword, valueFrom: pulumi.interpolate`${relaySecret.arn}:password::` },
            );
            smtpOutSecretArns.push(relaySecret.arn);
            relayEnvironment = [{ name: MAIL_ENV.relayHost, value: `email-smtp.${a.region}.amazonaws.com:587` }];
        }

        // ── ECS: one cluster, one Fargate service per tier ─────────────────────────────────────────────────────
        const cluster = new aws.ecs.Cluster(name, { settings: [{ name: "containerInsights", value: "disabled" }] }, child);
        const commonEnvironment = [
            { name: MAIL_ENV.addressTable, value: a.addressStore.tableName },
            { name: MAIL_ENV.region, value: a.region },
            { name: MAIL_ENV.mailDomains, value: a.mailDomains.join(",") },
            { name: MAIL_ENV.controlDomain, value: a.controlDomain },
        ];
        const perTier: Record<MailTierName, {
            ports: number[];
            accessPointId: pulumi.Input<string>;
            accessPointArn: pulumi.Input<string>;
            mountPath: string;
            environment: { name: string; value: pulumi.Input<string> }[];
            secrets: { name: string; valueFrom: pulumi.Input<string> }[];
            secretArns: pulumi.Input<string>[];
        }> = {
            "smtp-in": {
                ports: [MAIL_PORTS.smtpIn],
                accessPointId: a.mailStore.inboundQueueAccessPointId,
                accessPointArn: a.mailStore.inboundQueueAccessPointArn,
                mountPath: MAIL_MOUNTS.queue,
                environment: [{ name: MAIL_ENV.imapHost, value: imapHost }, { name: MAIL_ENV.messageSizeLimit, value: String(a.messageSizeLimit) }],
                secrets: [],
                secretArns: [],
            },
            imap: {
                ports: [MAIL_PORTS.imap, MAIL_PORTS.lmtp, MAIL_PORTS.auth],
                accessPointId: a.mailStore.mailboxAccessPointId,
                accessPointArn: a.mailStore.mailboxAccessPointArn,
                mountPath: MAIL_MOUNTS.mailboxes,
                environment: [{ name: MAIL_ENV.userPoolId, value: a.userPoolId }, { name: MAIL_ENV.userPoolClientId, value: a.userPoolClientId }],
                secrets: [],
                secretArns: [],
            },
            "smtp-out": {
                ports: [MAIL_PORTS.submission],
                accessPointId: a.mailStore.outboundQueueAccessPointId,
                accessPointArn: a.mailStore.outboundQueueAccessPointArn,
                mountPath: MAIL_MOUNTS.queue,
                environment: [
                    { name: MAIL_ENV.imapHost, value: imapHost },
                    { name: MAIL_ENV.messageSizeLimit, value: String(a.messageSizeLimit) },
                    { name: MAIL_ENV.outbound, value: a.outbound },
                    ...relayEnvironment,
                ],
                secrets: smtpOutSecrets,
                secretArns: smtpOutSecretArns,
            },
        };

        const serviceNames = {} as Record<MailTierName, pulumi.Output<string>>;
        for (const tier of MAIL_TIER_NAMES) {
            const settings = tiers[tier];
            const spec = perTier[tier];

            const logGroup = new aws.cloudwatch.LogGroup(`${name}-${tier}`, { name: `/cabalmail/${name}/${tier}`, retentionInDays: a.logRetentionDays }, child);

            let image: pulumi.Input<string>;
            let repositoryArn: pulumi.Input<string | undefined>;
            if (settings.image) {
                image = settings.image;
                repositoryArn = ecrRepositoryArnOf(settings.image);
            } else {
                const repository = new aws.ecr.Repository(`${name}-${tier}`, {
                    imageScanningConfiguration: { scanOnPush: true },
                    // Images are rebuilt from the repository's sources: nothing in the registry is worth keeping.
                    forceDelete: true,
                }, child);
                image = new awsxEcr.Image(`${name}-${tier}`, {
                    repositoryUrl: repository.repositoryUrl,
                    context: a.imageBuildContext,
                    dockerfile: path.join(a.imageBuildContext, "mail", tier, "Dockerfile"),
                    platform: "linux/arm64",
                }, child).imageUri;
                repositoryArn = repository.arn;
            }

            const trust = accountId.apply((id) => JSON.stringify(ecsTasksTrustPolicy(id)));
            const taskRole = new aws.iam.Role(`${name}-${tier}-task`, { assumeRolePolicy: trust, description: `Task role of the ${tier} mail tier` }, child);
            new aws.iam.RolePolicy(`${name}-${tier}-task`, {
                role: taskRole.name,
                policy: pulumi.all([a.addressStore.tableArn, a.addressStore.userIndexArn, a.addressStore.subdomainIndexArn, a.mailStore.fileSystemArn, spec.accessPointArn])
                    .apply(([tableArn, userIndexArn, subdomainIndexArn, fileSystemArn, accessPointArn]) =>
                        JSON.stringify(mailTaskRolePolicy(tier, { tableArn, indexArns: [userIndexArn, subdomainIndexArn], fileSystemArn, accessPointArn }))),
            }, child);
            const executionRole = new aws.iam.Role(`${name}-${tier}-execution`, { assumeRolePolicy: trust, description: `Execution role of the ${tier} mail tier` }, child);
            new aws.iam.RolePolicy(`${name}-${tier}-execution`, {
                role: executionRole.name,
                policy: pulumi.all([logGroup.arn, pulumi.output(repositoryArn), pulumi.all(spec.secretArns)])
                    .apply(([logGroupArn, repoArn, secretArns]) => JSON.stringify(mailExecutionRolePolicy(tier, { logGroupArn, repositoryArn: repoArn, secretArns }))),
            }, child);

            const volumeName = tier === "imap" ? "mailboxes" : "queue";
            const containerDefinitions = pulumi.jsonStringify([{
                name: tier,
                image,
                essential: true,
                portMappings: spec.ports.map((port) => ({ containerPort: port, protocol: "tcp" })),
                environment: [...commonEnvironment, ...spec.environment],
                secrets: spec.secrets,
                mountPoints: [{ sourceVolume: volumeName, containerPath: spec.mountPath, readOnly: false }],
                healthCheck: { command: ["CMD-SHELL", MAIL_HEALTH_CHECKS[tier]], interval: 30, timeout: 5, retries: 3, startPeriod: 60 },
                // Let Postfix and Dovecot finish sessions and write their queues before the task is killed.
                stopTimeout: 120,
                linuxParameters: { initProcessEnabled: true },
                logConfiguration: {
                    logDriver: "awslogs",
                    options: { "awslogs-group": logGroup.name, "awslogs-region": a.region, "awslogs-stream-prefix": tier },
                },
            }]);
            const taskDefinition = new aws.ecs.TaskDefinition(`${name}-${tier}`, {
                family: `${name}-${tier}`,
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: String(settings.cpu),
                memory: String(settings.memory),
                runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
                taskRoleArn: taskRole.arn,
                executionRoleArn: executionRole.arn,
                volumes: [{
                    name: volumeName,
                    efsVolumeConfiguration: {
                        fileSystemId: a.mailStore.fileSystemId,
                        transitEncryption: "ENABLED",
                        authorizationConfig: { accessPointId: spec.accessPointId, iam: "ENABLED" },
                    },
                }],
                containerDefinitions,
            }, child);

            const service = new aws.ecs.Service(`${name}-${tier}`, {
                cluster: cluster.arn,
                taskDefinition: taskDefinition.arn,
                desiredCount: settings.desiredCount,
                launchType: "FARGATE",
                // 1.4.0 and later mount EFS; LATEST follows AWS's fixes.
                platformVersion: "LATEST",
                networkConfiguration: {
                    subnets: taskSubnetIds,
                    securityGroups: [a.network.mailTierSecurityGroupId, groups[tier].id],
                    assignPublicIp: !usePrivateSubnets,
                },
                loadBalancers: [{ targetGroupArn: targetGroups[tier].arn, containerName: tier, containerPort: MAIL_LISTENERS.find((l) => l.tier === tier)!.targetPort }],
                serviceRegistries: tier === "imap" ? { registryArn: imapDiscovery.arn } : undefined,
                // Stop the old task before the new one starts: two servers must never share one queue or mailbox tree.
                deploymentMinimumHealthyPercent: 0,
                deploymentMaximumPercent: 100,
                deploymentCircuitBreaker: { enable: true, rollback: true },
                healthCheckGracePeriodSeconds: 120,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                tags: { tier },
            }, { parent: this, dependsOn: listeners });
            serviceNames[tier] = service.name;
        }

        // ── The control domain's records: host names, SPF, DMARC, DKIM ─────────────────────────────────────────
        for (const [key, host] of Object.entries(hosts)) {
            new aws.route53.Record(`${name}-${key}`, {
                zoneId: a.controlZoneId,
                name: host,
                type: "A",
                aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: false }],
            }, child);
        }
        const spf = pulumi.output(a.outboundSourceAddresses ?? []).apply((sources) => spfRecordText(a.outbound, sources));
        // The apex for mail from the control domain's own addresses and for the addresses' `include:`; smtp-out's
        // host name for its HELO identity (checked on bounces, which have no envelope sender).
        for (const [key, recordName] of [["spf", a.controlDomain], ["spf-helo", hosts.smtpOut]] as const) {
            new aws.route53.Record(`${name}-${key}`, { zoneId: a.controlZoneId, name: recordName, type: "TXT", ttl: 3600, records: [spf] }, child);
        }
        new aws.route53.Record(`${name}-dmarc`, { zoneId: a.controlZoneId, name: `_dmarc.${a.controlDomain}`, type: "TXT", ttl: 3600, records: [DMARC_RECORD_TEXT] }, child);
        this.dkimRecordName = `${DKIM_SELECTOR}._domainkey.${a.controlDomain}`;
        new aws.route53.Record(`${name}-dkim`, {
            zoneId: a.controlZoneId,
            name: this.dkimRecordName,
            type: "TXT",
            ttl: 3600,
            records: [dkimKey.publicKeyPem.apply((pem) => txtRecordValue(dkimRecordText(pem)))],
        }, child);

        this.loadBalancerDnsName = loadBalancer.dnsName;
        this.publicAddresses = pulumi.all(addresses.map((e) => e.publicIp));
        this.clusterName = cluster.name;
        this.serviceNames = serviceNames;
        this.registerOutputs({ loadBalancerDnsName: this.loadBalancerDnsName, publicAddresses: this.publicAddresses, clusterName: this.clusterName });
    }
}

function requireZone(name: string, zoneIds: Record<string, string>, domain: string): string {
    const zoneId = zoneIds[domain];
    if (!zoneId) throw new Error(`MailServer ${name}: mailZoneIds has no zone for the mail domain ${domain}; pass MailDns.hostedZoneIds`);
    return zoneId;
}

/** Rejects argument combinations that cannot work, naming the argument and the fix. */
function validate(name: string, a: MailServerArgs & typeof DEFAULTS, tiers: Record<MailTierName, Required<Omit<MailTierSettings, "image">> & { image?: string }>): void {
    const fail = (message: string): never => { throw new Error(`MailServer ${name}: ${message}`); };
    if (a.mailDomains.length === 0) fail("mailDomains is empty; pass at least one mail domain");
    if (a.outbound !== "direct" && a.outbound !== "ses") fail(`outbound must be "direct" or "ses", got ${JSON.stringify(a.outbound)}`);
    if (a.outbound === "direct" && !a.network.natGateway) {
        fail(`outbound "direct" needs network.natGateway: direct delivery must leave from a fixed address with reverse DNS, and a Fargate task's public IP changes with every task. Turn the NAT gateway on, or use outbound "ses"`);
    }
    if (a.outbound === "direct" && a.outboundSourceAddresses === undefined) {
        fail(`outbound "direct" needs outboundSourceAddresses (the NAT gateway's public addresses) for the control domain's SPF record`);
    }
    if (!LOG_RETENTION_DAYS.includes(a.logRetentionDays as (typeof LOG_RETENTION_DAYS)[number])) {
        fail(`logRetentionDays must be one of CloudWatch Logs' values (${LOG_RETENTION_DAYS.join(", ")}), got ${a.logRetentionDays}`);
    }
    if (!Number.isInteger(a.messageSizeLimit) || a.messageSizeLimit < 1024 * 1024) fail(`messageSizeLimit must be a whole number of bytes, at least 1 MiB (1048576), got ${a.messageSizeLimit}`);
    if (a.outbound === "ses" && a.messageSizeLimit > SES_MESSAGE_SIZE_LIMIT) {
        fail(`messageSizeLimit ${a.messageSizeLimit} exceeds what SES relays (${SES_MESSAGE_SIZE_LIMIT} bytes, 40 MiB); lower it or use outbound "direct"`);
    }
    if (!Number.isInteger(a.network.availabilityZoneCount) || a.network.availabilityZoneCount < 2) {
        fail(`network.availabilityZoneCount must be at least 2 (a load balancer spans two zones or more), got ${a.network.availabilityZoneCount}`);
    }
    for (const tier of MAIL_TIER_NAMES) {
        const { cpu, memory, desiredCount } = tiers[tier];
        const choices = fargateMemoryChoices(cpu);
        if (choices.length === 0) fail(`tiers["${tier}"].cpu must be a Fargate CPU size (256, 512, 1024, 2048 or 4096), got ${cpu}`);
        if (!choices.includes(memory)) fail(`tiers["${tier}"].memory ${memory} MiB is not offered by Fargate with ${cpu} CPU units; choose one of ${choices.join(", ")}`);
        if (desiredCount !== 0 && desiredCount !== 1) {
            fail(`tiers["${tier}"].desiredCount must be 0 or 1, got ${desiredCount}: the tier keeps its state in one EFS tree (Postfix queue or Dovecot mailboxes) that only one server may own`);
        }
    }
}
