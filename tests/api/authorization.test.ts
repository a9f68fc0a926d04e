/**
 * Authorization matrix: user A, user B and an admin (plus bad tokens) against every route of api/src/routes.ts.
 * Tokens are signed with a test key set and verified for real by the local gateway, as API Gateway would.
 */
import assert from "node:assert/strict";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { ROUTES } from "../../api/src/routes";
import { startApiFixture, type ApiFixture } from "./support/fixture";
import { accessToken, createTestKeySet, TEST_ISSUER } from "./support/jwt";

type Who = "alice" | "bob" | "admin";

/** Expected status for each route, per caller, when the target address belongs to alice. */
const EXPECTED: Record<string, Record<Who, number>> = {
    "POST /addresses": { alice: 201, bob: 201, admin: 201 },
    "GET /addresses": { alice: 200, bob: 200, admin: 200 },
    "POST /addresses/{address}/suspend": { alice: 200, bob: 404, admin: 200 },
    "POST /addresses/{address}/reinstate": { alice: 200, bob: 404, admin: 200 },
    "DELETE /addresses/{address}": { alice: 200, bob: 404, admin: 200 },
    "GET /admin/addresses": { alice: 403, bob: 403, admin: 200 },
    "GET /admin/users": { alice: 403, bob: 403, admin: 200 },
    "POST /admin/users/{username}/approve": { alice: 403, bob: 403, admin: 200 },
    "POST /admin/users/{username}/disable": { alice: 403, bob: 403, admin: 200 },
};

describe("address API authorization matrix", () => {
    let api: ApiFixture;
    let cognito: AwsClientStub<CognitoIdentityProviderClient>;
    before(async () => {
        api = await startApiFixture();
        // An instance mock of this fixture's client only: a class-wide mock would leak into other test files.
        cognito = mockClient(api.deps.cognito);
        // The user pool itself is exercised against cognito-local in users.test.ts; here only who may call matters.
        cognito.onAnyCommand().resolves({ Users: [], UserStatus: "CONFIRMED", Enabled: true });
    });
    after(async () => {
        cognito?.restore();
        await api?.stop();
    });

    it("covers every route", () => assert.deepEqual(Object.keys(EXPECTED).sort(), ROUTES.map((r) => r.routeKey).sort()));

    const target = "shop@acme.example.com";
    const path = (routePath: string) => routePath.replace("{address}", encodeURIComponent(target)).replace("{username}", "carol");
    const owner = async () => (await api.deps.dynamo.send(new GetCommand({ TableName: api.deps.settings.tableName, Key: { address: target }, ConsistentRead: true }))).Item;

    for (const route of ROUTES) {
        for (const who of ["alice", "bob", "admin"] as Who[]) {
            it(`${route.routeKey} as ${who} → ${EXPECTED[route.routeKey][who]}`, async () => {
                await api.reset();
                assert.equal((await api.call("POST", "/addresses", { user: "alice", body: { address: target, comment: "Acme" } })).status, 201);
                if (route.operation === "reinstateAddress") await api.call("POST", `/addresses/${target}/suspend`, { user: "alice" });
                const before = await owner();
                api.route53.resetHistory();

                const body = route.operation === "createAddress" ? { address: `${who}-shop@${who}-co.example.com`, comment: "mine" } : undefined;
                const response = await api.call(route.method, path(route.path), { user: who === "admin" ? "root" : who, admin: who === "admin", body });
                assert.equal(response.status, EXPECTED[route.routeKey][who], JSON.stringify(response.body));
                assert.equal(typeof response.body, "object");
                if (response.status >= 400) {
                    assert.equal(typeof response.body.error, "string");
                    // A refused caller changes nothing: alice's item and the DNS are untouched.
                    assert.deepEqual(await owner(), before);
                    assert.deepEqual(api.changeBatches(), []);
                }
                if (route.operation === "listAddresses") {
                    const listed = response.body.addresses.map((a: { address: string }) => a.address);
                    assert.deepEqual(listed, who === "alice" ? [target] : [], "each user sees only their own addresses, admins included");
                }
            });
        }
    }

    it("an admin's own list is theirs; only /admin/addresses shows everyone's", async () => {
        await api.reset();
        await api.call("POST", "/addresses", { user: "alice", body: { address: target, comment: "Acme" } });
        const all = await api.call("GET", "/admin/addresses?user=alice", { user: "root", admin: true });
        assert.deepEqual(all.body.addresses.map((a: { address: string }) => a.address), [target]);
    });

    describe("tokens the authorizer refuses (401 before any function runs)", () => {
        const cases: [string, () => string | undefined][] = [
            ["no token", () => undefined],
            ["a token signed by another key", () => accessToken(createTestKeySet(), "alice")],
            ["an expired token", () => accessToken(api.keys, "alice", { expiresIn: -60 })],
            ["a token from another issuer", () => accessToken(api.keys, "alice", { issuer: `${TEST_ISSUER}x` })],
            ["a token for another app client", () => accessToken(api.keys, "alice", { clientId: "someoneelse" })],
            ["a tampered token (groups added)", () => {
                const [h, p, s] = accessToken(api.keys, "alice").split(".");
                const payload = { ...JSON.parse(Buffer.from(p, "base64url").toString()), "cognito:groups": ["admin"] };
                return `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
            }],
        ];
        for (const [name, token] of cases) {
            for (const route of ROUTES) {
                it(`${name}: ${route.routeKey}`, async () => {
                    const t = token();
                    const response = await api.call(route.method, path(route.path), t ? { token: t } : {});
                    assert.equal(response.status, 401);
                });
            }
        }

        it("an ID token is refused by the function: the API wants access tokens", async () => {
            const response = await api.call("GET", "/addresses", { token: accessToken(api.keys, "alice", { tokenUse: "id" }) });
            assert.equal(response.status, 401);
            assert.match(response.body.error, /access token/);
        });
    });
});
