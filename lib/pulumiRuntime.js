/**
 * The Node.js runtime settings of the Pulumi program (Pulumi.yaml: `nodeargs: --require ./lib/pulumiRuntime.js`),
 * shared by the offline plan and the start-up benchmark. Every `pulumi preview` and `pulumi up` pays for them.
 *
 * - TypeScript is transpiled by esbuild as each file loads (loadTypeScript.js); the type check runs in CI.
 * - Stack traces keep one frame. Pulumi's SDK takes a stack trace for each of the four promises behind every output
 *   property of every resource (about 14,000 for this program), to report them if they leak, and Pulumi's runner
 *   source-maps every frame of every one: at Node's default depth of 10 frames that was most of what this program
 *   adds to a minimal one (bench/README.md). Pulumi's source positions of resources do not depend on this: it takes them at full depth.
 *
 * CABALMAIL_DEBUG=1 restores Node's default depth and maps stack traces to TypeScript lines.
 */
"use strict";
require("./loadTypeScript");

if (process.env.CABALMAIL_DEBUG !== "1") Error.stackTraceLimit = 1;
