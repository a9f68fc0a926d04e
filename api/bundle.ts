/**
 * Bundles a Lambda entry point with esbuild while the Pulumi program runs, so no build output is committed.
 * The AWS SDK v3 stays external: the Node.js 22 Lambda runtime provides it, which keeps each function small.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { build, buildSync, type BuildOptions } from "esbuild";

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

/** esbuild's failure, naming the entry point (esbuild's own message names only the file it could not resolve). */
function bundleFailed(entry: string, err: unknown): Error {
    const messages = (err as { errors?: { text: string }[] }).errors?.map((e) => e.text).join("; ");
    return new Error(`esbuild could not bundle api/${entry}: ${messages || (err as Error).message || String(err)}`);
}

/** The bundled JavaScript of `entry` (a path relative to api/, e.g. "handlers/createAddress.ts"), built now. */
export function bundleSource(entry: string): string {
    try {
        return buildSync(bundleOptions(entry)).outputFiles[0].text;
    } catch (err) {
        throw bundleFailed(entry, err);
    }
}

/** The same, built in the background: esbuild works in its own process while this one goes on. */
export function bundleSourceAsync(entry: string): Promise<string> {
    return build(bundleOptions(entry)).then(
        (result) => result.outputFiles[0].text,
        (err) => Promise.reject(bundleFailed(entry, err)),
    );
}

/**
 * A Lambda code archive holding the bundle of `entry` as `index.js`, built in the background so that the program
 * goes on declaring resources meanwhile: every preview pays for this.
 */
export function bundleArchive(entry: string): pulumi.Output<pulumi.asset.AssetArchive> {
    return pulumi.output(bundleSourceAsync(entry)).apply((text) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(text) }));
}
