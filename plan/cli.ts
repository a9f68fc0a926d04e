/**
 * `npm run plan`: what `pulumi up` would create, without an AWS account or the Pulumi CLI. Runs the program under
 * the project's mocks for a stack file and prints the resource tree with the settings that matter.
 *
 *   npm run plan                                   # Pulumi.prod.yaml
 *   npm run plan -- --stack dev --config backup=false
 *   npm run plan -- --json
 *   npm run plan -- --usage mailGb=50 --compare-cabalmail
 *
 * Besides the tree it prints the estimated monthly cost (plan/cost.ts) and the violations of the policy pack
 * (policy/, run in-process by plan/policies.ts); a violation makes the command exit 2, as a mandatory policy stops
 * `pulumi preview`.
 */
import { Command, InvalidArgumentError } from "commander";
import { cabalmailStyle, estimateCost, parseUsage, renderCost } from "./cost";
import { checkPolicies, renderViolations } from "./policies";
import { runPlan } from "./run";
import { settingsOf } from "./settings";
import type { Plan, PlannedResource } from "./types";

function collectConfig(pair: string, previous: Record<string, string>): Record<string, string> {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`"${pair}" is not key=value; write e.g. --config backup=true`);
    return { ...previous, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}

/** The resource tree as text: one line per resource, children indented under their parent. */
export function renderTree(plan: Plan): string {
    const children = new Map<string | undefined, PlannedResource[]>();
    for (const r of plan.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const lines: string[] = [];
    const walk = (resource: PlannedResource, prefix: string, last: boolean, root: boolean) => {
        const settings = settingsOf(resource);
        const flags = [resource.protect ? "PROTECTED" : "", resource.retainOnDelete ? "retain-on-delete" : ""].filter(Boolean);
        const head = `${resource.type} ${resource.name}${flags.length ? `  [${flags.join(", ")}]` : ""}`;
        lines.push(root ? head : `${prefix}${last ? "└─ " : "├─ "}${head}`);
        const inner = root ? "" : `${prefix}${last ? "   " : "│  "}`;
        const kids = (children.get(resource.urn) ?? []).sort((a, b) => Number(b.custom === false) - Number(a.custom === false) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
        for (const setting of settings) lines.push(`${inner}${kids.length ? "│ " : "  "}    ${setting}`);
        kids.forEach((kid, i) => walk(kid, inner, i === kids.length - 1, false));
    };
    for (const root of children.get(undefined) ?? []) walk(root, "", true, true);
    return lines.join("\n");
}

export function renderSummary(plan: Plan): string {
    const custom = plan.resources.filter((r) => r.custom);
    const protectedOnes = plan.resources.filter((r) => r.protect);
    const outputs = Object.entries(plan.outputs).map(([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    return [
        `Stack ${plan.stack} (${plan.config["aws:region"] ?? "no region"}): ${custom.length} resources in ${plan.resources.length - custom.length} components; protected: ${protectedOnes.map((r) => `${r.type} ${r.name}`).join(", ") || "none"}`,
        "",
        renderTree(plan),
        "",
        "Outputs:",
        ...outputs,
    ].join("\n");
}

async function main(argv: string[]): Promise<number> {
    const program = new Command()
        .name("npm run plan --")
        .description("Print what `pulumi up` would create for a stack, from its Pulumi.<stack>.yaml, offline, under mocks.")
        .option("--stack <name>", "the stack whose Pulumi.<name>.yaml is read", "prod")
        .option("--config <key=value>", "override a config key, as `pulumi config set` takes it (repeatable)", collectConfig, {})
        .option("--json", "print the plan as JSON")
        .option("--usage <key=value>", "override a usage assumption of the cost estimate, e.g. mailGb=50 (repeatable)", collectConfig, {})
        .option("--compare-cabalmail", "also price a Cabalmail-style deployment (one ECS host, two NAT instances, a load balancer) of the same stack")
        .parse(argv);
    const options = program.opts<{ stack: string; config: Record<string, string>; json?: boolean; usage: Record<string, string>; compareCabalmail?: boolean }>();
    let usage: ReturnType<typeof parseUsage>;
    try {
        usage = parseUsage(options.usage);
    } catch (error) {
        throw new InvalidArgumentError(`--usage: ${(error as Error).message}`);
    }
    const plan = await runPlan({ stack: options.stack, config: options.config });
    const stackRegion = plan.config["aws:region"];
    const cost = plan.error ? undefined : estimateCost(plan.resources, { usage, stackRegion });
    const cabalmail = cost && options.compareCabalmail ? estimateCost(cabalmailStyle(plan.resources), { usage, stackRegion }) : undefined;
    const policyViolations = plan.error ? [] : await checkPolicies(plan);
    if (options.json) process.stdout.write(`${JSON.stringify({ ...plan, cost, ...(cabalmail ? { cabalmailStyleCost: cabalmail } : {}), policyViolations }, null, 2)}\n`);
    else if (!plan.error) {
        process.stdout.write(`${renderSummary(plan)}\n\n${renderCost(cost!)}\n`);
        if (cabalmail) process.stdout.write(`\nCabalmail-style deployment of the same stack (one m6g.medium ECS host, two NAT instances, a load balancer):\n${renderCost(cabalmail)}\n`);
        process.stdout.write(`\n${renderViolations(policyViolations)}\n`);
    }
    if (plan.error) {
        process.stderr.write(`error: ${plan.error}\n`);
        return 1;
    }
    return policyViolations.length > 0 ? 2 : 0;
}

if (require.main === module) {
    main(process.argv).then(
        // Exit only once stdout is flushed: into a pipe, process.exit would cut a large --json plan at 64 KiB.
        (code) => process.stdout.write("", () => process.exit(code)),
        (error) => {
            process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
            process.exit(1);
        },
    );
}
