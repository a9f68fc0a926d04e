/**
 * Bundles a Lambda entry point with esbuild while the Pulumi program runs, so no build output is committed.
 * The AWS SDK v3 stays external: the Node.js 22 Lambda runtime provides it, which keeps each function small.
 * The program's bundles are kept between runs (lib/buildCache.js) and built again when a file they were built
 * from, esbuild, the lockfile or tsconfig.json changes.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { BuildOptions } from "esbuild";
import { entryName, hash, readCacheEntry, writeCacheEntry } from "../lib/buildCache";

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** esbuild, loaded only when something has to be bundled. */
const esbuild = (): typeof import("esbuild") => require("esbuild");

/** The handler setting of every bundled function: `index.js` exports `handler`. */
export const BUNDLE_HANDLER = "index.handler";

function bundleOptions(entry: string): BuildOptions & { write: false } {
    return {
        entryPoints: [path.join(__dirname, entry)],
        absWorkingDir: PROJECT_ROOT,
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
        return esbuild().buildSync(bundleOptions(entry)).outputFiles[0].text;
    } catch (err) {
        throw bundleFailed(entry, err);
    }
}

/** A bundle kept from an earlier run: what it was built with, the hash of each file it was built from, its text. */
interface KeptBundle {
    builtWith: string;
    inputs: Record<string, string>;
    text: string;
}

/** A project file's content, or undefined when it does not exist (or cannot be read). */
function readProjectFile(file: string): Buffer | undefined {
    try {
        return readFileSync(path.join(PROJECT_ROOT, file));
    } catch {
        return undefined;
    }
}

/** The hash of a project file's content, each file read once per run (the handlers share most of their files). */
const inputHashes = new Map<string, string>();
function inputHash(file: string): string {
    let known = inputHashes.get(file);
    if (known === undefined) {
        const content = readProjectFile(file);
        known = content === undefined ? "missing" : hash(content);
        inputHashes.set(file, known);
    }
    return known;
}

/** What every bundle is built with besides its own files: esbuild, the locked packages, tsconfig.json. */
let toolchain: string | undefined;

/** What the bundle of `entry` is built with besides its own files: the toolchain and its options. */
function builtWith(entry: string): string {
    // A missing lockfile or tsconfig.json counts as an empty one.
    const read = (file: string) => readProjectFile(file) ?? "";
    toolchain ??= hash(require("esbuild/package.json").version, read("package-lock.json"), read("tsconfig.json"));
    return hash(toolchain, JSON.stringify(bundleOptions(entry)));
}

/** The kept bundle of `entry` if it was built with the same settings from files that are all unchanged. */
function keptBundle(name: string, settings: string): string | undefined {
    const entry = readCacheEntry("bundles", name);
    if (!entry) return undefined;
    try {
        const kept = JSON.parse(entry) as KeptBundle;
        const current = kept.builtWith === settings && Object.entries(kept.inputs).every(([file, was]) => inputHash(file) === was);
        return current ? kept.text : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The bundled JavaScript of `entry`, as bundleSource gives it: kept from an earlier run when nothing it was built
 * from changed, otherwise built in the background (esbuild works in its own process while this one goes on).
 */
export async function bundleSourceAsync(entry: string): Promise<string> {
    const name = `${entryName(entry)}.json`;
    const settings = builtWith(entry);
    const kept = keptBundle(name, settings);
    if (kept !== undefined) return kept;
    let result;
    try {
        result = await esbuild().build({ ...bundleOptions(entry), metafile: true });
    } catch (err) {
        throw bundleFailed(entry, err);
    }
    const text = result.outputFiles[0].text;
    const files = Object.keys(result.metafile.inputs);
    const inputs = Object.fromEntries(files.map((file) => [file, inputHash(file)]));
    writeCacheEntry("bundles", name, JSON.stringify({ builtWith: settings, inputs, text } satisfies KeptBundle));
    return text;
}

/**
 * A Lambda code archive holding the bundle of `entry` as `index.js` (bundleSourceAsync: kept between runs, or built
 * in the background while the program goes on declaring resources).
 */
export function bundleArchive(entry: string): pulumi.Output<pulumi.asset.AssetArchive> {
    return pulumi.output(bundleSourceAsync(entry)).apply((text) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(text) }));
}
