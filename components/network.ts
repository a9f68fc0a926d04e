import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of the Network component. */
export interface NetworkArgs {
    /** How many availability zones the VPC spans: one public and one private subnet in each. At least 2. */
    availabilityZoneCount: number;
    /**
     * Give the private subnets a NAT gateway (one, in the first zone, with an Elastic IP as a fixed source
     * address). Defaults to false: a NAT gateway costs more than the rest of a small mail stack.
     */
    natGateway?: boolean;
    /** The VPC's address range, a /16. Defaults to 10.0.0.0/16; subnets are /20 slices of it. */
    cidrBlock?: string;
}

const DEFAULTS = { natGateway: false, cidrBlock: "10.0.0.0/16" };

/**
 * The VPC the mail system runs in: public and private subnets across availability zones, free gateway endpoints
 * for DynamoDB and S3 (address lookups and image layers stay off the internet), and the security group that marks
 * a task as a mail tier (the mail store admits NFS only from it).
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly vpcCidrBlock: pulumi.Output<string>;
    public readonly availabilityZones: pulumi.Output<string[]>;
    /** One per availability zone, in zone order. */
    public readonly publicSubnets: aws.ec2.Subnet[];
    public readonly privateSubnets: aws.ec2.Subnet[];
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Attached to every mail task that mounts the mail store. */
    public readonly mailTierSecurityGroupId: pulumi.Output<string>;
    public readonly natGateway: boolean;
    /** The NAT gateway's public addresses (empty without one): outbound mail's fixed source, for SPF and reverse DNS. */
    public readonly natPublicIps: pulumi.Output<string[]>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:Network", name, {}, opts);
        const { availabilityZoneCount, natGateway, cidrBlock } = { ...DEFAULTS, ...args };
        if (!Number.isInteger(availabilityZoneCount) || availabilityZoneCount < 2) {
            throw new Error(`Network ${name}: availabilityZoneCount must be a whole number of at least 2, got ${availabilityZoneCount}`);
        }
        const cidr = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(cidrBlock);
        if (!cidr) throw new Error(`Network ${name}: cidrBlock must be a /16 such as 10.0.0.0/16, got ${cidrBlock}`);
        if (availabilityZoneCount > 8) throw new Error(`Network ${name}: availabilityZoneCount must be at most 8, got ${availabilityZoneCount}`);
        const slice = (n: number) => `${cidr[1]}.${cidr[2]}.${n * 16}.0/20`;
        const child = { parent: this };

        const zones = aws.getAvailabilityZonesOutput({ state: "available" }, child).names.apply((names) => {
            if (names.length < availabilityZoneCount) {
                throw new Error(`Network ${name}: availabilityZoneCount is ${availabilityZoneCount}, but the region has only ${names.length} zones`);
            }
            return names.slice(0, availabilityZoneCount);
        });

        const vpc = new aws.ec2.Vpc(name, { cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } }, child);
        const internetGateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: name } }, child);

        const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, {
            vpcId: vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
            tags: { Name: `${name}-public` },
        }, child);

        // One subnet of a kind per zone, each associated with the kind's route table. Public subnets take the first
        // eight /20 slices, private ones the next eight.
        const subnetsPerZone = (kind: "public" | "private", firstSlice: number, routeTable: aws.ec2.RouteTable) =>
            [...Array(availabilityZoneCount).keys()].map((i) => {
                const subnetName = `${name}-${kind}-${i}`;
                const subnet = new aws.ec2.Subnet(subnetName, {
                    vpcId: vpc.id,
                    cidrBlock: slice(firstSlice + i),
                    availabilityZone: zones[i],
                    mapPublicIpOnLaunch: false,
                    tags: { Name: subnetName, tier: kind },
                }, child);
                new aws.ec2.RouteTableAssociation(subnetName, { subnetId: subnet.id, routeTableId: routeTable.id }, child);
                return subnet;
            });
        this.publicSubnets = subnetsPerZone("public", 0, publicRoutes);

        let natRoutes: aws.types.input.ec2.RouteTableRoute[] = [];
        let natPublicIps: pulumi.Output<string[]> = pulumi.output([]);
        if (natGateway) {
            const natAddress = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: { Name: `${name}-nat` } }, child);
            const nat = new aws.ec2.NatGateway(`${name}-nat`, {
                allocationId: natAddress.id,
                subnetId: this.publicSubnets[0].id,
                tags: { Name: `${name}-nat` },
            }, { parent: this, dependsOn: [internetGateway] });
            natRoutes = [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }];
            natPublicIps = natAddress.publicIp.apply((ip) => [ip]);
        }
        const privateRoutes = new aws.ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: natRoutes, tags: { Name: `${name}-private` } }, child);
        this.privateSubnets = subnetsPerZone("private", 8, privateRoutes);

        // Gateway endpoints cost nothing and keep DynamoDB lookups and ECR image layers (S3) off the internet.
        const region = aws.getRegionOutput({}, child).region;
        for (const service of ["dynamodb", "s3"]) {
            new aws.ec2.VpcEndpoint(`${name}-${service}`, {
                vpcId: vpc.id,
                serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
                vpcEndpointType: "Gateway",
                routeTableIds: [publicRoutes.id, privateRoutes.id],
                tags: { Name: `${name}-${service}` },
            }, child);
        }

        const mailTier = new aws.ec2.SecurityGroup(`${name}-mail-tier`, {
            vpcId: vpc.id,
            description: "Mail tier tasks: the mail store admits NFS only from this group",
            egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Outbound mail, AWS APIs and image pulls" }],
            tags: { Name: `${name}-mail-tier` },
        }, child);

        this.vpcId = vpc.id;
        this.vpcCidrBlock = vpc.cidrBlock;
        this.availabilityZones = zones;
        this.publicSubnetIds = pulumi.all(this.publicSubnets.map((s) => s.id));
        this.privateSubnetIds = pulumi.all(this.privateSubnets.map((s) => s.id));
        this.mailTierSecurityGroupId = mailTier.id;
        this.natGateway = natGateway;
        this.natPublicIps = natPublicIps;
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            mailTierSecurityGroupId: this.mailTierSecurityGroupId,
        });
    }
}
