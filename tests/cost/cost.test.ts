/**
 * The cost estimate: each priced type on synthetic resources with hand-computed expectations, the program's stacks
 * (what `backup: true` adds, NAT on and off), usage overrides, the Cabalmail-style comparison, and the CLI output.
 */
import * as assert from "node:assert/strict";
import { cabalmailStyle, DEFAULT_USAGE, estimateCost, parseUsage, PRICES, type Prices } from "../../plan/cost";
import { runPlan, runPlanCli, type Plan } from "../support/plan";
import { resource } from "../policy/support";

const H = PRICES.hoursPerMonth;
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 0.011, `${what}: ${actual} ≠ ${expected.toFixed(4)}`);
const lineOf = (estimate: ReturnType<typeof estimateCost>, name: string) => {
    const found = estimate.lines.filter((l) => l.name === name);
    assert.equal(found.length, 1, `one line for ${name}: ${JSON.stringify(estimate.lines)}`);
    return found[0];
};

describe("cost estimate by resource type", () => {
    it("prices Fargate services from their task definition's cpu, memory and architecture, times desiredCount", () => {
        const taskDefinition = resource("aws:ecs/taskDefinition:TaskDefinition", "imap", { cpu: "512", memory: "1024", runtimePlatform: { cpuArchitecture: "ARM64" } }, { outputs: { arn: "arn:aws:ecs:us-east-1:1:task-definition/imap:1" } });
        const service = resource("aws:ecs/service:Service", "imap", { launchType: "FARGATE", desiredCount: 2, taskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/imap:1", networkConfiguration: { assignPublicIp: true } });
        const x86 = resource("aws:ecs/taskDefinition:TaskDefinition", "smtp", { cpu: "256", memory: "512" }, { outputs: { arn: "arn:td:smtp" } });
        const x86Service = resource("aws:ecs/service:Service", "smtp", { launchType: "FARGATE", desiredCount: 1, taskDefinition: "arn:td:smtp" });
        const estimate = estimateCost([taskDefinition, service, x86, x86Service]);
        const arm = PRICES.fargate.linuxArm;
        near(lineOf(estimate, "imap").monthlyUsd, 2 * (0.5 * arm.vcpuHour + 1 * arm.gbHour) * H + 2 * PRICES.vpc.publicIpv4Hour * H, "ARM service with public IPs");
        near(lineOf(estimate, "smtp").monthlyUsd, (0.25 * PRICES.fargate.linuxX86.vcpuHour + 0.5 * PRICES.fargate.linuxX86.gbHour) * H, "x86 service");
        const stopped = estimateCost([taskDefinition, { ...service, inputs: { ...service.inputs, desiredCount: 0 } }]);
        assert.equal(lineOf(stopped, "imap").monthlyUsd, 0);
    });

    it("prices load balancers, their own public addresses, Elastic IPs and NAT gateways", () => {
        const withEips = resource("aws:lb/loadBalancer:LoadBalancer", "nlb", { loadBalancerType: "network", internal: false, subnetMappings: [{ subnetId: "a", allocationId: "eipalloc-1" }, { subnetId: "b", allocationId: "eipalloc-2" }] });
        const ownAddresses = resource("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", subnets: ["a", "b", "c"] });
        const internal = resource("aws:lb/loadBalancer:LoadBalancer", "internal", { loadBalancerType: "network", internal: true, subnets: ["a", "b"] });
        const estimate = estimateCost([withEips, ownAddresses, internal, resource("aws:ec2/eip:Eip", "eip", { domain: "vpc" }), resource("aws:ec2/natGateway:NatGateway", "nat", { allocationId: "x" })], { usage: { loadBalancerCapacityUnits: 0, natGbPerMonth: 10 } });
        near(lineOf(estimate, "nlb").monthlyUsd, PRICES.elb.network.hour * H, "NLB whose addresses are Elastic IPs");
        near(lineOf(estimate, "alb").monthlyUsd, PRICES.elb.application.hour * H + 3 * PRICES.vpc.publicIpv4Hour * H, "ALB with 3 public addresses");
        near(lineOf(estimate, "internal").monthlyUsd, PRICES.elb.network.hour * H, "internal NLB");
        near(lineOf(estimate, "eip").monthlyUsd, PRICES.vpc.publicIpv4Hour * H, "Elastic IP");
        near(lineOf(estimate, "nat").monthlyUsd, PRICES.vpc.natGatewayHour * H + 10 * PRICES.vpc.natGatewayGb, "NAT gateway");
    });

    it("prices EFS storage by lifecycle and throughput mode, DynamoDB on demand, hosted zones and interface endpoints only", () => {
        const usage = { mailGb: 100, mailInfrequentAccessShare: 0.75 };
        const estimate = estimateCost([
            resource("aws:efs/fileSystem:FileSystem", "tiered", { encrypted: true, lifecyclePolicies: [{ transitionToIa: "AFTER_30_DAYS" }] }),
            resource("aws:efs/fileSystem:FileSystem", "flat", { encrypted: true }),
            resource("aws:efs/fileSystem:FileSystem", "elastic", { encrypted: true, throughputMode: "elastic", lifecyclePolicies: [{ transitionToIa: "AFTER_30_DAYS" }] }),
            resource("aws:route53/zone:Zone", "zone", { name: "example.com" }),
            resource("aws:ec2/vpcEndpoint:VpcEndpoint", "gateway", { vpcEndpointType: "Gateway" }),
            resource("aws:ec2/vpcEndpoint:VpcEndpoint", "interface", { vpcEndpointType: "Interface", subnetIds: ["a", "b"] }),
            resource("aws:dynamodb/table:Table", "table", { billingMode: "PAY_PER_REQUEST", pointInTimeRecovery: { enabled: true } }),
        ], { usage });
        near(lineOf(estimate, "tiered").monthlyUsd, 25 * PRICES.efs.standardGbMonth + 75 * PRICES.efs.infrequentAccessGbMonth, "EFS with IA");
        near(lineOf(estimate, "flat").monthlyUsd, 100 * PRICES.efs.standardGbMonth, "EFS without lifecycle");
        // Elastic Throughput: a cheaper Infrequent Access tier, and the month's new mail (5% of 100 GB) written and read.
        const elastic = PRICES.efs.elasticThroughput;
        near(lineOf(estimate, "elastic").monthlyUsd, 25 * PRICES.efs.standardGbMonth + 75 * elastic.infrequentAccessGbMonth + 5 * (elastic.writeGb + elastic.readGb), "EFS with Elastic Throughput");
        assert.ok(elastic.infrequentAccessGbMonth < PRICES.efs.infrequentAccessGbMonth, "Elastic Throughput's Infrequent Access tier is the cheaper one");
        near(lineOf(estimate, "zone").monthlyUsd, PRICES.route53.hostedZoneMonth + (DEFAULT_USAGE.dnsQueriesPerZonePerMonth / 1e6) * PRICES.route53.standardQueriesMillion, "zone");
        assert.equal(lineOf(estimate, "gateway").monthlyUsd, 0);
        near(lineOf(estimate, "interface").monthlyUsd, 2 * PRICES.vpc.interfaceEndpointHourPerZone * H + DEFAULT_USAGE.interfaceEndpointGbPerMonth * PRICES.vpc.interfaceEndpointGb, "interface endpoint");
        const reads = (DEFAULT_USAGE.inboundMessagesPerMonth + DEFAULT_USAGE.outboundMessagesPerMonth) * DEFAULT_USAGE.addressReadsPerMessage;
        const table = reads / 1e6 * PRICES.dynamodb.onDemandReadMillion + DEFAULT_USAGE.addressWritesPerMonth / 1e6 * PRICES.dynamodb.onDemandWriteMillion + DEFAULT_USAGE.addressTableGb * (PRICES.dynamodb.storageGbMonth + PRICES.dynamodb.pointInTimeRecoveryGbMonth);
        near(lineOf(estimate, "table").monthlyUsd, table, "on-demand table");
        assert.equal(estimate.totalMonthlyUsd, Math.round(estimate.lines.reduce((s, l) => s + l.monthlyUsd, 0) * 100) / 100);
    });

    it("prices backups in the vaults that hold them, the copy vault with cross-region transfer", () => {
        const fs = resource("aws:efs/fileSystem:FileSystem", "mail", { encrypted: true }, { outputs: { arn: "arn:fs" } });
        const vault = resource("aws:backup/vault:Vault", "vault", {}, { protect: true, outputs: { name: "vault-1", arn: "arn:vault-1" } });
        const copy = resource("aws:backup/vault:Vault", "copy", { region: "us-west-2" }, { protect: true, outputs: { name: "copy-1", arn: "arn:copy-1" } });
        const lifecycle = { coldStorageAfter: 30, deleteAfter: 120 };
        const plan = resource("aws:backup/plan:Plan", "plan", { rules: [{ ruleName: "nightly", targetVaultName: "vault-1", lifecycle, copyActions: [{ destinationVaultArn: "arn:copy-1", lifecycle }] }] });
        const selection = resource("aws:backup/selection:Selection", "sel", { resources: ["arn:fs"] });
        const usage = { mailGb: 100, mailMonthlyChangeShare: 0.1 };
        const estimate = estimateCost([fs, vault, copy, plan, selection], { usage });
        // Incremental: the full copy plus a month of changes warm (30 days), plus 90 days of changes cold.
        const storage = 100 * (1 + 0.1) * PRICES.backup.efsWarmGbMonth + 100 * (1 + 0.1 * 3) * PRICES.backup.efsColdGbMonth;
        near(lineOf(estimate, "vault").monthlyUsd, storage, "primary vault");
        near(lineOf(estimate, "copy").monthlyUsd, storage + 100 * 0.1 * PRICES.backup.crossRegionTransferGb, "copy vault");
        near(estimate.backupMonthlyUsd, 2 * storage + 100 * 0.1 * PRICES.backup.crossRegionTransferGb, "what backups add");
        assert.deepEqual(estimate.notPriced, [{ type: "aws:backup/plan:Plan", count: 1 }, { type: "aws:backup/selection:Selection", count: 1 }]);
    });

    it("uses the prices it is given: one table for every estimate", () => {
        const doubled: Prices = JSON.parse(JSON.stringify(PRICES));
        doubled.vpc.publicIpv4Hour *= 2;
        const eip = [resource("aws:ec2/eip:Eip", "eip", {})];
        near(estimateCost(eip, { prices: doubled }).totalMonthlyUsd, 2 * estimateCost(eip).totalMonthlyUsd, "doubled price");
    });

    it("checks usage overrides", () => {
        assert.deepEqual(parseUsage({ mailGb: "50", natGbPerMonth: "0" }), { mailGb: 50, natGbPerMonth: 0 });
        assert.throws(() => parseUsage({ mailGB: "50" }), /unknown usage assumption "mailGB"; known: mailGb,/);
        assert.throws(() => parseUsage({ mailGb: "lots" }), /mailGb must be a number of at least 0, got "lots"/);
        assert.throws(() => parseUsage({ mailGb: "-1" }), /at least 0/);
    });

    it("the prices file names its sources and date", () => {
        assert.match(PRICES.asOf, /^\d{4}-\d{2}-\d{2}$/);
        for (const group of [PRICES.fargate, PRICES.ec2, PRICES.vpc, PRICES.elb, PRICES.efs, PRICES.backup, PRICES.dynamodb, PRICES.route53, PRICES.other]) assert.match(group.source, /^https:\/\/aws\.amazon\.com\//);
    });
});

describe("cost estimate of the program", () => {
    let prod: Plan;
    let noBackup: Plan;
    before(async () => {
        [prod, noBackup] = await Promise.all([runPlan({ stack: "prod" }), runPlan({ stack: "prod", config: { backup: "false" } })]);
        assert.equal(prod.error, undefined);
        assert.equal(noBackup.error, undefined);
    });

    it("prices the production stack's mail store, address table and backups from its resource graph", () => {
        const estimate = estimateCost(prod.resources, { stackRegion: "us-east-1" });
        const types = new Set(estimate.lines.map((l) => l.type));
        for (const type of ["aws:efs/fileSystem:FileSystem", "aws:dynamodb/table:Table", "aws:backup/vault:Vault"]) assert.ok(types.has(type), type);
        assert.ok(estimate.totalMonthlyUsd > 0);
        // Both vaults (the stack's region and the copy region) hold recovery points.
        assert.equal(estimate.lines.filter((l) => l.type === "aws:backup/vault:Vault" && l.monthlyUsd > 0).length, 2);
    });

    it("what backup: true adds is exactly the difference between the stack with and without backups", () => {
        const withBackup = estimateCost(prod.resources);
        const without = estimateCost(noBackup.resources);
        assert.equal(without.backupMonthlyUsd, 0);
        assert.ok(withBackup.backupMonthlyUsd > 0);
        near(withBackup.totalMonthlyUsd - without.totalMonthlyUsd, withBackup.backupMonthlyUsd, "backup difference");
        // More mail, more backup storage.
        assert.ok(estimateCost(prod.resources, { usage: { mailGb: 200 } }).backupMonthlyUsd > withBackup.backupMonthlyUsd);
    });

    it("a NAT gateway adds its hours, its traffic and its Elastic IP", async () => {
        const withNat = await runPlan({ stack: "prod", config: { natGateway: "true" } });
        assert.equal(withNat.error, undefined);
        const difference = estimateCost(withNat.resources).lines.filter((l) => l.type === "aws:ec2/natGateway:NatGateway");
        assert.equal(difference.length, 1);
        near(difference[0].monthlyUsd, PRICES.vpc.natGatewayHour * H + DEFAULT_USAGE.natGbPerMonth * PRICES.vpc.natGatewayGb, "NAT gateway line");
        const eips = (plan: Plan) => estimateCost(plan.resources).lines.filter((l) => l.type === "aws:ec2/eip:Eip").length;
        assert.equal(eips(withNat), eips(prod) + 1);
    });

    it("prices a Cabalmail-style deployment of the same stack from the same table", () => {
        const style = cabalmailStyle(prod.resources);
        const estimate = estimateCost(style);
        assert.ok(!style.some((r) => r.type === "aws:ecs/service:Service"));
        near(lineOf(estimate, "ecs-host").monthlyUsd, PRICES.ec2.instanceHour["m6g.medium"] * H + 30 * PRICES.ec2.ebsGbMonth.gp3, "ECS host");
        assert.equal(estimate.lines.filter((l) => /^nat-\d$/.test(l.name)).length, 4, "two NAT instances and their Elastic IPs");
        // Data, DNS and backups are the same lines in both.
        const shared = (e: ReturnType<typeof estimateCost>) => e.lines.filter((l) => /efs|dynamodb|backup|route53/.test(l.type)).map((l) => [l.name, l.monthlyUsd]);
        assert.deepEqual(shared(estimate), shared(estimateCost(prod.resources)));
    });

    it("npm run plan prints the cost table and the policy verdict; --json carries both", async function () {
        this.timeout(120_000);
        const [human, json, badUsage] = await Promise.all([runPlanCli("--compare-cabalmail"), runPlanCli("--json", "--usage", "mailGb=100"), runPlanCli("--usage", "mailGB=1")]);
        assert.equal(human.code, 0, human.stderr);
        assert.match(human.stdout, /^Estimated monthly cost \(USD, us-east-1 prices of \d{4}-\d{2}-\d{2}\):$/m);
        assert.match(human.stdout, /^ {2}aws:efs\/fileSystem:FileSystem mail +\$\d+\.\d\d {2}20 GB of mail/m);
        assert.match(human.stdout, /^ {2}of which backups \(backup: true\) +\$\d+\.\d\d$/m);
        assert.match(human.stdout, /^Cabalmail-style deployment of the same stack/m);
        assert.match(human.stdout, /^Policies: no violations\.$/m);
        assert.equal(json.code, 0, json.stderr);
        const parsed = JSON.parse(json.stdout);
        assert.equal(parsed.cost.usage.mailGb, 100);
        assert.ok(parsed.cost.lines.length > 3);
        assert.deepEqual(parsed.policyViolations, []);
        assert.equal(badUsage.code, 1);
        assert.match(badUsage.stderr, /unknown usage assumption "mailGB"/);
    });
});
