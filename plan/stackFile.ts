/**
 * Reads a stack's config the way the Pulumi CLI hands it to the program: `Pulumi.<stack>.yaml` values over the
 * defaults declared in Pulumi.yaml, every value a string (lists and objects as JSON), keys namespaced
 * (`cabalmail:backup`, `aws:region`).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

interface ProjectFile {
    name: string;
    config?: Record<string, { type?: string; description?: string; default?: unknown; items?: unknown } | unknown>;
}

export function readProjectFile(root = PROJECT_ROOT): ProjectFile {
    return parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The stack's config as the program sees it. `overrides` are `key=value` pairs as `pulumi config set` takes them. */
export function readStackConfig(stack: string, overrides: Record<string, string> = {}, root = PROJECT_ROOT): Record<string, string> {
    const project = readProjectFile(root);
    const namespaced = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const config: Record<string, string> = {};
    for (const [key, spec] of Object.entries(project.config ?? {})) {
        const declared = spec && typeof spec === "object" && "default" in spec ? (spec as { default: unknown }).default : undefined;
        if (declared !== undefined) config[namespaced(key)] = asConfigString(declared);
    }
    const stackPath = path.join(root, `Pulumi.${stack}.yaml`);
    let stackFile: { config?: Record<string, unknown> };
    try {
        stackFile = (parse(readFileSync(stackPath, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read: ${(error as Error).message}`;
        throw new Error(`Stack file ${path.relative(process.cwd(), stackPath) || stackPath} ${reason}. Create it with pulumi stack init ${stack}, or pass --stack with one of the Pulumi.<stack>.yaml files.`);
    }
    for (const [key, value] of Object.entries(stackFile.config ?? {})) {
        if (value !== null && value !== undefined) config[namespaced(key)] = asConfigString(value);
    }
    for (const [key, value] of Object.entries(overrides)) config[namespaced(key)] = value;
    return config;
}
