/** Synthetic plans for policy and cost tests: resources built by hand, in the shape the plan engine records. */
import type { Plan, PlannedResource } from "../../plan/types";

export interface SyntheticOptions {
    protect?: boolean;
    /** Outputs beyond the inputs (ids, ARNs) that a provider would compute. */
    outputs?: Record<string, any>;
    parent?: string;
    dependsOn?: string[];
}

export function resource(type: string, name: string, inputs: Record<string, any>, options: SyntheticOptions = {}): PlannedResource {
    return {
        urn: `urn:pulumi:test::cabalmail::${type}::${name}`,
        type,
        name,
        parent: options.parent,
        custom: true,
        protect: options.protect ?? false,
        retainOnDelete: false,
        dependsOn: options.dependsOn ?? [],
        inputs,
        outputs: { ...inputs, ...(options.outputs ?? {}) },
    };
}

export function planOf(resources: PlannedResource[], config: Record<string, string> = { "aws:region": "us-east-1" }): Plan {
    return { stack: "test", config, resources, outputs: {} };
}
