/**
 * Loads TypeScript for the Pulumi program (through pulumiRuntime.js), the offline plan, the start-up benchmark and
 * the `cabalmail` command: each `.ts` file is transpiled by esbuild as it is required. Every `pulumi preview` pays
 * the program's start-up, and ts-node costs several times more: it starts the TypeScript compiler, and its
 * source-map hook maps the stack traces Pulumi takes for every resource. Types are checked once per change
 * instead, by `npm run typecheck` in CI.
 *
 * Stack traces point into the transpiled code. For TypeScript line numbers, at some cost per resource, set
 * CABALMAIL_DEBUG=1.
 */
"use strict";
const path = require("node:path");
const { readFileSync } = require("node:fs");
const { transformSync } = require("esbuild");

/** Source maps of the files transpiled so far, by file name, when CABALMAIL_DEBUG=1. */
const sourceMaps = process.env.CABALMAIL_DEBUG === "1" ? new Map() : undefined;
if (sourceMaps) {
    // Pulumi's runner registers source-map-support, which formats every stack trace and ignores Node's own source
    // maps: hand it ours, on the instance the runner loads. Where nothing registers it, it is registered here.
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    require(require.resolve("source-map-support", { paths: [pulumiDir] })).install({
        retrieveSourceMap: (source) => (sourceMaps.has(source) ? { url: source, map: sourceMaps.get(source) } : null),
    });
}

require.extensions[".ts"] = (module, filename) => {
    const { code, map } = transformSync(readFileSync(filename, "utf8"), {
        loader: "ts",
        format: "cjs",
        target: "node20",
        sourcefile: filename,
        sourcemap: sourceMaps ? "external" : false,
    });
    if (sourceMaps) sourceMaps.set(filename, map);
    module._compile(code, filename);
};
