/**
 * A Postfix milter (Sendmail milter protocol, version 6) for the smtp-out tier's submission service. For every
 * message it:
 *  1. refuses it unless the From header holds exactly one address and that address is an active address owned by
 *     the SASL-authenticated user (Postfix's reject_sender_login_mismatch covers the envelope sender only);
 *  2. DKIM-signs it with d=<the From address's domain> and s=DKIM_SELECTOR, using the control domain's one key
 *     (every address subdomain publishes a CNAME to the control domain's selector record).
 *
 * Only the commands Postfix sends to a milter that asked for everything are handled; each gets "continue"
 * except end-of-headers (the From check) and end-of-body (the signature).
 */
import addressparser from "nodemailer/lib/addressparser";
import { dkimSign } from "mailauth/lib/dkim/sign";
import { DKIM_SELECTOR, parseAddress } from "../../lib/address";
import { TemporaryLookupError } from "./addressDirectory";
import { listenTcp, type RunningServer } from "./tcpServer";

export interface DkimMilterOptions {
    /** The control domain's DKIM private key, PEM. */
    privateKeyPem: string;
    /** The configured mail domains: only From addresses on them are signed. */
    mailDomains: readonly string[];
    /** The active owner of an address, or undefined; throws TemporaryLookupError when the table is unreachable. */
    activeOwner: (address: string) => Promise<string | undefined>;
    /** Where to log refusals and failures. */
    log?: (line: string) => void;
}

const SMFIF_ADDHDRS = 0x01;
const MILTER_VERSION = 6;

function packet(command: string, payload: Buffer = Buffer.alloc(0)): Buffer {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(payload.length + 1, 0);
    header.write(command, 4, "latin1");
    return Buffer.concat([header, payload]);
}

/** "550 5.7.1 text" as a milter reply-code packet (the text may not contain CR/LF or %). */
function replyCode(smtpReply: string): Buffer {
    return packet("y", Buffer.from(smtpReply.replace(/[\r\n%]/g, " ") + "\0", "utf8"));
}

/** Splits "a\0b\0c\0" into its strings. */
function cStrings(payload: Buffer): string[] {
    const parts = payload.toString("utf8").split("\0");
    if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
    return parts;
}

interface MessageState {
    headers: { name: string; value: string }[];
    body: Buffer[];
    fromAddress?: string;
}

export async function startDkimMilter(host: string, port: number, options: DkimMilterOptions): Promise<RunningServer> {
    const log = options.log ?? (() => {});
    return listenTcp(host, port, (socket) => {
        let pending: Buffer = Buffer.alloc(0);
        let authUser: string | undefined;
        let message: MessageState = { headers: [], body: [] };
        let queue: Promise<void> = Promise.resolve();

        const handle = async (command: string, payload: Buffer): Promise<Buffer[]> => {
            switch (command) {
                case "O": {
                    const reply = Buffer.alloc(12);
                    reply.writeUInt32BE(MILTER_VERSION, 0);
                    reply.writeUInt32BE(SMFIF_ADDHDRS, 4);
                    reply.writeUInt32BE(0, 8); // every protocol step, each with a reply
                    return [packet("O", reply)];
                }
                case "D": {
                    // Macros: one command letter, then name\0value\0 pairs.
                    const parts = cStrings(payload.subarray(1));
                    for (let i = 0; i + 1 < parts.length; i += 2) {
                        if (parts[i] === "{auth_authen}" || parts[i] === "auth_authen") authUser = parts[i + 1];
                    }
                    return [];
                }
                case "M":
                    message = { headers: [], body: [] };
                    return [packet("c")];
                case "L": {
                    const [name, value = ""] = cStrings(payload);
                    message.headers.push({ name, value });
                    return [packet("c")];
                }
                case "N":
                    return [await checkFrom()];
                case "B":
                    message.body.push(Buffer.from(payload));
                    return [packet("c")];
                case "E":
                    if (payload.length > 0) message.body.push(Buffer.from(payload));
                    return await sign();
                case "A":
                    message = { headers: [], body: [] };
                    return [];
                case "K":
                    authUser = undefined;
                    message = { headers: [], body: [] };
                    return [];
                case "Q":
                    socket.end();
                    return [];
                default:
                    // C (connect), H (helo), R (rcpt), T (data), U (unknown command): nothing to decide.
                    return [packet("c")];
            }
        };

        const checkFrom = async (): Promise<Buffer> => {
            const fromHeaders = message.headers.filter((h) => h.name.toLowerCase() === "from");
            const addresses = fromHeaders.flatMap((h) => addressparser(h.value, { flatten: true })).map((a) => a.address.toLowerCase());
            if (fromHeaders.length !== 1 || addresses.length !== 1 || !addresses[0]) {
                return replyCode("550 5.7.1 The message needs exactly one From header with exactly one address: one of your own addresses");
            }
            const from = addresses[0];
            if (!authUser) return replyCode("530 5.7.0 Authenticate first: only logged-in users may send");
            let owner: string | undefined;
            try {
                owner = await options.activeOwner(from);
            } catch (err) {
                log(`milter: owner lookup for ${from} failed: ${(err as Error).message}`);
                return replyCode("451 4.3.0 The address directory is unavailable; try again shortly");
            }
            if (!owner || owner.toLowerCase() !== authUser.toLowerCase()) {
                log(`milter: refused From ${from} for user ${authUser} (owner: ${owner ?? "none"})`);
                return replyCode(`550 5.7.1 From address ${from} is not an active address of user ${authUser}; send from one of your own addresses`);
            }
            message.fromAddress = from;
            return packet("c");
        };

        const sign = async (): Promise<Buffer[]> => {
            const from = message.fromAddress;
            const parsed = from ? parseAddress(from, options.mailDomains) : undefined;
            if (!parsed) return [packet("c")];
            const headerText = message.headers.map((h) => `${h.name}: ${h.value.replace(/\r?\n/g, "\r\n")}\r\n`).join("");
            const bodyText = Buffer.concat(message.body).toString("latin1").replace(/\r?\n/g, "\r\n");
            const raw = Buffer.from(`${headerText}\r\n${bodyText}`, "latin1");
            const key = { signingDomain: `${parsed.subdomain}.${parsed.domain}`, selector: DKIM_SELECTOR, privateKey: options.privateKeyPem };
            // The signer reads the keys from signatureData; the top-level copy satisfies the option type.
            const result = await dkimSign(raw, {
                ...key,
                canonicalization: "relaxed/relaxed",
                algorithm: "rsa-sha256",
                signatureData: [key],
            });
            const signature = result.signatures.trim();
            const colon = signature.indexOf(":");
            if (result.errors?.length || colon < 0) {
                log(`milter: DKIM signing failed for ${from}: ${JSON.stringify(result.errors)}`);
                return [replyCode("451 4.7.0 The message could not be signed; try again shortly")];
            }
            const name = signature.slice(0, colon);
            const value = signature.slice(colon + 1).replace(/^ /, "").replace(/\r\n/g, "\n");
            const index = Buffer.alloc(4);
            index.writeUInt32BE(0, 0);
            return [packet("i", Buffer.concat([index, Buffer.from(`${name}\0${value}\0`, "utf8")])), packet("c")];
        };

        socket.on("data", (chunk) => {
            pending = Buffer.concat([pending, chunk]);
            while (pending.length >= 5) {
                const length = pending.readUInt32BE(0);
                if (length < 1 || length > 4 * 1024 * 1024) {
                    log(`milter: closing a connection that sent a packet of ${length} bytes`);
                    socket.destroy();
                    return;
                }
                if (pending.length < 4 + length) break;
                const command = String.fromCharCode(pending[4]);
                const payload = pending.subarray(5, 4 + length);
                pending = pending.subarray(4 + length);
                queue = queue.then(async () => {
                    let replies: Buffer[];
                    try {
                        replies = await handle(command, payload);
                    } catch (err) {
                        const reason = err instanceof TemporaryLookupError ? err.message : (err as Error).stack ?? String(err);
                        log(`milter: ${command} failed: ${reason}`);
                        replies = command === "O" || command === "D" || command === "A" ? [] : [packet("t")];
                    }
                    for (const reply of replies) if (!socket.destroyed) socket.write(reply);
                });
            }
        });
    });
}
