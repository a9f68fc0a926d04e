/**
 * The Pulumi runtime settings users pay on every preview: Pulumi.yaml has Pulumi's Node.js runtime load the program
 * through lib/pulumiRuntime.js (esbuild transpiles and the result is kept, nothing type-checks, stack traces have
 * no frames unless CABALMAIL_DEBUG=1), and the type check runs in CI instead.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { parse } from "yaml";
import { CACHE_ROOT, entryName } from "../../lib/buildCache";
import { RUNNER_PRELOAD, runtimeNodeArgs } from "../../plan/runtime";

const ROOT = path.resolve(__dirname, "../..");
const LOADER = path.join(ROOT, "lib/loadTypeScript.js");

describe("Pulumi runtime settings", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { runtime: { name: string; options: Record<string, unknown> } };
    const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { main: string };
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), "cabalmail-runtime-"))));
    after(() => {
        // The loader kept a transpiled copy of each program written here: they go with it.
        for (const file of readdirSync(dir)) rmSync(path.join(CACHE_ROOT, "ts", `${entryName(path.join(dir, file))}.js`), { force: true });
        rmSync(dir, { recursive: true, force: true });
    });

    const runWithLoader = (program: string, env: Record<string, string> = {}) =>
        spawnSync(process.execPath, ["--require", LOADER, program], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
    /** As Pulumi's runner starts a program with this project's nodeargs. */
    const runInRuntime = (program: string, env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [...runtimeNodeArgs(), ...RUNNER_PRELOAD, program], { cwd: ROOT, env: { ...process.env, CABALMAIL_DEBUG: "", ...env }, encoding: "utf8" });
    const frames = (stderr: string) => stderr.split("\n").filter((line) => /^\s+at /.test(line));

    it("Pulumi.yaml has Pulumi's runtime load index.ts through the project's runtime settings instead of ts-node", () => {
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, false, "Pulumi would otherwise register ts-node as well");
        assert.equal(project.runtime.options.nodeargs, "--require ./lib/pulumiRuntime.js");
        assert.equal(packageJson.main, "index.ts");
    });

    it("the loader runs a program with a type error (it transpiles only); ts-node with the root tsconfig refuses it", function () {
        this.timeout(60_000);
        const program = path.join(dir, "typeError.ts");
        writeFileSync(program, 'import type { Plan } from "../plan/types";\nconst answer: number = "not a number" as unknown as number;\nconst wrong: number = "text";\nconsole.log(`ran ${typeof answer} ${typeof wrong}`);\n');
        const fast = runWithLoader(program);
        assert.equal(fast.status, 0, fast.stderr);
        assert.equal(fast.stdout.trim(), "ran string string");
        const checked = spawnSync(process.execPath, ["-r", "ts-node/register", program], { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), TS_NODE_TRANSPILE_ONLY: "" }, encoding: "utf8" });
        assert.notEqual(checked.status, 0);
        assert.match(checked.stderr, /TS2322/);
    });

    it("the type check itself stays strict: the root tsconfig (npm run typecheck) skips nothing", () => {
        const root = ts.parseConfigFileTextToJson("tsconfig.json", readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).config as { compilerOptions: { noCheck?: boolean; strict?: boolean } };
        assert.notEqual(root.compilerOptions.noCheck, true);
        assert.equal(root.compilerOptions.strict, true);
    });

    it("shows no stack frames in the runtime but says how to get them; CABALMAIL_DEBUG=1 gives full, TypeScript-mapped traces", () => {
        const program = path.join(dir, "throws.ts");
        // Type-only lines that esbuild drops, so transpiled and TypeScript line numbers differ.
        writeFileSync(program, "interface A {\n    a: string;\n}\ntype B = A;\n\nfunction fail(): never {\n    throw new Error(\"boom\");\n}\nfunction caller(): void {\n    fail();\n}\ncaller();\n");
        const fast = runInRuntime(program);
        assert.notEqual(fast.status, 0);
        // The hint comes from the runtime's own formatter: the runner's source-map-support, registered after it, did not replace it.
        assert.match(fast.stderr, /Error: boom\n {4}\(no stack trace: they are off for a fast start; run with CABALMAIL_DEBUG=1 for full ones\)/);
        assert.deepEqual(frames(fast.stderr), [], fast.stderr);
        const debug = runInRuntime(program, { CABALMAIL_DEBUG: "1" });
        assert.notEqual(debug.status, 0);
        assert.match(debug.stderr, /at fail .*throws\.ts:7:\d+/);
        assert.match(debug.stderr, /at caller .*throws\.ts:10:\d+/);
        assert.doesNotMatch(debug.stderr, /no stack trace/);
        // The loader alone (the offline plan, the cabalmail command) leaves Node's default depth.
        assert.ok(frames(runWithLoader(program).stderr).length > 2);
    });

    it("under Pulumi's own runner too: its source-map-support leaves the runtime's formatter in place", function () {
        this.timeout(30_000);
        // The runner (@pulumi/pulumi/cmd/run) with a monitor address nothing listens on: it fails before the
        // program runs, and reports the error through the formatter in place.
        const runner = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run");
        const program = path.join(dir, "empty.ts");
        writeFileSync(program, "export {};\n");
        const viaRunner = (env: Record<string, string>) =>
            spawnSync(process.execPath, [...runtimeNodeArgs(), runner, "--monitor=127.0.0.1:1", "--project=p", "--stack=s", program], { cwd: ROOT, env: { ...process.env, CABALMAIL_DEBUG: "", ...env }, encoding: "utf8", timeout: 25_000 });
        const fast = viaRunner({});
        assert.match(fast.stdout + fast.stderr, /failed with an unhandled exception/);
        assert.match(fast.stdout + fast.stderr, /\(no stack trace: they are off for a fast start; run with CABALMAIL_DEBUG=1 for full ones\)/);
        assert.deepEqual(frames(fast.stdout + fast.stderr), []);
        // With CABALMAIL_DEBUG=1 the runner's source-map-support formats full traces, mapped to TypeScript sources.
        const debug = viaRunner({ CABALMAIL_DEBUG: "1" });
        assert.doesNotMatch(debug.stdout + debug.stderr, /no stack trace/);
        assert.ok(frames(debug.stdout + debug.stderr).some((frame) => /\.ts:\d+:\d+/.test(frame)), debug.stdout + debug.stderr);
    });

    it("keeps transpiled files for the next run, and transpiles again a file whose source changed", () => {
        const program = path.join(dir, "cached.ts");
        const entry = path.join(CACHE_ROOT, "ts", `${entryName(program)}.js`);
        rmSync(entry, { force: true });
        writeFileSync(program, "const answer: number = 1;\nconsole.log(`answer ${answer}`);\n");
        assert.equal(runWithLoader(program).stdout.trim(), "answer 1");
        // What the next run loads is the kept file: changed behind the loader's back, its code is what runs.
        const kept = readFileSync(entry, "utf8");
        assert.match(kept, /^\/\/ [0-9a-f]{64}\n/);
        writeFileSync(entry, kept.replace("answer ${answer}", "kept ${answer}"));
        assert.equal(runWithLoader(program).stdout.trim(), "kept 1");
        // A changed source makes the kept file stale.
        writeFileSync(program, "const answer: number = 2;\nconsole.log(`answer ${answer}`);\n");
        assert.equal(runWithLoader(program).stdout.trim(), "answer 2");
        assert.doesNotMatch(readFileSync(entry, "utf8"), /kept/);
        // Without a usable cache, files are still transpiled and run.
        writeFileSync(entry, "not a cache entry");
        assert.equal(runWithLoader(program).stdout.trim(), "answer 2");
    });

    it("Pulumi still records each resource's source position at full depth in the runtime", () => {
        const program = path.join(dir, "positions.ts");
        // A resource declared two calls deep: Pulumi's source position skips its own frames and names this line.
        writeFileSync(
            program,
            [
                'import * as pulumi from "@pulumi/pulumi";',
                "const positions: string[] = [];",
                "pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, \"positions\", \"dev\", false).then(() => {",
                "    const monitor = pulumi.runtime.getMonitor() as any;",
                "    const register = monitor.registerResource.bind(monitor);",
                "    monitor.registerResource = (req: any, cb: any) => {",
                "        const at = req.getSourceposition();",
                "        if (req.getType() === \"test:index:Thing\") positions.push(`${at?.getUri()}:${at?.getLine()}`);",
                "        return register(req, cb);",
                "    };",
                "    class Thing extends pulumi.CustomResource { constructor(name: string) { super(\"test:index:Thing\", name, {}); } }",
                "    const declare = () => new Thing(\"thing\");",
                "    const outer = () => declare();",
                "    outer();",
                "    setTimeout(() => console.log(JSON.stringify(positions)), 200);",
                "});",
            ].join("\n"),
        );
        const positionsIn = (env: Record<string, string>) => {
            const run = runInRuntime(program, { NODE_PATH: path.join(ROOT, "node_modules"), ...env });
            assert.equal(run.status, 0, run.stderr);
            return JSON.parse(run.stdout.trim().split("\n").pop()!) as string[];
        };
        // In the transpiled code (esbuild adds lines for the imports), then mapped back to the TypeScript line.
        const [transpiled] = positionsIn({});
        assert.match(transpiled, /^file:\/\/.*positions\.ts:\d+$/);
        assert.deepEqual(positionsIn({ CABALMAIL_DEBUG: "1" }), [transpiled.replace(/:\d+$/, ":12")]);
    });
});
