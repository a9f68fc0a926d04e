/**
 * Stack config: every `cabalmail:*` key, its type, default and description, validated once into one typed
 * object. The program reads config only here (see `loadStackConfig` in index.ts); components take arguments.
 *
 * Pulumi hands a program every config value as a string: `pulumi config set backup true` stores "true", and
 * structured values (`pulumi config set --path 'mailDomains[0]' example.com`) arrive as JSON. The schema below
 * turns those strings into typed values; its defaults are the ones Pulumi.yaml declares (a test keeps the two
 * equal, because the Pulumi CLI applies Pulumi.yaml's defaults and unit tests under mocks do not).
 */
// Zod's v3 API, which the zod package keeps alongside v4: it loads in about a quarter of v4's time (13 ms against
// 46 ms here), and every preview loads it (bench/README.md).
import { z } from "zod/v3";
import { FARGATE_CPU_SIZES, fargateMemoryChoices, LOG_RETENTION_DAYS, SES_MESSAGE_SIZE_LIMIT } from "./mailServerLimits";

/** Config keys live in the project's namespace: `cabalmail:backup`. */
export const CONFIG_NAMESPACE = "cabalmail";

const DOMAIN_RE = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const DOMAIN_HINT = "must be a DNS domain name such as example.com: dot-separated labels of lower-case letters, digits and inner hyphens";

/** The message of a value of the wrong type, and of a missing one. */
const typeError = (message: string, required = message) => ({ invalid_type_error: message, required_error: required });

const domainName = z.string(typeError(DOMAIN_HINT, "is required")).trim().toLowerCase().regex(DOMAIN_RE, DOMAIN_HINT);

/** Parses a config string that holds JSON (booleans, numbers, lists); leaves anything else as it is. */
function fromConfigString(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
/** How to set each key right, named in its error message (zod's v3 API keeps no metadata of its own). */
const FIXES = new WeakMap<z.ZodTypeAny, string>();

/** A config key: its schema, its description (the one Pulumi.yaml gives) and how to set it right. */
function setting<T extends z.ZodTypeAny>(schema: T, description: string, fix: string): T {
    const described = schema.describe(description);
    FIXES.set(described, fix);
    return described;
}

const structured = <T extends z.ZodTypeAny>(schema: T) => z.preprocess(fromConfigString, schema);
const days = (what: string) =>
    z.number(typeError("must be a whole number of days")).int(`must be a whole number of days`).min(1, `${what} must be at least 1 day`).max(36500, `${what} must be at most 36500 days (AWS Backup's limit)`);

/** Image, task size and task count of one mail tier: `<prefix>Image`, `<prefix>Cpu`, `<prefix>Memory`, `<prefix>Tasks`. */
function mailTierConfig<P extends string>(prefix: P, tier: string) {
    const whole = (what: string) => z.number(typeError(`must be a whole number${what}`)).int(`must be a whole number${what}`);
    return {
        [`${prefix}Image`]: setting(
            z
                .string()
                .trim()
                .min(1, "must be an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/cabalmail-" + tier + ":1.0")
                .optional(),
            `A prebuilt ${tier} image (an ARM64 image reference). Unset: built from mail/${tier}/Dockerfile and pushed to ECR at pulumi up, which needs Docker.`,
            `pulumi config set ${prefix}Image 123456789012.dkr.ecr.us-east-1.amazonaws.com/cabalmail-${tier}:1.0 (or pulumi config rm ${prefix}Image)`,
        ),
        [`${prefix}Cpu`]: setting(
            structured(
                whole(" of CPU units")
                    .refine((v) => (FARGATE_CPU_SIZES as readonly number[]).includes(v), `must be a Fargate CPU size: ${FARGATE_CPU_SIZES.join(", ")}`)
                    .default(256),
            ),
            `CPU units of the ${tier} task (1024 = one vCPU).`,
            `pulumi config set ${prefix}Cpu 256`,
        ),
        [`${prefix}Memory`]: setting(
            structured(whole(" of MiB").default(512)),
            `Memory of the ${tier} task in MiB; a size Fargate offers for its CPU (256 CPU: 512, 1024 or 2048).`,
            `pulumi config set ${prefix}Memory 512`,
        ),
        [`${prefix}Tasks`]: setting(
            structured(
                whole("").min(0, "must be 0 or 1").max(1, "must be 0 or 1: the tier keeps its state in one EFS tree (a Postfix queue or the mailboxes) that one server at a time may own").default(1),
            ),
            `Running ${tier} tasks: 1, or 0 to stop the tier.`,
            `pulumi config set ${prefix}Tasks 1`,
        ),
    } as Record<`${P}Image`, z.ZodOptional<z.ZodString>> & Record<`${P}Cpu` | `${P}Memory` | `${P}Tasks`, z.ZodType<number, z.ZodTypeDef, unknown>>;
}

export const stackConfigSchema = z
    .object({
        controlDomain: setting(
            domainName,
            "The operator's domain. The mail hosts live under it: smtp-in.<controlDomain> (MX), imap.<controlDomain>, smtp-out.<controlDomain>.",
            "pulumi config set controlDomain mail-admin.example.org",
        ),
        mailDomains: setting(
            structured(
                z.array(domainName, typeError("must be a list of domain names", "is required: at least one mail domain")).min(1, "must list at least one mail domain"),
            ),
            "Apex domains on which addresses are created: shop@acme.<mailDomain>. One or more.",
            "pulumi config set --path 'mailDomains[0]' example.com",
        ),
        backup: setting(
            structured(z.boolean(typeError("must be true or false")).default(false)),
            "Back up the mail (EFS) and the address table (DynamoDB) with AWS Backup into a vault that Pulumi protects: a stack with backups cannot be destroyed without deliberate steps (see README).",
            "pulumi config set backup true",
        ),
        availabilityZones: setting(
            structured(
                z.number(typeError("must be a whole number")).int("must be a whole number").min(2, "must be at least 2: the load balancer and the mail store span two zones or more").max(6, "must be at most 6").default(2),
            ),
            "How many availability zones the network, the mail store and the load balancer span.",
            "pulumi config set availabilityZones 2",
        ),
        natGateway: setting(
            structured(z.boolean(typeError("must be true or false")).default(false)),
            "Give the private subnets a NAT gateway with a fixed Elastic IP. Off by default: it would double the monthly cost.",
            "pulumi config set natGateway false",
        ),
        protectData: setting(
            structured(z.boolean(typeError("must be true or false")).default(false)),
            "Protect the mail file system and the address table with Pulumi's protect option, so `pulumi destroy` stops before deleting mail or addresses.",
            "pulumi config set protectData true",
        ),
        backupSchedule: setting(
            z
                .string()
                .trim()
                .regex(/^cron\(\S+( \S+){5}\)$/, "must be an AWS cron expression with six fields, such as cron(0 5 * * ? *)")
                .default("cron(0 5 * * ? *)"),
            "When the nightly backup runs, as an AWS cron expression in UTC.",
            "pulumi config set backupSchedule 'cron(0 5 * * ? *)'",
        ),
        backupColdStorageAfterDays: setting(
            structured(days("backupColdStorageAfterDays").default(30)),
            "Days after which a recovery point moves to cold storage.",
            "pulumi config set backupColdStorageAfterDays 30",
        ),
        backupDeleteAfterDays: setting(
            structured(days("backupDeleteAfterDays").default(120)),
            "Days after which a recovery point is deleted. AWS Backup requires at least 90 days after cold storage begins.",
            "pulumi config set backupDeleteAfterDays 120",
        ),
        backupMinRetentionDays: setting(
            structured(days("backupMinRetentionDays").default(7)),
            "Vault lock: the shortest retention the vault accepts; no recovery point can be deleted earlier.",
            "pulumi config set backupMinRetentionDays 7",
        ),
        backupMaxRetentionDays: setting(
            structured(days("backupMaxRetentionDays").default(3650)),
            "Vault lock: the longest retention the vault accepts.",
            "pulumi config set backupMaxRetentionDays 3650",
        ),
        backupCopyRegion: setting(
            z
                .string()
                .trim()
                .regex(REGION_RE, "must be an AWS region name such as us-west-2")
                .optional(),
            "Optional second region: every recovery point is also copied to a protected, locked vault there.",
            "pulumi config set backupCopyRegion us-west-2 (or pulumi config rm backupCopyRegion)",
        ),
        // ── Mail server (MailServer, MailDns, MailCertificate) ──
        outbound: setting(
            z
                .enum(["direct", "ses"], { errorMap: () => ({ message: 'must be "direct" or "ses"' }) })
                .default("ses"),
            "How smtp-out delivers mail: ses relays through Amazon SES (needs SES production access); direct delivers from the NAT gateway's fixed address (needs natGateway true, and AWS to lift the port 25 block and set reverse DNS).",
            "pulumi config set outbound ses",
        ),
        hostedZoneIds: setting(
            structured(
                z.array(z.string().trim().regex(/^[^=\s]+=Z[A-Z0-9]{1,31}$/, "must be <domain>=<hosted zone id>, such as example.com=Z0123456789ABCDEFGHIJ"), typeError("must be a list of <domain>=<hosted zone id> entries")).default([]),
            ),
            "Existing Route 53 hosted zones to use instead of creating new ones, as <domain>=<zone id> entries for the controlDomain or a mail domain. Domains not listed get a zone of their own.",
            "pulumi config set --path 'hostedZoneIds[0]' example.com=Z0123456789ABCDEFGHIJ",
        ),
        logRetentionDays: setting(
            structured(
                z
                    .number(typeError("must be a whole number of days"))
                    .int("must be a whole number of days")
                    .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`)
                    .default(30),
            ),
            "Days the mail tiers' logs are kept in CloudWatch Logs.",
            "pulumi config set logRetentionDays 30",
        ),
        messageSizeLimit: setting(
            structured(
                z.number(typeError("must be a whole number of bytes")).int("must be a whole number of bytes").min(1048576, "must be at least 1 MiB (1048576)").max(157286400, "must be at most 150 MiB (157286400)").default(26214400),
            ),
            "The largest message smtp-in and smtp-out accept, in bytes (at most 40 MiB with outbound ses).",
            "pulumi config set messageSizeLimit 26214400",
        ),
        ...mailTierConfig("smtpIn", "smtp-in"),
        ...mailTierConfig("imap", "imap"),
        ...mailTierConfig("smtpOut", "smtp-out"),
        invitationCode: setting(
            z
                .string()
                .trim()
                .min(8, "must be at least 8 characters long, so it cannot be guessed quickly")
                .optional(),
            "Optional code that self sign-ups must give (set it as a secret). Unset: anyone may sign up; every new user still waits for an admin's approval.",
            "pulumi config set --secret invitationCode '<a long random code>' (or pulumi config rm invitationCode)",
        ),
    })
    .strict();

/** The stack's config, typed and validated. */
export type StackConfig = z.output<typeof stackConfigSchema> & {
    /** The stack's AWS region (`aws:region`). */
    region: string;
    /** `hostedZoneIds` as a map: lower-case domain → existing hosted zone id. */
    existingZoneIds: Record<string, string>;
};

/** Raw config as Pulumi hands it over: key (without namespace) → string. */
export type RawConfig = Record<string, string | undefined>;

/** Thrown for invalid config; index.ts turns it into a `pulumi.RunError` (message only, no stack trace). */
export class StackConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackConfigError";
    }
}

/** Every key the schema knows, with its description, default and fix hint: for Pulumi.yaml checks and the README. */
export function configKeys(): { key: string; description: string; default?: unknown; fix: string }[] {
    return Object.entries(stackConfigSchema.shape).map(([key, schema]) => ({ key, description: schema.description ?? "", default: defaultOf(schema), fix: FIXES.get(schema) ?? "" }));
}

/** The default a key's schema gives when the key is unset: the default inside its preprocessing, if any. */
function defaultOf(schema: z.ZodTypeAny): unknown {
    if (schema instanceof z.ZodEffects) return defaultOf(schema.innerType());
    if (schema instanceof z.ZodDefault) return schema._def.defaultValue();
    return undefined;
}

function fixFor(key: string): string {
    return configKeys().find((k) => k.key === key)?.fix ?? `pulumi config set ${key} <value>`;
}

function fail(key: string, got: unknown, problem: string, fix = fixFor(key)): never {
    const shown = got === undefined ? "nothing (the key is not set)" : JSON.stringify(got);
    throw new StackConfigError(`Invalid stack config ${CONFIG_NAMESPACE}:${key}: ${problem}; got ${shown}. Fix: ${fix}`);
}

/**
 * Validates raw config (as strings, keyed without the namespace) and the stack's region into a StackConfig.
 * Throws a StackConfigError naming the key, the bad value and the fix: the first problem found.
 */
export function parseStackConfig(raw: RawConfig, region: string | undefined): StackConfig {
    if (!region) throw new StackConfigError("Invalid stack config aws:region: the stack has no AWS region; got nothing (the key is not set). Fix: pulumi config set aws:region us-east-1");
    const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const result = stackConfigSchema.safeParse(present);
    if (!result.success) {
        const issue = result.error.issues[0];
        if (issue.code === "unrecognized_keys") {
            const key = issue.keys[0];
            const known = configKeys().map((k) => k.key).join(", ");
            fail(key, present[key], `is not a config key of this project (known keys: ${known})`, `pulumi config rm ${key}`);
        }
        const [key, index] = issue.path as [string, number | undefined];
        let got: unknown = present[key];
        if (typeof index === "number") {
            const list = fromConfigString(got);
            got = Array.isArray(list) ? list[index] : got;
            fail(`${key}[${index}]`, got, issue.message, fixFor(key));
        }
        fail(key, got, issue.message);
    }
    const config = { ...result.data, region: region! };

    const seen = new Set<string>();
    for (const domain of config.mailDomains) {
        if (seen.has(domain)) fail("mailDomains", present.mailDomains, `lists ${domain} twice`, "list each mail domain once: pulumi config set --path 'mailDomains[N]' ...");
        seen.add(domain);
        if (domain === config.controlDomain) {
            fail("mailDomains", present.mailDomains, `includes the controlDomain ${domain}; the mail hosts' names live there, so addresses need a domain of their own`, "use a separate domain for addresses, or another controlDomain");
        }
    }
    if (config.backupCopyRegion === region) {
        fail("backupCopyRegion", present.backupCopyRegion, `is the stack's own region (aws:region = ${region}); a copy there survives no regional outage`, "pulumi config set backupCopyRegion <another region> (or pulumi config rm backupCopyRegion)");
    }
    if (config.backupDeleteAfterDays < config.backupColdStorageAfterDays + 90) {
        fail("backupDeleteAfterDays", present.backupDeleteAfterDays ?? config.backupDeleteAfterDays, `must be at least 90 days after backupColdStorageAfterDays (${config.backupColdStorageAfterDays}), as AWS Backup requires`, `pulumi config set backupDeleteAfterDays ${config.backupColdStorageAfterDays + 90}`);
    }
    if (config.backupMinRetentionDays > config.backupMaxRetentionDays) {
        fail("backupMinRetentionDays", present.backupMinRetentionDays ?? config.backupMinRetentionDays, `must not exceed backupMaxRetentionDays (${config.backupMaxRetentionDays})`);
    }
    if (config.backupDeleteAfterDays < config.backupMinRetentionDays || config.backupDeleteAfterDays > config.backupMaxRetentionDays) {
        fail("backupDeleteAfterDays", present.backupDeleteAfterDays ?? config.backupDeleteAfterDays, `must lie within the vault lock's retention, backupMinRetentionDays (${config.backupMinRetentionDays}) to backupMaxRetentionDays (${config.backupMaxRetentionDays}), or the locked vault refuses every recovery point`);
    }
    // Mail server.
    if (config.outbound === "direct" && !config.natGateway) {
        fail("outbound", present.outbound, "\"direct\" needs natGateway true: direct delivery must leave from a fixed address with reverse DNS, and a Fargate task's public IP changes with every task", "pulumi config set natGateway true (or pulumi config set outbound ses)");
    }
    if (config.outbound === "ses" && config.messageSizeLimit > SES_MESSAGE_SIZE_LIMIT) {
        fail("messageSizeLimit", present.messageSizeLimit, `exceeds what SES relays (${SES_MESSAGE_SIZE_LIMIT} bytes, 40 MiB) with outbound ses`, `pulumi config set messageSizeLimit ${SES_MESSAGE_SIZE_LIMIT}`);
    }
    for (const prefix of ["smtpIn", "imap", "smtpOut"] as const) {
        const cpu = config[`${prefix}Cpu`];
        const memory = config[`${prefix}Memory`];
        const choices = fargateMemoryChoices(cpu);
        if (!choices.includes(memory)) {
            fail(`${prefix}Memory`, present[`${prefix}Memory`] ?? memory, `is not a memory size Fargate offers with ${prefix}Cpu ${cpu} (choose one of ${choices.join(", ")})`, `pulumi config set ${prefix}Memory ${choices[0]}`);
        }
    }
    const existingZoneIds: Record<string, string> = {};
    for (const entry of config.hostedZoneIds) {
        const domain = entry.slice(0, entry.indexOf("=")).toLowerCase();
        if (domain !== config.controlDomain && !config.mailDomains.includes(domain)) {
            fail("hostedZoneIds", present.hostedZoneIds, `names ${domain}, which is neither the controlDomain nor a mail domain`, "list only the controlDomain and the mailDomains: pulumi config set --path 'hostedZoneIds[N]' <domain>=<zone id>");
        }
        if (domain in existingZoneIds) fail("hostedZoneIds", present.hostedZoneIds, `lists ${domain} twice`, "give each domain one zone id");
        existingZoneIds[domain] = entry.slice(entry.indexOf("=") + 1);
    }
    return { ...config, existingZoneIds };
}

/**
 * Reads the stack's `cabalmail:*` config and `aws:region` from the Pulumi runtime and validates them. Invalid
 * config becomes a `pulumi.RunError`: the CLI prints its message alone, without a stack trace.
 */
export function loadStackConfig(): StackConfig {
    // Imported here so that the pure parser above stays usable without the Pulumi runtime.
    const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: RawConfig = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    try {
        return parseStackConfig(raw, new pulumi.Config("aws").get("region"));
    } catch (error) {
        if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}
