/**
 * The foundation's security- and durability-relevant inputs, asserted on the resources the program registers for
 * the real Pulumi.prod.yaml (a broken stack file fails here), and the effect of the `backup` switch.
 */
import * as assert from "node:assert/strict";
import { ADDRESS_TABLE_KEYS } from "../../lib/address";
import { MAILBOX_OWNER } from "../../lib/mailTiers";
import { ancestors, type Plan, type PlannedResource, ofType, only, runPlan } from "../support/plan";

const BACKUP_TYPES = /^aws:backup\/|^cabalmail:index:BackupPlan$/;

function insideBackupPlan(plan: Plan, r: PlannedResource): boolean {
    return r.type === "cabalmail:index:BackupPlan" || ancestors(plan, r).some((a) => a.type === "cabalmail:index:BackupPlan");
}

describe("the program for Pulumi.prod.yaml", () => {
    let prod: Plan;
    let withoutBackup: Plan;
    let withNat: Plan;
    let unprotected: Plan;
    before(async () => {
        [prod, withoutBackup, withNat, unprotected] = await Promise.all([
            runPlan(),
            runPlan({ config: { backup: "false" } }),
            runPlan({ config: { natGateway: "true", availabilityZones: "3" } }),
            runPlan({ config: { protectData: "false", backup: "false" } }),
        ]);
        for (const plan of [prod, withoutBackup, withNat, unprotected]) assert.equal(plan.error, undefined, plan.error);
    });

    it("groups resources under the components, each with the type token cabalmail:index:<Name>", () => {
        const components = prod.resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => r.type);
        for (const name of ["Network", "MailStore", "AddressStore", "BackupPlan"]) assert.ok(components.includes(`cabalmail:index:${name}`), name);
        for (const r of prod.resources.filter((r) => r.custom)) {
            assert.notEqual(r.parent, only(prod, "pulumi:pulumi:Stack").urn, `${r.type} ${r.name} sits at the top, outside any component`);
        }
    });

    describe("Network", () => {
        it("spans the configured number of availability zones with a public and a private subnet in each", () => {
            for (const [plan, zones] of [[prod, 2], [withNat, 3]] as const) {
                const subnets = ofType(plan, "aws:ec2/subnet:Subnet");
                const publicZones = subnets.filter((s) => s.inputs.tags.tier === "public").map((s) => s.inputs.availabilityZone);
                const privateZones = subnets.filter((s) => s.inputs.tags.tier === "private").map((s) => s.inputs.availabilityZone);
                assert.equal(new Set(publicZones).size, zones);
                assert.deepEqual([...privateZones].sort(), [...publicZones].sort());
                assert.ok(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false));
            }
        });

        it("has free gateway endpoints for DynamoDB and S3 on every route table", () => {
            const endpoints = ofType(prod, "aws:ec2/vpcEndpoint:VpcEndpoint");
            assert.deepEqual(endpoints.map((e) => e.inputs.serviceName).sort(), ["com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.s3"]);
            const routeTables = ofType(prod, "aws:ec2/routeTable:RouteTable").map((t) => t.outputs.id);
            for (const e of endpoints) {
                assert.equal(e.inputs.vpcEndpointType, "Gateway");
                assert.deepEqual([...e.inputs.routeTableIds].sort(), [...routeTables].sort());
            }
        });

        it("has no NAT gateway unless natGateway is set, and then one with a fixed address routed from the private subnets", () => {
            assert.equal(ofType(prod, "aws:ec2/natGateway:NatGateway").length, 0);
            assert.ok(!ofType(prod, "aws:ec2/routeTable:RouteTable").some((t) => (t.inputs.routes ?? []).some((r: any) => r.natGatewayId)));
            const nat = only(withNat, "aws:ec2/natGateway:NatGateway");
            const eip = only(withNat, "aws:ec2/eip:Eip", "cabal-nat");
            assert.equal(nat.inputs.allocationId, eip.outputs.id);
            const privateRoutes = only(withNat, "aws:ec2/routeTable:RouteTable", "cabal-private");
            assert.deepEqual(privateRoutes.inputs.routes, [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.outputs.id }]);
        });
    });

    describe("MailStore", () => {
        it("is encrypted, moves to Infrequent Access after 30 days and back on first access", () => {
            const fs = only(prod, "aws:efs/fileSystem:FileSystem");
            assert.equal(fs.inputs.encrypted, true);
            assert.deepEqual(fs.inputs.lifecyclePolicies, [{ transitionToIa: "AFTER_30_DAYS" }, { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" }]);
        });

        it("has a mount target in every private subnet, behind a group admitting NFS only from the mail tiers' group", () => {
            const privateSubnetIds = ofType(prod, "aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags.tier === "private").map((s) => s.outputs.id);
            const targets = ofType(prod, "aws:efs/mountTarget:MountTarget");
            assert.deepEqual(targets.map((t) => t.inputs.subnetId).sort(), privateSubnetIds.sort());
            const nfs = only(prod, "aws:ec2/securityGroup:SecurityGroup", "mail-nfs");
            const mailTier = only(prod, "aws:ec2/securityGroup:SecurityGroup", "cabal-mail-tier");
            assert.ok(targets.every((t) => t.inputs.securityGroups.length === 1 && t.inputs.securityGroups[0] === nfs.outputs.id));
            assert.equal(nfs.inputs.ingress.length, 1);
            const [rule] = nfs.inputs.ingress;
            assert.deepEqual([rule.protocol, rule.fromPort, rule.toPort, rule.securityGroups], ["tcp", 2049, 2049, [mailTier.outputs.id]]);
            assert.equal(rule.cidrBlocks, undefined, "never a whole CIDR");
            assert.equal(rule.ipv6CidrBlocks, undefined);
            assert.ok(!ofType(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").some((r) => r.inputs.securityGroupId === nfs.outputs.id && (r.inputs.cidrIpv4 || r.inputs.cidrIpv6)));
        });

        it("denies every access without TLS, and allows root only through the MTA queue access points", () => {
            const fs = only(prod, "aws:efs/fileSystem:FileSystem");
            const policy = JSON.parse(only(prod, "aws:efs/fileSystemPolicy:FileSystemPolicy").inputs.policy);
            const deny = policy.Statement.filter((s: any) => s.Effect === "Deny");
            assert.equal(deny.length, 1);
            assert.equal(deny[0].Action, "*");
            assert.equal(deny[0].Resource, fs.outputs.arn);
            assert.deepEqual(deny[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
            const root = policy.Statement.find((s: any) => [s.Action].flat().includes("elasticfilesystem:ClientRootAccess"));
            const queueArns = ofType(prod, "aws:efs/accessPoint:AccessPoint").filter((a) => a.name.includes("queue")).map((a) => a.outputs.arn);
            assert.deepEqual([...root.Condition.StringEquals["elasticfilesystem:AccessPointArn"]].sort(), queueArns.sort());
        });

        it("has access points for the mailbox tree (owned by the one mail user) and for each MTA queue", () => {
            const points = Object.fromEntries(ofType(prod, "aws:efs/accessPoint:AccessPoint").map((a) => [a.name, a.inputs]));
            assert.deepEqual(Object.keys(points).sort(), ["mail-mailboxes", "mail-queue-in", "mail-queue-out"]);
            assert.deepEqual(points["mail-mailboxes"].posixUser, { uid: MAILBOX_OWNER.uid, gid: MAILBOX_OWNER.gid });
            assert.equal(points["mail-mailboxes"].rootDirectory.creationInfo.ownerUid, MAILBOX_OWNER.uid);
            assert.equal(points["mail-mailboxes"].rootDirectory.creationInfo.permissions, "0750");
            assert.notEqual(points["mail-queue-in"].rootDirectory.path, points["mail-queue-out"].rootDirectory.path);
        });
    });

    describe("AddressStore", () => {
        it("keys the table by address, with the byUser and bySubdomain indexes of lib/address.ts", () => {
            const table = only(prod, "aws:dynamodb/table:Table").inputs;
            assert.equal(table.hashKey, ADDRESS_TABLE_KEYS.partitionKey);
            assert.equal(table.rangeKey, undefined);
            const indexes = Object.fromEntries(table.globalSecondaryIndexes.map((g: any) => [g.name, [g.hashKey, g.rangeKey]]));
            assert.deepEqual(indexes, {
                [ADDRESS_TABLE_KEYS.byUser.indexName]: [ADDRESS_TABLE_KEYS.byUser.partitionKey, ADDRESS_TABLE_KEYS.byUser.sortKey],
                [ADDRESS_TABLE_KEYS.bySubdomain.indexName]: [ADDRESS_TABLE_KEYS.bySubdomain.partitionKey, ADDRESS_TABLE_KEYS.bySubdomain.sortKey],
            });
        });

        it("is on demand, encrypted, with point-in-time recovery and deletion protection", () => {
            const table = only(prod, "aws:dynamodb/table:Table").inputs;
            assert.equal(table.billingMode, "PAY_PER_REQUEST");
            assert.equal(table.serverSideEncryption.enabled, true);
            assert.equal(table.pointInTimeRecovery.enabled, true);
            assert.equal(table.deletionProtectionEnabled, true);
        });
    });

    describe("protectData", () => {
        it("protects the file system and the table in production, and not when off", () => {
            assert.equal(only(prod, "aws:efs/fileSystem:FileSystem").protect, true);
            assert.equal(only(prod, "aws:dynamodb/table:Table").protect, true);
            assert.equal(only(unprotected, "aws:efs/fileSystem:FileSystem").protect, false);
            assert.equal(only(unprotected, "aws:dynamodb/table:Table").protect, false);
        });
    });

    describe("BackupPlan (backup: true)", () => {
        it("protects the vault (observed at registration) and locks it with minimum and maximum retention", () => {
            const vault = only(prod, "aws:backup/vault:Vault", "mail-backup");
            assert.equal(vault.protect, true);
            assert.equal(vault.inputs.forceDestroy, false);
            const lock = ofType(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").find((l) => l.inputs.backupVaultName === vault.outputs.name);
            assert.ok(lock, "the vault has a lock");
            assert.deepEqual([lock.inputs.minRetentionDays, lock.inputs.maxRetentionDays], [7, 3650]);
        });

        it("runs nightly with a lifecycle AWS accepts: delete at least 90 days after cold storage", () => {
            const [rule] = only(prod, "aws:backup/plan:Plan").inputs.rules;
            assert.equal(rule.schedule, "cron(0 5 * * ? *)");
            assert.equal(rule.targetVaultName, only(prod, "aws:backup/vault:Vault", "mail-backup").outputs.name);
            assert.deepEqual(rule.lifecycle, { coldStorageAfter: 30, deleteAfter: 365 });
            assert.ok(rule.lifecycle.deleteAfter >= rule.lifecycle.coldStorageAfter + 90);
        });

        it("selects exactly the EFS file system and the address table", () => {
            const selection = only(prod, "aws:backup/selection:Selection").inputs;
            assert.deepEqual([...selection.resources].sort(), [only(prod, "aws:efs/fileSystem:FileSystem").outputs.arn, only(prod, "aws:dynamodb/table:Table").outputs.arn].sort());
            assert.equal(selection.planId, only(prod, "aws:backup/plan:Plan").outputs.id);
        });

        it("uses a role trusted only by backup.amazonaws.com with AWS's managed backup and restore policies", () => {
            const selection = only(prod, "aws:backup/selection:Selection").inputs;
            const role = ofType(prod, "aws:iam/role:Role").find((r) => r.outputs.arn === selection.iamRoleArn)!;
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            assert.deepEqual(trust.Statement, [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }]);
            const attached = ofType(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === role.outputs.name).map((a) => a.inputs.policyArn);
            assert.deepEqual(attached.sort(), [
                "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
                "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
            ]);
        });

        it("copies every recovery point to a protected, locked vault in the second region", () => {
            const copy = only(prod, "aws:backup/vault:Vault", "mail-backup-us-west-2");
            assert.equal(copy.inputs.region, "us-west-2");
            assert.equal(copy.protect, true);
            const lock = ofType(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").find((l) => l.inputs.backupVaultName === copy.outputs.name);
            assert.equal(lock?.inputs.region, "us-west-2");
            const [rule] = only(prod, "aws:backup/plan:Plan").inputs.rules;
            assert.deepEqual(rule.copyActions, [{ destinationVaultArn: copy.outputs.arn, lifecycle: rule.lifecycle }]);
        });

        it("exports the vault name", () => {
            assert.equal(prod.outputs.backupVaultName, only(prod, "aws:backup/vault:Vault", "mail-backup").outputs.name);
            assert.equal(withoutBackup.outputs.backupVaultName, undefined);
        });
    });

    describe("the backup switch", () => {
        it("registers no backup resource when off", () => {
            assert.deepEqual(withoutBackup.resources.filter((r) => BACKUP_TYPES.test(r.type)).map((r) => r.type), []);
            assert.ok(prod.resources.some((r) => BACKUP_TYPES.test(r.type)));
        });

        it("changes neither the URN nor any input of any resource outside BackupPlan", () => {
            const outside = (plan: Plan) =>
                new Map(plan.resources.filter((r) => !insideBackupPlan(plan, r)).map((r) => [r.urn, { inputs: r.inputs, protect: r.protect, parent: r.parent, dependsOn: r.dependsOn }]));
            const on = outside(prod);
            const off = outside(withoutBackup);
            assert.deepEqual([...on.keys()].sort(), [...off.keys()].sort());
            for (const [urn, registration] of on) assert.deepEqual(registration, off.get(urn), urn);
        });
    });

    it("exports what an operator needs", () => {
        assert.equal(prod.outputs.fileSystemId, only(prod, "aws:efs/fileSystem:FileSystem").outputs.id);
        assert.equal(prod.outputs.addressTableName, only(prod, "aws:dynamodb/table:Table").outputs.name);
    });
});
