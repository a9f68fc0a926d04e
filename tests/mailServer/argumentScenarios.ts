/**
 * Runs in a child process of arguments.test.ts (Pulumi's mocks are global to a process): constructs MailServer,
 * MailDns and MailCertificate under the project's mocks with the argument variations below and prints, as JSON,
 * each scenario's error message (or null when construction succeeded).
 */
import * as pulumi from "@pulumi/pulumi";
import { createMocks } from "../../plan/mocks";

export const SCENARIOS = [
    "valid",
    "direct without NAT",
    "direct without source addresses",
    "two imap tasks",
    "memory Fargate does not offer",
    "unknown CPU size",
    "log retention CloudWatch does not offer",
    "message too large for SES",
    "one availability zone",
    "no mail domains",
    "zone for a foreign domain",
    "malformed zone id",
    "certificate without names",
] as const;
export type Scenario = (typeof SCENARIOS)[number];

async function main(): Promise<void> {
    await pulumi.runtime.setMocks(createMocks({ region: "us-east-1" }), "cabalmail", "scenarios", false);
    // Import after the mocks are set: components capture the runtime's settings when they load.
    const { MailServer } = await import("../../components/mailServer");
    const { MailDns } = await import("../../components/mailDns");
    const { MailCertificate } = await import("../../components/mailCertificate");
    type Args = ConstructorParameters<typeof MailServer>[1];

    const base = (): Args => ({
        controlDomain: "cabal-admin.example.org",
        mailDomains: ["example.com"],
        region: "us-east-1",
        network: {
            vpcId: "vpc-0123456789abcdef0",
            vpcCidrBlock: "10.0.0.0/16",
            publicSubnetIds: ["subnet-a", "subnet-b"],
            privateSubnetIds: ["subnet-c", "subnet-d"],
            availabilityZoneCount: 2,
            natGateway: false,
            mailTierSecurityGroupId: "sg-0123456789abcdef0",
        },
        mailStore: {
            fileSystemId: "fs-0123456789abcdef0",
            fileSystemArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
            mailboxAccessPointId: "fsap-1",
            mailboxAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1",
            inboundQueueAccessPointId: "fsap-2",
            inboundQueueAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-2",
            outboundQueueAccessPointId: "fsap-3",
            outboundQueueAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-3",
        },
        addressStore: {
            tableName: "addresses",
            tableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/addresses",
            userIndexArn: "arn:aws:dynamodb:us-east-1:123456789012:table/addresses/index/byUser",
            subdomainIndexArn: "arn:aws:dynamodb:us-east-1:123456789012:table/addresses/index/bySubdomain",
        },
        controlZoneId: "Z0CONTROL",
        mailZoneIds: { "example.com": "Z0MAIL" },
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        userPoolId: "us-east-1_AbCdEf123",
        userPoolClientId: "client",
        tiers: { "smtp-in": { image: "ghcr.io/x/smtp-in:1" }, imap: { image: "ghcr.io/x/imap:1" }, "smtp-out": { image: "ghcr.io/x/smtp-out:1" } },
    });
    const server = (name: string, change: (a: Args) => void) => {
        const args = base();
        change(args);
        new MailServer(name, args);
    };
    const run: Record<Scenario, () => void> = {
        valid: () => server("valid", () => undefined),
        "direct without NAT": () => server("s1", (a) => { a.outbound = "direct"; a.outboundSourceAddresses = ["198.51.100.7"]; }),
        "direct without source addresses": () => server("s2", (a) => { a.outbound = "direct"; a.network.natGateway = true; }),
        "two imap tasks": () => server("s3", (a) => { a.tiers!.imap!.desiredCount = 2; }),
        "memory Fargate does not offer": () => server("s4", (a) => { a.tiers!["smtp-in"]!.memory = 4096; }),
        "unknown CPU size": () => server("s5", (a) => { a.tiers!["smtp-out"]!.cpu = 300; }),
        "log retention CloudWatch does not offer": () => server("s6", (a) => { a.logRetentionDays = 31; }),
        "message too large for SES": () => server("s7", (a) => { a.messageSizeLimit = 50 * 1024 * 1024; }),
        "one availability zone": () => server("s8", (a) => { a.network.availabilityZoneCount = 1; }),
        "no mail domains": () => server("s9", (a) => { a.mailDomains = []; }),
        "zone for a foreign domain": () => new MailDns("d1", { controlDomain: "cabal-admin.example.org", mailDomains: ["example.com"], existingZoneIds: { "example.org": "Z0123" } }),
        "malformed zone id": () => new MailDns("d2", { controlDomain: "cabal-admin.example.org", mailDomains: ["example.com"], existingZoneIds: { "example.com": "zone-1" } }),
        "certificate without names": () => new MailCertificate("c1", { hostNames: [], zoneId: "Z0CONTROL" }),
    };
    const results: Record<string, string | null> = {};
    for (const scenario of SCENARIOS) {
        try {
            run[scenario]();
            results[scenario] = null;
        } catch (error) {
            results[scenario] = error instanceof Error ? error.message : String(error);
        }
    }
    process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (require.main === module) {
    main().then(() => process.exit(0), (error) => {
        process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
        process.exit(2);
    });
}
