/** dynalite (the DynamoDB API, in memory) on loopback, with the AddressStore table as components/addressStore.ts defines it. */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Server } from "node:http";
import { ADDRESS_TABLE_KEYS } from "../../../lib/address";
import { freePort } from "./ports";

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

export interface LocalDynamo {
    endpoint: string;
    client: DynamoDBClient;
    /** Creates a fresh AddressStore table and returns its name. */
    createAddressTable(): Promise<string>;
    stop(): Promise<void>;
}

let tableCounter = 0;

export async function startDynalite(): Promise<LocalDynamo> {
    const port = await freePort();
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const { partitionKey, byUser, bySubdomain } = ADDRESS_TABLE_KEYS;
    return {
        endpoint,
        client,
        async createAddressTable() {
            const name = `addresses-${++tableCounter}`;
            await client.send(
                new CreateTableCommand({
                    TableName: name,
                    BillingMode: "PAY_PER_REQUEST",
                    AttributeDefinitions: [partitionKey, byUser.partitionKey, bySubdomain.partitionKey, bySubdomain.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
                    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
                    GlobalSecondaryIndexes: [byUser, bySubdomain].map((index) => ({
                        IndexName: index.indexName,
                        KeySchema: [
                            { AttributeName: index.partitionKey, KeyType: "HASH" },
                            { AttributeName: index.sortKey, KeyType: "RANGE" },
                        ],
                        Projection: { ProjectionType: "ALL" },
                    })),
                }),
            );
            return name;
        },
        async stop() {
            client.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
