/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack policy` (and `pulumi up --policy-pack policy`).
 * Constructing the PolicyPack starts the analyzer's gRPC server, so nothing else imports this file: tests and
 * `npm run plan` use the same policies through policy/crossGuard.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { crossGuardPolicies } from "./crossGuard";

new PolicyPack("cabalmail-guardrails", {
    description: "What the Cabalmail stack must never lose or expose: encrypted, recoverable mail and addresses, locked backups, NFS for the mail tiers only, only mail ports on the internet, no IAM wildcards on data.",
    enforcementLevel: "mandatory",
    policies: crossGuardPolicies(),
});
