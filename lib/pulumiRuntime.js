/**
 * The Node.js runtime settings of the Pulumi program (Pulumi.yaml: `nodeargs: --require ./lib/pulumiRuntime.js`),
 * shared by the offline plan and the start-up benchmark. Every `pulumi preview` and `pulumi up` pays for them.
 *
 * - TypeScript is transpiled by esbuild as each file loads, and kept for the next run (loadTypeScript.js); the
 *   type check runs in CI.
 * - Stack traces have no frames: an error shows its message and a line saying how to get a trace. Pulumi's SDK
 *   takes a stack trace for each of the four promises behind every output property of every resource (about
 *   14,000 for this program), to report them if they leak; taking even one frame for each cost more than a tenth
 *   of a second. Pulumi's record of where each resource was declared is unaffected: it raises the limit for that.
 * - Traces are formatted by V8, not by the source-map-support that Pulumi's runner registers: the transpiled
 *   program has no source maps (only CABALMAIL_DEBUG makes them), so source-map-support would map nothing of the
 *   program's own, at a cost for every frame of every resource's source position (bench/README.md has the numbers).
 *
 * CABALMAIL_DEBUG=1 restores Node's default depth and source-map-support, and maps stack traces to TypeScript lines.
 */
"use strict";
const { runnerSourceMapSupport } = require("./loadTypeScript");

/** Why an error shows no stack trace, at the place its frames would be. */
const NO_STACK_TRACE = "    (no stack trace: they are off for a fast start; run with CABALMAIL_DEBUG=1 for full ones)";

if (process.env.CABALMAIL_DEBUG !== "1") {
    Error.stackTraceLimit = 0;
    const v8Formatter = Error.prepareStackTrace;
    const sourceMapSupport = runnerSourceMapSupport();
    // source-map-support installs its formatter the first time install() is called on its instance; the runner's
    // later `require("source-map-support/register")` then leaves Error.prepareStackTrace alone. The runner's call
    // still installs its handler of uncaught exceptions, as it would without this.
    sourceMapSupport?.install({ handleUncaughtExceptions: false });
    // Traces that do have frames (Pulumi's source positions raise the limit for theirs) are V8's own. The SDK's
    // promise traces are message-less Errors: they share one string instead of making 14,000.
    const plainError = `Error\n${NO_STACK_TRACE}`;
    Error.prepareStackTrace = (error, frames) => {
        if (frames.length > 0 && v8Formatter) return v8Formatter(error, frames);
        const heading = Error.prototype.toString.call(error);
        return heading === "Error" ? plainError : `${heading}\n${NO_STACK_TRACE}`;
    };
}
