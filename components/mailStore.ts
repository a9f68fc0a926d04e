import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MAILBOX_OWNER } from "../lib/mailTiers";

/** Arguments of the MailStore component. */
export interface MailStoreArgs {
    /** The VPC the mount targets live in. */
    vpcId: pulumi.Input<string>;
    /** One subnet per availability zone (the private ones): a mount target goes into each. */
    subnetIds: pulumi.Input<string>[];
    /** The mail tiers' security group: the only source NFS (2049) is admitted from. */
    clientSecurityGroupId: pulumi.Input<string>;
    /** Pulumi's protect option on the file system, so `pulumi destroy` stops before deleting mail. Defaults to false. */
    protect?: boolean;
    /** Days without access after which files move to Infrequent Access. Defaults to 30. */
    infrequentAccessAfterDays?: 1 | 7 | 14 | 30 | 60 | 90 | 180 | 270 | 365;
}

const DEFAULTS = { protect: false, infrequentAccessAfterDays: 30 };

/** Directory layout on the file system: one tree for mailboxes, one for each MTA's queue. */
export const MAIL_STORE_PATHS = {
    mailboxes: "/mailboxes",
    inboundQueue: "/queues/smtp-in",
    outboundQueue: "/queues/smtp-out",
} as const;

/**
 * Where the mail lives: an encrypted EFS file system reachable only from the mail tiers and only over TLS, with an
 * access point for the mailbox tree and one for each MTA queue (so mail a task has accepted survives the task).
 */
export class MailStore extends pulumi.ComponentResource {
    public readonly fileSystemId: pulumi.Output<string>;
    public readonly fileSystemArn: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly mailboxAccessPointId: pulumi.Output<string>;
    public readonly mailboxAccessPointArn: pulumi.Output<string>;
    public readonly inboundQueueAccessPointId: pulumi.Output<string>;
    public readonly inboundQueueAccessPointArn: pulumi.Output<string>;
    public readonly outboundQueueAccessPointId: pulumi.Output<string>;
    public readonly outboundQueueAccessPointArn: pulumi.Output<string>;

    constructor(name: string, args: MailStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:MailStore", name, {}, opts);
        const { vpcId, subnetIds, clientSecurityGroupId, protect, infrequentAccessAfterDays } = { ...DEFAULTS, ...args };
        if (subnetIds.length < 2) throw new Error(`MailStore ${name}: subnetIds needs one subnet in each of at least 2 availability zones, got ${subnetIds.length}`);
        const child = { parent: this };

        const fileSystem = new aws.efs.FileSystem(name, {
            encrypted: true,
            performanceMode: "generalPurpose",
            // Bursting throughput is free with storage; a personal mail store never needs more.
            throughputMode: "bursting",
            lifecyclePolicies: [
                { transitionToIa: `AFTER_${infrequentAccessAfterDays}_DAYS` },
                // Mail read again is likely to be read a few times: bring it back on the first access.
                { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" },
            ],
            tags: { Name: name },
        }, { parent: this, protect });

        const securityGroup = new aws.ec2.SecurityGroup(`${name}-nfs`, {
            vpcId,
            description: "EFS mount targets: NFS from the mail tiers only",
            ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, securityGroups: [clientSecurityGroupId], description: "NFS from mail tier tasks" }],
            tags: { Name: `${name}-nfs` },
        }, child);

        subnetIds.forEach((subnetId, i) => {
            new aws.efs.MountTarget(`${name}-${i}`, { fileSystemId: fileSystem.id, subnetId, securityGroups: [securityGroup.id] }, child);
        });

        const accessPoint = (suffix: string, path: string, owner: { uid: number; gid: number }, permissions: string, enforceUser: boolean) =>
            new aws.efs.AccessPoint(`${name}-${suffix}`, {
                fileSystemId: fileSystem.id,
                rootDirectory: { path, creationInfo: { ownerUid: owner.uid, ownerGid: owner.gid, permissions } },
                posixUser: enforceUser ? { uid: owner.uid, gid: owner.gid } : undefined,
                tags: { Name: `${name}-${suffix}` },
            }, child);
        // Every mailbox file is owned by the one mail user: no OS account per mail user.
        const mailboxes = accessPoint("mailboxes", MAIL_STORE_PATHS.mailboxes, MAILBOX_OWNER, "0750", true);
        // Postfix's queue must be owned by root with subdirectories it chowns to its own users, so the queue
        // access points cannot enforce one POSIX user; the file-system policy grants root access to them alone.
        const inboundQueue = accessPoint("queue-in", MAIL_STORE_PATHS.inboundQueue, { uid: 0, gid: 0 }, "0755", false);
        const outboundQueue = accessPoint("queue-out", MAIL_STORE_PATHS.outboundQueue, { uid: 0, gid: 0 }, "0755", false);

        new aws.efs.FileSystemPolicy(name, {
            fileSystemId: fileSystem.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "MountAndWriteThroughMountTargets",
                        Effect: "Allow",
                        Principal: { AWS: "*" },
                        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                        Resource: fileSystem.arn,
                        Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
                    },
                    {
                        Sid: "RootOnlyForMtaQueues",
                        Effect: "Allow",
                        Principal: { AWS: "*" },
                        Action: "elasticfilesystem:ClientRootAccess",
                        Resource: fileSystem.arn,
                        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": [inboundQueue.arn, outboundQueue.arn] } },
                    },
                    {
                        Sid: "DenyWithoutTls",
                        Effect: "Deny",
                        Principal: { AWS: "*" },
                        Action: "*",
                        Resource: fileSystem.arn,
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                ],
            }),
        }, child);

        this.fileSystemId = fileSystem.id;
        this.fileSystemArn = fileSystem.arn;
        this.securityGroupId = securityGroup.id;
        this.mailboxAccessPointId = mailboxes.id;
        this.mailboxAccessPointArn = mailboxes.arn;
        this.inboundQueueAccessPointId = inboundQueue.id;
        this.inboundQueueAccessPointArn = inboundQueue.arn;
        this.outboundQueueAccessPointId = outboundQueue.id;
        this.outboundQueueAccessPointArn = outboundQueue.arn;
        this.registerOutputs({ fileSystemId: this.fileSystemId, fileSystemArn: this.fileSystemArn });
    }
}
