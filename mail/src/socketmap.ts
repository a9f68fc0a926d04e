/**
 * A socketmap server (the protocol Postfix's `socketmap:` tables speak): requests and replies are netstrings,
 * "<length>:<bytes>,". A request is "<map name> <key>"; a reply is "OK <value>", "NOTFOUND ", "TEMP <reason>",
 * "TIMEOUT <reason>" or "PERM <reason>". Postfix turns TEMP into a 4xx reply, so a broken table defers mail
 * instead of bouncing it.
 */
import { listenTcp, type RunningServer } from "./tcpServer";

export type SocketmapReply =
    | { status: "OK"; value: string }
    | { status: "NOTFOUND" }
    | { status: "TEMP"; reason: string }
    | { status: "PERM"; reason: string };

/** Answers one lookup; `map` is the name after `socketmap:inet:host:port:`. */
export type SocketmapHandler = (map: string, key: string) => Promise<SocketmapReply>;

/** Postfix's own limit on a socketmap reply is 100000 bytes; requests are much shorter. */
const MAX_NETSTRING = 100000;

export function encodeNetstring(text: string): Buffer {
    const body = Buffer.from(text, "utf8");
    return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(",")]);
}

function formatReply(reply: SocketmapReply): string {
    switch (reply.status) {
        case "OK":
            return `OK ${reply.value}`;
        case "NOTFOUND":
            return "NOTFOUND ";
        default:
            // A reason must stay on one line and short: Postfix logs it.
            return `${reply.status} ${reply.reason.replace(/[\r\n]+/g, " ").slice(0, 400)}`;
    }
}

/**
 * Splits complete netstrings off the front of a buffer. Returns the requests and the unconsumed rest, or throws
 * on a malformed stream (the connection is then closed: Postfix reconnects).
 */
export function parseNetstrings(buffer: Buffer): { requests: string[]; rest: Buffer } {
    const requests: string[] = [];
    let offset = 0;
    for (;;) {
        const colon = buffer.indexOf(0x3a, offset);
        if (colon < 0) {
            if (buffer.length - offset > 10) throw new Error("netstring length prefix too long");
            break;
        }
        const lengthText = buffer.subarray(offset, colon).toString("ascii");
        if (!/^\d{1,6}$/.test(lengthText)) throw new Error(`bad netstring length ${JSON.stringify(lengthText)}`);
        const length = Number(lengthText);
        if (length > MAX_NETSTRING) throw new Error(`netstring of ${length} bytes is too long`);
        const end = colon + 1 + length;
        if (buffer.length < end + 1) break;
        if (buffer[end] !== 0x2c) throw new Error("netstring does not end with a comma");
        requests.push(buffer.subarray(colon + 1, end).toString("utf8"));
        offset = end + 1;
    }
    return { requests, rest: buffer.subarray(offset) };
}

export type { RunningServer } from "./tcpServer";

/** Listens on host:port and answers each connection's requests in order. */
export async function startSocketmapServer(host: string, port: number, handler: SocketmapHandler, log: (line: string) => void = () => {}): Promise<RunningServer> {
    return listenTcp(host, port, (socket) => {
        let pending: Buffer = Buffer.alloc(0);
        // Replies must go out in request order; Postfix sends one request at a time, but be safe.
        let queue: Promise<void> = Promise.resolve();
        socket.on("data", (chunk) => {
            pending = Buffer.concat([pending, chunk]);
            let parsed: { requests: string[]; rest: Buffer };
            try {
                parsed = parseNetstrings(pending);
            } catch (err) {
                log(`socketmap: closing a connection that sent a malformed request: ${(err as Error).message}`);
                socket.destroy();
                return;
            }
            pending = parsed.rest;
            for (const request of parsed.requests) {
                queue = queue.then(async () => {
                    const space = request.indexOf(" ");
                    let reply: SocketmapReply;
                    if (space <= 0) {
                        reply = { status: "PERM", reason: `request ${JSON.stringify(request.slice(0, 60))} has no map name: expected "<map> <key>"` };
                    } else {
                        try {
                            reply = await handler(request.slice(0, space), request.slice(space + 1));
                        } catch (err) {
                            reply = { status: "TEMP", reason: `lookup failed: ${(err as Error).message}` };
                        }
                    }
                    if (!socket.destroyed) socket.write(encodeNetstring(formatReply(reply)));
                });
            }
        });
    });
}
