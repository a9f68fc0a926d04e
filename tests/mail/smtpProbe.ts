/**
 * A raw SMTP client for tests that need the server's exact reply to an envelope that nodemailer would refuse
 * to build (source routes, bang paths, quoted local parts...).
 */
import * as net from "node:net";

/** One SMTP session: EHLO, MAIL FROM, then each RCPT TO; returns the reply to each RCPT (code and text). */
export async function rcptReplies(port: number, from: string, recipients: string[], helo = "probe.example.net"): Promise<string[]> {
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("latin1");
    let buffer = "";
    const waiters: (() => void)[] = [];
    socket.on("data", (chunk: string) => {
        buffer += chunk;
        for (const wake of waiters.splice(0)) wake();
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    /** The next complete (possibly multi-line) reply. */
    const reply = async (): Promise<string> => {
        const deadline = Date.now() + 20000;
        for (;;) {
            const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffer);
            if (match) {
                buffer = buffer.slice(match[0].length);
                return match[0].trim().split("\r\n").pop()!;
            }
            if (socket.destroyed || Date.now() > deadline) return `(connection closed: ${JSON.stringify(buffer)})`;
            await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), closed, new Promise((r) => setTimeout(r, 200))]);
        }
    };
    const command = async (line: string) => {
        socket.write(`${line}\r\n`);
        return reply();
    };
    try {
        const greeting = await reply();
        if (!greeting.startsWith("220")) throw new Error(`no SMTP greeting: ${greeting}`);
        const ehlo = await command(`EHLO ${helo}`);
        if (!ehlo.startsWith("250")) throw new Error(`EHLO refused: ${ehlo}`);
        const mail = await command(`MAIL FROM:<${from}>`);
        if (!mail.startsWith("250")) return recipients.map(() => `(MAIL FROM refused) ${mail}`);
        const replies: string[] = [];
        for (const recipient of recipients) replies.push(await command(`RCPT TO:<${recipient}>`));
        await command("QUIT").catch(() => undefined);
        return replies;
    } finally {
        socket.destroy();
    }
}

/** The EHLO keywords a server advertises (e.g. STARTTLS, SIZE 1048576). */
export async function ehloKeywords(port: number): Promise<string[]> {
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("latin1");
    let text = "";
    return new Promise((resolve, reject) => {
        let sent = false;
        socket.on("data", (chunk: string) => {
            text += chunk;
            if (!sent && /^220 .*\r\n/m.test(text)) {
                sent = true;
                text = "";
                socket.write("EHLO probe.example.net\r\n");
            } else if (sent && /^250 .*\r\n/m.test(text)) {
                socket.end("QUIT\r\n");
                resolve(text.split("\r\n").filter((l) => l.startsWith("250")).slice(1).map((l) => l.slice(4)));
            }
        });
        socket.on("error", reject);
        setTimeout(() => reject(new Error(`no EHLO reply: ${JSON.stringify(text)}`)), 10000);
    });
}
