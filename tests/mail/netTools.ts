/**
 * Small loopback network pieces for the mail tests: a stand-in for the Network Load Balancer (prepends a proxy
 * protocol v2 header, as the NLB does for the mail tiers), a TCP proxy that can be cut to simulate an outage,
 * an SMTP sink that records what smtp-out relays, and a port wait.
 */
import * as net from "node:net";

export interface Closable {
    close(): Promise<void>;
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

function listen(server: net.Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
        });
    });
}

/** The proxy protocol v2 header for a TCP/IPv4 connection from `source` to `destination`. */
export function proxyV2Header(source: { address: string; port: number }, destination: { address: string; port: number }): Buffer {
    const header = Buffer.alloc(16 + 12);
    Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]).copy(header, 0);
    header[12] = 0x21; // version 2, PROXY command
    header[13] = 0x11; // TCP over IPv4
    header.writeUInt16BE(12, 14);
    source.address.split(".").forEach((octet, i) => (header[16 + i] = Number(octet)));
    destination.address.split(".").forEach((octet, i) => (header[20 + i] = Number(octet)));
    header.writeUInt16BE(source.port, 24);
    header.writeUInt16BE(destination.port, 26);
    return header;
}

/**
 * Listens on `port` and forwards each connection to `targetPort`, first sending a proxy protocol v2 header that
 * names `clientAddress` as the client: what the NLB does in front of every mail tier.
 */
export async function startLoadBalancer(port: number, targetPort: number, clientAddress: string): Promise<Closable> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
        const upstream = net.connect(targetPort, "127.0.0.1");
        // No Nagle: a proxy that delays small writes would distort every latency measured through it.
        client.setNoDelay(true);
        upstream.setNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        client.pause();
        upstream.once("connect", () => {
            upstream.write(proxyV2Header({ address: clientAddress, port: client.remotePort ?? 40000 }, { address: "198.51.100.25", port }));
            client.pipe(upstream);
            upstream.pipe(client);
            client.resume();
        });
        const end = () => {
            client.destroy();
            upstream.destroy();
            sockets.delete(client);
            sockets.delete(upstream);
        };
        client.on("error", end).on("close", end);
        upstream.on("error", end).on("close", end);
    });
    await listen(server, port);
    return { close: () => closeServer(server, sockets) };
}

/** A plain TCP forwarder that can be cut (connections refused, open ones reset) and restored. */
export class CuttableProxy implements Closable {
    private server?: net.Server;
    private readonly sockets = new Set<net.Socket>();

    constructor(
        readonly port: number,
        private readonly targetPort: number,
    ) {}

    async open(): Promise<void> {
        if (this.server) return;
        const server = net.createServer((client) => {
            const upstream = net.connect(this.targetPort, "127.0.0.1");
            client.setNoDelay(true);
            upstream.setNoDelay(true);
            this.sockets.add(client);
            this.sockets.add(upstream);
            client.pipe(upstream);
            upstream.pipe(client);
            const end = () => {
                client.destroy();
                upstream.destroy();
                this.sockets.delete(client);
                this.sockets.delete(upstream);
            };
            client.on("error", end).on("close", end);
            upstream.on("error", end).on("close", end);
        });
        await listen(server, this.port);
        this.server = server;
    }

    /** Cut: refuse new connections and reset open ones. */
    async close(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (server) await closeServer(server, this.sockets);
    }
}

/** One message as the SMTP sink received it. */
export interface SinkMessage {
    from: string;
    to: string[];
    /** The message as transmitted, CRLF line ends, dot-stuffing undone. */
    raw: Buffer;
}

/** A minimal SMTP server (no TLS, no AUTH) that accepts everything and keeps it: the "internet" for smtp-out. */
export class SmtpSink implements Closable {
    readonly messages: SinkMessage[] = [];
    private readonly sockets = new Set<net.Socket>();
    private server?: net.Server;
    private waiters: (() => void)[] = [];

    constructor(readonly port: number) {}

    async open(): Promise<void> {
        const server = net.createServer((socket) => this.session(socket));
        await listen(server, this.port);
        this.server = server;
    }

    /** Resolves once at least `count` messages have arrived. */
    async waitFor(count: number, timeoutMs = 20000): Promise<SinkMessage[]> {
        const deadline = Date.now() + timeoutMs;
        while (this.messages.length < count) {
            if (Date.now() > deadline) throw new Error(`the SMTP sink received ${this.messages.length} messages, expected ${count}, within ${timeoutMs} ms`);
            await new Promise<void>((resolve) => {
                this.waiters.push(resolve);
                setTimeout(resolve, 200);
            });
        }
        return this.messages.slice(0, count);
    }

    async close(): Promise<void> {
        if (this.server) await closeServer(this.server, this.sockets);
        this.server = undefined;
    }

    private session(socket: net.Socket): void {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => socket.destroy());
        let buffer = "";
        let inData = false;
        let from = "";
        let to: string[] = [];
        socket.write("220 sink.test ESMTP\r\n");
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
            buffer += chunk;
            for (;;) {
                if (inData) {
                    const end = buffer.indexOf("\r\n.\r\n");
                    const atStart = buffer.startsWith(".\r\n");
                    if (end < 0 && !atStart) return;
                    const body = atStart ? "" : buffer.slice(0, end + 2);
                    buffer = atStart ? buffer.slice(3) : buffer.slice(end + 5);
                    inData = false;
                    const raw = Buffer.from(body.replace(/^\.\./gm, "."), "latin1");
                    this.messages.push({ from, to, raw });
                    for (const wake of this.waiters.splice(0)) wake();
                    socket.write("250 2.0.0 kept\r\n");
                    continue;
                }
                const newline = buffer.indexOf("\r\n");
                if (newline < 0) return;
                const line = buffer.slice(0, newline);
                buffer = buffer.slice(newline + 2);
                const verb = line.slice(0, 4).toUpperCase();
                if (verb === "EHLO" || verb === "HELO") socket.write("250-sink.test\r\n250 8BITMIME\r\n");
                else if (verb === "MAIL") {
                    from = /<([^>]*)>/.exec(line)?.[1] ?? "";
                    to = [];
                    socket.write("250 2.1.0 ok\r\n");
                } else if (verb === "RCPT") {
                    to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
                    socket.write("250 2.1.5 ok\r\n");
                } else if (verb === "DATA") {
                    inData = true;
                    socket.write("354 go ahead\r\n");
                } else if (verb === "QUIT") {
                    socket.end("221 2.0.0 bye\r\n");
                } else if (verb === "RSET" || verb === "NOOP") socket.write("250 2.0.0 ok\r\n");
                else socket.write("502 5.5.2 not here\r\n");
            }
        });
    }
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
function isListening(port: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/** Polls every 100 ms until the port is (or is no longer) listening; throws `failure` after the timeout. */
async function waitForListening(port: number, listening: boolean, timeoutMs: number, failure: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if ((await isListening(port)) === listening) return;
        if (Date.now() > deadline) throw new Error(failure);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** Resolves when something accepts TCP connections on the port, or rejects after the timeout. */
export function waitForPort(port: number, timeoutMs = 15000, what = `port ${port}`): Promise<void> {
    return waitForListening(port, true, timeoutMs, `${what} did not start listening within ${timeoutMs} ms`);
}

/** Resolves when nothing listens on the port any more. */
export function waitForPortClosed(port: number, timeoutMs = 15000): Promise<void> {
    return waitForListening(port, false, timeoutMs, `port ${port} is still open after ${timeoutMs} ms`);
}
