/**
 * Mail runtime benchmark (see bench/README.md). In one run, on loopback, with the shipped configs:
 *
 *  1. Throughput through smtp-in → resolver (socketmap, dynalite) → LMTP → Maildir, against the same path with a
 *     static Postfix hash map in place of the resolver (the baseline, rendered from the same templates with only
 *     virtual_alias_maps changed). Load comes from Postfix's smtp-source through the simulated load balancer, in
 *     two workloads: every message to a different address (-N: the resolver's cache never helps, one address read
 *     per message, batched with the other sessions' reads) and every message to the same address (the cache absorbs most reads). Prints messages per
 *     second accepted and delivered for both paths, and the ratio resolver / baseline (target ≥ 0.9).
 *  2. Latency from "address item written" to "RCPT accepted", and from "item deleted" to "RCPT refused with 550",
 *     probing as a sender would (target ≤ 1 s each). Each probe first primes Postfix's and the resolver's view
 *     with the old answer, which is the worst case.
 *
 *   npx ts-node --transpile-only bench/mailThroughput.ts [--messages 2000] [--sessions 8] [--rounds 4]
 *
 * Needs root and Debian's postfix, dovecot-imapd and dovecot-lmtpd (like tests/mail). Ports 20900-20939.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { MailHarness, PostfixControl, procStatFields, startMailHarness, startPostfix } from "../tests/mail/harness";
import { startLoadBalancer } from "../tests/mail/netTools";
import { rcptReplies } from "../tests/mail/smtpProbe";
import { MAILBOX_DOMAIN } from "../mail/src/resolver";

const run = promisify(execFile);

function option(name: string, fallback: number): number {
    const i = process.argv.indexOf(name);
    if (i < 0) return fallback;
    const value = Number(process.argv[i + 1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive whole number, got ${JSON.stringify(process.argv[i + 1])}`);
    return value;
}

const MESSAGES = option("--messages", 2000);
const SESSIONS = option("--sessions", 8);
const ROUNDS = option("--rounds", 4);
const LATENCY_SAMPLES = option("--latency-samples", 10);
const BASE_PORT = 20900;
const RESOLVED_USER = "viaresolver";
const BASELINE_USER = "viahash";

function countDelivered(mail: MailHarness, user: string): number {
    let count = 0;
    for (const sub of ["new", "cur"]) {
        const dir = path.join(mail.mailboxRoot, user, "Maildir", sub);
        if (fs.existsSync(dir)) count += fs.readdirSync(dir).length;
    }
    return count;
}

/**
 * Removes a user's delivered messages, so that each measurement starts with an empty Maildir: a mailbox that grows
 * by thousands of messages per run makes every later run slower (Dovecot's and this script's directory reads), which
 * would favour whichever path was measured first.
 */
function emptyMaildir(mail: MailHarness, user: string): void {
    for (const sub of ["new", "cur"]) {
        const dir = path.join(mail.mailboxRoot, user, "Maildir", sub);
        if (fs.existsSync(dir)) for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name));
    }
}

async function smtpSource(port: number, messages: number, recipient: string, unique: boolean): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const child = spawn("smtp-source", [...(unique ? ["-N"] : []), "-d", "-l", "2048", "-m", String(messages), "-s", String(SESSIONS), "-f", "load@sender.example.net", "-t", recipient, `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.once("error", reject);
        child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited with ${code}: ${stderr.trim()}`))));
    });
}

interface Rate {
    accepted: number;
    delivered: number;
    /** CPU milliseconds per message, all processes of the machine (from /proc/stat). */
    machineCpuMs: number;
    /** How busy the machine's cores were, 0-1, while the messages went through. */
    busy: number;
    /** CPU milliseconds per message in dynalite's process (the DynamoDB stand-in). */
    dynaliteCpuMs: number;
    /** CPU milliseconds per message in this process: the simulated load balancer, the cuttable DynamoDB proxy and the polling of the Maildir. */
    proxyCpuMs: number;
    /** CPU milliseconds per message spent in the smtp-in resolver process. */
    resolverCpuMs: number;
}

/** Busy and total clock ticks (10 ms) of all cores so far, from /proc/stat's first line. */
function machineTicks(): { busy: number; total: number } {
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user and nice, and
    // steal is time the hypervisor gave to others: neither is this machine's work.
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, total: busy + idle + iowait + steal };
}

/** User + system CPU milliseconds a process has used so far (from /proc, in clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number {
    if (!pid) return 0;
    const fields = procStatFields(pid);
    if (!fields) throw new Error(`process ${pid} is gone: its CPU time cannot be read`);
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat; fields[0] is field 3.
    return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Sends `messages` messages and returns accepted/s (until smtp-source is done) and delivered/s (until all are in the Maildir). */
async function measure(mail: MailHarness, port: number, user: string, recipient: string, messages: number, unique = true): Promise<Rate> {
    const before = countDelivered(mail, user);
    const cpuBefore = process.cpuUsage();
    const resolverPid = mail.resolvers["smtp-in"]?.pid();
    const resolverCpuBefore = processCpuMs(resolverPid);
    const dynaliteCpuBefore = processCpuMs(mail.dynamo.pid);
    const ticksBefore = machineTicks();
    const start = process.hrtime.bigint();
    await smtpSource(port, messages, recipient, unique);
    const accepted = Number(process.hrtime.bigint() - start) / 1e9;
    const deadline = Date.now() + 120000;
    while (countDelivered(mail, user) < before + messages) {
        if (Date.now() > deadline) throw new Error(`only ${countDelivered(mail, user) - before} of ${messages} messages reached ${user}'s Maildir`);
        await new Promise((r) => setTimeout(r, 20));
    }
    const delivered = Number(process.hrtime.bigint() - start) / 1e9;
    const ticks = machineTicks();
    const cpu = process.cpuUsage(cpuBefore);
    const rate: Rate = {
        accepted: messages / accepted,
        delivered: messages / delivered,
        machineCpuMs: ((ticks.busy - ticksBefore.busy) * 10) / messages,
        busy: (ticks.busy - ticksBefore.busy) / (ticks.total - ticksBefore.total),
        dynaliteCpuMs: (processCpuMs(mail.dynamo.pid) - dynaliteCpuBefore) / messages,
        proxyCpuMs: (cpu.user + cpu.system) / 1000 / messages,
        resolverCpuMs: (processCpuMs(resolverPid) - resolverCpuBefore) / messages,
    };
    emptyMaildir(mail, user);
    return rate;
}

async function startBaseline(mail: MailHarness, addresses: string[]): Promise<{ postfix: PostfixControl; port: number; close(): Promise<void> }> {
    const root = path.join(mail.root, "baseline");
    fs.mkdirSync(root, { recursive: true });
    const certDir = path.join(mail.root, "smtp-in", "tls");
    const rawPort = BASE_PORT + 30;
    const port = BASE_PORT + 31;
    const postfix = await startPostfix("smtp-in", root, mail.env, {
        SMTP_LISTEN: `127.0.0.1:${rawPort}`,
        RESOLVER_ADDRESS: `127.0.0.1:${BASE_PORT + 39}`, // unused once the hash map replaces the socketmap
        LMTP_ADDRESS: `127.0.0.1:${BASE_PORT + 11}`,
        TLS_CERT_FILE: path.join(certDir, "cert.pem"),
        TLS_KEY_FILE: path.join(certDir, "key.pem"),
        DEFAULT_TRANSPORT: "error:5.7.1 the baseline delivers nowhere but LMTP",
    }, rawPort);
    const configDir = path.join(root, "smtp-in", "etc");
    const aliases = path.join(configDir, "aliases");
    fs.writeFileSync(aliases, addresses.map((a) => `${a} ${BASELINE_USER}@${MAILBOX_DOMAIN}\n`).join(""));
    await run("postmap", [`hash:${aliases}`]);
    await run("postconf", ["-c", configDir, "-e", `virtual_alias_maps = hash:${aliases}`]);
    await postfix.reload();
    await new Promise((r) => setTimeout(r, 1000));
    const lb = await startLoadBalancer(port, rawPort, "203.0.113.10");
    return { postfix, port, close: async () => (await lb.close(), await postfix.stop()) };
}

/** Milliseconds from `change()` to the first RCPT reply matching `wanted`, probing every 10 ms. */
async function latency(mail: MailHarness, address: string, change: () => Promise<void>, wanted: RegExp): Promise<number> {
    await change();
    const start = Date.now();
    for (;;) {
        const [reply] = await rcptReplies(mail.smtpInPort, "probe@sender.example.net", [address]);
        if (wanted.test(reply)) return Date.now() - start;
        if (Date.now() - start > 30000) throw new Error(`${address}: still "${reply}" after 30 s`);
        await new Promise((r) => setTimeout(r, 10));
    }
}

function summary(values: number[]): string {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return `median ${median} ms, max ${sorted[sorted.length - 1]} ms (${values.length} samples)`;
}

async function main(): Promise<void> {
    process.stdout.write(`mail benchmark: ${MESSAGES} messages per run, ${SESSIONS} SMTP sessions, ${ROUNDS} rounds\n`);
    const mail = await startMailHarness({ basePort: BASE_PORT, tiers: ["smtp-in", "imap"] });
    let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
    try {
        // smtp-source -N sends to 1load@..., 2load@..., one address per message.
        const addresses = [...Array.from({ length: MESSAGES }, (_, i) => `${i + 1}load@acme.example.com`), "load@acme.example.com"];
        for (let i = 0; i < addresses.length; i += 100) {
            await Promise.all(addresses.slice(i, i + 100).map((address) => mail.putAddress({ address, user: RESOLVED_USER })));
        }
        baseline = await startBaseline(mail, addresses);

        // Warm both paths (first batches are slower: process start-up, Maildir creation).
        await measure(mail, mail.smtpInPort, RESOLVED_USER, "load@acme.example.com", Math.min(200, MESSAGES));
        await measure(mail, baseline.port, BASELINE_USER, "load@acme.example.com", Math.min(200, MESSAGES));

        const mean = (rates: Rate[], key: keyof Rate) => rates.reduce((sum, r) => sum + r[key], 0) / rates.length;
        const workloads = [
            { name: "every message to a different address (cold cache: one address read per message, batched across sessions)", unique: true },
            { name: "every message to the same address (warm cache: reads only when the 400 ms entry expires)", unique: false },
        ];
        for (const workload of workloads) {
            process.stdout.write(`\n${workload.name}:\n`);
            const resolved: Rate[] = [];
            const hashed: Rate[] = [];
            for (let round = 0; round < ROUNDS; round++) {
                // Alternating which path goes first, so that neither always follows the other's leftover work.
                const measureResolved = async () => resolved.push(await measure(mail, mail.smtpInPort, RESOLVED_USER, "load@acme.example.com", MESSAGES, workload.unique));
                const measureHashed = async () => hashed.push(await measure(mail, baseline!.port, BASELINE_USER, "load@acme.example.com", MESSAGES, workload.unique));
                for (const measureOne of round % 2 === 0 ? [measureResolved, measureHashed] : [measureHashed, measureResolved]) await measureOne();
                process.stdout.write(`  round ${round + 1}: resolver ${resolved[round].accepted.toFixed(0)} accepted/s, ${resolved[round].delivered.toFixed(0)} delivered/s; hash map ${hashed[round].accepted.toFixed(0)} accepted/s, ${hashed[round].delivered.toFixed(0)} delivered/s\n`);
            }
            const acceptedRatio = mean(resolved, "accepted") / mean(hashed, "accepted");
            const deliveredRatio = mean(resolved, "delivered") / mean(hashed, "delivered");
            process.stdout.write(`  mean of ${ROUNDS} rounds: resolver (socketmap → DynamoDB) ${mean(resolved, "accepted").toFixed(0)} accepted/s, ${mean(resolved, "delivered").toFixed(0)} delivered/s; baseline (static hash map) ${mean(hashed, "accepted").toFixed(0)} accepted/s, ${mean(hashed, "delivered").toFixed(0)} delivered/s\n`);
            const ms = (rates: Rate[], key: keyof Rate) => `${mean(rates, key).toFixed(2)} ms`;
            process.stdout.write(`  CPU per message, whole machine: resolver path ${ms(resolved, "machineCpuMs")}, baseline ${ms(hashed, "machineCpuMs")} (cores busy ${(mean(resolved, "busy") * 100).toFixed(0)}% and ${(mean(hashed, "busy") * 100).toFixed(0)}%)\n`);
            process.stdout.write(`    of which the smtp-in resolver ${ms(resolved, "resolverCpuMs")} (idle on the baseline path), dynalite ${ms(resolved, "dynaliteCpuMs")} (DynamoDB's own work in production), load balancer and DynamoDB proxy ${ms(resolved, "proxyCpuMs")} (baseline ${ms(hashed, "proxyCpuMs")})\n`);
            process.stdout.write(`  ratio resolver/baseline: accepted ${acceptedRatio.toFixed(2)}, delivered ${deliveredRatio.toFixed(2)} (target ≥ 0.90: ${deliveredRatio >= 0.9 && acceptedRatio >= 0.9 ? "met" : "NOT met"})\n`);
        }

        const created: number[] = [];
        const revoked: number[] = [];
        for (let i = 0; i < LATENCY_SAMPLES; i++) {
            const address = `latency${i}@acme.example.com`;
            const [before] = await rcptReplies(mail.smtpInPort, "probe@sender.example.net", [address]);
            if (!/^550 /.test(before)) throw new Error(`${address} answered ${before} before it existed`);
            created.push(await latency(mail, address, async () => void (await mail.putAddress({ address, user: RESOLVED_USER })), /^250 /));
            revoked.push(await latency(mail, address, () => mail.deleteAddress(address), /^550 5\.1\.1 /));
        }
        const worst = Math.max(...created, ...revoked);
        process.stdout.write(`\nlatency (item written/deleted → Postfix's RCPT answer changes):\n`);
        process.stdout.write(`  create → accepted:      ${summary(created)}\n`);
        process.stdout.write(`  revoke → 550 5.1.1:     ${summary(revoked)}\n`);
        process.stdout.write(`  target ≤ 1000 ms each: ${worst <= 1000 ? "met" : "NOT met"} (worst ${worst} ms)\n`);
    } finally {
        await baseline?.close().catch(() => undefined);
        await mail.stop();
    }
}

main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
});
