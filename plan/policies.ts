/**
 * Runs the CrossGuard pack's policies (policy/crossGuard.ts: the very functions `pulumi preview --policy-pack
 * policy` runs) in-process over an offline plan, the way the Pulumi engine hands resources to a policy pack:
 * resource policies see each custom resource's inputs and options, stack policies see every resource's outputs.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { crossGuardPolicies } from "../policy/crossGuard";
import type { Plan, PlannedResource } from "./types";

export interface PolicyViolation {
    /** The policy's name, e.g. "efs-encrypted". */
    policy: string;
    /** The offending resource, when the violation is about one. */
    urn?: string;
    type?: string;
    name?: string;
    message: string;
    /** How to fix it, from the policy. */
    remediation?: string;
}

class NotApplicable extends Error {}

const noConfig = <T extends object>() => ({}) as T;
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

function options(resource: PlannedResource) {
    return {
        protect: resource.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: resource.parent,
    };
}

function resourceArgs(resource: PlannedResource): ResourceValidationArgs {
    return {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        props: resource.inputs,
        opts: options(resource),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: noConfig,
        notApplicable,
    };
}

function stackArgs(plan: Plan): StackValidationArgs {
    const byUrn = new Map<string, PolicyResource>();
    for (const r of plan.resources) {
        byUrn.set(r.urn, {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: r.outputs,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        } as PolicyResource);
    }
    for (const r of plan.resources) {
        const policyResource = byUrn.get(r.urn)!;
        policyResource.parent = r.parent ? byUrn.get(r.parent) : undefined;
        policyResource.dependencies = r.dependsOn.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
    }
    return { resources: [...byUrn.values()], stackTags: new Map(), getConfig: noConfig, notApplicable };
}

/** Every violation of the pack's policies in a plan; none for a compliant one. */
export async function checkPolicies(plan: Plan, policies = crossGuardPolicies()): Promise<PolicyViolation[]> {
    const violations: PolicyViolation[] = [];
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const record = (policy: ResourceValidationPolicy | StackValidationPolicy, message: string, urn?: string) => {
        const resource = urn ? byUrn.get(urn) : undefined;
        violations.push({ policy: policy.name, urn, type: resource?.type, name: resource?.name, message, remediation: policy.remediationSteps });
    };
    // A policy that calls notApplicable() skips that resource (or the stack), as in CrossGuard.
    const run = async (check: () => void | Promise<void>) => {
        try {
            await check();
        } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
        }
    };
    for (const policy of policies) {
        if ("validateStack" in policy) {
            await run(() => policy.validateStack(stackArgs(plan), (message, urn) => record(policy, message, urn)));
            continue;
        }
        const validations = [policy.validateResource ?? []].flat();
        // The engine sends custom resources to resource policies; components carry no cloud settings.
        for (const resource of plan.resources.filter((r) => r.custom)) {
            for (const validate of validations) await run(() => validate(resourceArgs(resource), (message) => record(policy, message, resource.urn)));
        }
    }
    return violations;
}

/** Violations as text lines for `npm run plan`. */
export function renderViolations(violations: PolicyViolation[]): string {
    if (violations.length === 0) return "Policies: no violations.";
    return [
        `Policies: ${violations.length} violation${violations.length === 1 ? "" : "s"} (mandatory: \`pulumi preview --policy-pack policy\` would fail):`,
        ...violations.map((v) => `  [${v.policy}] ${v.type ? `${v.type} ${v.name}: ` : ""}${v.message}${v.remediation ? `\n      fix: ${v.remediation}` : ""}`),
    ].join("\n");
}
