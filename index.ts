/**
 * Cabalmail on AWS: config → components → resources. Config is read and validated once, here; every component
 * takes plain arguments.
 */
import { AddressStore } from "./components/addressStore";
import { BackupPlan } from "./components/backupPlan";
import { MailStore } from "./components/mailStore";
import { Network } from "./components/network";
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

export const vpcId = network.vpcId;
export const fileSystemId = mailStore.fileSystemId;
export const addressTableName = addressStore.tableName;
export const backupVaultName = backupPlan?.vaultName;
export const backupCopyVaultArn = backupPlan?.copyVaultArn;
