/** The mail images build from the repository root: .dockerignore must keep out the bulk and keep in what they copy. */
import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { MAIL_TIER_NAMES } from "../../lib/mailTiers";

const ROOT = path.resolve(__dirname, "../..");
const ignored = readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));

/** Whether a root-relative path falls under a .dockerignore entry (top-level names and `*.ext` only, as used here). */
function isIgnored(file: string): boolean {
    const top = file.split("/")[0];
    return ignored.some((entry) => (entry.startsWith("*.") ? !file.includes("/") && file.endsWith(entry.slice(1)) : top === entry));
}

describe("the mail images' build context", () => {
    it("leaves out node_modules and the repository's history", () => {
        assert.ok(isIgnored("node_modules/esbuild/package.json"));
        assert.ok(isIgnored(".git/HEAD"));
    });

    for (const tier of MAIL_TIER_NAMES) {
        it(`keeps every file mail/${tier}/Dockerfile copies from the context`, () => {
            const dockerfile = readFileSync(path.join(ROOT, "mail", tier, "Dockerfile"), "utf8");
            const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
            assert.ok(sources.length > 0, "the Dockerfile copies something");
            for (const source of sources) {
                const file = source.replace(/\/$/, "");
                assert.ok(existsSync(path.join(ROOT, file)), `${file} exists`);
                assert.ok(!isIgnored(file), `${file} is excluded by .dockerignore`);
            }
        });
    }
});
