/**
 * Start-up of the program, the cost every `pulumi preview` and `pulumi up` pays before the engine sees a single
 * resource: wall time from process start to the complete resource graph of Pulumi.prod.yaml, against a minimal
 * one-resource Pulumi program on the same runtime and mocks, measured in the same run, alternating, medians of
 * several runs. Prints both and their ratio (target: at most 1.5×).
 *
 *   npm run bench:startup -- [--runs 7] [--stack prod] [--type-check]
 *
 * Each run is `node <Pulumi.yaml's nodeargs> --require source-map-support/register plan/engine.ts ...`, the offline
 * plan's engine: the program under the project's mocks, loaded the way Pulumi's Node.js runner loads it with this
 * project's settings (lib/pulumiRuntime.js; see README "Fast start-up"). `--type-check` adds a measurement of the
 * same program loaded by ts-node with the root tsconfig.json, type-checked, which is what Pulumi does for a
 * TypeScript project without these settings.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CACHE_ROOT } from "../lib/buildCache";
import { RUNNER_PRELOAD, runtimeNodeArgs } from "../plan/runtime";
import { PROJECT_ROOT, readStackConfig } from "../plan/stackFile";
import type { Plan } from "../plan/types";

const ENGINE = path.join(PROJECT_ROOT, "plan/engine.ts");
const MINIMAL = path.join(__dirname, "minimal/index.ts");
const PROGRAM = path.join(PROJECT_ROOT, "index.ts");

interface Measurement {
    /** From spawning the engine to the complete resource graph (every registration answered). */
    ms: number;
    /** From spawning the engine to its exit, after it has written its plan. */
    exitMs: number;
    customResources: number;
}

function argument(name: string, fallback: string): string {
    const at = process.argv.indexOf(name);
    return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

/** One run: a fresh node process from spawn to exit, its plan checked for completeness. */
function measure(program: string, stack: string, config: Record<string, string>, dir: string, typeCheck: boolean): Promise<Measurement> {
    const request = path.join(dir, "request.json");
    const result = path.join(dir, "plan.json");
    writeFileSync(request, JSON.stringify({ stack, config, program }));
    rmSync(result, { force: true });
    // The type-checked comparison is what Pulumi does for a TypeScript project without this project's settings.
    const loader = [...(typeCheck ? ["-r", "ts-node/register"] : runtimeNodeArgs()), ...RUNNER_PRELOAD];
    const env = typeCheck ? { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json"), TS_NODE_TRANSPILE_ONLY: "" } : process.env;
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn(process.execPath, [...loader, ENGINE, request, result], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("error", reject);
        child.on("exit", (code) => {
            const exitMs = Number(process.hrtime.bigint() - started) / 1e6;
            if (code !== 0) return reject(new Error(`${path.relative(PROJECT_ROOT, program)}: the engine exited ${code}: ${stderr}`));
            const plan = JSON.parse(readFileSync(result, "utf8")) as Plan;
            if (plan.error) return reject(new Error(`${path.relative(PROJECT_ROOT, program)} failed: ${plan.error}`));
            if (!plan.graphCompleteAt) return reject(new Error("the engine did not record when the resource graph was complete"));
            // The engine's clock is this process's: process.hrtime is the machine's monotonic clock.
            const ms = Number(BigInt(plan.graphCompleteAt) - started) / 1e6;
            resolve({ ms, exitMs, customResources: plan.resources.filter((r) => r.custom).length });
        });
    });
}

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
    const runs = Number(argument("--runs", "7"));
    const stack = argument("--stack", "prod");
    const typeCheck = process.argv.includes("--type-check");
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, got ${argument("--runs", "")}`);
    const config = readStackConfig(stack);
    const dir = mkdtempSync(path.join(tmpdir(), "cabalmail-bench-"));
    try {
        // One unmeasured run of each warms the file system cache and keeps the transpiled files and bundles, as a
        // developer's second preview would find them.
        await measure(MINIMAL, stack, config, dir, false);
        await measure(PROGRAM, stack, config, dir, false);
        const minimal: Measurement[] = [];
        const program: Measurement[] = [];
        for (let i = 0; i < runs; i++) {
            minimal.push(await measure(MINIMAL, stack, config, dir, false));
            program.push(await measure(PROGRAM, stack, config, dir, false));
        }
        const base = median(minimal.map((m) => m.ms));
        const full = median(program.map((m) => m.ms));
        const ratio = full / base;
        const show = (ms: number[]) => ms.map((v) => v.toFixed(0)).join(", ");
        console.log(`Start-up to the complete resource graph, Pulumi.${stack}.yaml, ${runs} runs each (node ${process.version}, ${require("os").cpus().length} cores, node ${runtimeNodeArgs().map((a) => path.relative(PROJECT_ROOT, a) || a).join(" ")} + Pulumi runner's source-map-support)`);
        console.log(`  minimal program (${minimal[0].customResources} resource):  median ${base.toFixed(0)} ms  [${show(minimal.map((m) => m.ms))}]`);
        console.log(`  cabalmail program (${program[0].customResources} resources): median ${full.toFixed(0)} ms  [${show(program.map((m) => m.ms))}]`);
        console.log(`  ratio ${ratio.toFixed(2)}× (target ≤ 1.5×): ${ratio <= 1.5 ? "met" : "NOT met"}`);
        const exitBase = median(minimal.map((m) => m.exitMs));
        const exitFull = median(program.map((m) => m.exitMs));
        console.log(`  until the engine exits, its plan written (not part of start-up): minimal ${exitBase.toFixed(0)} ms, cabalmail ${exitFull.toFixed(0)} ms, ratio ${(exitFull / exitBase).toFixed(2)}×`);
        // What a preview after `npm ci` (every CI run) pays: nothing kept, every file transpiled, every Lambda bundled.
        const coldMinimal: number[] = [];
        const coldProgram: number[] = [];
        for (let i = 0; i < Math.min(runs, 3); i++) {
            rmSync(CACHE_ROOT, { recursive: true, force: true });
            coldMinimal.push((await measure(MINIMAL, stack, config, dir, false)).ms);
            rmSync(CACHE_ROOT, { recursive: true, force: true });
            coldProgram.push((await measure(PROGRAM, stack, config, dir, false)).ms);
        }
        const coldRatio = median(coldProgram) / median(coldMinimal);
        console.log(`  first run, nothing kept in ${path.relative(PROJECT_ROOT, CACHE_ROOT)} (after npm ci, as in CI): minimal ${median(coldMinimal).toFixed(0)} ms, cabalmail ${median(coldProgram).toFixed(0)} ms, ratio ${coldRatio.toFixed(2)}×`);
        if (typeCheck) {
            const checked: number[] = [];
            for (let i = 0; i < Math.min(runs, 3); i++) checked.push((await measure(PROGRAM, stack, config, dir, true)).ms);
            console.log(`  cabalmail program type-checked by ts-node (tsconfig.json: Pulumi's default without this project's settings): median ${median(checked).toFixed(0)} ms, ${(median(checked) / base).toFixed(2)}× the minimal program`);
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
