/**
 * IAM policy documents of the mail tiers, built as plain JSON from resolved ARNs. The MailServer component
 * applies them to its roles; the tests feed the very same documents to an IAM policy simulator and check what
 * each role may and may not do. Keep this file free of Pulumi: functions of strings to documents.
 *
 * The rules they encode:
 * - every task role may only read the address table (GetItem and BatchGetItem on the table, Query on the table
 *   and its indexes): nothing in the mail tiers writes or deletes an address;
 * - every task role may mount only its own EFS access point; only the MTA tiers (whose Postfix queue must be
 *   owned by root) may do so as root, and only on their own queue's access point;
 * - an execution role pulls only its own image, writes only its own log group and reads only its own secrets;
 * - the SES relay's SMTP user may only send raw mail as the configured mail domains.
 * No statement on data has a wildcard action or resource. The one `Resource: "*"` is ecr:GetAuthorizationToken,
 * which AWS does not scope to a resource (it returns a registry login, not data).
 */
import type { MailTierName } from "../lib/mailTiers";

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string[] | "*";
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * Reading addresses by key (GetItem, and BatchGetItem: the resolver reads concurrent cache misses together) and
 * listing addresses through an index (Query). Nothing that writes.
 */
export const ADDRESS_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"] as const;

/** What an EFS client needs to mount read-write. */
export const EFS_MOUNT_ACTIONS = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"] as const;

/**
 * Tiers whose mount needs root: Postfix's queue directory is owned by root and Postfix chowns its subdirectories
 * to its own users, so the queue access points cannot squash to one POSIX user. The imap tier's mailbox access point
 * enforces the one mail user instead, and its role gets no root access.
 */
export const ROOT_MOUNT_TIERS: readonly MailTierName[] = ["smtp-in", "smtp-out"];

/** Pulling one image from one ECR repository (after the registry-wide login token). */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] as const;

/** The trust policy of ECS task and execution roles: only ECS tasks of this account may assume them. */
export function ecsTasksTrustPolicy(accountId: string): object {
    return {
        Version: "2012-10-17",
        Statement: [{
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        }],
    };
}

export interface TaskRolePolicyInput {
    /** The AddressStore table's ARN. */
    tableArn: string;
    /** The ARNs of the table's indexes the tier queries (`<tableArn>/index/<name>`). */
    indexArns: string[];
    /** The MailStore file system's ARN. */
    fileSystemArn: string;
    /** The ARN of the one access point this tier mounts. */
    accessPointArn: string;
}

/** The task role of one mail tier: read the address table, mount its own access point (as root for the MTA tiers). */
export function mailTaskRolePolicy(tier: MailTierName, input: TaskRolePolicyInput): PolicyDocument {
    requireArn(`${tier} task role: tableArn`, input.tableArn, "dynamodb");
    input.indexArns.forEach((arn) => {
        requireArn(`${tier} task role: indexArns`, arn, "dynamodb");
        if (!arn.startsWith(`${input.tableArn}/index/`)) {
            throw new Error(`${tier} task role: index ARN ${arn} is not an index of the table ${input.tableArn}; pass the AddressStore's own index ARNs`);
        }
    });
    requireArn(`${tier} task role: fileSystemArn`, input.fileSystemArn, "elasticfilesystem");
    requireArn(`${tier} task role: accessPointArn`, input.accessPointArn, "elasticfilesystem");
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadAddresses", Effect: "Allow", Action: [...ADDRESS_READ_ACTIONS], Resource: [input.tableArn, ...input.indexArns] },
            {
                Sid: "MountOwnAccessPoint",
                Effect: "Allow",
                Action: ROOT_MOUNT_TIERS.includes(tier) ? [...EFS_MOUNT_ACTIONS, "elasticfilesystem:ClientRootAccess"] : [...EFS_MOUNT_ACTIONS],
                Resource: [input.fileSystemArn],
                Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": input.accessPointArn } },
            },
        ],
    };
}

export interface ExecutionRolePolicyInput {
    /** The tier's log group ARN (without a trailing `:*`). */
    logGroupArn: string;
    /** The ECR repository the tier's image comes from, or undefined for an image outside ECR (public registry). */
    repositoryArn?: string;
    /** Secrets Manager secrets injected into the tier's container; empty for tiers without secrets. */
    secretArns: string[];
}

/** The execution role of one mail tier: what ECS needs to start its task, and nothing of another tier's. */
export function mailExecutionRolePolicy(tier: MailTierName, input: ExecutionRolePolicyInput): PolicyDocument {
    requireArn(`${tier} execution role: logGroupArn`, input.logGroupArn, "logs");
    const statements: PolicyStatement[] = [
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${input.logGroupArn.replace(/:\*$/, "")}:log-stream:*`] },
    ];
    if (input.repositoryArn) {
        requireArn(`${tier} execution role: repositoryArn`, input.repositoryArn, "ecr");
        statements.push(
            // AWS does not scope this action to a resource: it hands out a registry login, not image data.
            { Sid: "LogInToRegistry", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
            { Sid: "PullOwnImage", Effect: "Allow", Action: [...ECR_PULL_ACTIONS], Resource: [input.repositoryArn] },
        );
    }
    if (input.secretArns.length > 0) {
        input.secretArns.forEach((arn) => requireArn(`${tier} execution role: secretArns`, arn, "secretsmanager"));
        statements.push({ Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...input.secretArns] });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** The SES relay's SMTP user: send raw mail as the verified mail domains (and their subdomains), nothing else. */
export function sesRelayPolicy(identityArns: string[]): PolicyDocument {
    if (identityArns.length === 0) throw new Error("SES relay policy: identityArns is empty; pass the SES identity ARN of every mail domain");
    identityArns.forEach((arn) => requireArn("SES relay policy: identityArns", arn, "ses"));
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "SendAsMailDomains", Effect: "Allow", Action: ["ses:SendRawEmail"], Resource: [...identityArns] }],
    };
}

/**
 * The ECR repository ARN of an image reference such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/mail/imap:1.2`,
 * or undefined when the image lives outside ECR (then the execution role needs no ECR permission at all).
 */
export function ecrRepositoryArnOf(imageUri: string, partition = "aws"): string | undefined {
    const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?:[:@].*)?$/.exec(imageUri);
    if (!match) return undefined;
    const [, account, region, repository] = match;
    return `arn:${partition}:ecr:${region}:${account}:repository/${repository}`;
}

function requireArn(what: string, value: string, service: string): void {
    if (typeof value !== "string" || !new RegExp(`^arn:aws[a-z-]*:${service}:`).test(value)) {
        throw new Error(`${what}: expected an ARN of the ${service} service, got ${JSON.stringify(value)}`);
    }
}
