/**
 * The estimated monthly cost of a stack, per resource and in total, computed from the offline plan's resource graph:
 * each priced resource type reads its own inputs (task sizes and counts, load balancer type and addresses, lifecycle
 * and retention) and the usage assumptions below, at the prices of plan/prices.json. Resource types without an
 * entry here cost nothing by themselves (subnets, roles, records, ...) or too little at this scale to list; they are
 * counted as "not priced".
 */
import type { PlannedResource } from "./types";
import pricesFile from "./prices.json";

export type Prices = typeof pricesFile;
export const PRICES: Prices = pricesFile;

/** What the stack is used for: the assumptions behind every usage-based price. All overridable. */
export interface Usage {
    /** Mail stored on EFS, GB. */
    mailGb: number;
    /** Share of the stored mail not read for the lifecycle period, so in Infrequent Access (when the lifecycle is on). */
    mailInfrequentAccessShare: number;
    /** New or changed mail a month, as a share of the stored mail: what each incremental backup adds. */
    mailMonthlyChangeShare: number;
    /** Messages received a month. */
    inboundMessagesPerMonth: number;
    /** Messages sent a month. */
    outboundMessagesPerMonth: number;
    /** Address table reads per message handled (the MTAs' lookups). */
    addressReadsPerMessage: number;
    /** Address table writes a month (addresses created, revoked, changed). */
    addressWritesPerMonth: number;
    /** Size of the address table, GB. */
    addressTableGb: number;
    /** Average load balancer capacity units used (NLCU/LCU): a personal mail server is near idle. */
    loadBalancerCapacityUnits: number;
    /** Data through a NAT gateway a month, GB. */
    natGbPerMonth: number;
    /** Data through each interface VPC endpoint a month, GB. */
    interfaceEndpointGbPerMonth: number;
    /** Logs written to each log group a month, GB. */
    logGbPerGroupPerMonth: number;
    /** Image data kept in each ECR repository, GB. */
    imageGbPerRepository: number;
    /** DNS queries a month per hosted zone. */
    dnsQueriesPerZonePerMonth: number;
    /** Backups taken a month (the nightly plan). */
    backupsPerMonth: number;
}

export const DEFAULT_USAGE: Usage = {
    mailGb: 20,
    mailInfrequentAccessShare: 0.8,
    mailMonthlyChangeShare: 0.05,
    inboundMessagesPerMonth: 3000,
    outboundMessagesPerMonth: 300,
    addressReadsPerMessage: 5,
    addressWritesPerMonth: 100,
    addressTableGb: 0.01,
    loadBalancerCapacityUnits: 0.02,
    natGbPerMonth: 5,
    interfaceEndpointGbPerMonth: 1,
    logGbPerGroupPerMonth: 0.2,
    imageGbPerRepository: 0.3,
    dnsQueriesPerZonePerMonth: 50000,
    backupsPerMonth: 30,
};

/** One line of the estimate: one resource, its monthly cost and how it was reached. */
export interface CostLine {
    urn: string;
    type: string;
    name: string;
    monthlyUsd: number;
    /** The arithmetic, in words: "1 task × 0.25 vCPU, 0.5 GB, ARM, 730 h". */
    detail: string;
}

export interface CostEstimate {
    currency: "USD";
    /** The region the prices are for, and the stack's. */
    priceRegion: string;
    stackRegion?: string;
    pricesAsOf: string;
    lines: CostLine[];
    totalMonthlyUsd: number;
    /** What the backups add: the lines of AWS Backup resources (vaults, plans), which exist only with `backup: true`. */
    backupMonthlyUsd: number;
    /** Resource types with no price of their own, and how many of each. */
    notPriced: { type: string; count: number }[];
    usage: Usage;
}

interface Graph {
    resources: PlannedResource[];
    /** A resource by one of its outputs (arn, name, id): how references between resources are followed. */
    byOutput(type: string, key: string, value: unknown): PlannedResource | undefined;
}

type Pricer = (resource: PlannedResource, graph: Graph, usage: Usage, prices: Prices) => { monthlyUsd: number; detail: string } | { monthlyUsd: number; detail: string }[];

const money = (n: number) => Math.round(n * 100) / 100;
const num = (value: unknown, fallback = 0) => (typeof value === "number" ? value : value !== undefined && value !== null && value !== "" && !Number.isNaN(Number(value)) ? Number(value) : fallback);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`;

function publicIpv4(count: number, prices: Prices): number {
    return count * prices.vpc.publicIpv4Hour * prices.hoursPerMonth;
}

const fargateService: Pricer = (service, graph, usage, prices) => {
    const taskDefinition = graph.byOutput("aws:ecs/taskDefinition:TaskDefinition", "arn", service.inputs.taskDefinition)
        ?? graph.byOutput("aws:ecs/taskDefinition:TaskDefinition", "family", service.inputs.taskDefinition);
    const capacity = service.inputs.capacityProviderStrategies as { capacityProvider?: string }[] | undefined;
    const onFargate = service.inputs.launchType === "FARGATE" || (capacity ?? []).some((c) => String(c.capacityProvider).startsWith("FARGATE"));
    const tasks = num(service.inputs.desiredCount, 1);
    if (!onFargate) return { monthlyUsd: 0, detail: `${plural(tasks, "task")} on EC2 capacity: priced with the instances` };
    if (!taskDefinition) return { monthlyUsd: 0, detail: "task definition not found in the plan: not priced" };
    const vcpu = num(taskDefinition.inputs.cpu) / 1024;
    const memoryGb = num(taskDefinition.inputs.memory) / 1024;
    const arm = taskDefinition.inputs.runtimePlatform?.cpuArchitecture === "ARM64";
    const rate = arm ? prices.fargate.linuxArm : prices.fargate.linuxX86;
    const compute = tasks * (vcpu * rate.vcpuHour + memoryGb * rate.gbHour) * prices.hoursPerMonth;
    const publicAddresses = service.inputs.networkConfiguration?.assignPublicIp === true ? tasks : 0;
    return {
        monthlyUsd: compute + publicIpv4(publicAddresses, prices),
        detail: `${plural(tasks, "task")} × ${vcpu} vCPU, ${memoryGb} GB, ${arm ? "ARM" : "x86"}, ${prices.hoursPerMonth} h` + (publicAddresses ? `; ${plural(publicAddresses, "public IPv4 address")}` : ""),
    };
};

const loadBalancer: Pricer = (lb, _graph, usage, prices) => {
    const kind = lb.inputs.loadBalancerType === "network" ? "network" : "application";
    const rate = prices.elb[kind];
    const hours = prices.hoursPerMonth;
    const mappings = (lb.inputs.subnetMappings ?? []) as { allocationId?: string }[];
    const zones = mappings.length || (lb.inputs.subnets ?? []).length || 2;
    // An internet-facing load balancer has a public address per zone; Elastic IPs in its mappings are priced as Eips.
    const ownPublic = lb.inputs.internal === true ? 0 : mappings.length ? mappings.filter((m) => !m.allocationId).length : zones;
    return {
        monthlyUsd: (rate.hour + usage.loadBalancerCapacityUnits * rate.capacityUnitHour) * hours + publicIpv4(ownPublic, prices),
        detail: `${kind} load balancer ${hours} h, ${usage.loadBalancerCapacityUnits} capacity units` + (ownPublic ? `; ${plural(ownPublic, "public IPv4 address")}` : ""),
    };
};

const elasticIp: Pricer = (_eip, _graph, _usage, prices) => ({ monthlyUsd: publicIpv4(1, prices), detail: `public IPv4 address, ${prices.hoursPerMonth} h` });

const natGateway: Pricer = (nat, _graph, usage, prices) => ({
    monthlyUsd: prices.vpc.natGatewayHour * prices.hoursPerMonth + usage.natGbPerMonth * prices.vpc.natGatewayGb,
    detail: `${prices.hoursPerMonth} h + ${usage.natGbPerMonth} GB processed` + (nat.inputs.connectivityType === "private" ? " (private)" : "; its address is priced as an Eip"),
});

const ec2Instance: Pricer = (instance, _graph, _usage, prices) => {
    const type = String(instance.inputs.instanceType);
    const hourly = (prices.ec2.instanceHour as Record<string, number>)[type];
    const volume = instance.inputs.rootBlockDevice ?? {};
    const volumeGb = num(volume.volumeSize, 8);
    const volumeType = volume.volumeType === "gp2" ? "gp2" : "gp3";
    const publicAddress = instance.inputs.associatePublicIpAddress === true ? 1 : 0;
    if (hourly === undefined) return { monthlyUsd: 0, detail: `instance type ${type} has no price in plan/prices.json: not priced` };
    return {
        monthlyUsd: hourly * prices.hoursPerMonth + volumeGb * prices.ec2.ebsGbMonth[volumeType] + publicIpv4(publicAddress, prices),
        detail: `${type} ${prices.hoursPerMonth} h, ${volumeGb} GB ${volumeType}` + (publicAddress ? ", public IPv4 address" : ""),
    };
};

const efsFileSystem: Pricer = (fs, _graph, usage, prices) => {
    const oneZone = Boolean(fs.inputs.availabilityZoneName);
    // Elastic Throughput bills every GB read and written and has a cheaper Infrequent Access tier; Bursting (the
    // API's default) and Provisioned include I/O in the storage price.
    const elastic = fs.inputs.throughputMode === "elastic";
    const tiering = ((fs.inputs.lifecyclePolicies ?? []) as { transitionToIa?: string }[]).some((p) => p.transitionToIa);
    const iaShare = tiering ? usage.mailInfrequentAccessShare : 0;
    const standard = oneZone ? prices.efs.oneZoneStandardGbMonth : prices.efs.standardGbMonth;
    const ia = oneZone ? prices.efs.oneZoneInfrequentAccessGbMonth : elastic ? prices.efs.elasticThroughput.infrequentAccessGbMonth : prices.efs.infrequentAccessGbMonth;
    const storage = usage.mailGb * ((1 - iaShare) * standard + iaShare * ia);
    const throughput = fs.inputs.throughputMode === "provisioned" ? num(fs.inputs.provisionedThroughputInMibps) * prices.efs.provisionedThroughputMibpsMonth : 0;
    // New mail is written once and read once (by the mail client) in the month it arrives.
    const newMailGb = usage.mailGb * usage.mailMonthlyChangeShare;
    const io = elastic ? newMailGb * (prices.efs.elasticThroughput.writeGb + prices.efs.elasticThroughput.readGb) : 0;
    return {
        monthlyUsd: storage + throughput + io,
        detail:
            `${usage.mailGb} GB of mail, ${Math.round(iaShare * 100)}% in Infrequent Access${oneZone ? ", One Zone" : ""}` +
            (throughput ? `; ${fs.inputs.provisionedThroughputInMibps} MiB/s provisioned` : "") +
            (elastic ? `; Elastic Throughput: ${money(newMailGb)} GB written and read` : ""),
    };
};

const dynamodbTable: Pricer = (table, _graph, usage, prices) => {
    const p = prices.dynamodb;
    const storage = usage.addressTableGb * p.storageGbMonth;
    const pitr = table.inputs.pointInTimeRecovery?.enabled === true ? usage.addressTableGb * p.pointInTimeRecoveryGbMonth : 0;
    if (table.inputs.billingMode === "PAY_PER_REQUEST") {
        const reads = (usage.inboundMessagesPerMonth + usage.outboundMessagesPerMonth) * usage.addressReadsPerMessage;
        const requests = (reads / 1e6) * p.onDemandReadMillion + (usage.addressWritesPerMonth / 1e6) * p.onDemandWriteMillion;
        return { monthlyUsd: requests + storage + pitr, detail: `on demand: ${reads} reads, ${usage.addressWritesPerMonth} writes, ${usage.addressTableGb} GB${pitr ? " with point-in-time recovery" : ""}` };
    }
    const rcu = num(table.inputs.readCapacity, 1);
    const wcu = num(table.inputs.writeCapacity, 1);
    return {
        monthlyUsd: (rcu * p.provisionedReadCapacityHour + wcu * p.provisionedWriteCapacityHour) * prices.hoursPerMonth + storage + pitr,
        detail: `provisioned ${rcu} RCU, ${wcu} WCU, ${usage.addressTableGb} GB`,
    };
};

const hostedZone: Pricer = (_zone, _graph, usage, prices) => ({
    monthlyUsd: prices.route53.hostedZoneMonth + (usage.dnsQueriesPerZonePerMonth / 1e6) * prices.route53.standardQueriesMillion,
    detail: `hosted zone + ${usage.dnsQueriesPerZonePerMonth} queries`,
});

const vpcEndpoint: Pricer = (endpoint, _graph, usage, prices) => {
    if (endpoint.inputs.vpcEndpointType !== "Interface") return { monthlyUsd: 0, detail: `${endpoint.inputs.vpcEndpointType ?? "Gateway"} endpoint: free` };
    const zones = (endpoint.inputs.subnetIds ?? []).length || 1;
    return {
        monthlyUsd: zones * prices.vpc.interfaceEndpointHourPerZone * prices.hoursPerMonth + usage.interfaceEndpointGbPerMonth * prices.vpc.interfaceEndpointGb,
        detail: `interface endpoint in ${plural(zones, "zone")}, ${usage.interfaceEndpointGbPerMonth} GB`,
    };
};

const flat = (monthlyUsd: (prices: Prices) => number, detail: string): Pricer => (_r, _g, _u, prices) => ({ monthlyUsd: monthlyUsd(prices), detail });

const logGroup: Pricer = (_group, _graph, usage, prices) => {
    const retainedMonths = Math.min(num(_group.inputs.retentionInDays, 365) / 30, 12);
    return {
        monthlyUsd: usage.logGbPerGroupPerMonth * (prices.other.logsIngestGb + retainedMonths * prices.other.logsStoreGbMonth),
        detail: `${usage.logGbPerGroupPerMonth} GB a month, kept ${Math.round(retainedMonths * 30)} days`,
    };
};

/** Resources a backup plan covers, by the ARNs its selections name: the protected data's size and price class. */
function protectedData(plan: PlannedResource, graph: Graph, usage: Usage): { kind: "efs" | "dynamodb"; gb: number }[] {
    const selections = graph.resources.filter((r) => r.type === "aws:backup/selection:Selection" && (r.inputs.planId === plan.outputs.id || r.inputs.planId === plan.outputs.arn || r.dependsOn.includes(plan.urn)));
    const chosen = selections.length ? selections : graph.resources.filter((r) => r.type === "aws:backup/selection:Selection");
    const arns = chosen.flatMap((s) => (s.inputs.resources ?? []) as string[]);
    return arns.flatMap((arn): { kind: "efs" | "dynamodb"; gb: number }[] => {
        if (graph.byOutput("aws:efs/fileSystem:FileSystem", "arn", arn)) return [{ kind: "efs", gb: usage.mailGb }];
        if (graph.byOutput("aws:dynamodb/table:Table", "arn", arn)) return [{ kind: "dynamodb", gb: usage.addressTableGb }];
        return [];
    });
}

/**
 * Backup storage of one rule's recovery points. EFS backups are incremental: the first holds the mail, each later one
 * the changes. DynamoDB backups are full copies, one per backup. Warm until `coldStorageAfter`, then cold until
 * `deleteAfter`.
 */
function backupStorage(data: { kind: "efs" | "dynamodb"; gb: number }[], lifecycle: { coldStorageAfter?: number; deleteAfter?: number } | undefined, usage: Usage, prices: Prices) {
    const keepDays = num(lifecycle?.deleteAfter, 365);
    const warmDays = Math.min(num(lifecycle?.coldStorageAfter, keepDays), keepDays);
    const coldDays = keepDays - warmDays;
    const perMonth = usage.backupsPerMonth;
    let usd = 0;
    let transferGb = 0;
    const parts: string[] = [];
    for (const { kind, gb } of data) {
        const stored = (days: number) => (kind === "efs" ? gb * (1 + (usage.mailMonthlyChangeShare * days) / 30) : gb * perMonth * (days / 30));
        const warm = stored(warmDays);
        const cold = coldDays > 0 ? stored(coldDays) : 0;
        const [warmPrice, coldPrice] = kind === "efs" ? [prices.backup.efsWarmGbMonth, prices.backup.efsColdGbMonth] : [prices.backup.dynamodbWarmGbMonth, prices.backup.dynamodbColdGbMonth];
        usd += warm * warmPrice + cold * coldPrice;
        transferGb += kind === "efs" ? gb * usage.mailMonthlyChangeShare : gb * perMonth;
        parts.push(`${kind === "efs" ? "EFS" : "DynamoDB"} ${money(warm)} GB warm${cold ? ` + ${money(cold)} GB cold` : ""}`);
    }
    return { usd, transferGb, detail: parts.join(", ") };
}

/** Vaults hold the recovery points: the primary vault (the rules' target) and the copy vaults of copy actions. */
const backupVault: Pricer = (vault, graph, usage, prices) => {
    const plans = graph.resources.filter((r) => r.type === "aws:backup/plan:Plan");
    let usd = 0;
    const details: string[] = [];
    for (const plan of plans) {
        const data = protectedData(plan, graph, usage);
        for (const rule of (plan.inputs.rules ?? []) as Record<string, any>[]) {
            if (rule.targetVaultName === vault.outputs.name) {
                const storage = backupStorage(data, rule.lifecycle, usage, prices);
                usd += storage.usd;
                details.push(storage.detail);
            }
            for (const copy of (rule.copyActions ?? []) as Record<string, any>[]) {
                if (copy.destinationVaultArn !== vault.outputs.arn) continue;
                const storage = backupStorage(data, copy.lifecycle ?? rule.lifecycle, usage, prices);
                const transfer = storage.transferGb * prices.backup.crossRegionTransferGb;
                usd += storage.usd + transfer;
                details.push(`copies: ${storage.detail}, ${money(storage.transferGb)} GB a month across regions`);
            }
        }
    }
    return { monthlyUsd: usd, detail: details.join("; ") || "no backup rule writes here" };
};

/** SES: sending is priced on the first identity only, so several domains do not multiply the messages. */
const sesIdentity: Pricer = (identity, graph, usage, prices) => {
    const first = graph.resources.find((r) => r.type === identity.type);
    if (first?.urn !== identity.urn) return { monthlyUsd: 0, detail: "sending priced on the first identity" };
    return { monthlyUsd: (usage.outboundMessagesPerMonth / 1000) * prices.other.sesPerThousandMessages, detail: `${usage.outboundMessagesPerMonth} messages sent` };
};

/** Priced resource types. Extend when a new type costs money by itself. */
export const PRICERS: Record<string, Pricer> = {
    "aws:ecs/service:Service": fargateService,
    "aws:lb/loadBalancer:LoadBalancer": loadBalancer,
    "aws:ec2/eip:Eip": elasticIp,
    "aws:ec2/natGateway:NatGateway": natGateway,
    "aws:ec2/instance:Instance": ec2Instance,
    "aws:efs/fileSystem:FileSystem": efsFileSystem,
    "aws:dynamodb/table:Table": dynamodbTable,
    "aws:route53/zone:Zone": hostedZone,
    "aws:ec2/vpcEndpoint:VpcEndpoint": vpcEndpoint,
    "aws:backup/vault:Vault": backupVault,
    "aws:secretsmanager/secret:Secret": flat((p) => p.other.secretMonth, "one secret"),
    "aws:kms/key:Key": flat((p) => p.other.kmsKeyMonth, "one customer managed key"),
    "aws:cloudwatch/logGroup:LogGroup": logGroup,
    "aws:ecr/repository:Repository": (_r, _g, usage, prices) => ({ monthlyUsd: usage.imageGbPerRepository * prices.other.ecrStorageGbMonth, detail: `${usage.imageGbPerRepository} GB of images` }),
    "aws:sesv2/emailIdentity:EmailIdentity": sesIdentity,
    "aws:ses/domainIdentity:DomainIdentity": sesIdentity,
};

function graphOf(resources: PlannedResource[]): Graph {
    const index = new Map<string, PlannedResource>();
    for (const r of resources) {
        for (const key of ["arn", "name", "id", "family"]) {
            const value = r.outputs[key];
            if (typeof value === "string") index.set(`${r.type}|${key}|${value}`, r);
        }
    }
    return { resources, byOutput: (type, key, value) => (typeof value === "string" ? index.get(`${type}|${key}|${value}`) : undefined) };
}

/** Usage overrides from `key=value` strings, checked against the known keys. */
export function parseUsage(pairs: Record<string, string>): Partial<Usage> {
    const usage: Partial<Usage> = {};
    for (const [key, text] of Object.entries(pairs)) {
        if (!(key in DEFAULT_USAGE)) throw new Error(`unknown usage assumption "${key}"; known: ${Object.keys(DEFAULT_USAGE).join(", ")}`);
        const value = Number(text);
        if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`usage assumption ${key} must be a number of at least 0, got "${text}"`);
        usage[key as keyof Usage] = value;
    }
    return usage;
}

/** The monthly cost of a set of resources (a plan's, or a hand-built deployment's) at the given prices. */
export function estimateCost(resources: PlannedResource[], options: { usage?: Partial<Usage>; prices?: Prices; stackRegion?: string } = {}): CostEstimate {
    const usage = { ...DEFAULT_USAGE, ...(options.usage ?? {}) };
    const prices = options.prices ?? PRICES;
    const graph = graphOf(resources);
    const lines: CostLine[] = [];
    const notPriced = new Map<string, number>();
    for (const resource of resources.filter((r) => r.custom)) {
        const pricer = PRICERS[resource.type];
        if (!pricer) {
            notPriced.set(resource.type, (notPriced.get(resource.type) ?? 0) + 1);
            continue;
        }
        for (const part of [pricer(resource, graph, usage, prices)].flat()) {
            lines.push({ urn: resource.urn, type: resource.type, name: resource.name, monthlyUsd: money(part.monthlyUsd), detail: part.detail });
        }
    }
    const sum = (selected: CostLine[]) => money(selected.reduce((total, line) => total + line.monthlyUsd, 0));
    return {
        currency: "USD",
        priceRegion: prices.region,
        stackRegion: options.stackRegion,
        pricesAsOf: prices.asOf,
        lines,
        totalMonthlyUsd: sum(lines),
        backupMonthlyUsd: sum(lines.filter((l) => l.type.startsWith("aws:backup/"))),
        notPriced: [...notPriced.entries()].map(([type, count]) => ({ type, count })).sort((a, b) => a.type.localeCompare(b.type)),
        usage,
    };
}

/** The estimate as a table for `npm run plan`. */
export function renderCost(estimate: CostEstimate): string {
    const usd = (n: number) => `$${n.toFixed(2)}`;
    const rows = [...estimate.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    const width = Math.max(...rows.map((r) => `${r.type} ${r.name}`.length), 20);
    const regionNote = estimate.stackRegion && estimate.stackRegion !== estimate.priceRegion ? ` (the stack is in ${estimate.stackRegion}: expect a few percent either way)` : "";
    return [
        `Estimated monthly cost (USD, ${estimate.priceRegion} prices of ${estimate.pricesAsOf}${regionNote}):`,
        ...rows.map((r) => `  ${`${r.type} ${r.name}`.padEnd(width)}  ${usd(r.monthlyUsd).padStart(9)}  ${r.detail}`),
        `  ${"Total".padEnd(width)}  ${usd(estimate.totalMonthlyUsd).padStart(9)}`,
        `  ${"of which backups (backup: true)".padEnd(width)}  ${usd(estimate.backupMonthlyUsd).padStart(9)}`,
        `  Not priced (free, or negligible at this scale): ${estimate.notPriced.map((n) => `${n.type} ×${n.count}`).join(", ") || "none"}`,
        `  Usage assumed (override with --usage key=value): ${Object.entries(estimate.usage).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    ].join("\n");
}

/** Types a Cabalmail-style deployment replaces: the Fargate tiers and their addresses, load balancer and NAT. */
const COMPUTE_AND_EDGE_TYPES = ["aws:ecs/service:Service", "aws:lb/loadBalancer:LoadBalancer", "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway", "aws:ec2/instance:Instance"];

/** Settings of the Cabalmail-style deployment the README compares with (the original Terraform design). */
export const CABALMAIL_STYLE = {
    /** The one ECS container instance that runs every mail tier. */
    ecsHostType: "m6g.medium",
    ecsHostVolumeGb: 30,
    /** One NAT instance per zone, each with an Elastic IP (the outbound SMTP addresses). */
    natInstanceType: "t3.micro",
    natInstances: 2,
    natInstanceVolumeGb: 8,
    /** An internet-facing network load balancer across two zones, without Elastic IPs of its own. */
    loadBalancerZones: 2,
} as const;

/**
 * A Cabalmail-style deployment of the same stack: the plan's data, DNS, identity and backups unchanged, but the
 * Fargate tiers, load balancer addresses and NAT replaced by one m6g.medium ECS host, two NAT instances with Elastic
 * IPs and a load balancer. Priced by the same `estimateCost` from the same prices file.
 */
export function cabalmailStyle(resources: PlannedResource[]): PlannedResource[] {
    const s = CABALMAIL_STYLE;
    const synthetic = (type: string, name: string, inputs: Record<string, any>): PlannedResource => ({
        urn: `urn:pulumi:cabalmail-style::cabalmail::${type}::${name}`,
        type,
        name,
        custom: true,
        protect: false,
        retainOnDelete: false,
        dependsOn: [],
        inputs,
        outputs: inputs,
    });
    const kept = resources.filter((r) => !COMPUTE_AND_EDGE_TYPES.includes(r.type));
    return [
        ...kept,
        synthetic("aws:ec2/instance:Instance", "ecs-host", { instanceType: s.ecsHostType, rootBlockDevice: { volumeSize: s.ecsHostVolumeGb, volumeType: "gp3" } }),
        ...Array.from({ length: s.natInstances }, (_, i) => [
            synthetic("aws:ec2/instance:Instance", `nat-${i}`, { instanceType: s.natInstanceType, rootBlockDevice: { volumeSize: s.natInstanceVolumeGb, volumeType: "gp3" } }),
            synthetic("aws:ec2/eip:Eip", `nat-${i}`, { domain: "vpc" }),
        ]).flat(),
        synthetic("aws:lb/loadBalancer:LoadBalancer", "mail", { loadBalancerType: "network", internal: false, subnets: Array.from({ length: s.loadBalancerZones }, (_, i) => `subnet-public-${i}`) }),
    ];
}
