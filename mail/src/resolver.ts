/**
 * The resolver: the one small process each mail container runs next to Postfix or Dovecot (started by the
 * entrypoint on 127.0.0.1:10030). It answers from the AddressStore table, live, so a new address or user needs
 * no regenerated map and no restart. Socketmap tables it serves:
 *
 *  - `alias` (smtp-in's virtual_alias_maps): `local@sub.domain` → `<mailbox>@mailbox.invalid` for an active
 *    address; every other key (revoked, suspended, unknown, `@domain` probes) is NOTFOUND, which Postfix turns
 *    into "550 5.1.1 User unknown". The rewritten recipient is routed to the imap tier's LMTP by transport_maps,
 *    and `mailbox.invalid` (a reserved name) is no domain of ours, so nobody outside can address it directly.
 *  - `owner` (smtp-out's smtpd_sender_login_maps): `local@sub.domain` → the owning user, for active addresses.
 *  - `auth` (imap's checkpassword script, when a user pool is configured): `<base64 user> <base64 password>` →
 *    `OK <canonical user>` or NOTFOUND.
 *
 * A table or Cognito failure answers TEMP, which Postfix and Dovecot turn into 4xx / temporary failures.
 * On smtp-out it also runs the DKIM milter (see dkimMilter.ts).
 */
import { AddressDirectory, AddressDirectoryOptions, TemporaryLookupError, mailboxName } from "./addressDirectory";
import { CognitoPasswordChecker, CognitoPasswordOptions } from "./cognitoPassword";
import { startDkimMilter } from "./dkimMilter";
import { SocketmapReply, startSocketmapServer, RunningServer } from "./socketmap";

/** The domain of rewritten recipients: reserved by RFC 2606, so it can never be a real destination. */
export const MAILBOX_DOMAIN = "mailbox.invalid";

export interface ResolverOptions {
    /** The AddressStore table and the mail domains. */
    directory: AddressDirectoryOptions;
    /** Where the socketmap listens. Default host 127.0.0.1. */
    host?: string;
    port: number;
    /** Serve the `auth` map by checking passwords against this user pool client (imap tier). */
    cognito?: CognitoPasswordOptions;
    /** Run the DKIM milter on this port with this key (smtp-out tier). */
    milter?: { port: number; privateKeyPem: string };
    log?: (line: string) => void;
}

export interface RunningResolver {
    port: number;
    milterPort?: number;
    directory: AddressDirectory;
    stop(): Promise<void>;
}

export async function startResolver(options: ResolverOptions): Promise<RunningResolver> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const host = options.host ?? "127.0.0.1";
    const directory = new AddressDirectory(options.directory);
    const passwords = options.cognito ? new CognitoPasswordChecker(options.cognito) : undefined;

    const temporary = (err: unknown): SocketmapReply => {
        if (err instanceof TemporaryLookupError) {
            log(`resolver: ${err.message}`);
            return { status: "TEMP", reason: "address directory unavailable" };
        }
        throw err;
    };

    const handler = async (map: string, key: string): Promise<SocketmapReply> => {
        switch (map) {
            case "alias": {
                let owner: string | undefined;
                try {
                    owner = await directory.activeOwner(key);
                } catch (err) {
                    return temporary(err);
                }
                if (!owner) return { status: "NOTFOUND" };
                const mailbox = mailboxName(owner);
                if (!mailbox) {
                    // Deferring (not bouncing) keeps the mail while the operator fixes the user name.
                    log(`resolver: user name ${JSON.stringify(owner)} of ${key} cannot name a mailbox directory (want letters, digits, . _ + -)`);
                    return { status: "TEMP", reason: "owner's user name cannot name a mailbox" };
                }
                return { status: "OK", value: `${mailbox}@${MAILBOX_DOMAIN}` };
            }
            case "owner": {
                try {
                    const owner = await directory.activeOwner(key);
                    return owner ? { status: "OK", value: owner.toLowerCase() } : { status: "NOTFOUND" };
                } catch (err) {
                    return temporary(err);
                }
            }
            case "auth": {
                if (!passwords) return { status: "PERM", reason: "this resolver has no user pool: set USER_POOL_ID and USER_POOL_CLIENT_ID" };
                const [user64, password64] = key.split(" ");
                const user = Buffer.from(user64 ?? "", "base64").toString("utf8");
                const password = Buffer.from(password64 ?? "", "base64").toString("utf8");
                try {
                    const result = await passwords.check(user, password);
                    if (result.ok) {
                        const mailbox = mailboxName(result.user);
                        if (mailbox) return { status: "OK", value: mailbox };
                        log(`resolver: user name ${JSON.stringify(result.user)} cannot name a mailbox directory`);
                        return { status: "NOTFOUND" };
                    }
                    log(`resolver: login refused for ${JSON.stringify(user)}: ${result.reason}`);
                    return { status: "NOTFOUND" };
                } catch (err) {
                    return temporary(err);
                }
            }
            default:
                return { status: "PERM", reason: `unknown map ${JSON.stringify(map)}: this resolver serves alias, owner and auth` };
        }
    };

    const servers: RunningServer[] = [];
    try {
        servers.push(await startSocketmapServer(host, options.port, handler, log));
        if (options.milter) {
            servers.push(
                await startDkimMilter(host, options.milter.port, {
                    privateKeyPem: options.milter.privateKeyPem,
                    mailDomains: options.directory.mailDomains,
                    activeOwner: (address) => directory.activeOwner(address),
                    log,
                }),
            );
        }
    } catch (err) {
        await Promise.all(servers.map((s) => s.close()));
        directory.destroy();
        passwords?.destroy();
        throw err;
    }
    return {
        port: servers[0].port,
        milterPort: options.milter ? servers[1].port : undefined,
        directory,
        stop: async () => {
            await Promise.all(servers.map((s) => s.close()));
            directory.destroy();
            passwords?.destroy();
        },
    };
}
