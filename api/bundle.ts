/**
 * Bundles a Lambda entry point with esbuild while the Pulumi program runs, so no build output is committed.
 * The AWS SDK v3 stays external: the Node.js 22 Lambda runtime provides it, which keeps each function small.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { build, buildSync, type BuildOptions, type BuildResult } from "esbuild";

/** The handler setting of every bundled function: `index.js` exports `handler`. */
export const BUNDLE_HANDLER = "index.handler";

function bundleOptions(entry: string): BuildOptions & { write: false } {
    return {
        entryPoints: [path.join(__dirname, entry)],
        bundle: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        external: ["@aws-sdk/*"],
        write: false,
        // Deterministic output: the same source gives the same archive, so an unchanged function is not redeployed.
        legalComments: "none",
        logLevel: "silent",
    };
}

function bundledText(entry: string, result: BuildResult<{ write: false }>): string {
    if (result.errors.length > 0) throw new Error(`esbuild could not bundle api/${entry}: ${result.errors.map((e) => e.text).join("; ")}`);
    return result.outputFiles[0].text;
}

/** The bundled JavaScript of `entry` (a path relative to api/, e.g. "handlers/createAddress.ts"), built now. */
export function bundleSource(entry: string): string {
    return bundledText(entry, buildSync(bundleOptions(entry)));
}

/**
 * A Lambda code archive holding the bundle of `entry` as `index.js`. The bundle is built in the background (esbuild
 * runs in its own process), so the program goes on declaring resources meanwhile: every preview pays for this.
 */
export function bundleArchive(entry: string): pulumi.Output<pulumi.asset.AssetArchive> {
    const source = build(bundleOptions(entry)).then((result) => bundledText(entry, result));
    return pulumi.output(source).apply((text) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(text) }));
}
