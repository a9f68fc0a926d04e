/**
 * Loads TypeScript for the Pulumi program (through pulumiRuntime.js), the offline plan, the start-up benchmark and
 * the `cabalmail` command: each `.ts` file is transpiled by esbuild as it is required. Every `pulumi preview` pays
 * the program's start-up, and ts-node costs several times more: it starts the TypeScript compiler, and its
 * source-map hook maps the stack traces Pulumi takes for every resource. Types are checked once per change
 * instead, by `npm run typecheck` in CI.
 *
 * Transpiled files are kept in node_modules/.cache/cabalmail/ts (buildCache.js), one per source file, and used
 * again while the source and esbuild are unchanged: a second preview transpiles only what was edited and does not
 * start esbuild.
 *
 * Stack traces point into the transpiled code. For TypeScript line numbers, at some cost per resource, set
 * CABALMAIL_DEBUG=1 (nothing is kept then: the source maps are made as the files load).
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { hash, entryName, readCacheEntry, writeCacheEntry } = require("./buildCache");

const ESBUILD_VERSION = require("esbuild/package.json").version;
const TRANSFORM_OPTIONS = { loader: "ts", format: "cjs", target: "node20" };

/** The source-map-support that Pulumi's runner registers (its own copy, as @pulumi/pulumi resolves it), if installed. */
function runnerSourceMapSupport() {
    try {
        const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
        return require(require.resolve("source-map-support", { paths: [pulumiDir] }));
    } catch {
        return undefined;
    }
}

/** Source maps of the files transpiled so far, by file name, when CABALMAIL_DEBUG=1. */
const sourceMaps = process.env.CABALMAIL_DEBUG === "1" ? new Map() : undefined;
if (sourceMaps) {
    // Pulumi's runner registers source-map-support, which formats every stack trace and ignores Node's own source
    // maps: hand it ours, on the instance the runner loads. Where nothing registers it, it is registered here.
    runnerSourceMapSupport()?.install({
        retrieveSourceMap: (source) => (sourceMaps.has(source) ? { url: source, map: sourceMaps.get(source) } : null),
    });
}

/** esbuild, loaded only when a file has to be transpiled. */
let esbuild;
const transform = (source, options) => (esbuild ??= require("esbuild")).transformSync(source, { ...TRANSFORM_OPTIONS, ...options });

/** The transpiled code of `filename`: kept from an earlier run when made from this source by this esbuild, otherwise made now and kept. */
function transpiled(filename, source) {
    const name = `${entryName(filename)}.js`;
    // The first line names what the entry was made from; a changed source, esbuild or option makes it stale.
    const header = `// ${hash(ESBUILD_VERSION, JSON.stringify(TRANSFORM_OPTIONS), source)}\n`;
    const cached = readCacheEntry("ts", name);
    if (cached?.startsWith(header)) return cached.slice(header.length);
    const { code } = transform(source, { sourcefile: filename });
    writeCacheEntry("ts", name, header + code);
    return code;
}

require.extensions[".ts"] = (module, filename) => {
    const source = fs.readFileSync(filename, "utf8");
    if (sourceMaps) {
        const { code, map } = transform(source, { sourcefile: filename, sourcemap: "external" });
        sourceMaps.set(filename, map);
        return module._compile(code, filename);
    }
    module._compile(transpiled(filename, source), filename);
};

module.exports = { runnerSourceMapSupport };
