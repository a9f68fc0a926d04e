/**
 * The deployable artifact: a bundled handler (as the AddressApi component ships it), configured only through its
 * environment as the component sets it, answers an API Gateway event; a missing variable is named.
 */
import assert from "node:assert/strict";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { bundleSource } from "../../api/bundle";
import { documentClient } from "../../api/src/deps";
import { API_ENV, settingsFromEnvironment } from "../../api/src/settings";
import { startDynalite, type LocalDynamo } from "./support/dynalite";

describe("bundled handlers configured by their environment", () => {
    let dynamo: LocalDynamo;
    let table: string;
    const saved = { ...process.env };
    before(async () => {
        dynamo = await startDynalite();
        table = await dynamo.createAddressTable();
    });
    after(async () => {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
        await dynamo?.stop();
    });

    it("answers GET /addresses from the bundle, reading the table named in its environment", async () => {
        await documentClient(dynamo.client).send(
            new PutCommand({ TableName: table, Item: { address: "shop@acme.example.com", user: "alice", subdomain: "acme", domain: "example.com", comment: "Acme", createdAt: "2026-01-01T00:00:00.000Z", status: "active" } }),
        );
        Object.assign(process.env, {
            [API_ENV.tableName]: table,
            [API_ENV.mailDomains]: "example.com,example.net",
            [API_ENV.controlDomain]: "mail-admin.example.org",
            [API_ENV.hostedZoneIds]: JSON.stringify({ "example.com": "Z1", "example.net": "Z2" }),
            [API_ENV.userPoolId]: "us-east-1_Test",
            AWS_REGION: "us-east-1",
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
            // The SDK's own variable for a service endpoint: how the bundle, unchanged, reaches dynalite.
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        });
        const module = { exports: {} as { handler?: (event: unknown) => Promise<{ statusCode: number; body: string }> } };
        new Function("module", "exports", "require", "process", bundleSource("handlers/listAddresses.ts"))(module, module.exports, require, process);
        const response = await module.exports.handler!({
            version: "2.0",
            routeKey: "GET /addresses",
            requestContext: { requestId: "r1", authorizer: { jwt: { claims: { token_use: "access", username: "alice", "cognito:groups": "[users]" }, scopes: null } } },
        });
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(JSON.parse(response.body).addresses.map((a: { address: string }) => a.address), ["shop@acme.example.com"]);
    });

    it("names a missing or malformed environment variable", () => {
        assert.throws(() => settingsFromEnvironment({}), /environment variable ADDRESS_TABLE is not set/);
        assert.throws(() => settingsFromEnvironment({ ADDRESS_TABLE: "t", MAIL_DOMAINS: "example.com", CONTROL_DOMAIN: "c.example.org", HOSTED_ZONE_IDS: "{" }), /HOSTED_ZONE_IDS must be a JSON object/);
    });
});
