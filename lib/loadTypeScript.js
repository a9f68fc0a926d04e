/**
 * Loads the program's TypeScript in Pulumi's Node.js runtime (Pulumi.yaml: `nodeargs: --require
 * ./lib/loadTypeScript.js`), in the offline plan and in the start-up benchmark: each `.ts` file is transpiled by
 * esbuild as it is required. Every `pulumi preview` pays the program's start-up, and ts-node costs several times
 * more: it starts the TypeScript compiler, and its source-map hook maps the full stack trace Pulumi captures for
 * every resource. Types are checked once per change instead, by `npm run typecheck` in CI.
 *
 * Stack traces point into the transpiled code. For TypeScript line numbers, at some cost per resource, set
 * CABALMAIL_SOURCE_MAPS=1.
 */
"use strict";
const { readFileSync } = require("node:fs");
const { transformSync } = require("esbuild");

const sourceMaps = process.env.CABALMAIL_SOURCE_MAPS === "1";
if (sourceMaps) process.setSourceMapsEnabled(true);

require.extensions[".ts"] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, "utf8"), {
        loader: "ts",
        format: "cjs",
        target: "node20",
        sourcefile: filename,
        sourcemap: sourceMaps ? "inline" : false,
    });
    module._compile(code, filename);
};
