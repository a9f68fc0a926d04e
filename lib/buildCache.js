/**
 * Build outputs kept between runs of the program, in node_modules/.cache/cabalmail/<kind>/: the TypeScript that
 * loadTypeScript.js transpiles and the Lambda bundles of api/bundle.ts. Every `pulumi preview` pays for building
 * them; kept, a second preview rebuilds only what changed. One entry per source (named by a hash of what it is
 * built from), each holding what its caller needs to tell whether it is still current. Not in the tree: node_modules
 * is ignored, and a clean `npm ci` starts afresh.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const CACHE_ROOT = path.join(__dirname, "..", "node_modules", ".cache", "cabalmail");

/** SHA-256 of the parts (strings or buffers), in hex: what an entry was made from. */
function hash(...parts) {
    const digest = crypto.createHash("sha256");
    for (const part of parts) digest.update(part).update("\0");
    return digest.digest("hex");
}

/** A short stable name for a cache entry: the hash of what it is the output of. */
const entryName = (...parts) => hash(...parts).slice(0, 32);

const entryPath = (kind, name) => path.join(CACHE_ROOT, kind, name);

/** The text stored under kind/name, or undefined. */
function readCacheEntry(kind, name) {
    try {
        return fs.readFileSync(entryPath(kind, name), "utf8");
    } catch {
        return undefined;
    }
}

/**
 * Stores `text` under kind/name, written whole under a temporary name and renamed, so that a concurrent run reads
 * the old entry or the new one, never half of one. Where node_modules cannot be written (a read-only checkout),
 * nothing is kept and every run builds, as without a cache.
 */
function writeCacheEntry(kind, name, text) {
    const file = entryPath(kind, name);
    const partial = `${file}.${process.pid}.tmp`;
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(partial, text);
        fs.renameSync(partial, file);
    } catch {
        fs.rmSync(partial, { force: true });
    }
}

module.exports = { CACHE_ROOT, hash, entryName, readCacheEntry, writeCacheEntry };
