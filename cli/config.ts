/**
 * Where the CLI finds the API and the user pool: a small config file (written by `cabalmail configure`), which
 * can be filled from the stack's outputs (`pulumi stack output --json`, run for you, or a saved copy of it).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface CliConfig {
    /** The HTTP API's base URL (stack output `apiUrl`). */
    apiUrl: string;
    /** The Cognito region (stack output `userPoolRegion`). */
    region: string;
    /** Stack output `userPoolId`. */
    userPoolId: string;
    /** The app client to sign in with (stack output `userPoolClientId`). */
    userPoolClientId: string;
    /** Another Cognito endpoint, e.g. a local emulator; normally unset. */
    cognitoEndpoint?: string;
}

export class CliError extends Error {
    constructor(message: string, readonly exitCode = 1) {
        super(message);
        this.name = "CliError";
    }
}

/** `$CABALMAIL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/cabalmail`, else `~/.config/cabalmail`. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.CABALMAIL_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "cabalmail");
}

const CONFIG_FILE = "config.json";

/** The stack output names the program exports (index.ts) and the config field each fills. */
export const STACK_OUTPUTS: Record<keyof Omit<CliConfig, "cognitoEndpoint">, string> = {
    apiUrl: "apiUrl",
    region: "userPoolRegion",
    userPoolId: "userPoolId",
    userPoolClientId: "userPoolClientId",
};

export function configFromStackOutputs(outputs: Record<string, unknown>, source: string): CliConfig {
    const missing = Object.values(STACK_OUTPUTS).filter((key) => typeof outputs[key] !== "string" || !outputs[key]);
    if (missing.length > 0) throw new CliError(`${source} lacks the stack outputs ${missing.join(", ")}; is this the cabalmail stack, deployed with the address API?`);
    return {
        apiUrl: String(outputs[STACK_OUTPUTS.apiUrl]).replace(/\/+$/, ""),
        region: String(outputs[STACK_OUTPUTS.region]),
        userPoolId: String(outputs[STACK_OUTPUTS.userPoolId]),
        userPoolClientId: String(outputs[STACK_OUTPUTS.userPoolClientId]),
    };
}

/** Runs `pulumi stack output --json` in `stackDir` (optionally for `stack`). */
export function readPulumiStackOutputs(stackDir: string, stack?: string): Record<string, unknown> {
    try {
        const out = execFileSync("pulumi", ["stack", "output", "--json", ...(stack ? ["--stack", stack] : [])], { cwd: stackDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return JSON.parse(out);
    } catch (error) {
        const detail = (error as { stderr?: string }).stderr?.trim() || (error instanceof Error ? error.message : String(error));
        throw new CliError(`Could not read the stack's outputs with \`pulumi stack output --json\` in ${stackDir}: ${detail}. Alternatively save them to a file and run: cabalmail configure --from-outputs FILE`);
    }
}

export function loadConfig(configDir: string): CliConfig {
    const path = join(configDir, CONFIG_FILE);
    if (!existsSync(path)) {
        throw new CliError(`cabalmail is not configured yet (no ${path}). Run one of:\n  cabalmail configure --from-stack DIR        (DIR holds the Pulumi project)\n  cabalmail configure --from-outputs FILE     (FILE from: pulumi stack output --json)\n  cabalmail configure --api-url URL --region REGION --user-pool-id ID --client-id ID`);
    }
    let parsed: Partial<CliConfig>;
    try {
        parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
        throw new CliError(`${path} is not valid JSON (${error instanceof Error ? error.message : error}); run cabalmail configure again`);
    }
    for (const key of ["apiUrl", "region", "userPoolId", "userPoolClientId"] as const) {
        if (typeof parsed[key] !== "string" || !parsed[key]) throw new CliError(`${path} has no ${key}; run cabalmail configure again`);
    }
    return parsed as CliConfig;
}

export function saveConfig(configDir: string, config: CliConfig): string {
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    const path = join(configDir, CONFIG_FILE);
    writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    return path;
}

// ── Session: the tokens of the signed-in user, readable by the user alone ──

export interface Session {
    username: string;
    accessToken: string;
    refreshToken?: string;
}

const SESSION_FILE = "session.json";

export function loadSession(configDir: string): Session | undefined {
    const path = join(configDir, SESSION_FILE);
    if (!existsSync(path)) return undefined;
    try {
        return JSON.parse(readFileSync(path, "utf8")) as Session;
    } catch {
        return undefined;
    }
}

export function saveSession(configDir: string, session: Session): void {
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    const path = join(configDir, SESSION_FILE);
    writeFileSync(path, JSON.stringify(session), { mode: 0o600 });
    chmodSync(path, 0o600);
}

export function clearSession(configDir: string): void {
    rmSync(join(configDir, SESSION_FILE), { force: true });
}
