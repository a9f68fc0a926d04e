/**
 * Evaluates generated IAM policy documents with a real IAM policy simulator (@cloud-copilot/iam-simulate), so the
 * tests assert what a role may do, not how its JSON looks.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export const ACCOUNT_ID = "123456789012";

/**
 * The decision for one request by a principal holding exactly `policies` as identity policies. Throws when the
 * simulator rejects the request itself (unknown action, resource type the action does not take, bad context key),
 * so a typo in a test cannot pass as "denied".
 */
export async function decide(
    policies: object[],
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
    principal = `arn:aws:iam::${ACCOUNT_ID}:role/mail-task`,
): Promise<Decision> {
    const result = await runSimulation(
        {
            identityPolicies: policies.map((policy, i) => ({ name: `policy-${i}`, policy: policy as any })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            request: { action, principal, resource: { accountId: ACCOUNT_ID, resource }, contextVariables: context },
        } as any,
        {},
    );
    if (result.resultType === "error") {
        throw new Error(`the simulator rejected ${action} on ${resource}: ${JSON.stringify((result as any).errors)}`);
    }
    return result.overallResult as Decision;
}
