/**
 * The settings that matter, per resource type, for the plan's human output: encryption, retention, ports, who may
 * reach what. A type without an entry prints no settings. Add an entry when a new resource type matters.
 */
import type { PlannedResource } from "./types";

type Inputs = Record<string, any>;

const onOff = (value: unknown) => (value ? "on" : "off");
const list = (value: unknown) => (Array.isArray(value) ? value.join(", ") : String(value ?? ""));

function rule(r: Inputs): string {
    const ports = r.fromPort === r.toPort ? `${r.fromPort}` : `${r.fromPort}-${r.toPort}`;
    const proto = r.protocol === "-1" ? "all" : `${r.protocol} ${ports}`;
    const from = [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? []), ...(r.securityGroups ?? []), ...(r.cidrIpv4 ? [r.cidrIpv4] : []), ...(r.referencedSecurityGroupId ? [r.referencedSecurityGroupId] : []), ...(r.self ? ["self"] : [])];
    return `${proto} ${from.join(", ") || "nowhere"}`;
}

export const SETTINGS: Record<string, (inputs: Inputs) => string[]> = {
    "aws:ec2/vpc:Vpc": (i) => [`cidr ${i.cidrBlock}`],
    "aws:ec2/subnet:Subnet": (i) => [`${i.availabilityZone} ${i.cidrBlock}${i.mapPublicIpOnLaunch ? " (public IPs on launch)" : ""}`],
    "aws:ec2/routeTable:RouteTable": (i) => (i.routes ?? []).map((r: Inputs) => `route ${r.cidrBlock} → ${r.gatewayId ?? r.natGatewayId ?? "?"}`),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (i) => [`${i.vpcEndpointType} endpoint ${i.serviceName}`],
    "aws:ec2/natGateway:NatGateway": (i) => [`subnet ${i.subnetId}, address ${i.allocationId}`],
    "aws:ec2/securityGroup:SecurityGroup": (i) => [
        ...(i.ingress ?? []).map((r: Inputs) => `ingress ${rule(r)}`),
        ...(i.egress ?? []).map((r: Inputs) => `egress ${rule(r)}`),
    ],
    "aws:efs/fileSystem:FileSystem": (i) => [
        `encrypted ${onOff(i.encrypted)}, ${i.performanceMode}, ${i.throughputMode} throughput`,
        `lifecycle ${(i.lifecyclePolicies ?? []).map((p: Inputs) => p.transitionToIa ? `to IA ${p.transitionToIa}` : `back ${p.transitionToPrimaryStorageClass}`).join(", ")}`,
    ],
    "aws:efs/accessPoint:AccessPoint": (i) => [
        `root ${i.rootDirectory?.path} owned ${i.rootDirectory?.creationInfo?.ownerUid}:${i.rootDirectory?.creationInfo?.ownerGid} ${i.rootDirectory?.creationInfo?.permissions}` +
            (i.posixUser ? `, enforced user ${i.posixUser.uid}:${i.posixUser.gid}` : ", no enforced user"),
    ],
    "aws:efs/mountTarget:MountTarget": (i) => [`subnet ${i.subnetId}, security groups ${list(i.securityGroups)}`],
    "aws:efs/fileSystemPolicy:FileSystemPolicy": (i) => {
        const statements: Inputs[] = JSON.parse(i.policy ?? "{}").Statement ?? [];
        return statements.map((s) => `${s.Effect} ${list(s.Action)}${s.Condition ? ` when ${JSON.stringify(s.Condition)}` : ""}`);
    },
    "aws:dynamodb/table:Table": (i) => [
        `${i.billingMode}, key ${i.hashKey}, encryption ${onOff(i.serverSideEncryption?.enabled)}, point-in-time recovery ${onOff(i.pointInTimeRecovery?.enabled)}, deletion protection ${onOff(i.deletionProtectionEnabled)}`,
        ...(i.globalSecondaryIndexes ?? []).map((g: Inputs) => `index ${g.name} (${g.hashKey}, ${g.rangeKey}) ${g.projectionType}`),
    ],
    "aws:backup/vault:Vault": (i) => [`region ${i.region ?? "(stack's)"}, force destroy ${onOff(i.forceDestroy)}`],
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": (i) => [`retention ${i.minRetentionDays}–${i.maxRetentionDays} days${i.changeableForDays ? `, compliance mode after ${i.changeableForDays} days` : ", governance mode"}`],
    "aws:backup/plan:Plan": (i) => (i.rules ?? []).map((r: Inputs) =>
        `${r.ruleName} ${r.schedule}: cold after ${r.lifecycle?.coldStorageAfter} d, delete after ${r.lifecycle?.deleteAfter} d${(r.copyActions ?? []).length ? `, copy to ${list(r.copyActions.map((c: Inputs) => c.destinationVaultArn))}` : ""}`),
    "aws:backup/selection:Selection": (i) => [`backs up ${list(i.resources)}`],
    "aws:iam/role:Role": (i) => {
        const statements: Inputs[] = JSON.parse(i.assumeRolePolicy ?? "{}").Statement ?? [];
        return [`trusted by ${statements.map((s) => JSON.stringify(s.Principal)).join(", ")}`];
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (i) => [`${i.policyArn}`],
    // ── Mail server ──
    "aws:iam/rolePolicy:RolePolicy": (i) => policyStatements(i.policy),
    "aws:iam/userPolicy:UserPolicy": (i) => policyStatements(i.policy),
    "aws:ecs/service:Service": (i) => [
        `${i.desiredCount} × ${i.launchType}, subnets ${list(i.networkConfiguration?.subnets)}${i.networkConfiguration?.assignPublicIp ? " (public IP)" : ""}, security groups ${list(i.networkConfiguration?.securityGroups)}`,
        `deployment ${i.deploymentMinimumHealthyPercent}–${i.deploymentMaximumPercent}%, circuit breaker ${onOff(i.deploymentCircuitBreaker?.enable)}${i.deploymentCircuitBreaker?.rollback ? " with rollback" : ""}`,
    ],
    "aws:ecs/taskDefinition:TaskDefinition": (i) => {
        const containers: Inputs[] = typeof i.containerDefinitions === "string" && i.containerDefinitions.startsWith("[") ? JSON.parse(i.containerDefinitions) : [];
        return [
            `${i.cpu} CPU, ${i.memory} MiB, ${i.runtimePlatform?.cpuArchitecture ?? "X86_64"}`,
            ...(i.volumes ?? []).map((v: Inputs) => `volume ${v.name}: EFS ${v.efsVolumeConfiguration?.fileSystemId} access point ${v.efsVolumeConfiguration?.authorizationConfig?.accessPointId}, transit encryption ${v.efsVolumeConfiguration?.transitEncryption}, IAM ${v.efsVolumeConfiguration?.authorizationConfig?.iam}`),
            ...containers.map((c) => `container ${c.name}: ${c.image}, ports ${list((c.portMappings ?? []).map((p: Inputs) => p.containerPort))}, mounts ${list((c.mountPoints ?? []).map((m: Inputs) => m.containerPath))}, secrets ${list((c.secrets ?? []).map((x: Inputs) => x.name)) || "none"}`),
        ];
    },
    "aws:lb/loadBalancer:LoadBalancer": (i) => [`${i.loadBalancerType}, ${i.internal ? "internal" : "internet-facing"}, addresses ${list((i.subnetMappings ?? []).map((m: Inputs) => m.allocationId))}, cross-zone ${onOff(i.enableCrossZoneLoadBalancing)}`],
    "aws:lb/listener:Listener": (i) => [`${i.protocol} ${i.port}${i.certificateArn ? `, certificate ${i.certificateArn}, ${i.sslPolicy}` : ""}`],
    "aws:lb/targetGroup:TargetGroup": (i) => [`${i.protocol} ${i.port} to ${i.targetType} targets, proxy protocol v2 ${onOff(i.proxyProtocolV2)}`],
    "aws:acm/certificate:Certificate": (i) => [`${list([i.domainName, ...(i.subjectAlternativeNames ?? [])])}, validated by ${i.validationMethod}`],
    "aws:route53/record:Record": (i) => [`${i.type} ${i.name} → ${i.aliases ? `alias ${list(i.aliases.map((a: Inputs) => a.name))}` : list(i.records).slice(0, 120)}`],
    "aws:cloudwatch/logGroup:LogGroup": (i) => [`${i.name}, kept ${i.retentionInDays ?? "forever"} days`],
};

/** One line per statement of a JSON policy document: effect, actions, resources. */
function policyStatements(policy: unknown): string[] {
    if (typeof policy !== "string" || !policy.startsWith("{")) return [];
    const statements: Inputs[] = JSON.parse(policy).Statement ?? [];
    return statements.map((s) => `${s.Effect} ${list(s.Action)} on ${list(s.Resource)}${s.Condition ? ` when ${JSON.stringify(s.Condition)}` : ""}`);
}

export function settingsOf(resource: PlannedResource): string[] {
    const summarize = SETTINGS[resource.type];
    if (!summarize) return [];
    try {
        return summarize(resource.inputs);
    } catch (error) {
        return [`(settings unreadable: ${(error as Error).message})`];
    }
}
