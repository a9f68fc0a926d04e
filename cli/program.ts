/** The `cabalmail` command: configure, sign up, sign in, and manage addresses and (for admins) users. */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import type { AddressItem } from "../lib/address";
import { ApiClient } from "./apiClient";
import { disableTotp, enableTotp, type Prompt, revokeSession, signIn, signUp } from "./auth";
import {
    CliError,
    type CliConfig,
    clearSession,
    configFromStackOutputs,
    defaultConfigDir,
    loadConfig,
    loadSession,
    readPulumiStackOutputs,
    saveConfig,
    saveSession,
} from "./config";

/** What the program touches outside itself; tests pass their own. */
export interface CliEnvironment {
    configDir: string;
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    prompt: Prompt;
    fetch?: typeof fetch;
    readStackOutputs?: (stackDir: string, stack?: string) => Record<string, unknown>;
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
}

function addressTable(addresses: AddressItem[], withOwner: boolean): string {
    if (addresses.length === 0) return "No addresses.";
    const header = ["ADDRESS", "STATUS", "CREATED", ...(withOwner ? ["USER"] : []), "COMMENT"];
    return table([header, ...addresses.map((a) => [a.address, a.status, a.createdAt.slice(0, 10), ...(withOwner ? [a.user] : []), a.comment])]);
}

export function buildProgram(env: CliEnvironment): Command {
    const program = new Command("cabalmail")
        .description("Create, list, suspend, reinstate and revoke your Cabalmail addresses; administrators also approve and disable users.")
        .configureOutput({ writeOut: (s) => env.stdout(s.replace(/\n$/, "")), writeErr: (s) => env.stderr(s.replace(/\n$/, "")) })
        .exitOverride();

    const config = (): CliConfig => loadConfig(env.configDir);
    const api = () => new ApiClient(config(), env.configDir, env.fetch);
    const print = (text: string) => env.stdout(text);

    program
        .command("configure")
        .description("Say where the API and the user pool are: from the stack's outputs, or given one by one.")
        .option("--from-stack <dir>", "read `pulumi stack output --json` in this Pulumi project directory")
        .option("--stack <name>", "with --from-stack: the stack name")
        .option("--from-outputs <file>", "read a file saved from `pulumi stack output --json`")
        .option("--api-url <url>", "the API's URL (stack output apiUrl)")
        .option("--region <region>", "the user pool's region (stack output userPoolRegion)")
        .option("--user-pool-id <id>", "stack output userPoolId")
        .option("--client-id <id>", "stack output userPoolClientId")
        .addOption(new Option("--cognito-endpoint <url>", "another Cognito endpoint (testing)").hideHelp())
        .action((options) => {
            let next: CliConfig;
            if (options.fromStack) next = configFromStackOutputs((env.readStackOutputs ?? readPulumiStackOutputs)(options.fromStack, options.stack), `The stack in ${options.fromStack}`);
            else if (options.fromOutputs) {
                let outputs: Record<string, unknown>;
                try {
                    outputs = JSON.parse(readFileSync(options.fromOutputs, "utf8"));
                } catch (error) {
                    throw new CliError(`Cannot read stack outputs from ${options.fromOutputs}: ${error instanceof Error ? error.message : error}`);
                }
                next = configFromStackOutputs(outputs, options.fromOutputs);
            } else {
                const missing = [["--api-url", options.apiUrl], ["--region", options.region], ["--user-pool-id", options.userPoolId], ["--client-id", options.clientId]].filter(([, v]) => !v).map(([k]) => k);
                if (missing.length > 0) throw new CliError(`Give --from-stack DIR, --from-outputs FILE, or all of --api-url, --region, --user-pool-id and --client-id (missing: ${missing.join(", ")})`, 2);
                next = { apiUrl: options.apiUrl.replace(/\/+$/, ""), region: options.region, userPoolId: options.userPoolId, userPoolClientId: options.clientId };
            }
            if (options.cognitoEndpoint) next.cognitoEndpoint = options.cognitoEndpoint;
            print(`Saved ${saveConfig(env.configDir, next)}: API ${next.apiUrl}, user pool ${next.userPoolId}.`);
        });

    program
        .command("signup")
        .description("Ask for an account; an administrator approves it before you can sign in.")
        .requiredOption("--username <name>", "your user name (also your mailbox name): lower-case letters, digits, . _ -")
        .requiredOption("--email <address>", "where you can be reached (not a Cabalmail address)")
        .option("--invitation-code <code>", "the code the operator gave you, if the pool asks for one")
        .action(async (options) => {
            const password = await env.prompt("Choose a password: ", { secret: true });
            if ((await env.prompt("Repeat it: ", { secret: true })) !== password) throw new CliError("The passwords differ; nothing was sent.");
            await signUp(config(), options.username, password, options.email, options.invitationCode);
            print(`Signed up as ${options.username}. An administrator must approve the account before you can sign in.`);
        });

    program
        .command("login")
        .description("Sign in; the session is kept in the config directory, readable by you alone.")
        .option("--username <name>", "your user name (asked for when omitted)")
        .action(async (options) => {
            const username = options.username ?? (await env.prompt("User name: ")).trim();
            const password = await env.prompt("Password: ", { secret: true });
            saveSession(env.configDir, await signIn(config(), username, password, env.prompt));
            print(`Signed in as ${username}.`);
        });

    program
        .command("logout")
        .description("Sign out: forget the session and revoke its refresh token.")
        .action(async () => {
            const session = loadSession(env.configDir);
            if (session) await revokeSession(config(), session);
            clearSession(env.configDir);
            print("Signed out.");
        });

    const mfa = program.command("mfa").description("One-time codes (TOTP) at sign-in.");
    mfa.command("enable").description("Require a code from an authenticator app at every sign-in.").action(async () => {
        await enableTotp(config(), await api().session(), env.prompt, print);
        print("TOTP is on: sign-ins now ask for a code.");
    });
    mfa.command("disable").description("Stop asking for a code at sign-in.").action(async () => {
        await disableTotp(config(), await api().session());
        print("TOTP is off.");
    });

    const address = program.command("address").description("Your addresses.");
    address
        .command("new")
        .description("Create an address and print it.")
        .argument("[address]", "local@subdomain.domain, on one of the mail domains")
        .option("--random", "make up a random local part and subdomain")
        .option("--domain <domain>", "with --random: the mail domain (default: the first)")
        .requiredOption("--comment <text>", "whom the address is for, e.g. \"Acme Inc. newsletter\"")
        .action(async (wanted: string | undefined, options) => {
            if (!wanted && !options.random) throw new CliError("Give an address (e.g. cabalmail address new shop@acme.example.com --comment Acme) or --random.", 2);
            if (wanted && options.random) throw new CliError("Give either an address or --random, not both.", 2);
            if (options.domain && !options.random) throw new CliError("--domain goes with --random; otherwise the domain is part of the address.", 2);
            const body = options.random ? { random: true, ...(options.domain ? { domain: options.domain } : {}), comment: options.comment } : { address: wanted, comment: options.comment };
            const result = await api().request<{ address: AddressItem }>("POST", "/addresses", body);
            print(result.address.address);
        });
    address
        .command("list")
        .description("List your addresses (administrators: --all for everyone's).")
        .option("--domain <domain>", "only this mail domain")
        .option("--search <text>", "only addresses or comments containing this text")
        .option("--all", "every user's addresses (administrators)")
        .option("--user <name>", "with --all: only this user's")
        .option("--json", "print JSON")
        .action(async (options) => {
            const query = new URLSearchParams();
            if (options.domain) query.set("domain", options.domain);
            if (options.search) query.set("search", options.search);
            if (options.user) query.set("user", options.user);
            const path = `${options.all ? "/admin/addresses" : "/addresses"}${query.size ? `?${query}` : ""}`;
            const result = await api().request<{ addresses: AddressItem[] }>("GET", path);
            print(options.json ? JSON.stringify(result.addresses, null, 2) : addressTable(result.addresses, Boolean(options.all)));
        });
    const change = (verb: "suspend" | "reinstate" | "revoke", description: string, done: string) =>
        address
            .command(verb)
            .description(description)
            .argument("<address>", "the address")
            .action(async (target: string) => {
                const path = `/addresses/${encodeURIComponent(target.trim().toLowerCase())}`;
                if (verb === "revoke") await api().request("DELETE", path);
                else await api().request("POST", `${path}/${verb}`);
                print(`${target.trim().toLowerCase()} ${done}`);
            });
    change("suspend", "Refuse mail to the address and withdraw its DNS, until reinstated.", "is suspended: mail to it is refused.");
    change("reinstate", "Accept mail to a suspended address again.", "is active again.");
    change("revoke", "Delete the address for good: mail is refused and its DNS removed.", "is revoked.");

    const user = program.command("user").description("Users (administrators).");
    user
        .command("list")
        .description("List users; UNCONFIRMED ones wait for approval.")
        .option("--json", "print JSON")
        .action(async (options) => {
            const result = await api().request<{ users: { username: string; email?: string; status?: string; enabled: boolean; admin: boolean }[] }>("GET", "/admin/users");
            if (options.json) return print(JSON.stringify(result.users, null, 2));
            const describe = (u: (typeof result.users)[number]) => (!u.enabled ? "disabled" : u.status === "UNCONFIRMED" ? "waiting for approval" : "active");
            print(table([["USER", "STATE", "ADMIN", "EMAIL"], ...result.users.map((u) => [u.username, describe(u), u.admin ? "yes" : "", u.email ?? ""])]));
        });
    user.command("approve").description("Approve (or re-enable) a user.").argument("<username>").action(async (name: string) => {
        await api().request("POST", `/admin/users/${encodeURIComponent(name)}/approve`);
        print(`${name} is approved and can sign in.`);
    });
    user.command("disable").description("Disable a user: they can no longer sign in.").argument("<username>").action(async (name: string) => {
        await api().request("POST", `/admin/users/${encodeURIComponent(name)}/disable`);
        print(`${name} is disabled.`);
    });

    return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], env: Partial<CliEnvironment> & Pick<CliEnvironment, "prompt">): Promise<number> {
    const full: CliEnvironment = {
        configDir: env.configDir ?? defaultConfigDir(),
        stdout: env.stdout ?? ((text) => process.stdout.write(`${text}\n`)),
        stderr: env.stderr ?? ((text) => process.stderr.write(`${text}\n`)),
        prompt: env.prompt,
        fetch: env.fetch,
        readStackOutputs: env.readStackOutputs,
    };
    try {
        await buildProgram(full).parseAsync(argv, { from: "user" });
        return 0;
    } catch (error) {
        if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
        if (error instanceof CliError) {
            full.stderr(error.message);
            return error.exitCode;
        }
        full.stderr(`Unexpected error: ${error instanceof Error ? error.message : error}`);
        return 1;
    }
}
