/**
 * The one mocks module: what the offline plan and every test get back from "AWS". Ids and ARNs look like the real
 * ones (and are stable: derived from type and name), so every input built from an output resolves and can be
 * asserted on. Add a case here when a resource type needs a computed output that the default does not give.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "123456789012";

function shortHash(text: string, length = 17): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** The region a resource lives in: its provider's region when it has an explicit one, else the stack's. */
function regionOf(inputs: Record<string, any>, stackRegion: string): string {
    return typeof inputs.region === "string" && inputs.region ? inputs.region : stackRegion;
}

/** Realistic id prefixes of EC2-style resources. */
const EC2_ID_PREFIXES: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:efs/fileSystem:FileSystem": "fs",
    "aws:efs/accessPoint:AccessPoint": "fsap",
    "aws:efs/mountTarget:MountTarget": "fsmt",
};

export interface MockContext {
    /** The stack's region (`aws:region`). */
    region: string;
}

/** Computes the id and output state the mock "AWS" returns for a new resource. */
export function mockResource(args: pulumi.runtime.MockResourceArgs, ctx: MockContext): { id: string; state: Record<string, any> } {
    const inputs = args.inputs ?? {};
    const region = regionOf(inputs, ctx.region);
    const hash = shortHash(`${args.type}::${args.name}`);
    const prefix = EC2_ID_PREFIXES[args.type];
    // Autonamed resources get Pulumi's random suffix; a mock makes it stable.
    const physicalName: string = inputs.name ?? `${args.name}-${hash.slice(0, 7)}`;
    const id = prefix ? `${prefix}-${hash}` : physicalName;
    const arn = (service: string, resource: string, regional = true) =>
        `arn:aws:${service}:${regional ? region : ""}:${MOCK_ACCOUNT_ID}:${resource}`;
    const state: Record<string, any> = { ...inputs };

    switch (args.type) {
        case "aws:ec2/vpc:Vpc":
            Object.assign(state, { arn: arn("ec2", `vpc/${id}`), defaultSecurityGroupId: `sg-${shortHash(`${id}-default`)}` });
            break;
        case "aws:ec2/subnet:Subnet":
        case "aws:ec2/securityGroup:SecurityGroup":
        case "aws:ec2/routeTable:RouteTable":
        case "aws:ec2/internetGateway:InternetGateway":
        case "aws:ec2/natGateway:NatGateway":
        case "aws:ec2/vpcEndpoint:VpcEndpoint": {
            const kind = args.type.split(":")[2].replace(/[A-Z]/g, (c, i) => (i ? "-" : "") + c.toLowerCase());
            Object.assign(state, { arn: arn("ec2", `${kind}/${id}`) });
            break;
        }
        case "aws:ec2/eip:Eip": {
            const n = parseInt(hash.slice(0, 4), 16);
            Object.assign(state, { allocationId: id, publicIp: `203.0.113.${(n % 250) + 1}`, arn: arn("ec2", `elastic-ip/${id}`) });
            break;
        }
        case "aws:efs/fileSystem:FileSystem":
            Object.assign(state, { arn: arn("elasticfilesystem", `file-system/${id}`), dnsName: `${id}.efs.${region}.amazonaws.com` });
            break;
        case "aws:efs/accessPoint:AccessPoint":
            Object.assign(state, { arn: arn("elasticfilesystem", `access-point/${id}`) });
            break;
        case "aws:dynamodb/table:Table":
            Object.assign(state, { name: physicalName, arn: arn("dynamodb", `table/${physicalName}`), streamArn: undefined });
            break;
        case "aws:backup/vault:Vault":
            Object.assign(state, { name: physicalName, arn: arn("backup", `backup-vault:${physicalName}`) });
            break;
        case "aws:backup/plan:Plan":
            return { id: shortHash(args.name, 32), state: { ...state, arn: arn("backup", `backup-plan:${shortHash(args.name, 32)}`), version: "1" } };
        case "aws:iam/role:Role":
            Object.assign(state, { name: physicalName, arn: arn("iam", `role/${physicalName}`, false), uniqueId: `AROA${hash.toUpperCase()}` });
            break;
        case "aws:iam/policy:Policy":
            Object.assign(state, { name: physicalName, arn: arn("iam", `policy/${physicalName}`, false) });
            break;
        default: {
            // Any other AWS resource: an ARN of the usual shape, so that policies and references resolve.
            const [pkg, module] = args.type.split(/[:/]/);
            if (pkg === "aws" && state.arn === undefined) state.arn = arn(module, `${args.name}/${id}`);
        }
    }
    return { id, state };
}

/** Answers the provider functions the program calls. */
export function mockCall(args: pulumi.runtime.MockCallArgs, ctx: MockContext): Record<string, any> {
    const region = regionOf(args.inputs ?? {}, ctx.region);
    switch (args.token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones": {
            const letters = ["a", "b", "c", "d", "e", "f"];
            return { names: letters.map((l) => `${region}${l}`), zoneIds: letters.map((_, i) => `use1-az${i + 1}`), id: region };
        }
        case "aws:index/getRegion:getRegion":
            return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/operator`, userId: "AIDAOPERATOR", id: MOCK_ACCOUNT_ID };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        default:
            return {};
    }
}

export function createMocks(ctx: MockContext): pulumi.runtime.Mocks {
    return {
        newResource: (args) => mockResource(args, ctx),
        call: (args) => mockCall(args, ctx),
    };
}
