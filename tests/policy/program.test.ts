/**
 * The policy pack against the program itself: the stacks comply, and the program's own resources, broken one
 * setting at a time, are caught. Also: the pack's entry point wires every rule in as mandatory, compiles the way
 * Pulumi's policy runner compiles it, and copes with values unknown during a preview.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as ts from "typescript";
import type { PolicyPackArgs, PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { checkPolicies } from "../../plan/policies";
import { crossGuardPolicies } from "../../policy/crossGuard";
import { RULES } from "../../policy/rules";
import { runPlan, type Plan, type PlannedResource } from "../support/plan";

function clone(plan: Plan): Plan {
    return JSON.parse(JSON.stringify(plan));
}

function first(plan: Plan, type: string): PlannedResource {
    const found = plan.resources.find((r) => r.type === type);
    if (!found) throw new Error(`the plan has no ${type}`);
    return found;
}

describe("policy pack on the program", function () {
    let prod: Plan;
    before(async () => {
        prod = await runPlan({ stack: "prod" });
        assert.equal(prod.error, undefined);
    });

    it("Pulumi.prod.yaml complies with every policy", async () => {
        assert.deepEqual(await checkPolicies(prod), []);
    });

    it("complies without backups and with a NAT gateway too", async () => {
        const plan = await runPlan({ stack: "prod", config: { backup: "false", natGateway: "true", protectData: "false" } });
        assert.equal(plan.error, undefined);
        assert.deepEqual(await checkPolicies(plan), []);
    });

    it("catches the program's own resources broken one setting at a time", async () => {
        const cases: [string, (plan: Plan) => void][] = [
            ["efs-encrypted", (p) => { first(p, "aws:efs/fileSystem:FileSystem").inputs.encrypted = false; }],
            ["dynamodb-encrypted", (p) => { first(p, "aws:dynamodb/table:Table").inputs.serverSideEncryption = { enabled: false }; }],
            ["address-table-recoverable", (p) => { first(p, "aws:dynamodb/table:Table").inputs.pointInTimeRecovery = { enabled: false }; }],
            ["address-table-recoverable", (p) => { delete first(p, "aws:dynamodb/table:Table").inputs.deletionProtectionEnabled; }],
            ["backup-vault-protected", (p) => { first(p, "aws:backup/vault:Vault").protect = false; }],
            ["backup-vault-locked", (p) => { p.resources = p.resources.filter((r) => r.type !== "aws:backup/vaultLockConfiguration:VaultLockConfiguration"); }],
            ["nfs-only-from-mail-tiers", (p) => {
                const group = p.resources.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && JSON.stringify(r.inputs.ingress ?? []).includes("2049"));
                assert.ok(group, "the mail store's NFS security group");
                group.inputs.ingress[0].cidrBlocks = ["10.0.0.0/16"];
            }],
            ["internet-mail-ports-only", (p) => {
                const group = first(p, "aws:ec2/securityGroup:SecurityGroup");
                group.inputs.ingress = [...(group.inputs.ingress ?? []), { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }];
            }],
            ["iam-no-wildcards-on-data", (p) => {
                const policy = first(p, "aws:efs/fileSystemPolicy:FileSystemPolicy");
                const document = JSON.parse(policy.inputs.policy);
                document.Statement[0].Action = "elasticfilesystem:*";
                policy.inputs.policy = JSON.stringify(document);
            }],
        ];
        for (const [policy, breakIt] of cases) {
            const broken = clone(prod);
            breakIt(broken);
            const found = await checkPolicies(broken);
            assert.deepEqual([...new Set(found.map((v) => v.policy))], [policy], `${policy}: ${JSON.stringify(found)}`);
        }
    });
});

describe("policy pack entry point", () => {
    it("policy/index.ts builds one mandatory PolicyPack with every rule", () => {
        // Stand in for @pulumi/policy so that constructing the pack starts no analyzer server.
        const constructed: { name: string; args: PolicyPackArgs }[] = [];
        const policyModule = require.resolve("@pulumi/policy");
        const entry = require.resolve("../../policy/index");
        const saved = require.cache[policyModule];
        require.cache[policyModule] = { id: policyModule, filename: policyModule, loaded: true, exports: { PolicyPack: class { constructor(name: string, args: PolicyPackArgs) { constructed.push({ name, args }); } } } } as unknown as NodeModule;
        try {
            delete require.cache[entry];
            require(entry);
        } finally {
            if (saved) require.cache[policyModule] = saved;
            else delete require.cache[policyModule];
            delete require.cache[entry];
        }
        assert.equal(constructed.length, 1);
        const [{ name, args }] = constructed;
        assert.equal(name, "cabalmail-guardrails");
        assert.equal(args.enforcementLevel, "mandatory");
        assert.deepEqual(args.policies.map((p) => p.name), RULES.map((r) => r.name));
        assert.ok(args.policies.every((p) => p.enforcementLevel === "mandatory"));
    });

    it("type-checks with the options Pulumi's policy runner gives ts-node (no tsconfig in policy/)", function () {
        this.timeout(120_000);
        const root = path.resolve(__dirname, "../../policy");
        // cmd/run-policy-pack registers ts-node with type checking, target ES2020 and module nodenext when the pack
        // folder has no tsconfig.json; it reports errors of the pack's own files.
        const program = ts.createProgram([path.join(root, "index.ts")], { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
        const ownErrors = program
            .getSourceFiles()
            .filter((file) => file.fileName.startsWith(root))
            .flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)])
            .map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
        assert.deepEqual(ownErrors, []);
        assert.ok(program.getSourceFiles().some((file) => file.fileName.endsWith("policy/rules.ts")));
    });

    it("a resource policy still sees the known parts of a rule whose source group is unknown during a preview", async () => {
        const unknownSentinel = { unknownTypeSentinel: "1b47061264138c4ac30d75fd1eb44270" };
        const ruleWithUnknownGroup = new Proxy({ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] } as Record<string, unknown>, {
            get: (target, key) => {
                if (key === "securityGroups") throw Object.assign(new Error("can't be known during preview"), unknownSentinel);
                return target[key as string];
            },
        });
        const internet = crossGuardPolicies().find((p) => p.name === "internet-mail-ports-only") as ResourceValidationPolicy;
        const reported: string[] = [];
        const args = { type: "aws:ec2/securityGroup:SecurityGroup", name: "ssh", urn: "urn:ssh", props: { ingress: [ruleWithUnknownGroup] }, opts: { protect: false } } as unknown as ResourceValidationArgs;
        for (const validate of [internet.validateResource ?? []].flat()) await validate(args, (message) => reported.push(message));
        assert.equal(reported.length, 1);
        assert.match(reported[0], /opens tcp 22 to the internet/);
    });

    it("a stack policy skips values unknown during a preview instead of failing the stack", async () => {
        const unknownName = new Proxy({}, {
            get: (_target, key) => {
                if (key === "name") throw Object.assign(new Error("can't be known during preview"), { unknownTypeSentinel: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
                return undefined;
            },
        });
        const vaultResource = { type: "aws:backup/vault:Vault", name: "v", urn: "urn:v", props: unknownName, opts: { protect: true } } as unknown as PolicyResource;
        const locked = crossGuardPolicies().find((p) => p.name === "backup-vault-locked") as StackValidationPolicy;
        const reported: string[] = [];
        await locked.validateStack({ resources: [vaultResource], stackTags: new Map(), getConfig: () => ({}) as never, notApplicable: () => { throw new Error("n/a"); } }, (message) => reported.push(message));
        assert.deepEqual(reported, []);
    });
});
