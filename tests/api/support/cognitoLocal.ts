/**
 * cognito-local (the Cognito API, offline) in a child process on loopback, with its Lambda triggers served by
 * a small in-process stand-in for the Lambda Invoke API, so the real pre-sign-up handler runs on sign-up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    CognitoIdentityProviderClient,
    CreateGroupCommand,
    CreateUserPoolClientCommand,
    CreateUserPoolCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { freePort } from "./ports";

export type TriggerHandler = (event: any) => Promise<unknown>;

export interface LocalCognito {
    endpoint: string;
    client: CognitoIdentityProviderClient;
    userPoolId: string;
    clientId: string;
    issuer: string;
    jwks(): Promise<{ keys: Record<string, unknown>[] }>;
    stop(): Promise<void>;
}

/** Answers `POST /2015-03-31/functions/<name>/invocations` as Lambda does, including function errors. */
async function startLambdaStandIn(triggers: Record<string, TriggerHandler>): Promise<{ server: Server; endpoint: string }> {
    const server = createServer(async (request, response) => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(request.url ?? "")?.[1] ?? "");
        const handler = triggers[name];
        if (!handler) {
            response.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException" });
            return response.end(JSON.stringify({ message: `Function not found: ${name}` }));
        }
        try {
            const result = await handler(JSON.parse(Buffer.concat(chunks).toString("utf8")));
            response.writeHead(200, { "content-type": "application/json" });
            response.end(JSON.stringify(result));
        } catch (error) {
            response.writeHead(200, { "content-type": "application/json", "x-amz-function-error": "Unhandled" });
            response.end(JSON.stringify({ errorType: "Error", errorMessage: error instanceof Error ? error.message : String(error) }));
        }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
    return { server, endpoint: `http://127.0.0.1:${port}` };
}

export async function startCognitoLocal(options: { triggers?: Record<string, TriggerHandler>; preSignUp?: string } = {}): Promise<LocalCognito> {
    const lambda = await startLambdaStandIn(options.triggers ?? {});
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "cabal-cognito-"));
    mkdirSync(join(dir, ".cognito"));
    writeFileSync(
        join(dir, ".cognito", "config.json"),
        JSON.stringify({
            LambdaClient: { endpoint: lambda.endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } },
            TriggerFunctions: options.preSignUp ? { PreSignUp: options.preSignUp } : {},
            // User names, not e-mail addresses, sign in: they are also the mailbox names.
            UserPoolDefaults: { UsernameAttributes: [] },
            TokenConfig: { IssuerDomain: `http://127.0.0.1:${port}` },
            ServerConfig: { hostname: "127.0.0.1", port },
        }),
    );
    const child: ChildProcess = spawn(process.execPath, [require.resolve("cognito-local/lib/bin/start.js")], {
        cwd: dir,
        env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cognito-local did not start within 30 s:\n${output}`)), 30_000);
        const onData = (data: Buffer) => {
            output += data.toString();
            if (output.includes("Cognito Local running")) {
                clearTimeout(timer);
                resolve();
            }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`cognito-local exited with ${code}:\n${output}`));
        });
    });
    child.removeAllListeners("exit");
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new CognitoIdentityProviderClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    // TOTP optional, as the Identity component configures the real pool (cognito-local's default is OFF).
    const pool = await client.send(new CreateUserPoolCommand({ PoolName: "cabalmail-test", MfaConfiguration: "OPTIONAL" }));
    const userPoolId = pool.UserPool!.Id!;
    const appClient = await client.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: "cli" }));
    await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: "admin" }));
    return {
        endpoint,
        client,
        userPoolId,
        clientId: appClient.UserPoolClient!.ClientId!,
        issuer: `${endpoint}/${userPoolId}`,
        async jwks() {
            const response = await fetch(`${endpoint}/${userPoolId}/.well-known/jwks.json`);
            return (await response.json()) as { keys: Record<string, unknown>[] };
        },
        async stop() {
            client.destroy();
            await new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            });
            await new Promise<void>((resolve) => lambda.server.close(() => resolve()));
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
