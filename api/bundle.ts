/**
 * Bundles a Lambda entry point with esbuild while the Pulumi program runs, so no build output is committed.
 * The AWS SDK v3 stays external: the Node.js 22 Lambda runtime provides it, which keeps each function small.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";

/** The handler setting of every bundled function: `index.js` exports `handler`. */
export const BUNDLE_HANDLER = "index.handler";

const bundles = new Map<string, string>();

/** The bundled JavaScript of `entry` (a path relative to api/, e.g. "handlers/createAddress.ts"). */
export function bundleSource(entry: string): string {
    const cached = bundles.get(entry);
    if (cached !== undefined) return cached;
    const result = buildSync({
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
    });
    if (result.errors.length > 0) throw new Error(`esbuild could not bundle api/${entry}: ${result.errors.map((e) => e.text).join("; ")}`);
    const source = result.outputFiles[0].text;
    bundles.set(entry, source);
    return source;
}

/** A Lambda code archive holding the bundle as `index.js`. */
export function bundleArchive(entry: string): pulumi.asset.AssetArchive {
    return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleSource(entry)) });
}
