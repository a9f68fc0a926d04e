/**
 * What this mail system must never lose or expose, written once as pure functions over resources. The CrossGuard
 * pack (policy/index.ts, for `pulumi preview --policy-pack policy`) and the offline plan (plan/policies.ts, for
 * `npm run plan`) both run these very functions; only the way they receive resources differs (policy/crossGuard.ts).
 *
 * Resource rules see one resource's inputs. Stack rules see every resource's outputs (as CrossGuard's stack
 * validation does) and check what only the whole graph shows: that a vault has a lock, that NFS sources are the
 * mail tiers' groups, that a load balancer facing the internet listens on mail ports only.
 */
import { admitsTcpPort, describeIngress, ingressOf, INGRESS_TYPES, isInternetCidr } from "./ingress";
import { known } from "./known";
import { POLICY_DOCUMENT_TYPES, policyDocumentsOf, wildcardProblems } from "./iamDocuments";

/** What a rule sees of a resource. */
export interface ResourceUnderReview {
    /** e.g. "aws:efs/fileSystem:FileSystem". */
    type: string;
    name: string;
    urn: string;
    /** Inputs for resource rules, outputs for stack rules (as in CrossGuard). */
    props: Record<string, any>;
    /** Pulumi's protect option. */
    protect: boolean;
}

export interface StackViolation {
    /** The resource at fault; none when the stack as a whole is. */
    urn?: string;
    message: string;
}

interface RuleInfo {
    /** Unique, kebab-case: the name CrossGuard prints and `npm run plan` shows. */
    name: string;
    description: string;
    /** How to fix a violation. */
    remediationSteps: string;
}

export interface ResourceRule extends RuleInfo {
    kind: "resource";
    /** The resource types the rule looks at; others pass without a look. */
    resourceTypes: string[];
    /** Violation messages for one resource; none when it complies. */
    validateResource(resource: ResourceUnderReview): string[];
}

export interface StackRule extends RuleInfo {
    kind: "stack";
    validateStack(resources: ResourceUnderReview[]): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

export const TYPES = {
    fileSystem: "aws:efs/fileSystem:FileSystem",
    mountTarget: "aws:efs/mountTarget:MountTarget",
    table: "aws:dynamodb/table:Table",
    vault: "aws:backup/vault:Vault",
    vaultLock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    ecsService: "aws:ecs/service:Service",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
} as const;

/** The only ports the internet may reach: SMTP (25), SMTP submission over TLS (465), IMAP over TLS (993). */
export const INTERNET_PORTS = [25, 465, 993] as const;
export const NFS_PORT = 2049;

export { known };

const efsEncrypted: ResourceRule = {
    kind: "resource",
    name: "efs-encrypted",
    description: "EFS file systems (the mail) are encrypted at rest.",
    remediationSteps: "Set `encrypted: true` on the aws.efs.FileSystem. Encryption cannot be added to an existing file system: it means a new one and copying the mail over.",
    resourceTypes: [TYPES.fileSystem],
    validateResource: (r) => (r.props.encrypted === true ? [] : [`EFS file system ${r.name} is not encrypted at rest (encrypted is ${JSON.stringify(r.props.encrypted ?? null)})`]),
};

const dynamodbEncrypted: ResourceRule = {
    kind: "resource",
    name: "dynamodb-encrypted",
    description: "DynamoDB tables (the addresses) are encrypted with a KMS key.",
    remediationSteps: "Set `serverSideEncryption: { enabled: true }` on the aws.dynamodb.Table (optionally with `kmsKeyArn`).",
    resourceTypes: [TYPES.table],
    validateResource: (r) => (r.props.serverSideEncryption?.enabled === true ? [] : [`DynamoDB table ${r.name} has no KMS server-side encryption (serverSideEncryption.enabled is not true)`]),
};

const tableRecoverable: ResourceRule = {
    kind: "resource",
    name: "address-table-recoverable",
    description: "DynamoDB tables (the address table) have point-in-time recovery and deletion protection.",
    remediationSteps: "Set `pointInTimeRecovery: { enabled: true }` and `deletionProtectionEnabled: true` on the aws.dynamodb.Table.",
    resourceTypes: [TYPES.table],
    validateResource: (r) => {
        const problems: string[] = [];
        if (r.props.pointInTimeRecovery?.enabled !== true) problems.push(`DynamoDB table ${r.name} has no point-in-time recovery: a bad write or delete could not be rolled back`);
        if (r.props.deletionProtectionEnabled !== true) problems.push(`DynamoDB table ${r.name} has no deletion protection: one API call would delete every address`);
        return problems;
    },
};

const vaultProtected: ResourceRule = {
    kind: "resource",
    name: "backup-vault-protected",
    description: "When backups are on, every backup vault is protected by Pulumi and cannot be force-destroyed.",
    remediationSteps: "Create the aws.backup.Vault with the resource option `protect: true` and without `forceDestroy: true` (the BackupPlan component does).",
    resourceTypes: [TYPES.vault],
    validateResource: (r) => {
        const problems: string[] = [];
        if (!r.protect) problems.push(`backup vault ${r.name} is not protected: \`pulumi destroy\` or turning backups off would delete it with every recovery point`);
        if (r.props.forceDestroy === true) problems.push(`backup vault ${r.name} has forceDestroy: true, so deleting it deletes its recovery points`);
        return problems;
    },
};

const vaultLocked: StackRule = {
    kind: "stack",
    name: "backup-vault-locked",
    description: "When backups are on, every backup vault has a vault lock.",
    remediationSteps: "Add an aws.backup.VaultLockConfiguration naming the vault (backupVaultName) with minRetentionDays, as the BackupPlan component does.",
    validateStack: (resources) => {
        const vaults = resources.filter((r) => r.type === TYPES.vault);
        const lockedNames = new Set(resources.filter((r) => r.type === TYPES.vaultLock).map((lock) => known(() => lock.props.backupVaultName)));
        const violations: StackViolation[] = [];
        for (const vault of vaults) {
            const name = known(() => vault.props.name);
            // A vault whose name is not known yet (a new vault during preview) is checked again at `pulumi up`.
            if (name === undefined) continue;
            if (!lockedNames.has(name)) violations.push({ urn: vault.urn, message: `backup vault ${vault.name} (${name}) has no vault lock: recovery points could be deleted before their retention ends` });
        }
        return violations;
    },
};

const nfsOnlyFromSecurityGroups: ResourceRule = {
    kind: "resource",
    name: "nfs-only-from-mail-tiers",
    description: "NFS (2049) is admitted only from security groups (the mail tiers'), never from address ranges, prefix lists or the group itself.",
    remediationSteps: "Admit NFS with `securityGroups: [<mail tier security group>]` (or referencedSecurityGroupId / sourceSecurityGroupId) instead of CIDR blocks.",
    resourceTypes: INGRESS_TYPES,
    validateResource: (r) =>
        ingressOf(r.type, r.props)
            .filter((ingress) => admitsTcpPort(ingress, NFS_PORT))
            .flatMap((ingress) => {
                const sources = [...ingress.cidrs, ...ingress.prefixLists, ...(ingress.self ? ["self"] : [])];
                return sources.length === 0 ? [] : [`${r.name} admits NFS (${describeIngress(ingress)}) from ${sources.join(", ")}; only the mail tiers' security groups may mount the mail store`];
            }),
};

const nfsSourcesAreMailTiers: StackRule = {
    kind: "stack",
    name: "nfs-sources-are-mail-tiers",
    description: "The security groups admitted to NFS are attached to ECS services (the mail tiers) and nothing else admits NFS to the mail store.",
    remediationSteps: "Admit NFS only from the security group the mail tier services run with (Network.mailTierSecurityGroupId).",
    validateStack: (resources) => {
        const services = resources.filter((r) => r.type === TYPES.ecsService);
        // Before the mail tiers exist nothing runs with the group; the resource rule still keeps CIDRs out.
        if (services.length === 0) return [];
        const serviceGroups = new Set<string>();
        for (const service of services) {
            const groups = known(() => service.props.networkConfiguration?.securityGroups as unknown);
            if (groups === undefined) return []; // not known before `pulumi up`: nothing reliable to compare with
            if (Array.isArray(groups)) groups.forEach((g) => typeof g === "string" && serviceGroups.add(g));
        }
        const violations: StackViolation[] = [];
        for (const r of resources.filter((x) => INGRESS_TYPES.includes(x.type))) {
            const ingress = known(() => ingressOf(r.type, r.props));
            for (const rule of ingress ?? []) {
                if (!admitsTcpPort(rule, NFS_PORT)) continue;
                const strangers = rule.securityGroups.filter((g) => !serviceGroups.has(g));
                if (strangers.length > 0) violations.push({ urn: r.urn, message: `${r.name} admits NFS from ${strangers.join(", ")}, which no ECS service (mail tier) runs with` });
            }
        }
        return violations;
    },
};

const internetMailPortsOnly: ResourceRule = {
    kind: "resource",
    name: "internet-mail-ports-only",
    description: "Nothing but TCP 25, 465 and 993 is open to the internet (any non-private address).",
    remediationSteps: "Admit public address ranges only on tcp 25, 465 or 993, one port per rule; reach everything else through the VPC, security groups or VPC endpoints.",
    resourceTypes: INGRESS_TYPES,
    validateResource: (r) =>
        ingressOf(r.type, r.props).flatMap((ingress) => {
            const publicSources = ingress.cidrs.filter(isInternetCidr);
            if (publicSources.length === 0) return [];
            const mailPortOnly = ingress.protocol === "tcp" && ingress.fromPort === ingress.toPort && (INTERNET_PORTS as readonly number[]).includes(ingress.fromPort);
            return mailPortOnly ? [] : [`${r.name} opens ${describeIngress(ingress)} to the internet (${publicSources.join(", ")}); only tcp ${INTERNET_PORTS.join(", ")} may be`];
        }),
};

const internetListenersMailPortsOnly: StackRule = {
    kind: "stack",
    name: "internet-listeners-mail-ports-only",
    description: "Load balancers facing the internet listen on 25, 465 and 993 only.",
    remediationSteps: "Remove the listener, or put it on an internal load balancer (`internal: true`).",
    validateStack: (resources) => {
        const internalArns = new Set(
            resources.filter((r) => r.type === TYPES.loadBalancer && known(() => r.props.internal) === true).map((r) => known(() => r.props.arn)),
        );
        const violations: StackViolation[] = [];
        for (const listener of resources.filter((r) => r.type === TYPES.listener)) {
            const balancer = known(() => listener.props.loadBalancerArn);
            // An unknown balancer (new during preview) is treated as facing the internet: the safe reading.
            if (balancer !== undefined && internalArns.has(balancer)) continue;
            const port = known(() => listener.props.port);
            if (port === undefined || (INTERNET_PORTS as readonly number[]).includes(Number(port))) continue;
            violations.push({ urn: listener.urn, message: `listener ${listener.name} listens on port ${port} of a load balancer that faces the internet; only ${INTERNET_PORTS.join(", ")} may` });
        }
        return violations;
    },
};

const noIamWildcardsOnData: ResourceRule = {
    kind: "resource",
    name: "iam-no-wildcards-on-data",
    description: "IAM and resource policies allow no wildcard actions or resources on data services (DynamoDB, EFS, S3, Backup, Secrets Manager, KMS, SSM, Cognito).",
    remediationSteps: "List the exact actions (dynamodb:GetItem, ...) and the exact ARNs (the table, its indexes, the access point). Deny statements may keep wildcards.",
    resourceTypes: POLICY_DOCUMENT_TYPES,
    validateResource: (r) => {
        const { documents, unreadable } = policyDocumentsOf(r.type, r.props);
        return [
            ...unreadable.map((text) => `${r.name} has a policy that is not JSON (${text}...): it cannot be checked`),
            ...documents.flatMap((document) => wildcardProblems(document).map((problem) => `${r.name}: ${problem}`)),
        ];
    },
};

/** Every rule, in the order they are reported. All are mandatory. */
export const RULES: readonly Rule[] = [
    efsEncrypted,
    dynamodbEncrypted,
    tableRecoverable,
    vaultProtected,
    vaultLocked,
    nfsOnlyFromSecurityGroups,
    nfsSourcesAreMailTiers,
    internetMailPortsOnly,
    internetListenersMailPortsOnly,
    noIamWildcardsOnData,
];
