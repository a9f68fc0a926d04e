/** One API under test: dynalite with a fresh table, a mocked Route 53 client, the local gateway and a test key set. */
import { ChangeResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { type ApiDeps, documentClient } from "../../../api/src/deps";
import type { ApiSettings } from "../../../api/src/settings";
import { startDynalite, type LocalDynamo } from "./dynalite";
import { startGateway, jwtVerifier, type LocalGateway } from "./gateway";
import { accessToken, createTestKeySet, TEST_CLIENT_ID, TEST_ISSUER, type TestKeySet } from "./jwt";

export const MAIL_DOMAINS = ["example.com", "example.net"];
export const CONTROL_DOMAIN = "mail-admin.example.org";
export const HOSTED_ZONE_IDS = { "example.com": "Z0EXAMPLECOM", "example.net": "Z0EXAMPLENET" };

export interface ApiFixture {
    dynamo: LocalDynamo;
    deps: ApiDeps;
    route53: AwsClientStub<Route53Client>;
    keys: TestKeySet;
    gateway: LocalGateway;
    /** Calls the API as `user` (an admin when `admin`), or with `token` as given. */
    call(method: string, path: string, options?: { user?: string; admin?: boolean; token?: string; body?: unknown }): Promise<{ status: number; body: any }>;
    /** The Route 53 change batches sent so far, as [zone id, changes]. */
    changeBatches(): { zone: string | undefined; changes: unknown[] }[];
    /** Starts a new table and clears recorded Route 53 calls. */
    reset(): Promise<void>;
    stop(): Promise<void>;
}

export async function startApiFixture(overrides: Partial<ApiSettings> = {}): Promise<ApiFixture> {
    const dynamo = await startDynalite();
    const route53Client = new Route53Client({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const route53 = mockClient(route53Client);
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    const deps: ApiDeps = {
        settings: {
            tableName: await dynamo.createAddressTable(),
            mailDomains: MAIL_DOMAINS,
            controlDomain: CONTROL_DOMAIN,
            hostedZoneIds: HOSTED_ZONE_IDS,
            userPoolId: "us-east-1_TestPool",
            ...overrides,
        },
        dynamo: documentClient(dynamo.client),
        route53: route53Client,
        cognito: new CognitoIdentityProviderClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
        now: () => new Date(),
    };
    const keys = createTestKeySet();
    const gateway = await startGateway({ deps: () => deps, verifier: jwtVerifier(TEST_ISSUER, TEST_CLIENT_ID, keys.jwks) });
    return {
        dynamo,
        deps,
        route53,
        keys,
        gateway,
        async call(method, path, options = {}) {
            const token = options.token ?? (options.user ? accessToken(keys, options.user, { groups: options.admin ? ["admin"] : [] }) : undefined);
            const response = await fetch(`${gateway.url}${path}`, {
                method,
                headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { "content-type": "application/json" } : {}) },
                body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
            });
            const text = await response.text();
            let body: unknown = text;
            try {
                body = JSON.parse(text);
            } catch {
                // leave as text
            }
            return { status: response.status, body };
        },
        changeBatches() {
            return route53.commandCalls(ChangeResourceRecordSetsCommand).map((call) => ({ zone: call.args[0].input.HostedZoneId, changes: call.args[0].input.ChangeBatch?.Changes ?? [] }));
        },
        async reset() {
            deps.settings.tableName = await dynamo.createAddressTable();
            route53.resetHistory();
        },
        async stop() {
            route53.restore();
            await gateway.stop();
            await dynamo.stop();
        },
    };
}
