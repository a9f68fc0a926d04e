/**
 * How Pulumi's Node.js runtime starts this program, for the benchmark and tests that must start it the same way:
 * `node <Pulumi.yaml's nodeargs> <Pulumi's runner> <program>`.
 */
import * as path from "node:path";
import { PROJECT_ROOT, readProjectFile } from "./stackFile";

/** The node arguments Pulumi's runtime starts this program with (Pulumi.yaml runtime.options.nodeargs), paths absolute. */
export function runtimeNodeArgs(): string[] {
    const runtime = (readProjectFile() as { runtime?: { options?: { nodeargs?: string } } }).runtime;
    const nodeargs = runtime?.options?.nodeargs;
    if (!nodeargs) throw new Error("Pulumi.yaml sets no runtime.options.nodeargs: the program's runtime settings live there");
    return nodeargs.split(/\s+/).map((arg) => (arg.startsWith("./") ? path.join(PROJECT_ROOT, arg) : arg));
}

/**
 * What Pulumi's runner (@pulumi/pulumi/cmd/run) loads after the nodeargs and before any program: it registers
 * source-map-support, which from then on formats every stack trace, including the ones the SDK takes for each
 * resource. Resolved by its package.json: under ts-node, `source-map-support` itself resolves to ts-node's fork.
 */
export const RUNNER_PRELOAD = [
    "--require",
    path.join(path.dirname(require.resolve("source-map-support/package.json", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] })), "register.js"),
];
