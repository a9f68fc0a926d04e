/**
 * The mail stack as the program plans it for Pulumi.prod.yaml (and a few config variations), under the project's
 * mocks: ports, protocols, proxy protocol, certificate and validation, Elastic IPs, security groups, EFS mounts,
 * logs, deployments, DNS — and the IAM documents actually attached, evaluated by an IAM policy simulator.
 */
import * as assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { DKIM_SELECTOR, mailHosts } from "../../lib/address";
import { MAIL_ENV, MAIL_MOUNTS, MAIL_PORTS, MAIL_TIER_NAMES, type MailTierName } from "../../lib/mailTiers";
import { only, ofType, runPlan, type Plan } from "../support/plan";
import { decide } from "./iamSimulator";

const SERVER = "mailserver";
const T = {
    service: "aws:ecs/service:Service",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    cluster: "aws:ecs/cluster:Cluster",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    eip: "aws:ec2/eip:Eip",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    certificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    record: "aws:route53/record:Record",
    zone: "aws:route53/zone:Zone",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    role: "aws:iam/role:Role",
    userPolicy: "aws:iam/userPolicy:UserPolicy",
    secret: "aws:secretsmanager/secret:Secret",
    sesIdentity: "aws:sesv2/emailIdentity:EmailIdentity",
    repository: "aws:ecr/repository:Repository",
    image: "awsx:ecr:Image",
    table: "aws:dynamodb/table:Table",
    accessPoint: "aws:efs/accessPoint:AccessPoint",
    fileSystem: "aws:efs/fileSystem:FileSystem",
    discoveryService: "aws:servicediscovery/service:Service",
} as const;

/** Where each tier's traffic comes in, per the contract in lib/mailTiers.ts. */
const PUBLIC = { "smtp-in": { port: 25, protocol: "TCP", target: MAIL_PORTS.smtpIn }, imap: { port: 993, protocol: "TLS", target: MAIL_PORTS.imap }, "smtp-out": { port: 465, protocol: "TLS", target: MAIL_PORTS.submission } } as const;
const ACCESS_POINT_OF: Record<MailTierName, string> = { "smtp-in": "mail-queue-in", imap: "mail-mailboxes", "smtp-out": "mail-queue-out" };

interface Container {
    name: string;
    image: string;
    portMappings: { containerPort: number; protocol: string }[];
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
    mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
    healthCheck?: { command: string[] };
    logConfiguration: { logDriver: string; options: Record<string, string> };
}

function containerOf(plan: Plan, tier: MailTierName): Container {
    const definitions = JSON.parse(only(plan, T.taskDefinition, `${SERVER}-${tier}`).inputs.containerDefinitions) as Container[];
    assert.equal(definitions.length, 1);
    return definitions[0];
}
const env = (container: Container) => Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
const recordNamed = (plan: Plan, name: string, type: string) => ofType(plan, T.record).filter((r) => r.inputs.name === name && r.inputs.type === type);

/** Every ingress rule of every security group in the plan (inline rules and standalone rule resources). */
function ingressRules(plan: Plan): { group: string; protocol: string; fromPort: number; toPort: number; cidrs: string[]; groups: string[] }[] {
    const inline = ofType(plan, T.securityGroup).flatMap((g) =>
        (g.inputs.ingress ?? []).map((i: any) => ({ group: g.name, protocol: String(i.protocol), fromPort: i.fromPort, toPort: i.toPort, cidrs: [...(i.cidrBlocks ?? []), ...(i.ipv6CidrBlocks ?? [])], groups: i.securityGroups ?? [] })));
    const standalone = ofType(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
        group: r.name, protocol: String(r.inputs.ipProtocol), fromPort: r.inputs.fromPort, toPort: r.inputs.toPort,
        cidrs: [r.inputs.cidrIpv4, r.inputs.cidrIpv6].filter(Boolean), groups: [r.inputs.referencedSecurityGroupId].filter(Boolean),
    }));
    return [...inline, ...standalone];
}

describe("MailServer in the plan for Pulumi.prod.yaml", () => {
    let plan: Plan;
    let hosts: ReturnType<typeof mailHosts>;
    before(async () => {
        plan = await runPlan();
        assert.equal(plan.error, undefined, plan.error);
        hosts = mailHosts(plan.config["cabalmail:controlDomain"]);
    });

    describe("ECS", () => {
        it("runs one Fargate service per tier, in one cluster, on ARM64", () => {
            const cluster = only(plan, T.cluster);
            for (const tier of MAIL_TIER_NAMES) {
                const service = only(plan, T.service, `${SERVER}-${tier}`);
                assert.equal(service.inputs.launchType, "FARGATE");
                assert.equal(service.inputs.cluster, cluster.outputs.arn);
                assert.equal(service.inputs.desiredCount, 1);
                const task = only(plan, T.taskDefinition, `${SERVER}-${tier}`);
                assert.equal(service.inputs.taskDefinition, task.outputs.arn);
                assert.deepEqual(task.inputs.runtimePlatform, { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" });
                assert.deepEqual(task.inputs.requiresCompatibilities, ["FARGATE"]);
                assert.equal(task.inputs.networkMode, "awsvpc");
            }
            assert.equal(ofType(plan, T.service).filter((s) => s.name.startsWith(`${SERVER}-`)).length, 3);
        });

        it("sizes tasks from config (imapMemory 1024 in prod, defaults elsewhere)", () => {
            assert.equal(only(plan, T.taskDefinition, `${SERVER}-imap`).inputs.memory, "1024");
            assert.equal(only(plan, T.taskDefinition, `${SERVER}-smtp-in`).inputs.memory, "512");
            assert.equal(only(plan, T.taskDefinition, `${SERVER}-smtp-out`).inputs.cpu, "256");
        });

        it("rolls back a failed deployment, and never runs two tasks of a tier at once", () => {
            for (const tier of MAIL_TIER_NAMES) {
                const service = only(plan, T.service, `${SERVER}-${tier}`);
                assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true }, tier);
                assert.equal(service.inputs.deploymentMaximumPercent, 100, tier);
                assert.equal(service.inputs.deploymentMinimumHealthyPercent, 0, tier);
            }
        });

        it("gives every container a health check and logs to its own group, kept logRetentionDays", () => {
            const retention = Number(plan.config["cabalmail:logRetentionDays"]);
            assert.equal(retention, 90);
            for (const tier of MAIL_TIER_NAMES) {
                const container = containerOf(plan, tier);
                assert.equal(container.healthCheck?.command[0], "CMD-SHELL", tier);
                assert.match(container.healthCheck!.command[1], new RegExp(`127\\.0\\.0\\.1/${MAIL_PORTS.resolver}`));
                const group = only(plan, T.logGroup, `${SERVER}-${tier}`);
                assert.equal(group.inputs.retentionInDays, retention);
                assert.equal(container.logConfiguration.logDriver, "awslogs");
                assert.equal(container.logConfiguration.options["awslogs-group"], group.outputs.name);
            }
        });

        it("exposes exactly the contract's container ports", () => {
            assert.deepEqual(containerOf(plan, "smtp-in").portMappings.map((p) => p.containerPort), [MAIL_PORTS.smtpIn]);
            assert.deepEqual(containerOf(plan, "imap").portMappings.map((p) => p.containerPort).sort(), [MAIL_PORTS.imap, MAIL_PORTS.lmtp, MAIL_PORTS.auth].sort());
            assert.deepEqual(containerOf(plan, "smtp-out").portMappings.map((p) => p.containerPort), [MAIL_PORTS.submission]);
        });

        it("sets the contract's environment, with the resolved table, domains, pool and internal imap host", () => {
            const table = only(plan, T.table);
            for (const tier of MAIL_TIER_NAMES) {
                const e = env(containerOf(plan, tier));
                assert.equal(e[MAIL_ENV.addressTable], table.outputs.name, tier);
                assert.equal(e[MAIL_ENV.region], "us-east-1");
                assert.equal(e[MAIL_ENV.mailDomains], "example.com,example.net");
                assert.equal(e[MAIL_ENV.controlDomain], plan.config["cabalmail:controlDomain"]);
                const known = new Set<string>(Object.values(MAIL_ENV));
                for (const name of Object.keys(e)) assert.ok(known.has(name), `${tier} sets ${name}, which lib/mailTiers.ts does not list`);
            }
            const discovery = only(plan, T.discoveryService);
            assert.equal(env(containerOf(plan, "smtp-in"))[MAIL_ENV.imapHost], `${discovery.inputs.name}.cabalmail.internal`);
            assert.equal(env(containerOf(plan, "smtp-out"))[MAIL_ENV.imapHost], `${discovery.inputs.name}.cabalmail.internal`);
            assert.equal(only(plan, T.service, `${SERVER}-imap`).inputs.serviceRegistries.registryArn, discovery.outputs.arn);
            const imap = env(containerOf(plan, "imap"));
            assert.equal(imap[MAIL_ENV.userPoolId], only(plan, "aws:cognito/userPool:UserPool").outputs.id);
            assert.equal(imap[MAIL_ENV.userPoolClientId], only(plan, "aws:cognito/userPoolClient:UserPoolClient").outputs.id);
            assert.equal(env(containerOf(plan, "smtp-in"))[MAIL_ENV.messageSizeLimit], "26214400");
            assert.equal(env(containerOf(plan, "smtp-out"))[MAIL_ENV.outbound], "ses");
            assert.equal(env(containerOf(plan, "smtp-out"))[MAIL_ENV.relayHost], "email-smtp.us-east-1.amazonaws.com:587");
        });

        it("mounts EFS only through each tier's own access point, with transit encryption and IAM authorization", () => {
            const fileSystem = only(plan, T.fileSystem);
            const expectedPath: Record<MailTierName, string> = { "smtp-in": MAIL_MOUNTS.queue, imap: MAIL_MOUNTS.mailboxes, "smtp-out": MAIL_MOUNTS.queue };
            for (const tier of MAIL_TIER_NAMES) {
                const task = only(plan, T.taskDefinition, `${SERVER}-${tier}`);
                assert.equal(task.inputs.volumes.length, 1);
                const [volume] = task.inputs.volumes;
                assert.equal(volume.efsVolumeConfiguration.fileSystemId, fileSystem.outputs.id);
                assert.equal(volume.efsVolumeConfiguration.transitEncryption, "ENABLED");
                assert.deepEqual(volume.efsVolumeConfiguration.authorizationConfig, { accessPointId: only(plan, T.accessPoint, ACCESS_POINT_OF[tier]).outputs.id, iam: "ENABLED" });
                const mounts = containerOf(plan, tier).mountPoints;
                assert.deepEqual(mounts, [{ sourceVolume: volume.name, containerPath: expectedPath[tier], readOnly: false }]);
            }
        });

        it("injects the DKIM key and the SES credentials from Secrets Manager into smtp-out only", () => {
            const dkim = only(plan, T.secret, `${SERVER}-dkim`);
            const relay = only(plan, T.secret, `${SERVER}-ses-relay`);
            const secrets = Object.fromEntries(containerOf(plan, "smtp-out").secrets.map((s) => [s.name, s.valueFrom]));
            assert.deepEqual(secrets, {
                [MAIL_ENV.dkimPrivateKey]: dkim.outputs.arn,
                [MAIL_ENV.relayUser]: `${relay.outputs.arn}:username::`,
                [MAIL_ENV.relayPassword]: `${relay.outputs.arn}:password::`,
            });
            assert.deepEqual(containerOf(plan, "smtp-in").secrets, []);
            assert.deepEqual(containerOf(plan, "imap").secrets, []);
            for (const tier of MAIL_TIER_NAMES) {
                for (const value of Object.values(env(containerOf(plan, tier)))) assert.doesNotMatch(value, /PRIVATE KEY/, `${tier} has a key in plain environment`);
            }
        });

        it("builds each image from mail/<tier>/Dockerfile for linux/arm64 and runs what was pushed", () => {
            for (const tier of MAIL_TIER_NAMES) {
                const image = only(plan, T.image, `${SERVER}-${tier}`);
                const repository = only(plan, T.repository, `${SERVER}-${tier}`);
                assert.equal(image.inputs.repositoryUrl, repository.outputs.repositoryUrl);
                assert.equal(image.inputs.platform, "linux/arm64");
                assert.match(image.inputs.dockerfile, new RegExp(`/mail/${tier}/Dockerfile$`));
                assert.equal(`${image.inputs.context}/mail/${tier}/Dockerfile`, image.inputs.dockerfile);
                assert.equal(containerOf(plan, tier).image, image.outputs.imageUri);
            }
        });
    });

    describe("load balancer", () => {
        it("is an internet-facing NLB with one Elastic IP per availability zone, cross-zone", () => {
            const balancer = only(plan, T.loadBalancer, SERVER);
            assert.equal(balancer.inputs.loadBalancerType, "network");
            assert.equal(balancer.inputs.internal, false);
            assert.equal(balancer.inputs.enableCrossZoneLoadBalancing, true);
            const zones = Number(plan.config["cabalmail:availabilityZones"]);
            const addresses = ofType(plan, T.eip).filter((e) => e.name.startsWith(`${SERVER}-nlb-`));
            assert.equal(addresses.length, zones);
            const publicSubnets = ofType(plan, "aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags?.tier === "public").map((s) => s.outputs.id);
            assert.deepEqual(balancer.inputs.subnetMappings.map((m: any) => m.subnetId).sort(), [...publicSubnets].sort());
            assert.deepEqual(balancer.inputs.subnetMappings.map((m: any) => m.allocationId).sort(), addresses.map((e) => e.outputs.id).sort());
            assert.deepEqual([...(plan.outputs.mailAddresses as string[])].sort(), addresses.map((e) => e.outputs.publicIp).sort());
        });

        it("listens on TCP 25, TLS 993 and TLS 465 only, each forwarding to its tier's target group", () => {
            const balancer = only(plan, T.loadBalancer, SERVER);
            const listeners = ofType(plan, T.listener).filter((l) => l.inputs.loadBalancerArn === balancer.outputs.arn);
            assert.deepEqual(listeners.map((l) => l.inputs.port).sort((a, b) => a - b), [25, 465, 993]);
            const certificateArn = only(plan, T.certificateValidation).outputs.certificateArn;
            assert.ok(certificateArn.startsWith("arn:aws:acm:"));
            for (const tier of MAIL_TIER_NAMES) {
                const listener = listeners.find((l) => l.inputs.port === PUBLIC[tier].port)!;
                assert.equal(listener.inputs.protocol, PUBLIC[tier].protocol, tier);
                const targetGroup = only(plan, T.targetGroup, `${SERVER}-${tier}`);
                assert.deepEqual(listener.inputs.defaultActions, [{ type: "forward", targetGroupArn: targetGroup.outputs.arn }]);
                if (PUBLIC[tier].protocol === "TLS") {
                    assert.equal(listener.inputs.certificateArn, certificateArn, `${tier} terminates TLS with the validated certificate`);
                    assert.match(listener.inputs.sslPolicy, /^ELBSecurityPolicy-TLS13-1-2/);
                } else {
                    assert.equal(listener.inputs.certificateArn, undefined);
                }
            }
        });

        it("sends proxy protocol v2 over TCP to the tasks' container ports, registered by IP", () => {
            for (const tier of MAIL_TIER_NAMES) {
                const targetGroup = only(plan, T.targetGroup, `${SERVER}-${tier}`);
                assert.equal(targetGroup.inputs.proxyProtocolV2, true, tier);
                assert.equal(targetGroup.inputs.protocol, "TCP");
                assert.equal(targetGroup.inputs.targetType, "ip");
                assert.equal(targetGroup.inputs.port, PUBLIC[tier].target);
                const service = only(plan, T.service, `${SERVER}-${tier}`);
                assert.deepEqual(service.inputs.loadBalancers, [{ targetGroupArn: targetGroup.outputs.arn, containerName: tier, containerPort: PUBLIC[tier].target }]);
            }
        });

        it("starts the services only after the listeners exist (ECS refuses a target group without one)", () => {
            const listenerUrns = ofType(plan, T.listener).map((l) => l.urn).sort();
            assert.equal(listenerUrns.length, 3);
            for (const tier of MAIL_TIER_NAMES) {
                const dependsOn = only(plan, T.service, `${SERVER}-${tier}`).dependsOn;
                for (const urn of listenerUrns) assert.ok(dependsOn.includes(urn), `${tier} does not wait for ${urn}`);
            }
        });
    });

    describe("certificate", () => {
        it("covers the three mail host names and is validated by DNS records in the control domain's zone", () => {
            const certificate = only(plan, T.certificate);
            assert.equal(certificate.inputs.validationMethod, "DNS");
            assert.deepEqual([certificate.inputs.domainName, ...certificate.inputs.subjectAlternativeNames].sort(), Object.values(hosts).sort());
            const options: any[] = certificate.outputs.domainValidationOptions;
            const records = ofType(plan, T.record).filter((r) => r.name.startsWith("mail-tls-validation-"));
            assert.equal(records.length, options.length);
            for (const option of options) {
                const record = records.find((r) => r.inputs.name === option.resourceRecordName);
                assert.ok(record, `no validation record for ${option.domainName}`);
                assert.equal(record.inputs.type, option.resourceRecordType);
                assert.deepEqual(record.inputs.records, [option.resourceRecordValue]);
                assert.equal(record.inputs.zoneId, "Z0123456789ABCDEFGHIJ", "the existing control zone from hostedZoneIds");
            }
            const validation = only(plan, T.certificateValidation);
            assert.equal(validation.inputs.certificateArn, certificate.outputs.arn);
            assert.deepEqual([...validation.inputs.validationRecordFqdns].sort(), records.map((r) => r.outputs.fqdn).sort());
        });
    });

    describe("security groups", () => {
        it("admit nothing but TCP 25, 465 and 993 from the internet, anywhere in the stack", () => {
            const publicRules = ingressRules(plan).filter((r) => r.cidrs.some((c) => c === "0.0.0.0/0" || c === "::/0" || !/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/.test(c)));
            assert.ok(publicRules.length > 0);
            for (const rule of publicRules) {
                assert.equal(rule.protocol, "tcp", rule.group);
                assert.equal(rule.fromPort, rule.toPort, rule.group);
                assert.ok([25, 465, 993].includes(rule.fromPort), `${rule.group} opens ${rule.fromPort} to the internet`);
            }
            assert.deepEqual(publicRules.map((r) => r.fromPort).sort((a, b) => a - b), [25, 465, 993]);
        });

        it("give each tier only its own ports, from the load balancer or the tier that talks to it", () => {
            const id = (name: string) => only(plan, T.securityGroup, name).outputs.id;
            const rules = (name: string) => only(plan, T.securityGroup, name).inputs.ingress.map((i: any) => ({ port: `${i.protocol}/${i.fromPort}-${i.toPort}`, from: i.securityGroups, cidrs: i.cidrBlocks }));
            const nlb = id(`${SERVER}-nlb`);
            assert.deepEqual(rules(`${SERVER}-smtp-in`), [{ port: "tcp/25-25", from: [nlb], cidrs: undefined }]);
            assert.deepEqual(rules(`${SERVER}-smtp-out`), [{ port: "tcp/587-587", from: [nlb], cidrs: undefined }]);
            assert.deepEqual(rules(`${SERVER}-imap`), [
                { port: "tcp/143-143", from: [nlb], cidrs: undefined },
                { port: "tcp/24-24", from: [id(`${SERVER}-smtp-in`)], cidrs: undefined },
                { port: "tcp/12345-12345", from: [id(`${SERVER}-smtp-out`)], cidrs: undefined },
            ]);
        });

        it("let the load balancer reach only the tiers' container ports inside the VPC", () => {
            const nlb = only(plan, T.securityGroup, `${SERVER}-nlb`);
            const vpc = only(plan, "aws:ec2/vpc:Vpc");
            assert.deepEqual(nlb.inputs.egress.map((e: any) => `${e.protocol}/${e.fromPort}`).sort(), ["tcp/143", "tcp/25", "tcp/587"]);
            for (const e of nlb.inputs.egress) assert.deepEqual(e.cidrBlocks, [vpc.outputs.cidrBlock]);
            assert.deepEqual(only(plan, T.loadBalancer, SERVER).inputs.securityGroups, [nlb.outputs.id]);
        });

        it("put every tier (all three mount EFS) in the mail-tier group NFS is admitted from, and in its own group", () => {
            const mailTier = only(plan, T.securityGroup, "cabal-mail-tier").outputs.id;
            const nfs = only(plan, T.securityGroup, "mail-nfs");
            assert.deepEqual(nfs.inputs.ingress.map((i: any) => i.securityGroups), [[mailTier]]);
            for (const tier of MAIL_TIER_NAMES) {
                const service = only(plan, T.service, `${SERVER}-${tier}`);
                assert.deepEqual(service.inputs.networkConfiguration.securityGroups, [mailTier, only(plan, T.securityGroup, `${SERVER}-${tier}`).outputs.id]);
            }
        });

        it("place tasks in the public subnets with public IPs when there is no NAT gateway", () => {
            const publicSubnets = ofType(plan, "aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags?.tier === "public").map((s) => s.outputs.id);
            for (const tier of MAIL_TIER_NAMES) {
                const network = only(plan, T.service, `${SERVER}-${tier}`).inputs.networkConfiguration;
                assert.equal(network.assignPublicIp, true);
                assert.deepEqual([...network.subnets].sort(), [...publicSubnets].sort());
            }
        });
    });

    describe("IAM, evaluated by an IAM policy simulator with the planned ARNs", () => {
        const policyOf = (name: string) => JSON.parse(only(plan, T.rolePolicy, name).inputs.policy);
        let tableArn: string;
        let indexArns: string[];
        let fileSystemArn: string;
        before(() => {
            const table = only(plan, T.table);
            tableArn = table.outputs.arn;
            indexArns = ["byUser", "bySubdomain"].map((i) => `${tableArn}/index/${i}`);
            fileSystemArn = only(plan, T.fileSystem).outputs.arn;
        });

        for (const tier of MAIL_TIER_NAMES) {
            it(`${tier}'s task role may GetItem/BatchGetItem/Query the address table and its indexes, and may not write, delete or read another table`, async () => {
                const policy = policyOf(`${SERVER}-${tier}-task`);
                assert.equal(await decide([policy], "dynamodb:GetItem", tableArn), "Allowed");
                assert.equal(await decide([policy], "dynamodb:BatchGetItem", tableArn), "Allowed");
                assert.equal(await decide([policy], "dynamodb:Query", tableArn), "Allowed");
                for (const index of indexArns) assert.equal(await decide([policy], "dynamodb:Query", index), "Allowed", index);
                for (const action of ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable", "dynamodb:Scan"]) {
                    assert.equal(await decide([policy], action, tableArn), "ImplicitlyDenied", action);
                }
                const otherTable = tableArn.replace(/table\/.*$/, "table/other-table");
                assert.equal(await decide([policy], "dynamodb:GetItem", otherTable), "ImplicitlyDenied");
                assert.equal(await decide([policy], "dynamodb:BatchGetItem", otherTable), "ImplicitlyDenied");
                assert.equal(await decide([policy], "secretsmanager:GetSecretValue", only(plan, T.secret, `${SERVER}-dkim`).outputs.arn), "ImplicitlyDenied");
            });

            it(`${tier}'s task role mounts its own access point and no other`, async () => {
                const policy = policyOf(`${SERVER}-${tier}-task`);
                for (const other of MAIL_TIER_NAMES) {
                    const accessPointArn = only(plan, T.accessPoint, ACCESS_POINT_OF[other]).outputs.arn;
                    const expected = other === tier ? "Allowed" : "ImplicitlyDenied";
                    assert.equal(await decide([policy], "elasticfilesystem:ClientMount", fileSystemArn, { "elasticfilesystem:AccessPointArn": accessPointArn }), expected, `${tier} → ${other}`);
                }
                const own = { "elasticfilesystem:AccessPointArn": only(plan, T.accessPoint, ACCESS_POINT_OF[tier]).outputs.arn };
                assert.equal(await decide([policy], "elasticfilesystem:ClientRootAccess", fileSystemArn, own), tier === "imap" ? "ImplicitlyDenied" : "Allowed");
            });

            it(`${tier}'s roles are the ones its task definition uses, assumable only by ECS tasks`, () => {
                const task = only(plan, T.taskDefinition, `${SERVER}-${tier}`);
                const taskRole = only(plan, T.role, `${SERVER}-${tier}-task`);
                const executionRole = only(plan, T.role, `${SERVER}-${tier}-execution`);
                assert.equal(task.inputs.taskRoleArn, taskRole.outputs.arn);
                assert.equal(task.inputs.executionRoleArn, executionRole.outputs.arn);
                assert.equal(only(plan, T.rolePolicy, `${SERVER}-${tier}-task`).inputs.role, taskRole.outputs.name);
                assert.equal(only(plan, T.rolePolicy, `${SERVER}-${tier}-execution`).inputs.role, executionRole.outputs.name);
                for (const role of [taskRole, executionRole]) {
                    const trust = JSON.parse(role.inputs.assumeRolePolicy);
                    assert.deepEqual(trust.Statement.map((s: any) => s.Principal), [{ Service: "ecs-tasks.amazonaws.com" }]);
                }
            });
        }

        it("execution roles read only their own tier's secrets, logs and image", async () => {
            const dkim = only(plan, T.secret, `${SERVER}-dkim`).outputs.arn;
            const relay = only(plan, T.secret, `${SERVER}-ses-relay`).outputs.arn;
            const smtpOut = policyOf(`${SERVER}-smtp-out-execution`);
            assert.equal(await decide([smtpOut], "secretsmanager:GetSecretValue", dkim), "Allowed");
            assert.equal(await decide([smtpOut], "secretsmanager:GetSecretValue", relay), "Allowed");
            for (const tier of ["smtp-in", "imap"] as const) {
                const policy = policyOf(`${SERVER}-${tier}-execution`);
                assert.equal(await decide([policy], "secretsmanager:GetSecretValue", dkim), "ImplicitlyDenied", tier);
                assert.equal(await decide([policy], "secretsmanager:GetSecretValue", relay), "ImplicitlyDenied", tier);
            }
            for (const tier of MAIL_TIER_NAMES) {
                const policy = policyOf(`${SERVER}-${tier}-execution`);
                for (const other of MAIL_TIER_NAMES) {
                    const expected = other === tier ? "Allowed" : "ImplicitlyDenied";
                    const logGroup = only(plan, T.logGroup, `${SERVER}-${other}`).outputs.arn;
                    assert.equal(await decide([policy], "logs:PutLogEvents", `${logGroup}:log-stream:${other}/x`), expected, `${tier} logs to ${other}`);
                    const repository = only(plan, T.repository, `${SERVER}-${other}`).outputs.arn;
                    assert.equal(await decide([policy], "ecr:BatchGetImage", repository), expected, `${tier} pulls ${other}`);
                }
                assert.equal(await decide([policy], "dynamodb:GetItem", tableArn), "ImplicitlyDenied");
            }
        });

        it("the SES relay user may send raw mail as the mail domains and do nothing else", async () => {
            const policy = JSON.parse(only(plan, T.userPolicy, `${SERVER}-ses-relay`).inputs.policy);
            for (const identity of ofType(plan, T.sesIdentity)) {
                assert.equal(await decide([policy], "ses:SendRawEmail", identity.outputs.arn), "Allowed", identity.inputs.emailIdentity);
                assert.equal(await decide([policy], "ses:DeleteEmailIdentity", identity.outputs.arn), "ImplicitlyDenied");
            }
            assert.deepEqual(ofType(plan, T.sesIdentity).map((i) => i.inputs.emailIdentity).sort(), ["example.com", "example.net"]);
            assert.equal(await decide([policy], "ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/bank.example"), "ImplicitlyDenied");
            assert.equal(await decide([policy], "dynamodb:GetItem", tableArn), "ImplicitlyDenied");
        });
    });

    describe("DNS", () => {
        it("creates the mail domains' zones, uses the existing control zone, and exports zone ids and name servers", () => {
            const zones = ofType(plan, T.zone);
            assert.deepEqual(zones.map((z) => z.inputs.name).sort(), ["example.com", "example.net"]);
            assert.deepEqual(plan.outputs.hostedZoneIds, Object.fromEntries(zones.map((z) => [z.inputs.name, z.outputs.zoneId])));
            assert.deepEqual(plan.outputs.nameServers, Object.fromEntries(zones.map((z) => [z.inputs.name, z.outputs.nameServers])));
        });

        it("points the three host names at the load balancer", () => {
            const balancer = only(plan, T.loadBalancer, SERVER);
            for (const host of Object.values(hosts)) {
                const [record] = recordNamed(plan, host, "A");
                assert.ok(record, host);
                assert.equal(record.inputs.zoneId, "Z0123456789ABCDEFGHIJ");
                assert.deepEqual(record.inputs.aliases, [{ name: balancer.outputs.dnsName, zoneId: balancer.outputs.zoneId, evaluateTargetHealth: false }]);
            }
        });

        it("publishes SPF (SES), DMARC and a DKIM key that parses as the RSA public key of the signing key", () => {
            const controlDomain = plan.config["cabalmail:controlDomain"];
            assert.deepEqual(recordNamed(plan, controlDomain, "TXT")[0].inputs.records, ["v=spf1 include:amazonses.com -all"]);
            assert.match(recordNamed(plan, `_dmarc.${controlDomain}`, "TXT")[0].inputs.records[0], /^v=DMARC1; p=(quarantine|reject)/);
            const [dkim] = recordNamed(plan, `${DKIM_SELECTOR}._domainkey.${controlDomain}`, "TXT");
            const value: string = dkim.inputs.records[0];
            const strings = value.split('""');
            assert.ok(strings.length > 1, "a 2048-bit key needs more than one 255-character string");
            for (const s of strings) assert.ok(s.length <= 255, "Route 53 TXT strings are at most 255 characters");
            const text = strings.join("");
            const match = /^v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)$/.exec(text);
            assert.ok(match, text);
            const key = createPublicKey({ key: Buffer.from(match[1], "base64"), format: "der", type: "spki" });
            assert.equal(key.asymmetricKeyType, "rsa");
            const keyResource = only(plan, "tls:index/privateKey:PrivateKey");
            assert.equal(keyResource.inputs.algorithm, "RSA");
            assert.equal(keyResource.inputs.rsaBits, 2048);
            assert.equal(key.export({ type: "spki", format: "pem" }).toString(), keyResource.outputs.publicKeyPem);
        });

        it("verifies each mail domain with SES through Easy DKIM records in its own zone", () => {
            for (const identity of ofType(plan, T.sesIdentity)) {
                const domain: string = identity.inputs.emailIdentity;
                const zone = ofType(plan, T.zone).find((z) => z.inputs.name === domain)!;
                for (const token of identity.outputs.dkimSigningAttributes.tokens) {
                    const [record] = recordNamed(plan, `${token}._domainkey.${domain}`, "CNAME");
                    assert.ok(record, `${domain} token ${token}`);
                    assert.equal(record.inputs.zoneId, zone.outputs.zoneId);
                    assert.deepEqual(record.inputs.records, [`${token}.dkim.amazonses.com`]);
                }
            }
        });
    });
});

describe("MailServer with other config", () => {
    it("outbound direct with a NAT gateway: private subnets, no public IPs, SPF lists the NAT's address, no SES", async () => {
        const plan = await runPlan({ config: { natGateway: "true", outbound: "direct" } });
        assert.equal(plan.error, undefined, plan.error);
        const nat = only(plan, T.eip, "cabal-nat");
        const privateSubnets = ofType(plan, "aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags?.tier === "private").map((s) => s.outputs.id);
        for (const tier of MAIL_TIER_NAMES) {
            const network = only(plan, T.service, `${SERVER}-${tier}`).inputs.networkConfiguration;
            assert.equal(network.assignPublicIp, false);
            assert.deepEqual([...network.subnets].sort(), [...privateSubnets].sort());
        }
        assert.deepEqual(recordNamed(plan, plan.config["cabalmail:controlDomain"], "TXT")[0].inputs.records, [`v=spf1 ip4:${nat.outputs.publicIp} -all`]);
        assert.deepEqual(plan.outputs.outboundAddresses, [nat.outputs.publicIp]);
        assert.equal(ofType(plan, T.sesIdentity).length, 0);
        assert.equal(ofType(plan, "aws:iam/user:User").length, 0);
        const smtpOut = containerOf(plan, "smtp-out");
        assert.equal(env(smtpOut)[MAIL_ENV.outbound], "direct");
        assert.equal(env(smtpOut)[MAIL_ENV.relayHost], undefined);
        assert.deepEqual(smtpOut.secrets.map((s) => s.name), [MAIL_ENV.dkimPrivateKey]);
    });

    it("rejects outbound direct without a NAT gateway, naming both keys, before any resource", async () => {
        const plan = await runPlan({ config: { outbound: "direct" } });
        assert.match(plan.error ?? "", /^Invalid stack config cabalmail:outbound: "direct" needs natGateway true.*; got "direct"\. Fix: pulumi config set natGateway true \(or pulumi config set outbound ses\)$/);
        assert.deepEqual(plan.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
    });

    it("prebuilt images from config: no build, no repository, and no ECR access for an image outside ECR; an existing mail zone", async () => {
        const ecrImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cabalmail-imap:1.4.0";
        const plan = await runPlan({ config: { smtpInImage: "ghcr.io/example/cabalmail-smtp-in:1.4.0", imapImage: ecrImage, hostedZoneIds: '["example.com=Z0EXISTINGMAILZONE"]' } });
        assert.equal(plan.error, undefined, plan.error);
        assert.deepEqual(ofType(plan, T.zone).map((z) => z.inputs.name).sort(), ["cabal-admin.example.org", "example.net"]);
        assert.equal((plan.outputs.hostedZoneIds as Record<string, string>)["example.com"], "Z0EXISTINGMAILZONE");
        assert.ok(!("example.com" in (plan.outputs.nameServers as object)), "no name servers to hand out for a zone the stack did not create");
        const sesRecords = ofType(plan, T.record).filter((r) => r.name.startsWith(`${SERVER}-example.com-ses-dkim-`));
        assert.equal(sesRecords.length, 3);
        for (const record of sesRecords) assert.equal(record.inputs.zoneId, "Z0EXISTINGMAILZONE");
        assert.equal(containerOf(plan, "smtp-in").image, "ghcr.io/example/cabalmail-smtp-in:1.4.0");
        assert.equal(containerOf(plan, "imap").image, ecrImage);
        assert.deepEqual(ofType(plan, T.image).map((i) => i.name), [`${SERVER}-smtp-out`]);
        assert.deepEqual(ofType(plan, T.repository).map((i) => i.name), [`${SERVER}-smtp-out`]);
        const smtpIn = JSON.parse(only(plan, T.rolePolicy, `${SERVER}-smtp-in-execution`).inputs.policy);
        assert.equal(await decide([smtpIn], "ecr:GetAuthorizationToken", "*"), "ImplicitlyDenied");
        const imap = JSON.parse(only(plan, T.rolePolicy, `${SERVER}-imap-execution`).inputs.policy);
        assert.equal(await decide([imap], "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/cabalmail-imap"), "Allowed");
        assert.equal(await decide([imap], "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/cabalmail-smtp-out"), "ImplicitlyDenied");
    });

    it("creates every zone when none is given, and stops a tier with 0 tasks", async () => {
        const plan = await runPlan({ stack: "prod", config: { hostedZoneIds: "[]", smtpOutTasks: "0", availabilityZones: "3" } });
        assert.equal(plan.error, undefined, plan.error);
        assert.deepEqual(ofType(plan, T.zone).map((z) => z.inputs.name).sort(), ["cabal-admin.example.org", "example.com", "example.net"]);
        const control = ofType(plan, T.zone).find((z) => z.inputs.name === "cabal-admin.example.org")!;
        assert.equal(recordNamed(plan, "imap.cabal-admin.example.org", "A")[0].inputs.zoneId, control.outputs.zoneId);
        assert.deepEqual(Object.keys(plan.outputs.nameServers as object).sort(), ["cabal-admin.example.org", "example.com", "example.net"]);
        assert.equal(only(plan, T.service, `${SERVER}-smtp-out`).inputs.desiredCount, 0);
        assert.equal(ofType(plan, T.eip).filter((e) => e.name.startsWith(`${SERVER}-nlb-`)).length, 3);
    });
});
