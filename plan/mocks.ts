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

/**
 * Stands in for tls.PrivateKey (the DKIM key) under mocks: a fixed RSA public key, so that plans are the same from
 * run to run and the DKIM record can be checked as a real key. The private half was thrown away: a mock has none.
 */
const MOCK_RSA_KEY = {
    privateKeyPem: "-----BEGIN RSA PRIVATE KEY-----\n(mock: no private key)\n-----END RSA PRIVATE KEY-----\n",
    publicKeyPem: [
        "-----BEGIN PUBLIC KEY-----",
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA66478WGwflrpN4G2w43X",
        "9eMes5p1yb11Vl/WhtQMzJCDlNvj+s62p5WpjhV7P/mWv4b2Bk7YybHWrJmzHsFK",
        "GIVCDU0nufGHISlrmcKebJ/JDMLd02eRvPK5vZatymJaajzCFIQ/ZrPdAvY1SGaJ",
        "SFULxhnJMTwZxex9kMpza6U4OerR5i8ggGcWch+gIiAH1Z5ydC7cLogtn9VkPOOV",
        "hlQrMc9YjxLOwa08XHpElnH7KAHQ2cEA6Qa8i1y3y0AchKg0YiVB6c82+gAA6Fb7",
        "ZnkSPe6b56Xe7KVxlCRmLbp6Pw45R0gCxKfztSmlqEkQMJniCNRtCf63jM3+CPAi",
        "swIDAQAB",
        "-----END PUBLIC KEY-----",
    ].join("\n") + "\n",
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
        // ── Mail server (MailServer, MailDns, MailCertificate) ──
        case "aws:route53/zone:Zone": {
            const zoneId = `Z${hash.toUpperCase().slice(0, 13)}`;
            const ns = (i: number) => `ns-${parseInt(hash.slice(i * 3, i * 3 + 3), 16) % 2048}.awsdns-${String(i * 17 % 64).padStart(2, "0")}`;
            return { id: zoneId, state: { ...state, zoneId, arn: `arn:aws:route53:::hostedzone/${zoneId}`, nameServers: [`${ns(0)}.com`, `${ns(1)}.net`, `${ns(2)}.org`, `${ns(3)}.co.uk`] } };
        }
        case "aws:route53/record:Record": {
            const fqdn = String(inputs.name ?? "").replace(/\.$/, "");
            return { id: `${inputs.zoneId}_${fqdn}_${inputs.type}`, state: { ...state, fqdn } };
        }
        case "aws:acm/certificate:Certificate": {
            const names: string[] = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])];
            const certArn = arn("acm", `certificate/${shortHash(args.name, 8)}-${shortHash(`${args.name}1`, 4)}-${shortHash(`${args.name}2`, 4)}-${shortHash(`${args.name}3`, 4)}-${shortHash(`${args.name}4`, 12)}`);
            const domainValidationOptions = [...names].sort().map((domainName) => ({
                domainName,
                resourceRecordName: `_${shortHash(`${domainName}-n`, 32)}.${domainName}.`,
                resourceRecordType: "CNAME",
                resourceRecordValue: `_${shortHash(`${domainName}-v`, 32)}.xlfgrmvvlj.acm-validations.aws.`,
            }));
            return { id: certArn, state: { ...state, arn: certArn, domainValidationOptions, status: "PENDING_VALIDATION" } };
        }
        case "aws:acm/certificateValidation:CertificateValidation":
            Object.assign(state, { certificateArn: inputs.certificateArn });
            break;
        case "aws:lb/loadBalancer:LoadBalancer": {
            const lbName = inputs.name ?? `${args.name}-${hash.slice(0, 7)}`.slice(0, 32);
            const kind = inputs.loadBalancerType === "network" ? "net" : "app";
            const lbArn = arn("elasticloadbalancing", `loadbalancer/${kind}/${lbName}/${hash.slice(0, 16)}`);
            return { id: lbArn, state: { ...state, name: lbName, arn: lbArn, arnSuffix: `${kind}/${lbName}/${hash.slice(0, 16)}`, dnsName: `${lbName}-${hash.slice(0, 16)}.elb.${region}.amazonaws.com`, zoneId: "Z26RNL4JYFTOTI" } };
        }
        case "aws:lb/targetGroup:TargetGroup": {
            const tgName = inputs.name ?? `${args.name}-${hash.slice(0, 7)}`.slice(0, 32);
            const tgArn = arn("elasticloadbalancing", `targetgroup/${tgName}/${hash.slice(0, 16)}`);
            return { id: tgArn, state: { ...state, name: tgName, arn: tgArn, arnSuffix: `targetgroup/${tgName}/${hash.slice(0, 16)}` } };
        }
        case "aws:lb/listener:Listener": {
            const listenerArn = arn("elasticloadbalancing", `listener/net/${args.name}/${hash.slice(0, 16)}/${hash.slice(1, 17)}`);
            return { id: listenerArn, state: { ...state, arn: listenerArn } };
        }
        case "aws:ecs/cluster:Cluster":
            return { id: arn("ecs", `cluster/${physicalName}`), state: { ...state, name: physicalName, arn: arn("ecs", `cluster/${physicalName}`) } };
        case "aws:ecs/taskDefinition:TaskDefinition":
            Object.assign(state, { arn: arn("ecs", `task-definition/${inputs.family}:1`), arnWithoutRevision: arn("ecs", `task-definition/${inputs.family}`), revision: 1 });
            break;
        case "aws:ecs/service:Service":
            Object.assign(state, { name: physicalName, arn: arn("ecs", `service/${physicalName}`) });
            break;
        case "aws:cloudwatch/logGroup:LogGroup":
            Object.assign(state, { name: physicalName, arn: arn("logs", `log-group:${physicalName}`) });
            break;
        case "aws:ecr/repository:Repository":
            Object.assign(state, { name: physicalName, arn: arn("ecr", `repository/${physicalName}`), registryId: MOCK_ACCOUNT_ID, repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${physicalName}` });
            break;
        case "awsx:ecr:Image":
            Object.assign(state, { imageUri: `${inputs.repositoryUrl}@sha256:${createHash("sha256").update(args.name).digest("hex")}` });
            break;
        case "aws:secretsmanager/secret:Secret": {
            const secretName = inputs.name ?? physicalName;
            const secretArn = arn("secretsmanager", `secret:${secretName}-${hash.slice(0, 6)}`);
            return { id: secretArn, state: { ...state, name: secretName, arn: secretArn } };
        }
        case "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
            return { id: `ns-${hash.slice(0, 16)}`, state: { ...state, arn: arn("servicediscovery", `namespace/ns-${hash.slice(0, 16)}`), hostedZone: `Z${hash.toUpperCase().slice(0, 13)}` } };
        case "aws:servicediscovery/service:Service":
            return { id: `srv-${hash.slice(0, 16)}`, state: { ...state, arn: arn("servicediscovery", `service/srv-${hash.slice(0, 16)}`) } };
        case "aws:sesv2/emailIdentity:EmailIdentity":
            Object.assign(state, {
                arn: arn("ses", `identity/${inputs.emailIdentity}`),
                identityType: "DOMAIN",
                dkimSigningAttributes: { tokens: [0, 1, 2].map((i) => shortHash(`${inputs.emailIdentity}-dkim-${i}`, 32)), status: "PENDING", signingAttributesOrigin: "AWS_SES" },
            });
            break;
        case "aws:iam/user:User":
            Object.assign(state, { name: physicalName, arn: arn("iam", `user${inputs.path ?? "/"}${physicalName}`, false), uniqueId: `AIDA${hash.toUpperCase()}` });
            break;
        case "aws:iam/accessKey:AccessKey":
            return { id: `AKIA${hash.toUpperCase().slice(0, 16)}`, state: { ...state, secret: "mock-secret-access-key", sesSmtpPasswordV4: "mock-ses-smtp-password" } };
        // ── Identity and AddressApi (Cognito, API Gateway HTTP API, Lambda) ──
        case "aws:cognito/userPool:UserPool": {
            const poolId = `${region}_${createHash("sha256").update(args.name).digest("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 9)}`;
            return { id: poolId, state: { ...state, arn: arn("cognito-idp", `userpool/${poolId}`), endpoint: `cognito-idp.${region}.amazonaws.com/${poolId}` } };
        }
        case "aws:cognito/userPoolClient:UserPoolClient":
            return { id: shortHash(args.name, 26), state };
        case "aws:cognito/userGroup:UserGroup":
            return { id: `${inputs.userPoolId}/${inputs.name}`, state };
        case "aws:lambda/function:Function": {
            const fnName = inputs.name ?? physicalName;
            const fnArn = arn("lambda", `function:${fnName}`);
            return { id: fnName, state: { ...state, name: fnName, arn: fnArn, qualifiedArn: `${fnArn}:$LATEST`, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations` } };
        }
        case "aws:apigatewayv2/api:Api": {
            const apiId = shortHash(args.name, 10);
            return { id: apiId, state: { ...state, arn: `arn:aws:apigateway:${region}::/apis/${apiId}`, apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`, executionArn: arn("execute-api", apiId) } };
        }
        case "aws:apigatewayv2/stage:Stage":
            return { id: String(inputs.name), state: { ...state, invokeUrl: `https://${inputs.apiId}.execute-api.${region}.amazonaws.com/`, arn: `arn:aws:apigateway:${region}::/apis/${inputs.apiId}/stages/${inputs.name}` } };
        case "aws:apigatewayv2/authorizer:Authorizer":
        case "aws:apigatewayv2/integration:Integration":
        case "aws:apigatewayv2/route:Route":
            return { id: shortHash(`${args.type}::${args.name}`, 7), state };
        case "tls:index/privateKey:PrivateKey":
            Object.assign(state, { privateKeyPem: MOCK_RSA_KEY.privateKeyPem, publicKeyPem: MOCK_RSA_KEY.publicKeyPem });
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
