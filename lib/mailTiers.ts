/**
 * The contract between the MailServer component (which runs the mail images on Fargate) and the images in
 * mail/ (whose entrypoints render their config from these environment variables). Both sides import or
 * mirror these names; the mail tests check that every variable an entrypoint reads is listed here.
 */

export type MailTierName = "smtp-in" | "imap" | "smtp-out";

export const MAIL_TIER_NAMES: readonly MailTierName[] = ["smtp-in", "imap", "smtp-out"];

/** Container ports. The load balancer terminates TLS for 993 and 465 and forwards plain TCP with proxy protocol v2. */
export const MAIL_PORTS = {
    /** smtp-in: SMTP from the internet (NLB TCP 25 → 25, proxy protocol v2). STARTTLS is offered. */
    smtpIn: 25,
    /** imap: IMAP from mail clients (NLB TLS 993 → 143, proxy protocol v2). */
    imap: 143,
    /** imap: LMTP, delivery from smtp-in inside the VPC. */
    lmtp: 24,
    /** imap: Dovecot's SASL authentication service, used by smtp-out inside the VPC. */
    auth: 12345,
    /** smtp-out: authenticated submission from mail clients (NLB TLS 465 → 587, proxy protocol v2). */
    submission: 587,
    /** Every tier: the address resolver's socketmap, on the container's loopback only. */
    resolver: 10030,
} as const;

/** Where the EFS access points are mounted inside the containers. */
export const MAIL_MOUNTS = {
    /** imap: the mailbox tree, one Maildir per user. */
    mailboxes: "/var/mail/cabal",
    /** smtp-in and smtp-out: the Postfix queue, so accepted mail survives a replaced task. */
    queue: "/var/spool/postfix",
} as const;

/**
 * The one POSIX owner of the mailbox tree. The MailStore's mailbox access point enforces it, so the imap tier's
 * Dovecot must run mail processes as this uid/gid (a static userdb: no OS account per mail user).
 */
export const MAILBOX_OWNER = { uid: 5000, gid: 5000 } as const;

/** Environment variables the images read. */
export const MAIL_ENV = {
    /** Every tier: the AddressStore table name. */
    addressTable: "ADDRESS_TABLE",
    /** Every tier: the AWS region of the table (the SDK's own variable). */
    region: "AWS_REGION",
    /** Every tier: the mail domains, comma-separated. */
    mailDomains: "MAIL_DOMAINS",
    /** Every tier: the operator's control domain (host names, DKIM key). */
    controlDomain: "CONTROL_DOMAIN",
    /** smtp-in: the imap tier's LMTP host name (service discovery). smtp-out: its auth host. */
    imapHost: "IMAP_HOST",
    /** smtp-in and smtp-out: the largest message accepted, in bytes. */
    messageSizeLimit: "MESSAGE_SIZE_LIMIT",
    /** imap: Cognito user pool id and app client id, for authentication. */
    userPoolId: "USER_POOL_ID",
    userPoolClientId: "USER_POOL_CLIENT_ID",
    /** smtp-out: the DKIM private key (PEM), injected from Secrets Manager. */
    dkimPrivateKey: "DKIM_PRIVATE_KEY",
    /** smtp-out: `direct` or `ses`. */
    outbound: "OUTBOUND_MODE",
    /** smtp-out with `ses`: the relay host (email-smtp.<region>.amazonaws.com:587) and credentials from Secrets Manager. */
    relayHost: "RELAY_HOST",
    relayUser: "RELAY_USER",
    relayPassword: "RELAY_PASSWORD",
} as const;

/**
 * The container health check of each tier (ECS runs it with `CMD-SHELL`, i.e. `/bin/sh -c`): the server's master
 * process is alive and the resolver answers on loopback. So the images need `bash` (for /dev/tcp), Postfix's
 * `postfix status`, and Dovecot's pid file in its base_dir /run/dovecot. Not a probe of the public ports: those
 * expect a proxy protocol header first.
 */
export const MAIL_HEALTH_CHECKS: Record<MailTierName, string> = {
    "smtp-in": `postfix status >/dev/null 2>&1 && bash -c '</dev/tcp/127.0.0.1/${MAIL_PORTS.resolver}'`,
    imap: `kill -0 "$(cat /run/dovecot/master.pid)" && bash -c '</dev/tcp/127.0.0.1/${MAIL_PORTS.resolver}'`,
    "smtp-out": `postfix status >/dev/null 2>&1 && bash -c '</dev/tcp/127.0.0.1/${MAIL_PORTS.resolver}'`,
};
