/** The offline plan, for tests: one child process per scenario (Pulumi's mocks are global to a process). */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../plan/stackFile";
export { runPlan } from "../../plan/run";
export type { Plan, PlannedResource } from "../../plan/types";
import type { Plan, PlannedResource } from "../../plan/types";

/** The resources of one type, e.g. "aws:efs/fileSystem:FileSystem". */
export function ofType(plan: Plan, type: string): PlannedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** The one resource of a type (and name, when given); throws naming what was found otherwise. */
export function only(plan: Plan, type: string, name?: string): PlannedResource {
    const found = ofType(plan, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** The component a resource sits under, walking parents up to the stack. */
export function ancestors(plan: Plan, resource: PlannedResource): PlannedResource[] {
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const chain: PlannedResource[] = [];
    for (let parent = resource.parent && byUrn.get(resource.parent); parent; parent = parent.parent ? byUrn.get(parent.parent) : undefined) chain.push(parent);
    return chain;
}

/** Runs `npm run plan -- ARGS` as its script does (node with the esbuild loader), and collects what it prints. */
export function runPlanCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, ["--require", path.join(PROJECT_ROOT, "lib/loadTypeScript.js"), path.join(PROJECT_ROOT, "plan/cli.ts"), ...args], { cwd: PROJECT_ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });
}
