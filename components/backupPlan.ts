import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of the BackupPlan component. */
export interface BackupPlanArgs {
    /** ARNs of exactly what is backed up: the mail file system and the address table. */
    resourceArns: pulumi.Input<string>[];
    /** When the backup runs, an AWS cron expression in UTC. Defaults to nightly at 05:00. */
    schedule?: string;
    /** Days after which a recovery point moves to cold storage. Defaults to 30. */
    coldStorageAfterDays?: number;
    /** Days after which a recovery point is deleted; at least 90 after coldStorageAfterDays. Defaults to 120. */
    deleteAfterDays?: number;
    /** Vault lock: shortest retention accepted. Defaults to 7. */
    minRetentionDays?: number;
    /** Vault lock: longest retention accepted. Defaults to 3650. */
    maxRetentionDays?: number;
    /** A second region that receives a copy of every recovery point, in a protected, locked vault of its own. */
    copyRegion?: string;
}

const DEFAULTS = { schedule: "cron(0 5 * * ? *)", coldStorageAfterDays: 30, deleteAfterDays: 120, minRetentionDays: 7, maxRetentionDays: 3650 };

const BACKUP_SERVICE_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
];

/**
 * Nightly AWS Backup of the mail store and the address table into a vault that Pulumi protects and AWS locks.
 *
 * The vault is created with `protect: true`: once backups are on, `pulumi destroy` (or turning `backup` off) stops
 * at the vault instead of deleting the recovery points with it. The lock is in governance mode (no
 * `changeableForDays`), so an operator with the right permissions can still lift it deliberately: see README.
 */
export class BackupPlan extends pulumi.ComponentResource {
    public readonly vaultName: pulumi.Output<string>;
    public readonly vaultArn: pulumi.Output<string>;
    public readonly copyVaultArn?: pulumi.Output<string>;
    public readonly planId: pulumi.Output<string>;

    constructor(name: string, args: BackupPlanArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:BackupPlan", name, {}, opts);
        const a = { ...DEFAULTS, ...args };
        if (a.resourceArns.length === 0) throw new Error(`BackupPlan ${name}: resourceArns must name at least one resource to back up`);
        if (a.deleteAfterDays < a.coldStorageAfterDays + 90) {
            throw new Error(`BackupPlan ${name}: deleteAfterDays (${a.deleteAfterDays}) must be at least 90 days after coldStorageAfterDays (${a.coldStorageAfterDays})`);
        }
        if (a.deleteAfterDays < a.minRetentionDays || a.deleteAfterDays > a.maxRetentionDays) {
            throw new Error(`BackupPlan ${name}: deleteAfterDays (${a.deleteAfterDays}) must lie between minRetentionDays (${a.minRetentionDays}) and maxRetentionDays (${a.maxRetentionDays})`);
        }
        const child = { parent: this };
        const lifecycle = { coldStorageAfter: a.coldStorageAfterDays, deleteAfter: a.deleteAfterDays };

        // `region` undefined means the stack's own region (the AWS provider's per-resource region).
        const lockedVault = (vaultName: string, region?: string) => {
            const vault = new aws.backup.Vault(vaultName, { region, forceDestroy: false, tags: { Name: vaultName } }, { parent: this, protect: true });
            new aws.backup.VaultLockConfiguration(vaultName, {
                region,
                backupVaultName: vault.name,
                minRetentionDays: a.minRetentionDays,
                maxRetentionDays: a.maxRetentionDays,
            }, child);
            return vault;
        };

        const vault = lockedVault(name);
        const copyVault = a.copyRegion ? lockedVault(`${name}-${a.copyRegion}`, a.copyRegion) : undefined;

        const plan = new aws.backup.Plan(name, {
            rules: [{
                ruleName: "nightly",
                targetVaultName: vault.name,
                schedule: a.schedule,
                startWindow: 60,
                completionWindow: 360,
                lifecycle,
                copyActions: copyVault ? [{ destinationVaultArn: copyVault.arn, lifecycle }] : undefined,
            }],
        }, child);

        const role = new aws.iam.Role(`${name}-backup`, {
            description: "Lets AWS Backup back up and restore the mail store and the address table",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        }, child);
        BACKUP_SERVICE_POLICIES.forEach((policyArn, i) => {
            new aws.iam.RolePolicyAttachment(`${name}-backup-${i}`, { role: role.name, policyArn }, child);
        });

        new aws.backup.Selection(name, { planId: plan.id, iamRoleArn: role.arn, resources: a.resourceArns }, child);

        this.vaultName = vault.name;
        this.vaultArn = vault.arn;
        this.copyVaultArn = copyVault?.arn;
        this.planId = plan.id;
        this.registerOutputs({ vaultName: this.vaultName, vaultArn: this.vaultArn, planId: this.planId });
    }
}
