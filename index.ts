/**
 * Cabalmail on AWS: config → components → resources. Config is read and validated once, here; every component
 * takes plain arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import { AddressStore } from "./components/addressStore";
import { BackupPlan } from "./components/backupPlan";
import { MailStore } from "./components/mailStore";
import { Network } from "./components/network";
import { AddressApi } from "./components/addressApi";
import { Identity } from "./components/identity";
import { MailCertificate } from "./components/mailCertificate";
import { MailDns } from "./components/mailDns";
import { MailServer } from "./components/mailServer";
import { mailHosts } from "./lib/address";
import { loadStackConfig } from "./lib/config";

const config = loadStackConfig();

const network = new Network("cabal", { availabilityZoneCount: config.availabilityZones, natGateway: config.natGateway });

const mailStore = new MailStore("mail", {
    vpcId: network.vpcId,
    subnetIds: network.privateSubnets.map((subnet) => subnet.id),
    clientSecurityGroupId: network.mailTierSecurityGroupId,
    protect: config.protectData,
});

const addressStore = new AddressStore("addresses", { protect: config.protectData });

const backupPlan = config.backup
    ? new BackupPlan("mail-backup", {
          resourceArns: [mailStore.fileSystemArn, addressStore.tableArn],
          schedule: config.backupSchedule,
          coldStorageAfterDays: config.backupColdStorageAfterDays,
          deleteAfterDays: config.backupDeleteAfterDays,
          minRetentionDays: config.backupMinRetentionDays,
          maxRetentionDays: config.backupMaxRetentionDays,
          copyRegion: config.backupCopyRegion,
      })
    : undefined;

// ── Users (Identity): the imap tier authenticates against its pool ──────────────────────────────────────────────
const identity = new Identity("users", { invitationCode: config.invitationCode === undefined ? undefined : pulumi.secret(config.invitationCode) });

// ── Mail server: hosted zones, the mail hosts' certificate, the mail tiers behind the load balancer ────────────────
const mailDns = new MailDns("mail-dns", {
    controlDomain: config.controlDomain,
    mailDomains: config.mailDomains,
    existingZoneIds: config.existingZoneIds,
});
const hosts = mailHosts(config.controlDomain);
const mailCertificate = new MailCertificate("mail-tls", { hostNames: [hosts.imap, hosts.smtpOut, hosts.smtpIn], zoneId: mailDns.controlZoneId });
const mailTier = (prefix: "smtpIn" | "imap" | "smtpOut") => ({
    cpu: config[`${prefix}Cpu`],
    memory: config[`${prefix}Memory`],
    desiredCount: config[`${prefix}Tasks`],
    image: config[`${prefix}Image`],
});
const mailServer = new MailServer("mailserver", {
    controlDomain: config.controlDomain,
    mailDomains: config.mailDomains,
    region: config.region,
    network: {
        vpcId: network.vpcId,
        vpcCidrBlock: network.vpcCidrBlock,
        publicSubnetIds: network.publicSubnetIds,
        privateSubnetIds: network.privateSubnetIds,
        availabilityZoneCount: config.availabilityZones,
        natGateway: network.natGateway,
        mailTierSecurityGroupId: network.mailTierSecurityGroupId,
    },
    mailStore,
    addressStore,
    controlZoneId: mailDns.controlZoneId,
    mailZoneIds: mailDns.hostedZoneIds,
    certificateArn: mailCertificate.certificateArn,
    userPoolId: identity.userPoolId,
    userPoolClientId: identity.userPoolClientId,
    outbound: config.outbound,
    outboundSourceAddresses: config.outbound === "direct" ? network.natPublicIps : undefined,
    tiers: { "smtp-in": mailTier("smtpIn"), imap: mailTier("imap"), "smtp-out": mailTier("smtpOut") },
    logRetentionDays: config.logRetentionDays,
    messageSizeLimit: config.messageSizeLimit,
});
// ── Address API: the HTTP API and functions behind the `cabalmail` CLI (per-address DNS in the mail zones) ──────
const addressApi = new AddressApi("address-api", {
    identity,
    addressStore,
    mailDomains: config.mailDomains,
    controlDomain: config.controlDomain,
    hostedZoneIds: mailDns.hostedZoneIds,
});
/** What the `cabalmail` CLI needs (cabalmail configure --from-stack DIR reads these). */
export const apiUrl = addressApi.apiUrl;
export const userPoolId = identity.userPoolId;
export const userPoolClientId = identity.userPoolClientId;
export const userPoolRegion = identity.region;
export const userPoolIssuer = identity.issuerUrl;

/** For the registrar: the name servers of every zone this stack created. */
export const nameServers = mailDns.nameServers;
/** Mail domain → hosted zone id, where the address API writes per-address records. */
export const hostedZoneIds = mailDns.hostedZoneIds;
/** The load balancer's fixed addresses (the MX host's), one per zone. */
export const mailAddresses = mailServer.publicAddresses;
export const mailHostNames = hosts;
/** Outbound mail's fixed source addresses with `outbound = direct`: ask AWS for port 25 and reverse DNS on these. */
export const outboundAddresses = config.outbound === "direct" ? network.natPublicIps : undefined;

export const vpcId = network.vpcId;
export const fileSystemId = mailStore.fileSystemId;
export const addressTableName = addressStore.tableName;
export const backupVaultName = backupPlan?.vaultName;
export const backupCopyVaultArn = backupPlan?.copyVaultArn;
