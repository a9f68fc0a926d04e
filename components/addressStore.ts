import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ADDRESS_TABLE_KEYS } from "../lib/address";

/** Arguments of the AddressStore component. */
export interface AddressStoreArgs {
    /** Pulumi's protect option on the table, so `pulumi destroy` stops before deleting the addresses. Defaults to false. */
    protect?: boolean;
}

const DEFAULTS = { protect: false };

/** The address table as the components that use it take it: an AddressStore itself, or the same outputs. */
export interface AddressTableRef {
    /** The table's name. */
    tableName: pulumi.Input<string>;
    /** The table's ARN. */
    tableArn: pulumi.Input<string>;
    /** The ARN of the `byUser` index. */
    userIndexArn: pulumi.Input<string>;
    /** The ARN of the `bySubdomain` index. */
    subdomainIndexArn: pulumi.Input<string>;
}

/**
 * The address table. One item per address, in the shape of `AddressItem` (lib/address.ts):
 *
 * | attribute   | type   | role                                                        |
 * |-------------|--------|-------------------------------------------------------------|
 * | `address`   | string | partition key, lower-case `local@subdomain.domain`          |
 * | `user`      | string | owner; partition key of the `byUser` index (sort: address)  |
 * | `subdomain` | string | one DNS label; partition key of `bySubdomain` (sort: domain)|
 * | `domain`    | string | the configured mail domain                                  |
 * | `comment`   | string | whom the address was given to                               |
 * | `createdAt` | string | ISO 8601, UTC                                               |
 * | `status`    | string | `active` or `suspended`; a revoked address has no item      |
 *
 * The mail servers read it on every SMTP transaction (GetItem by address); the address API writes it and lists a
 * user's addresses through `byUser`, and asks `bySubdomain` whether a subdomain's DNS is still needed.
 */
export class AddressStore extends pulumi.ComponentResource implements AddressTableRef {
    public readonly tableName: pulumi.Output<string>;
    public readonly tableArn: pulumi.Output<string>;
    public readonly userIndexArn: pulumi.Output<string>;
    public readonly subdomainIndexArn: pulumi.Output<string>;

    constructor(name: string, args: AddressStoreArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:AddressStore", name, {}, opts);
        const { protect } = { ...DEFAULTS, ...args };
        const { partitionKey, byUser, bySubdomain } = ADDRESS_TABLE_KEYS;

        const table = new aws.dynamodb.Table(name, {
            // On demand: a personal mail system makes a few lookups a minute; provisioned capacity would idle.
            billingMode: "PAY_PER_REQUEST",
            hashKey: partitionKey,
            attributes: [partitionKey, byUser.partitionKey, bySubdomain.partitionKey, bySubdomain.sortKey].map((attribute) => ({ name: attribute, type: "S" })),
            globalSecondaryIndexes: [byUser, bySubdomain].map((index) => ({
                name: index.indexName,
                hashKey: index.partitionKey,
                rangeKey: index.sortKey,
                projectionType: "ALL",
            })),
            serverSideEncryption: { enabled: true },
            pointInTimeRecovery: { enabled: true },
            deletionProtectionEnabled: true,
            tags: { Name: name },
        }, { parent: this, protect });

        this.tableName = table.name;
        this.tableArn = table.arn;
        this.userIndexArn = pulumi.interpolate`${table.arn}/index/${byUser.indexName}`;
        this.subdomainIndexArn = pulumi.interpolate`${table.arn}/index/${bySubdomain.indexName}`;
        this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn });
    }
}
