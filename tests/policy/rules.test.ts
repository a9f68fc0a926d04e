/**
 * Each policy against a deliberately broken resource it must catch and a compliant one it must pass, run through
 * the same CrossGuard policy objects `pulumi preview --policy-pack policy` runs (plan/policies.ts hands them the
 * resources the way the engine does).
 */
import * as assert from "node:assert/strict";
import { checkPolicies, type PolicyViolation } from "../../plan/policies";
import { isInternetCidr } from "../../policy/ingress";
import { RULES } from "../../policy/rules";
import { planOf, resource } from "./support";
import type { PlannedResource } from "../../plan/types";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

async function violations(resources: PlannedResource[]): Promise<PolicyViolation[]> {
    return checkPolicies(planOf(resources));
}

async function policiesViolated(resources: PlannedResource[]): Promise<string[]> {
    return [...new Set((await violations(resources)).map((v) => v.policy))].sort();
}

const goodTable = {
    billingMode: "PAY_PER_REQUEST",
    hashKey: "address",
    serverSideEncryption: { enabled: true },
    pointInTimeRecovery: { enabled: true },
    deletionProtectionEnabled: true,
};

const vault = (name: string, protect: boolean, extra: Record<string, any> = {}) =>
    resource("aws:backup/vault:Vault", name, { forceDestroy: false, ...extra }, { protect, outputs: { name: `${name}-physical`, arn: `arn:aws:backup:us-east-1:123456789012:backup-vault:${name}-physical` } });
const lock = (vaultName: string) => resource("aws:backup/vaultLockConfiguration:VaultLockConfiguration", `${vaultName}-lock`, { backupVaultName: `${vaultName}-physical`, minRetentionDays: 7, maxRetentionDays: 3650 });

const policyDocument = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("policy rules catch broken resources", () => {
    it("every rule is mandatory-worthy: a unique name, a description and remediation steps", () => {
        const names = RULES.map((r) => r.name);
        assert.equal(new Set(names).size, names.length);
        for (const rule of RULES) {
            assert.match(rule.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(rule.description.length > 20 && rule.remediationSteps.length > 20, rule.name);
        }
    });

    it("efs-encrypted: an unencrypted file system", async () => {
        assert.deepEqual(await policiesViolated([resource("aws:efs/fileSystem:FileSystem", "mail", { encrypted: false })]), ["efs-encrypted"]);
        assert.deepEqual(await policiesViolated([resource("aws:efs/fileSystem:FileSystem", "mail", {})]), ["efs-encrypted"]);
        assert.deepEqual(await policiesViolated([resource("aws:efs/fileSystem:FileSystem", "mail", { encrypted: true })]), []);
    });

    it("dynamodb-encrypted and address-table-recoverable: each missing setting is named", async () => {
        assert.deepEqual(await policiesViolated([resource("aws:dynamodb/table:Table", "addresses", goodTable)]), []);
        assert.deepEqual(await policiesViolated([resource("aws:dynamodb/table:Table", "addresses", { ...goodTable, serverSideEncryption: { enabled: false } })]), ["dynamodb-encrypted"]);
        const noPitr = await violations([resource("aws:dynamodb/table:Table", "addresses", { ...goodTable, pointInTimeRecovery: undefined })]);
        assert.deepEqual(noPitr.map((v) => v.policy), ["address-table-recoverable"]);
        assert.match(noPitr[0].message, /point-in-time recovery/);
        const unprotected = await violations([resource("aws:dynamodb/table:Table", "addresses", { ...goodTable, deletionProtectionEnabled: false })]);
        assert.match(unprotected[0].message, /deletion protection/);
        assert.equal(unprotected[0].name, "addresses");
    });

    it("backup-vault-protected: a vault without protect, or with forceDestroy", async () => {
        assert.deepEqual(await policiesViolated([vault("v", true), lock("v")]), []);
        assert.deepEqual(await policiesViolated([vault("v", false), lock("v")]), ["backup-vault-protected"]);
        assert.deepEqual(await policiesViolated([vault("v", true, { forceDestroy: true }), lock("v")]), ["backup-vault-protected"]);
    });

    it("backup-vault-locked: a vault without a lock, including a copy vault in a second region", async () => {
        assert.deepEqual(await policiesViolated([vault("v", true)]), ["backup-vault-locked"]);
        const copyUnlocked = await violations([vault("v", true), lock("v"), vault("v-us-west-2", true, { region: "us-west-2" })]);
        assert.deepEqual(copyUnlocked.map((v) => [v.policy, v.name]), [["backup-vault-locked", "v-us-west-2"]]);
    });

    it("nfs-only-from-mail-tiers: NFS from an address range, in all three rule shapes", async () => {
        const inline = resource(SG, "nfs", { ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, cidrBlocks: ["10.0.0.0/16"] }] });
        const rule = resource(SG_RULE, "nfs-rule", { type: "ingress", protocol: "tcp", fromPort: 2049, toPort: 2049, cidrBlocks: ["10.0.0.0/16"], securityGroupId: "sg-1" });
        const vpcRule = resource(SG_INGRESS, "nfs-vpc-rule", { ipProtocol: "tcp", fromPort: 2000, toPort: 3000, cidrIpv4: "10.0.8.0/24", securityGroupId: "sg-1" });
        const allTraffic = resource(SG, "all", { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }] });
        for (const broken of [inline, rule, vpcRule, allTraffic]) assert.deepEqual(await policiesViolated([broken]), ["nfs-only-from-mail-tiers"], broken.name);
        const fromGroup = resource(SG, "nfs", { ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, securityGroups: ["sg-mailtier"] }] });
        assert.deepEqual(await policiesViolated([fromGroup]), []);
        // The same CIDR on another port is not NFS.
        assert.deepEqual(await policiesViolated([resource(SG, "imap", { ingress: [{ protocol: "tcp", fromPort: 143, toPort: 143, cidrBlocks: ["10.0.0.0/16"] }] })]), []);
    });

    it("nfs-sources-are-mail-tiers: an NFS source group no ECS service runs with", async () => {
        const nfs = resource(SG, "nfs", { ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, securityGroups: ["sg-mailtier", "sg-bastion"] }] });
        const service = resource("aws:ecs/service:Service", "imap", { networkConfiguration: { securityGroups: ["sg-imap", "sg-mailtier"], subnets: ["subnet-1"] } });
        const found = await violations([nfs, service]);
        assert.deepEqual(found.map((v) => v.policy), ["nfs-sources-are-mail-tiers"]);
        assert.match(found[0].message, /sg-bastion/);
        assert.doesNotMatch(found[0].message, /sg-mailtier/);
        const fixed = resource(SG, "nfs", { ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, securityGroups: ["sg-mailtier"] }] });
        assert.deepEqual(await policiesViolated([fixed, service]), []);
    });

    it("internet-mail-ports-only: anything but tcp 25, 465, 993 from a public range", async () => {
        const open = (name: string, ingress: object) => resource(SG, name, { ingress: [ingress] });
        for (const ok of [25, 465, 993]) assert.deepEqual(await policiesViolated([open(`p${ok}`, { protocol: "tcp", fromPort: ok, toPort: ok, cidrBlocks: ["0.0.0.0/0"] })]), []);
        const broken = [
            open("ssh", { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }),
            open("imap-plain", { protocol: "tcp", fromPort: 143, toPort: 143, ipv6CidrBlocks: ["::/0"] }),
            open("range", { protocol: "tcp", fromPort: 25, toPort: 993, cidrBlocks: ["0.0.0.0/0"] }),
            open("everything", { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }),
            open("udp-dns", { protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: ["0.0.0.0/0"] }),
            open("one-public-host", { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["198.51.100.7/32"] }),
            resource(SG_INGRESS, "vpc-rule", { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", securityGroupId: "sg-1" }),
            resource(SG_RULE, "rule", { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-1" }),
        ];
        for (const r of broken) {
            // All protocols from anywhere admits NFS from anywhere too: both rules speak.
            const expected = /everything|vpc-rule/.test(r.name) ? ["internet-mail-ports-only", "nfs-only-from-mail-tiers"] : ["internet-mail-ports-only"];
            assert.deepEqual(await policiesViolated([r]), expected, r.name);
        }
        // Private ranges and egress are not "open to the internet".
        assert.deepEqual(await policiesViolated([open("private", { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/16", "172.20.0.0/16", "192.168.1.0/24"] })]), []);
        assert.deepEqual(await policiesViolated([resource(SG_RULE, "egress", { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] })]), []);
    });

    it("isInternetCidr tells public ranges from private ones", () => {
        for (const cidr of ["0.0.0.0/0", "::/0", "8.8.8.8/32", "172.32.0.0/16", "11.0.0.0/8", "2001:db8::/32"]) assert.equal(isInternetCidr(cidr), true, cidr);
        for (const cidr of ["10.0.0.0/16", "172.16.0.0/12", "172.31.255.0/24", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8"]) assert.equal(isInternetCidr(cidr), false, cidr);
        // A private-looking prefix that is wider than the private range reaches public addresses.
        assert.equal(isInternetCidr("10.0.0.0/7"), true);
    });

    it("internet-listeners-mail-ports-only: a public load balancer listening on another port", async () => {
        const publicLb = resource("aws:lb/loadBalancer:LoadBalancer", "mail", { internal: false, loadBalancerType: "network" }, { outputs: { arn: "arn:lb:public" } });
        const internalLb = resource("aws:lb/loadBalancer:LoadBalancer", "inside", { internal: true, loadBalancerType: "network" }, { outputs: { arn: "arn:lb:internal" } });
        const listener = (name: string, port: number, arn: string) => resource("aws:lb/listener:Listener", name, { loadBalancerArn: arn, port, protocol: "TCP" });
        assert.deepEqual(await policiesViolated([publicLb, listener("smtp", 25, "arn:lb:public"), listener("imaps", 993, "arn:lb:public")]), []);
        assert.deepEqual(await policiesViolated([publicLb, listener("http", 80, "arn:lb:public")]), ["internet-listeners-mail-ports-only"]);
        assert.deepEqual(await policiesViolated([internalLb, listener("lmtp", 24, "arn:lb:internal")]), []);
    });

    it("iam-no-wildcards-on-data: wildcard actions and resources on data, in every place a policy lives", async () => {
        const table = "arn:aws:dynamodb:us-east-1:123456789012:table/addresses";
        const ok = resource(ROLE_POLICY, "ok", { policy: policyDocument([{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [table] }, { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }]) });
        assert.deepEqual(await policiesViolated([ok]), []);
        const broken = [
            resource(ROLE_POLICY, "star-action", { policy: policyDocument([{ Effect: "Allow", Action: "*", Resource: table }]) }),
            resource(ROLE_POLICY, "service-star", { policy: policyDocument([{ Effect: "Allow", Action: ["dynamodb:*"], Resource: [table] }]) }),
            resource(ROLE_POLICY, "prefix-star", { policy: policyDocument([{ Effect: "Allow", Action: ["s3:Get*"], Resource: ["arn:aws:s3:::mail-bucket"] }]) }),
            resource(ROLE_POLICY, "star-resource", { policy: policyDocument([{ Effect: "Allow", Action: ["dynamodb:DeleteItem"], Resource: "*" }]) }),
            resource(ROLE_POLICY, "all-tables", { policy: policyDocument([{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/*" }]) }),
            resource(ROLE_POLICY, "not-action", { policy: policyDocument([{ Effect: "Allow", NotAction: ["iam:*"], Resource: table }]) }),
            resource("aws:iam/policy:Policy", "managed", { policy: policyDocument([{ Effect: "Allow", Action: ["elasticfilesystem:*"], Resource: "*" }]) }),
            resource("aws:iam/role:Role", "inline", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "x", policy: policyDocument([{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: "*" }]) }] }),
            resource("aws:efs/fileSystemPolicy:FileSystemPolicy", "fs", { fileSystemId: "fs-1", policy: policyDocument([{ Effect: "Allow", Principal: { AWS: "*" }, Action: "elasticfilesystem:*", Resource: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1" }]) }),
            resource(ROLE_POLICY, "not-json", { policy: "{ Statement: [" }),
        ];
        for (const r of broken) assert.deepEqual(await policiesViolated([r]), ["iam-no-wildcards-on-data"], r.name);
        // Deny statements may use wildcards (the mail store's "deny without TLS").
        const deny = resource("aws:efs/fileSystemPolicy:FileSystemPolicy", "deny", { policy: policyDocument([{ Effect: "Deny", Principal: { AWS: "*" }, Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }]) });
        assert.deepEqual(await policiesViolated([deny]), []);
        // Wildcards outside data services (log streams of one group) are not this rule's business.
        const logs = resource(ROLE_POLICY, "logs", { policy: policyDocument([{ Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: ["arn:aws:logs:us-east-1:123456789012:log-group:/mail/imap:log-stream:*"] }]) });
        assert.deepEqual(await policiesViolated([logs]), []);
    });

    it("reports the resource, the policy and how to fix it", async () => {
        const [violation] = await violations([resource("aws:efs/fileSystem:FileSystem", "mail", { encrypted: false })]);
        assert.equal(violation.urn, "urn:pulumi:test::cabalmail::aws:efs/fileSystem:FileSystem::mail");
        assert.equal(violation.type, "aws:efs/fileSystem:FileSystem");
        assert.match(violation.remediation ?? "", /encrypted: true/);
    });
});
