/**
 * The mail test harness: the three mail tiers, running the config files the images ship (mail/<tier>/*,
 * rendered by mail/src/render.ts with loopback ports and temp directories), with Debian's Postfix and Dovecot,
 * against dynalite (DynamoDB) and cognito-local (the user pool), all on 127.0.0.1. Needs root (Postfix and
 * Dovecot start as root and drop privileges) and the postfix, dovecot-imapd and dovecot-lmtpd packages.
 *
 *     const mail = await startMailHarness({ basePort: 20100 });   // uses ports basePort .. basePort+19
 *     await mail.createUser("alice", "Secret-pass-1");            // a user-pool user (mailbox "alice")
 *     await mail.putAddress({ address: "shop@acme.example.com", user: "alice" });
 *     // send to 127.0.0.1:mail.smtpInPort (as the internet would, through the simulated load balancer),
 *     // read over IMAP at 127.0.0.1:mail.imapPort (secure: false; user "alice", password as created),
 *     // submit at 127.0.0.1:mail.submissionPort (AUTH PLAIN/LOGIN); what smtp-out relays lands in mail.relayed.
 *     await mail.stop();
 *
 * Options (all optional but basePort):
 *   basePort      first of 20 consecutive loopback ports (keep test files apart: 20100, 20200, ...)
 *   mailDomains   default ["example.com"]          controlDomain  default "mail-admin.example.org"
 *   tiers         which tiers to start, default all three (smtp-out needs imap for SASL; imap starts cognito-local)
 *   clientAddress the internet address the simulated load balancer reports for every client, default 203.0.113.10
 *
 * The returned object also exposes the handles the failure tests need: `dynamo.cut()` / `dynamo.restore()`
 * (the table becomes unreachable, as in a network outage), `userPool.cut()` / `.restore()` (the same for Cognito,
 * as the imap resolver sees it), `resolvers["smtp-in"].stop()` / `.start()`,
 * `postfix["smtp-in"].kill9()` / `.start()` / `.reload()`, `dovecot.stop()` / `.start()`. The queue retry times
 * are one second (through the rendering variables, as the shipped files allow).
 *
 * For an end-to-end test of another component (e.g. the address API): point it at `dynamoEndpoint` / `tableName`
 * / `region` (any credentials) and at the user pool (`cognitoEndpoint`, `userPoolId`, `userPoolClientId`); items it
 * writes are seen by the mail tiers within half a second. `readInbox(user, password)` reads a mailbox over IMAP.
 *
 * The resolvers run as child processes from an esbuild bundle of mail/src/cli.ts (what the images run), and the
 * harness talks to dynalite and cognito-local over plain HTTP: AWS SDK clients in the mocha process may be stubbed
 * by other test files (aws-sdk-client-mock), and none of that reaches the mail tiers. Nothing leaves 127.0.0.1.
 */
import { execFile, spawn, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as esbuild from "esbuild";
import { ImapFlow } from "imapflow";
import { ADDRESS_TABLE_KEYS, AddressItem, parseAddress } from "../../lib/address";
import { MAIL_ENV, MailTierName } from "../../lib/mailTiers";
import { contractFromEnv, renderTier, templateVariables } from "../../mail/src/render";
import { CuttableProxy, SmtpSink, startLoadBalancer, waitForPort, waitForPortClosed } from "./netTools";

const run = promisify(execFile);

export interface MailHarnessOptions {
    /** First of 20 consecutive loopback ports the harness may use. */
    basePort: number;
    mailDomains?: string[];
    controlDomain?: string;
    tiers?: MailTierName[];
    /** The client address the simulated load balancer reports (proxy protocol). Default 203.0.113.10. */
    clientAddress?: string;
}

export interface PostfixControl {
    start(): Promise<void>;
    stop(): Promise<void>;
    /** SIGKILL the master and all its children at once, as when a container is killed. */
    kill9(): Promise<void>;
    reload(): Promise<void>;
    /** Queue IDs currently in the queue (any state). */
    queueIds(): string[];
    /** The instance's Postfix log. */
    log(): string;
}

export interface DovecotControl {
    start(): Promise<void>;
    stop(): Promise<void>;
    log(): string;
}

export interface ResolverControl {
    start(): Promise<void>;
    /** SIGTERM, as when the process dies; the tier's Postfix or Dovecot keeps running without it. */
    stop(): Promise<void>;
    log(): string;
    /** The resolver's process id while it runs (the benchmark reads its CPU time from /proc). */
    pid(): number | undefined;
}

export interface MailHarness {
    /** Where the internet sends mail (smtp-in's port 25 behind the simulated load balancer). */
    smtpInPort: number;
    /** IMAP (imap's port 143 behind the simulated load balancer). */
    imapPort: number;
    /** Authenticated submission (smtp-out's port 587 behind the simulated load balancer). */
    submissionPort: number;
    /** The tiers' own listeners, without the load balancer: they expect a proxy protocol header first. */
    directPorts: { smtpIn: number; imap: number; submission: number };
    /** DynamoDB endpoint (dynalite, behind a proxy that `dynamo.cut()` cuts). */
    dynamoEndpoint: string;
    tableName: string;
    region: string;
    mailDomains: string[];
    controlDomain: string;
    /** The user pool (cognito-local) when imap runs. */
    userPoolId?: string;
    userPoolClientId?: string;
    cognitoEndpoint?: string;
    /** The DKIM key smtp-out signs with; the public half is what the control domain would publish. */
    dkim: { privateKeyPem: string; publicKeyPem: string };
    /** The imap tier's mailbox tree (one Maildir per user under it), e.g. to count deliveries without IMAP. */
    mailboxRoot: string;
    /** The environment the MailServer component would give the containers (lib/mailTiers.ts's MAIL_ENV). */
    env: Record<string, string>;
    /** The harness's temp directory (logs, configs, queues); removed by stop(). */
    root: string;
    /** Messages smtp-out relayed (its relayhost is this sink). */
    relayed: SmtpSink;
    createUser(username: string, password: string): Promise<void>;
    /** Writes an address item (fields not given are derived: subdomain, domain, comment, createdAt, status active). */
    putAddress(item: Pick<AddressItem, "address" | "user"> & Partial<AddressItem>): Promise<AddressItem>;
    /** Revokes an address: its item is deleted. */
    deleteAddress(address: string): Promise<void>;
    /** Every message in a user's INBOX, read over IMAP as that user. */
    readInbox(user: string, password: string): Promise<{ uid: number; source: Buffer }[]>;
    /** Cuts and restores the network to dynalite; `pid` is dynalite's process (bench/ reads its CPU time). */
    dynamo: { cut(): Promise<void>; restore(): Promise<void>; pid: number };
    /** The user pool as the imap tier's resolver reaches it (cognito-local behind a proxy), when imap runs. */
    userPool?: { cut(): Promise<void>; restore(): Promise<void> };
    resolvers: Partial<Record<MailTierName, ResolverControl>>;
    postfix: Partial<Record<"smtp-in" | "smtp-out", PostfixControl>>;
    dovecot?: DovecotControl;
    /** Stops everything started, in reverse order, and removes the temp directory. */
    stop(): Promise<void>;
}

const REGION = "us-east-1";
/** The unprivileged account that owns the Maildirs in tests (the image has its own vmail account). */
const TEST_MAIL_ID = "65534";

export async function startMailHarness(options: MailHarnessOptions): Promise<MailHarness> {
    const base = options.basePort;
    const port = {
        dynalite: base,
        dynamo: base + 1,
        cognito: base + 2,
        resolverSmtpIn: base + 3,
        resolverImap: base + 4,
        resolverSmtpOut: base + 5,
        milter: base + 6,
        smtpInRaw: base + 7,
        smtpIn: base + 8,
        imapRaw: base + 9,
        imap: base + 10,
        lmtp: base + 11,
        auth: base + 12,
        submissionRaw: base + 13,
        submission: base + 14,
        sink: base + 15,
        cognitoProxy: base + 16,
    };
    const mailDomains = options.mailDomains ?? ["example.com"];
    const controlDomain = options.controlDomain ?? "mail-admin.example.org";
    const tiers = new Set(options.tiers ?? ["smtp-in", "imap", "smtp-out"]);
    if (tiers.has("smtp-out") && !tiers.has("imap")) throw new Error("startMailHarness: tiers has smtp-out without imap; smtp-out authenticates through imap's Dovecot, so add imap");
    const clientAddress = options.clientAddress ?? "203.0.113.10";
    const tableName = "cabal-addresses";
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "cabal-mail-"));
    // Postfix and Dovecot drop privileges: their users must reach into the tree.
    fs.chmodSync(root, 0o755);

    const cleanups: (() => Promise<void>)[] = [];
    const harness: Partial<MailHarness> = {};
    const stop = async () => {
        for (const cleanup of cleanups.splice(0).reverse()) {
            try {
                await cleanup();
            } catch (err) {
                process.stderr.write(`mail harness: cleanup failed: ${(err as Error).message}\n`);
            }
        }
        fs.rmSync(root, { recursive: true, force: true });
    };

    try {
        // DynamoDB: dynalite in a process of its own, as DynamoDB is a service of its own (in this process its work
        // would hold up the simulated load balancer's, and every SMTP session with it), reached through a proxy
        // that can be cut.
        const dynaliteProcess = await startDynaliteProcess(port.dynalite);
        cleanups.push(() => stopChild(dynaliteProcess));
        const dynamoProxy = new CuttableProxy(port.dynamo, port.dynalite);
        await dynamoProxy.open();
        cleanups.push(() => dynamoProxy.close());
        const dynamoEndpoint = `http://127.0.0.1:${port.dynamo}`;
        const dynamo = (action: string, request: object) => awsJson(`http://127.0.0.1:${port.dynalite}`, `DynamoDB_20120810.${action}`, "1.0", "dynamodb", request);
        await dynamo("CreateTable", {
            TableName: tableName,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
                { AttributeName: ADDRESS_TABLE_KEYS.partitionKey, AttributeType: "S" },
                { AttributeName: ADDRESS_TABLE_KEYS.byUser.partitionKey, AttributeType: "S" },
                { AttributeName: ADDRESS_TABLE_KEYS.bySubdomain.partitionKey, AttributeType: "S" },
                { AttributeName: ADDRESS_TABLE_KEYS.bySubdomain.sortKey, AttributeType: "S" },
            ],
            KeySchema: [{ AttributeName: ADDRESS_TABLE_KEYS.partitionKey, KeyType: "HASH" }],
            GlobalSecondaryIndexes: [
                {
                    IndexName: ADDRESS_TABLE_KEYS.byUser.indexName,
                    KeySchema: [
                        { AttributeName: ADDRESS_TABLE_KEYS.byUser.partitionKey, KeyType: "HASH" },
                        { AttributeName: ADDRESS_TABLE_KEYS.byUser.sortKey, KeyType: "RANGE" },
                    ],
                    Projection: { ProjectionType: "ALL" },
                },
                {
                    IndexName: ADDRESS_TABLE_KEYS.bySubdomain.indexName,
                    KeySchema: [
                        { AttributeName: ADDRESS_TABLE_KEYS.bySubdomain.partitionKey, KeyType: "HASH" },
                        { AttributeName: ADDRESS_TABLE_KEYS.bySubdomain.sortKey, KeyType: "RANGE" },
                    ],
                    Projection: { ProjectionType: "KEYS_ONLY" },
                },
            ],
        });
        Object.assign(harness, {
            smtpInPort: port.smtpIn,
            imapPort: port.imap,
            submissionPort: port.submission,
            directPorts: { smtpIn: port.smtpInRaw, imap: port.imapRaw, submission: port.submissionRaw },
            dynamoEndpoint,
            tableName,
            region: REGION,
            mailDomains,
            controlDomain,
            dynamo: { cut: () => dynamoProxy.close(), restore: () => dynamoProxy.open(), pid: dynaliteProcess.pid! },
            resolvers: {},
            postfix: {},
        });

        // The user pool, when imap runs.
        let cognito: { endpoint: string; userPoolId: string; clientId: string; call: (action: string, request: object) => Promise<Record<string, any>> } | undefined;
        if (tiers.has("imap")) {
            const dir = path.join(root, "cognito");
            // cognito-local's default pools sign in by e-mail; ours use plain user names like the real pool's.
            fs.mkdirSync(path.join(dir, ".cognito"), { recursive: true });
            fs.writeFileSync(path.join(dir, ".cognito", "config.json"), JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }));
            const bin = path.join(path.dirname(require.resolve("cognito-local/package.json")), "lib", "bin", "start.js");
            const child = spawn(process.execPath, [bin], { cwd: dir, env: { ...process.env, PORT: String(port.cognito), HOST: "127.0.0.1" }, stdio: ["ignore", "ignore", "pipe"] });
            cleanups.push(() => stopChild(child));
            await waitForPort(port.cognito, 20000, "cognito-local");
            const endpoint = `http://127.0.0.1:${port.cognito}`;
            const call = (action: string, request: object) => awsJson(endpoint, `AWSCognitoIdentityProviderService.${action}`, "1.1", "cognito-idp", request);
            const pool = await call("CreateUserPool", { PoolName: "cabal-test" });
            const userPoolId = pool.UserPool.Id as string;
            const appClient = await call("CreateUserPoolClient", { UserPoolId: userPoolId, ClientName: "mail", ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] });
            cognito = { endpoint, userPoolId, clientId: appClient.UserPoolClient.ClientId as string, call };
            const cognitoProxy = new CuttableProxy(port.cognitoProxy, port.cognito);
            await cognitoProxy.open();
            cleanups.push(() => cognitoProxy.close());
            Object.assign(harness, {
                userPoolId,
                userPoolClientId: cognito.clientId,
                cognitoEndpoint: endpoint,
                userPool: { cut: () => cognitoProxy.close(), restore: () => cognitoProxy.open() },
            });
        }

        // The same environment the MailServer component gives the containers (lib/mailTiers.ts).
        const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        const dkim = { privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
        const env: Record<string, string> = {
            [MAIL_ENV.addressTable]: tableName,
            [MAIL_ENV.region]: REGION,
            [MAIL_ENV.mailDomains]: mailDomains.join(","),
            [MAIL_ENV.controlDomain]: controlDomain,
            [MAIL_ENV.imapHost]: "127.0.0.1",
            [MAIL_ENV.messageSizeLimit]: "1048576",
            [MAIL_ENV.userPoolId]: cognito?.userPoolId ?? "",
            [MAIL_ENV.userPoolClientId]: cognito?.clientId ?? "",
            [MAIL_ENV.dkimPrivateKey]: dkim.privateKeyPem,
            [MAIL_ENV.outbound]: "direct",
        };
        const sink = new SmtpSink(port.sink);
        await sink.open();
        cleanups.push(() => sink.close());
        Object.assign(harness, { dkim, relayed: sink, env, root, mailboxRoot: path.join(root, "imap", "mail") });

        // Resolvers: one per tier, as each container runs its own, from the esbuild bundle the images run, in a
        // child process (this process's AWS SDK clients may be mocked by other test files).
        const bundle = path.join(root, "cabal-mail.js");
        await esbuild.build({ entryPoints: [path.join(__dirname, "..", "..", "mail", "src", "cli.ts")], bundle: true, platform: "node", target: "node20", outfile: bundle, logLevel: "error" });
        const resolverEnv: Record<string, string> = {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            ...env,
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
            AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
            ...(cognito ? { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: `http://127.0.0.1:${port.cognitoProxy}` } : {}),
        };
        const resolverControl = (tier: MailTierName, resolverPort: number): ResolverControl => {
            const logFile = path.join(root, `resolver-${tier}.log`);
            let child: ChildProcess | undefined;
            const args = [bundle, "resolver", tier, "--port", String(resolverPort), ...(tier === "smtp-out" ? ["--milter-port", String(port.milter)] : [])];
            return {
                async start() {
                    if (child) return;
                    const fd = fs.openSync(logFile, "a");
                    child = spawn(process.execPath, args, { env: resolverEnv, stdio: ["ignore", fd, fd] });
                    fs.closeSync(fd);
                    await waitForPort(resolverPort, 15000, `resolver (${tier})`).catch((err) => {
                        throw new Error(`${(err as Error).message}\n${fs.readFileSync(logFile, "utf8").slice(-2000)}`);
                    });
                    if (tier === "smtp-out") await waitForPort(port.milter, 15000, "milter");
                },
                async stop() {
                    const running = child;
                    child = undefined;
                    if (running) await stopChild(running);
                },
                log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""),
                pid: () => child?.pid,
            };
        };
        /** Starts a tier's resolver, stopped by stop() and reachable as harness.resolvers[tier]. */
        const startTierResolver = async (tier: MailTierName, resolverPort: number): Promise<void> => {
            const resolver = resolverControl(tier, resolverPort);
            await resolver.start();
            cleanups.push(() => resolver.stop());
            harness.resolvers![tier] = resolver;
        };
        /** The simulated load balancer in front of a tier's listener (proxy protocol v2 from clientAddress). */
        const startTierLoadBalancer = async (listenPort: number, targetPort: number): Promise<void> => {
            const lb = await startLoadBalancer(listenPort, targetPort, clientAddress);
            cleanups.push(() => lb.close());
        };

        if (tiers.has("imap")) {
            await startTierResolver("imap", port.resolverImap);
            const dovecot = await startDovecot(root, env, {
                BASE_DIR: path.join(root, "imap", "run"),
                INSTANCE_NAME: `cabal-test-${base}`,
                LISTEN_ADDRESS: "127.0.0.1",
                LOG_PATH: path.join(root, "imap", "dovecot.log"),
                PROXY_TRUSTED_NETWORKS: "127.0.0.0/8",
                IMAP_PORT: String(port.imapRaw),
                LMTP_PORT: String(port.lmtp),
                AUTH_PORT: String(port.auth),
                CHECKPASSWORD_PATH: path.join(root, "imap", "etc", "checkpassword.sh"),
                RESOLVER_PORT: String(port.resolverImap),
                MAILBOX_ROOT: path.join(root, "imap", "mail"),
                MAIL_UID: TEST_MAIL_ID,
                MAIL_GID: TEST_MAIL_ID,
            }, [port.imapRaw, port.lmtp, port.auth]);
            cleanups.push(() => dovecot.stop());
            harness.dovecot = dovecot;
            await startTierLoadBalancer(port.imap, port.imapRaw);
        }

        if (tiers.has("smtp-in")) {
            await startTierResolver("smtp-in", port.resolverSmtpIn);
            const certDir = path.join(root, "smtp-in", "tls");
            fs.mkdirSync(certDir, { recursive: true });
            await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=smtp-in.${controlDomain}`, "-keyout", path.join(certDir, "key.pem"), "-out", path.join(certDir, "cert.pem")]);
            const postfix = await startPostfix("smtp-in", root, env, {
                SMTP_LISTEN: `127.0.0.1:${port.smtpInRaw}`,
                RESOLVER_ADDRESS: `127.0.0.1:${port.resolverSmtpIn}`,
                LMTP_ADDRESS: `127.0.0.1:${port.lmtp}`,
                TLS_CERT_FILE: path.join(certDir, "cert.pem"),
                TLS_KEY_FILE: path.join(certDir, "key.pem"),
                DEFAULT_TRANSPORT: "error:5.7.1 the test smtp-in delivers nowhere but LMTP",
            }, port.smtpInRaw);
            cleanups.push(() => postfix.stop());
            harness.postfix!["smtp-in"] = postfix;
            await startTierLoadBalancer(port.smtpIn, port.smtpInRaw);
        }

        if (tiers.has("smtp-out")) {
            await startTierResolver("smtp-out", port.resolverSmtpOut);
            const postfix = await startPostfix("smtp-out", root, env, {
                SUBMISSION_LISTEN: `127.0.0.1:${port.submissionRaw}`,
                RESOLVER_ADDRESS: `127.0.0.1:${port.resolverSmtpOut}`,
                AUTH_ADDRESS: `127.0.0.1:${port.auth}`,
                MILTER_ADDRESS: `127.0.0.1:${port.milter}`,
                RELAYHOST: `[127.0.0.1]:${port.sink}`,
                SMTP_TLS_LEVEL: "none",
            }, port.submissionRaw);
            cleanups.push(() => postfix.stop());
            harness.postfix!["smtp-out"] = postfix;
            await startTierLoadBalancer(port.submission, port.submissionRaw);
        }

        harness.createUser = async (username, password) => {
            if (!cognito) throw new Error("createUser: the harness runs no user pool; include imap in tiers");
            await cognito.call("AdminCreateUser", { UserPoolId: cognito.userPoolId, Username: username, MessageAction: "SUPPRESS", TemporaryPassword: `${password}-temporary` });
            await cognito.call("AdminSetUserPassword", { UserPoolId: cognito.userPoolId, Username: username, Password: password, Permanent: true });
        };
        harness.putAddress = async (partial) => {
            const parsed = parseAddress(partial.address, mailDomains);
            if (!parsed) throw new Error(`putAddress: ${partial.address} is not local@<one label>.<one of ${mailDomains.join(", ")}>`);
            const item: AddressItem = {
                subdomain: parsed.subdomain,
                domain: parsed.domain,
                comment: "test",
                createdAt: new Date().toISOString(),
                status: "active",
                ...partial,
                address: partial.address.toLowerCase(),
            };
            await dynamo("PutItem", { TableName: tableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: String(v) }])) });
            return item;
        };
        harness.deleteAddress = async (address) => {
            await dynamo("DeleteItem", { TableName: tableName, Key: { [ADDRESS_TABLE_KEYS.partitionKey]: { S: address.toLowerCase() } } });
        };
        harness.readInbox = async (user, password) => {
            const client = new ImapFlow({ host: "127.0.0.1", port: port.imap, secure: false, auth: { user, pass: password }, logger: false });
            await client.connect();
            try {
                const lock = await client.getMailboxLock("INBOX");
                try {
                    const messages: { uid: number; source: Buffer }[] = [];
                    if (!client.mailbox || client.mailbox.exists === 0) return messages;
                    for await (const message of client.fetch("1:*", { uid: true, source: true })) messages.push({ uid: message.uid, source: message.source ?? Buffer.alloc(0) });
                    return messages;
                } finally {
                    lock.release();
                }
            } finally {
                await client.logout().catch(() => undefined);
            }
        };
        harness.stop = stop;
        return harness as MailHarness;
    } catch (err) {
        await stop();
        throw err;
    }
}

/**
 * Runs a command that leaves a daemon behind (postfix start, dovecot): its output goes to a file, because the
 * daemon inherits the descriptors and a pipe would never close. Rejects with the output on a non-zero exit.
 */
async function runDaemonStarter(command: string, args: string[], outputFile: string): Promise<void> {
    const fd = fs.openSync(outputFile, "a");
    try {
        const child = spawn(command, args, { stdio: ["ignore", fd, fd] });
        const code = await new Promise<number | null>((resolve, reject) => child.once("error", reject).once("exit", (c) => resolve(c)));
        if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}: ${fs.readFileSync(outputFile, "utf8").slice(-2000)}`);
    } finally {
        fs.closeSync(fd);
    }
}

/** One call of an AWS JSON API (dynalite, cognito-local), without the SDK: see the resolver note above. */
async function awsJson(endpoint: string, target: string, jsonVersion: "1.0" | "1.1", service: string, request: object): Promise<Record<string, any>> {
    const response = await fetch(endpoint, {
        method: "POST",
        headers: {
            "Content-Type": `application/x-amz-json-${jsonVersion}`,
            "X-Amz-Target": target,
            "X-Amz-Date": "20260101T000000Z",
            Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000`,
        },
        body: JSON.stringify(request),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${target} failed (${response.status}): ${text}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
}

/** dynalite listening on 127.0.0.1:`port`, in a child process of its own (stopped with `stopChild`). */
async function startDynaliteProcess(port: number): Promise<ChildProcess> {
    const script = `require(${JSON.stringify(require.resolve("dynalite"))})({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
        .listen(${port}, "127.0.0.1", () => process.send("listening"))
        .once("error", (err) => { process.stderr.write(String(err)); process.exit(1); });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
        child.once("message", () => resolve());
        child.once("exit", (code) => reject(new Error(`dynalite exited with ${code} before listening on ${port}: ${stderr.trim()}`)));
    });
    // Connected for "message" only: let the harness's process exit without waiting for the channel.
    child.disconnect();
    return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
}

function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function waitForExit(pids: number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (pids.some(pidAlive)) {
        if (Date.now() > deadline) throw new Error(`processes ${pids.filter(pidAlive).join(", ")} still run after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/**
 * Fields 3 onward of /proc/<pid>/stat (so index 0 is field 3, the state), or undefined when the process is gone.
 * The command name (field 2) is in parentheses and may contain spaces, so fields are counted from its end.
 */
export function procStatFields(pid: number): string[] | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    } catch {
        return undefined;
    }
}

/** The direct children of a process, from /proc (no dependency on procps). */
async function childPids(pid: number): Promise<number[]> {
    // Field 4 is the parent pid.
    return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(procStatFields(Number(entry))?.[1]) === pid).map(Number);
}

/** Renders the tier's shipped templates with these overrides and starts a Postfix instance on them. */
export async function startPostfix(tier: "smtp-in" | "smtp-out", root: string, env: Record<string, string>, overrides: Record<string, string>, listenPort: number): Promise<PostfixControl> {
    const dir = path.join(root, tier);
    const configDir = path.join(dir, "etc");
    const queueDir = path.join(dir, "queue");
    const dataDir = path.join(dir, "data");
    const logFile = path.join(dir, "postfix.log");
    for (const d of [configDir, queueDir, dataDir]) fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(dir, 0o755);
    await run("chown", ["postfix", dataDir]);
    const contract = contractFromEnv(tier, env);
    const vars = templateVariables(tier, contract, {
        CONFIG_DIR: configDir,
        QUEUE_DIR: queueDir,
        DATA_DIR: dataDir,
        MAILLOG_FILE: logFile,
        INET_INTERFACES: "127.0.0.1",
        // No DNS: nothing leaves loopback (relay hosts are bracketed addresses, so the smtp client asks no DNS either).
        PEERNAME_LOOKUP: "no",
        MINIMAL_BACKOFF_TIME: "1s",
        MAXIMAL_BACKOFF_TIME: "2s",
        QUEUE_RUN_DELAY: "1s",
        ...overrides,
    });
    renderTier(tier, contract, vars, configDir);
    const postfix = (...args: string[]) => run("postfix", ["-c", configDir, ...args]);
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
    const pidFile = path.join(queueDir, "pid", "master.pid");
    const masterPid = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").trim()) : undefined);
    const control: PostfixControl = {
        async start() {
            try {
                await postfix("check");
                await runDaemonStarter("postfix", ["-c", configDir, "start"], path.join(dir, "postfix-start.out"));
            } catch (err) {
                throw new Error(`postfix (${tier}) did not start: ${(err as Error).message}\n${log().slice(-3000)}`);
            }
            await waitForPort(listenPort, 15000, `postfix ${tier}`);
        },
        async stop() {
            const pid = masterPid();
            if (!pid || !pidAlive(pid)) return;
            const children = await childPids(pid);
            await runDaemonStarter("postfix", ["-c", configDir, "stop"], path.join(dir, "postfix-start.out")).catch(() => undefined);
            await waitForExit([pid, ...children], 15000).catch(async () => {
                for (const p of [pid, ...children]) if (pidAlive(p)) process.kill(p, "SIGKILL");
            });
        },
        async kill9() {
            const pid = masterPid();
            if (!pid) throw new Error(`postfix (${tier}) is not running`);
            const children = await childPids(pid);
            for (const p of [pid, ...children]) if (pidAlive(p)) process.kill(p, "SIGKILL");
            await waitForExit([pid, ...children], 5000);
            await waitForPortClosed(listenPort);
        },
        async reload() {
            await runDaemonStarter("postfix", ["-c", configDir, "reload"], path.join(dir, "postfix-start.out"));
        },
        queueIds() {
            const ids: string[] = [];
            for (const sub of ["incoming", "active", "deferred", "maildrop", "hold"]) {
                const walk = (d: string) => {
                    if (!fs.existsSync(d)) return;
                    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
                        if (entry.isDirectory()) walk(path.join(d, entry.name));
                        else ids.push(entry.name);
                    }
                };
                walk(path.join(queueDir, sub));
            }
            return ids;
        },
        log,
    };
    await control.start();
    return control;
}

/** Renders imap's shipped templates with these overrides and starts Dovecot on them. */
export async function startDovecot(root: string, env: Record<string, string>, overrides: Record<string, string>, ports: number[]): Promise<DovecotControl> {
    const dir = path.join(root, "imap");
    const configDir = path.join(dir, "etc");
    fs.mkdirSync(configDir, { recursive: true });
    fs.mkdirSync(overrides.MAILBOX_ROOT, { recursive: true });
    fs.chmodSync(dir, 0o755);
    await run("chown", [`${overrides.MAIL_UID}:${overrides.MAIL_GID}`, overrides.MAILBOX_ROOT]);
    const contract = contractFromEnv("imap", env);
    renderTier("imap", contract, templateVariables("imap", contract, overrides), configDir);
    const configFile = path.join(configDir, "dovecot.conf");
    const logFile = overrides.LOG_PATH;
    const pidFile = path.join(overrides.BASE_DIR, "master.pid");
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
    const control: DovecotControl = {
        async start() {
            try {
                await runDaemonStarter("dovecot", ["-c", configFile], path.join(dir, "dovecot-start.out"));
            } catch (err) {
                throw new Error(`dovecot did not start: ${(err as Error).message}\n${log().slice(-3000)}`);
            }
            for (const p of ports) await waitForPort(p, 15000, `dovecot port ${p}`);
        },
        async stop() {
            if (!fs.existsSync(pidFile)) return;
            const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
            if (!pidAlive(pid)) return;
            process.kill(pid, "SIGTERM");
            await waitForExit([pid], 15000);
            for (const p of ports) await waitForPortClosed(p);
        },
        log,
    };
    await control.start();
    return control;
}
