/**
 * Renders a tier's config templates (mail/<tier>/*, `{{NAME}}` placeholders) into a config directory.
 *
 * The entrypoint of each image calls this with the container's environment (only the variables in
 * lib/mailTiers.ts's MAIL_ENV are read) and the production layout (ports and paths from MAIL_PORTS and
 * MAIL_MOUNTS). The tests render the very same template files with layout overrides (loopback ports, temp
 * directories, one-second queue retries): the only way a test differs from the image is through these variables.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mailHosts } from "../../lib/address";
import { MAILBOX_OWNER, MAIL_ENV, MAIL_MOUNTS, MAIL_PORTS, MailTierName } from "../../lib/mailTiers";
import { MAILBOX_DOMAIN } from "./resolver";

/** The template files of each tier, relative to mail/<tier>/. */
export const TEMPLATE_FILES: Record<MailTierName, readonly string[]> = {
    "smtp-in": ["main.cf", "master.cf"],
    imap: ["dovecot.conf", "checkpassword.sh"],
    "smtp-out": ["main.cf", "master.cf"],
};

/** smtp-out: the resolver's DKIM milter, on the container's loopback (internal to the image, not in the contract). */
export const MILTER_PORT = 10031;

/** What the MailServer component hands an image, parsed and checked. */
export interface MailContract {
    addressTable: string;
    region?: string;
    mailDomains: string[];
    controlDomain: string;
    imapHost?: string;
    messageSizeLimit: number;
    userPoolId?: string;
    userPoolClientId?: string;
    dkimPrivateKey?: string;
    outboundMode: "direct" | "ses";
    relayHost?: string;
    relayUser?: string;
    relayPassword?: string;
}

export class MailConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MailConfigError";
    }
}

const DEFAULT_MESSAGE_SIZE_LIMIT = 26214400;
const DOMAIN_RE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Reads and checks the contract variables a tier needs from an environment. Reads nothing outside MAIL_ENV;
 * throws a MailConfigError naming the variable and the fix for the first problem.
 */
export function contractFromEnv(tier: MailTierName, env: Record<string, string | undefined>): MailContract {
    const get = (name: string) => {
        const value = env[name];
        return value === undefined || value.trim() === "" ? undefined : value.trim();
    };
    const need = (name: string, what: string) => {
        const value = get(name);
        if (!value) throw new MailConfigError(`${tier}: environment variable ${name} is not set; set it to ${what}`);
        return value;
    };
    const mailDomains = need(MAIL_ENV.mailDomains, "the comma-separated mail domains, e.g. example.com,example.org")
        .split(",")
        .map((d) => d.trim().toLowerCase())
        .filter((d) => d.length > 0);
    for (const domain of mailDomains) {
        if (!DOMAIN_RE.test(domain)) throw new MailConfigError(`${tier}: ${MAIL_ENV.mailDomains} lists ${JSON.stringify(domain)}, which is not a domain name; list domains such as example.com, comma-separated`);
    }
    const controlDomain = need(MAIL_ENV.controlDomain, "the operator's control domain, e.g. mail-admin.example.org").toLowerCase();
    if (!DOMAIN_RE.test(controlDomain)) throw new MailConfigError(`${tier}: ${MAIL_ENV.controlDomain} is ${JSON.stringify(controlDomain)}, which is not a domain name`);

    const sizeText = get(MAIL_ENV.messageSizeLimit);
    const messageSizeLimit = sizeText === undefined ? DEFAULT_MESSAGE_SIZE_LIMIT : Number(sizeText);
    if (!Number.isInteger(messageSizeLimit) || messageSizeLimit < 1024) {
        throw new MailConfigError(`${tier}: ${MAIL_ENV.messageSizeLimit} is ${JSON.stringify(sizeText)}; set it to a whole number of bytes, at least 1024 (e.g. 26214400)`);
    }

    const contract: MailContract = {
        addressTable: need(MAIL_ENV.addressTable, "the AddressStore table's name"),
        region: get(MAIL_ENV.region),
        mailDomains,
        controlDomain,
        messageSizeLimit,
        outboundMode: "direct",
    };
    if (tier === "smtp-in" || tier === "smtp-out") contract.imapHost = need(MAIL_ENV.imapHost, "the imap tier's host name (service discovery)");
    if (tier === "imap") {
        contract.userPoolId = need(MAIL_ENV.userPoolId, "the user pool's id, e.g. us-east-1_AbCdEf123");
        contract.userPoolClientId = need(MAIL_ENV.userPoolClientId, "the user pool app client id that allows USER_PASSWORD_AUTH");
    }
    if (tier === "smtp-out") {
        contract.dkimPrivateKey = need(MAIL_ENV.dkimPrivateKey, "the control domain's DKIM private key (PEM)");
        const mode = get(MAIL_ENV.outbound) ?? "direct";
        if (mode !== "direct" && mode !== "ses") throw new MailConfigError(`smtp-out: ${MAIL_ENV.outbound} is ${JSON.stringify(mode)}; set it to direct or ses`);
        contract.outboundMode = mode;
        if (mode === "ses") {
            contract.relayHost = need(MAIL_ENV.relayHost, "the SES SMTP endpoint, e.g. email-smtp.us-east-1.amazonaws.com:587");
            contract.relayUser = need(MAIL_ENV.relayUser, "the SES SMTP user name");
            contract.relayPassword = need(MAIL_ENV.relayPassword, "the SES SMTP password");
        }
    }
    return contract;
}

/** `[host]:port` for Postfix's relayhost (brackets: no MX lookup for the relay's name). */
function relayhostFor(hostPort: string): string {
    const match = /^\[?([^\]:\s]+)\]?(?::(\d+))?$/.exec(hostPort);
    if (!match) throw new MailConfigError(`smtp-out: ${MAIL_ENV.relayHost} is ${JSON.stringify(hostPort)}; set it to host:port, e.g. email-smtp.us-east-1.amazonaws.com:587`);
    return `[${match[1]}]:${match[2] ?? "587"}`;
}

/**
 * The template variables of a tier: production layout derived from the contract, then `overrides` (tests).
 * Every variable is documented where it is set.
 */
export function templateVariables(tier: MailTierName, contract: MailContract, overrides: Record<string, string> = {}): Record<string, string> {
    const hosts = mailHosts(contract.controlDomain);
    const postfixCommon = {
        /** Where the rendered main.cf/master.cf live. */
        CONFIG_DIR: "/etc/postfix",
        /** The Postfix queue: the tier's EFS mount, so accepted mail survives a replaced task. */
        QUEUE_DIR: MAIL_MOUNTS.queue,
        DATA_DIR: "/var/lib/postfix",
        /** Postfix's log (postlogd): stdout, so it reaches the container log. */
        MAILLOG_FILE: "/dev/stdout",
        INET_INTERFACES: "all",
        /** Every client connection comes through the load balancer with a proxy protocol v2 header. */
        PROXY_PROTOCOL: "haproxy",
        RESOLVER_ADDRESS: `127.0.0.1:${MAIL_PORTS.resolver}`,
        /** Look up each client's host name (logs, Received headers). */
        PEERNAME_LOOKUP: "yes",
        MESSAGE_SIZE_LIMIT: String(contract.messageSizeLimit),
        /** Queue retries (Postfix's defaults); the tests shorten them. */
        MINIMAL_BACKOFF_TIME: "300s",
        MAXIMAL_BACKOFF_TIME: "4000s",
        QUEUE_RUN_DELAY: "300s",
    };
    let vars: Record<string, string>;
    switch (tier) {
        case "smtp-in":
            vars = {
                ...postfixCommon,
                MYHOSTNAME: hosts.smtpIn,
                SMTP_LISTEN: `0.0.0.0:${MAIL_PORTS.smtpIn}`,
                LMTP_ADDRESS: `${contract.imapHost}:${MAIL_PORTS.lmtp}`,
                MAILBOX_DOMAIN,
                /** Made by the entrypoint (self-signed) unless the image is given one: MX STARTTLS is opportunistic. */
                TLS_CERT_FILE: "/etc/postfix/tls/cert.pem",
                TLS_KEY_FILE: "/etc/postfix/tls/key.pem",
                /** Bounces to senders go out directly. */
                DEFAULT_TRANSPORT: "smtp",
            };
            break;
        case "smtp-out": {
            const ses = contract.outboundMode === "ses";
            vars = {
                ...postfixCommon,
                MYHOSTNAME: hosts.smtpOut,
                SUBMISSION_LISTEN: `0.0.0.0:${MAIL_PORTS.submission}`,
                AUTH_ADDRESS: `${contract.imapHost}:${MAIL_PORTS.auth}`,
                MILTER_ADDRESS: `127.0.0.1:${MILTER_PORT}`,
                RELAYHOST: ses ? relayhostFor(contract.relayHost!) : "",
                SMTP_TLS_LEVEL: ses ? "encrypt" : "may",
                SMTP_SASL_AUTH: ses ? "yes" : "no",
                /** Written by renderTier next to main.cf (see below: follows a CONFIG_DIR override). */
                SMTP_SASL_PASSWORD_MAPS: "",
            };
            break;
        }
        case "imap":
            vars = {
                BASE_DIR: "/run/dovecot",
                INSTANCE_NAME: "cabal-imap",
                LISTEN_ADDRESS: "*",
                LOG_PATH: "/dev/stderr",
                INTERNAL_USER: "dovecot",
                LOGIN_USER: "dovenull",
                /** The load balancer's addresses: private addresses inside the VPC. */
                PROXY_TRUSTED_NETWORKS: "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16",
                IMAP_HAPROXY: "yes",
                IMAP_PORT: String(MAIL_PORTS.imap),
                LMTP_PORT: String(MAIL_PORTS.lmtp),
                AUTH_PORT: String(MAIL_PORTS.auth),
                CHECKPASSWORD_PATH: "/etc/dovecot/checkpassword.sh",
                RESOLVER_HOST: "127.0.0.1",
                RESOLVER_PORT: String(MAIL_PORTS.resolver),
                MAILBOX_ROOT: MAIL_MOUNTS.mailboxes,
                /** The mailbox tree's one owner, which the EFS access point enforces (the image's vmail account). */
                MAIL_UID: String(MAILBOX_OWNER.uid),
                MAIL_GID: String(MAILBOX_OWNER.gid),
            };
            break;
    }
    for (const [name, value] of Object.entries(overrides)) {
        if (!(name in vars)) throw new MailConfigError(`${tier}: override ${name} is not a template variable of this tier (known: ${Object.keys(vars).join(", ")})`);
        vars[name] = value;
    }
    if (tier === "smtp-out" && contract.outboundMode === "ses" && !("SMTP_SASL_PASSWORD_MAPS" in overrides)) {
        vars.SMTP_SASL_PASSWORD_MAPS = `texthash:${vars.CONFIG_DIR}/relay_passwords`;
    }
    return vars;
}

/** Replaces every `{{NAME}}`; a placeholder without a variable is an error naming the file and the name. */
export function renderTemplate(text: string, vars: Record<string, string>, fileName: string): string {
    return text.replace(/\{\{([A-Z][A-Z0-9_]*)\}\}/g, (_, name: string) => {
        const value = vars[name];
        if (value === undefined) throw new MailConfigError(`${fileName}: placeholder {{${name}}} has no value; add ${name} to templateVariables() in mail/src/render.ts`);
        return value;
    });
}

/** Where the repository (or the image, /opt/cabal/templates) keeps a tier's templates. */
export function templateDirectory(tier: MailTierName, root = path.join(__dirname, "..")): string {
    return path.join(root, tier);
}

/**
 * Writes a tier's rendered config into outDir, plus the files derived from the contract (the mail domains'
 * regexp table, the relay password table). Returns the paths written.
 */
export function renderTier(tier: MailTierName, contract: MailContract, vars: Record<string, string>, outDir: string, templateDir = templateDirectory(tier)): string[] {
    fs.mkdirSync(outDir, { recursive: true });
    const written: string[] = [];
    const write = (name: string, text: string, mode = 0o644) => {
        const file = path.join(outDir, name);
        fs.writeFileSync(file, text, { mode });
        fs.chmodSync(file, mode);
        written.push(file);
    };
    for (const name of TEMPLATE_FILES[tier]) {
        const text = fs.readFileSync(path.join(templateDir, name), "utf8");
        write(name, renderTemplate(text, vars, `${tier}/${name}`), name.endsWith(".sh") ? 0o755 : 0o644);
    }
    if (tier === "smtp-in") {
        // A domain is ours when it is exactly one label under a mail domain (lib/address.ts's parseAddress).
        const lines = contract.mailDomains.map((d) => `/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.${d.replace(/\./g, "\\.")}$/ OK`);
        write("address_domains.regexp", `# Rendered from ${MAIL_ENV.mailDomains}.\n${lines.join("\n")}\n`);
        // Recipients the resolver rewrote (<mailbox>@mailbox.invalid) are final: mapping them to themselves ends
        // Postfix's recursive alias expansion without another resolver lookup.
        write("mailbox_identity.regexp", `/^([^@]+@${MAILBOX_DOMAIN.replace(/\./g, "\\.")})$/ \${1}\n`);
    }
    if (tier === "smtp-out" && contract.outboundMode === "ses") {
        write("relay_passwords", `${vars.RELAYHOST} ${contract.relayUser}:${contract.relayPassword}\n`, 0o600);
    }
    return written;
}
