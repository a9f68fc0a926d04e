/**
 * The rules of rules.ts as @pulumi/policy policies. Kept apart from index.ts, which constructs the PolicyPack (and
 * with it a gRPC server), so that tests and the offline plan can load these policies without serving anything.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RULES, type ResourceUnderReview, type Rule } from "./rules";

function fromResourceArgs(args: ResourceValidationArgs): ResourceUnderReview {
    return { type: args.type, name: args.name, urn: args.urn, props: args.props, protect: args.opts?.protect === true };
}

function fromPolicyResource(resource: PolicyResource): ResourceUnderReview {
    return { type: resource.type, name: resource.name, urn: resource.urn, props: resource.props, protect: resource.opts?.protect === true };
}

/** One rule as a CrossGuard policy, mandatory: a violation stops `pulumi preview` and `pulumi up`. */
export function toCrossGuardPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    const info = { name: rule.name, description: rule.description, remediationSteps: rule.remediationSteps, enforcementLevel: "mandatory" as const };
    if (rule.kind === "resource") {
        return {
            ...info,
            validateResource: (args, reportViolation) => {
                if (!rule.resourceTypes.includes(args.type)) return;
                for (const message of rule.validateResource(fromResourceArgs(args))) reportViolation(message);
            },
        };
    }
    return {
        ...info,
        validateStack: (args, reportViolation) => {
            for (const violation of rule.validateStack(args.resources.map(fromPolicyResource))) reportViolation(violation.message, violation.urn);
        },
    };
}

/** Every rule as a CrossGuard policy. */
export function crossGuardPolicies(): (ResourceValidationPolicy | StackValidationPolicy)[] {
    return RULES.map(toCrossGuardPolicy);
}
