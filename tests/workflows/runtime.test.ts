/**
 * The Pulumi runtime settings users pay on every preview: Pulumi.yaml has Pulumi's Node.js runtime load the program
 * through lib/loadTypeScript.js (esbuild transpiles, nothing type-checks), and the type check runs in CI instead.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const LOADER = path.join(ROOT, "lib/loadTypeScript.js");

describe("Pulumi runtime settings", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { runtime: { name: string; options: Record<string, unknown> } };
    const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { main: string };
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), "cabalmail-runtime-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    const runWithLoader = (program: string, env: Record<string, string> = {}) =>
        spawnSync(process.execPath, ["--require", LOADER, program], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });

    it("Pulumi.yaml has Pulumi's runtime load index.ts through the esbuild loader instead of ts-node", () => {
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, false, "Pulumi would otherwise register ts-node as well");
        assert.equal(project.runtime.options.nodeargs, "--require ./lib/loadTypeScript.js");
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

    it("gives TypeScript line numbers in stack traces with CABALMAIL_SOURCE_MAPS=1", () => {
        const program = path.join(dir, "throws.ts");
        // Type-only lines that esbuild drops, so transpiled and TypeScript line numbers differ.
        writeFileSync(program, "interface A {\n    a: string;\n}\ntype B = A;\n\nfunction fail(): never {\n    throw new Error(\"boom\");\n}\nfail();\n");
        const mapped = runWithLoader(program, { CABALMAIL_SOURCE_MAPS: "1" });
        assert.notEqual(mapped.status, 0);
        assert.match(mapped.stderr, /throws\.ts:7:\d+/);
        const plain = runWithLoader(program, { CABALMAIL_SOURCE_MAPS: "" });
        assert.match(plain.stderr, /Error: boom/);
    });
});
