/** The offline plan, for tests: one child process per scenario (Pulumi's mocks are global to a process). */
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
