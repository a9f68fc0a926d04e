/**
 * The Pulumi runtime settings users pay on every preview: Pulumi.yaml points the Node.js runtime at
 * tsconfig.pulumi.json, whose noCheck Pulumi reads as ts-node's transpileOnly (the type check runs in CI instead).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");

describe("Pulumi runtime settings", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { runtime: { name: string; options: Record<string, unknown> } };

    it("Pulumi.yaml runs TypeScript through tsconfig.pulumi.json", () => {
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, true);
        assert.equal(project.runtime.options.tsconfig, "tsconfig.pulumi.json");
    });

    it("tsconfig.pulumi.json sets noCheck in its own compilerOptions, where Pulumi's runtime looks for it", () => {
        const file = path.join(ROOT, String(project.runtime.options.tsconfig));
        // Pulumi reads the file's own compilerOptions (no `extends` resolution) to decide transpileOnly.
        const own = ts.parseConfigFileTextToJson(file, readFileSync(file, "utf8")).config as { extends?: string; compilerOptions?: { noCheck?: boolean } };
        assert.equal(own.compilerOptions?.noCheck, true);
        assert.equal(own.extends, "./tsconfig.json");
        // The type check itself stays strict: the root tsconfig (npm run typecheck) does not skip it.
        const root = ts.parseConfigFileTextToJson("tsconfig.json", readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).config as { compilerOptions: { noCheck?: boolean; strict?: boolean } };
        assert.notEqual(root.compilerOptions.noCheck, true);
        assert.equal(root.compilerOptions.strict, true);
    });

    it("ts-node with that project runs a program with a type error (transpiles only); with the root tsconfig it refuses", function () {
        this.timeout(60_000);
        const dir = mkdtempSync(path.join(tmpdir(), "cabalmail-runtime-"));
        try {
            const program = path.join(dir, "typeError.ts");
            writeFileSync(program, 'const answer: number = "not a number";\nconsole.log(`ran ${typeof answer}`);\n');
            const run = (tsconfig: string) => spawnSync(process.execPath, ["-r", "ts-node/register", program], { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, tsconfig), TS_NODE_TRANSPILE_ONLY: "" }, encoding: "utf8" });
            const fast = run("tsconfig.pulumi.json");
            assert.equal(fast.status, 0, fast.stderr);
            assert.equal(fast.stdout.trim(), "ran string");
            const checked = run("tsconfig.json");
            assert.notEqual(checked.status, 0);
            assert.match(checked.stderr, /TS2322/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
