/**
 * Runs the program under mocks in a child process (see engine.ts) and returns its plan. The program runs with the
 * node arguments Pulumi.yaml gives Pulumi's runtime (lib/pulumiRuntime.js: esbuild-transpiled, no stack frames).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runtimeNodeArgs } from "./runtime";
import { PROJECT_ROOT, readStackConfig } from "./stackFile";
import type { Plan } from "./types";

export interface PlanOptions {
    /** Stack name: its config comes from Pulumi.<stack>.yaml. Defaults to "prod". */
    stack?: string;
    /** Config overrides, `key` or `namespace:key` → value, as `pulumi config set` takes them. */
    config?: Record<string, string>;
}

/** The plan for a stack, or the program's failure in `plan.error`. Rejects only if the engine itself breaks. */
export async function runPlan(options: PlanOptions = {}): Promise<Plan> {
    const stack = options.stack ?? "prod";
    const config = readStackConfig(stack, options.config);
    const dir = mkdtempSync(path.join(tmpdir(), "cabalmail-plan-"));
    try {
        const requestFile = path.join(dir, "request.json");
        const resultFile = path.join(dir, "plan.json");
        writeFileSync(requestFile, JSON.stringify({ stack, config, program: path.join(PROJECT_ROOT, "index.ts") }));
        const engineError = await new Promise<string | undefined>((resolve) => {
            execFile(
                process.execPath,
                [...runtimeNodeArgs(), path.join(__dirname, "engine.ts"), requestFile, resultFile],
                { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 },
                (error, _stdout, stderr) => resolve(error ? stderr || error.message : undefined),
            );
        });
        // The result file is the engine's answer. A failed program also makes Pulumi's runtime complain on exit
        // about promises it left pending; that noise is not the error.
        if (!existsSync(resultFile)) throw new Error(`the plan engine failed: ${engineError}`);
        // The moment the graph was complete is for bench/startup.ts; a printed plan stays the same from run to run.
        const { graphCompleteAt: _, ...plan } = JSON.parse(readFileSync(resultFile, "utf8")) as Plan;
        return plan;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
