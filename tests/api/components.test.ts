/**
 * The Identity and AddressApi components in the program's offline plan (Pulumi.prod.yaml under the project's
 * mocks): the security-relevant inputs, and each function role's permissions put through an IAM simulator.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Script, createContext } from "node:vm";
import { bundleSource, bundleSourceAsync } from "../../api/bundle";
import { CACHE_ROOT, entryName } from "../../lib/buildCache";
import { ROUTES, type OperationName } from "../../api/src/routes";
import { decide } from "../mailServer/iamSimulator";
import { ofType, only, runPlan, type Plan, type PlannedResource } from "../support/plan";

const kebab = (operation: string) => operation.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe("Identity and AddressApi in the plan", () => {
    let plan: Plan;
    let withInvitation: Plan;
    before(async () => {
        [plan, withInvitation] = await Promise.all([runPlan(), runPlan({ config: { "cabalmail:invitationCode": "let-me-in-please-2026" } })]);
    });

    describe("Identity", () => {
        it("is a user pool with self sign-up, admin approval (nothing auto-verified), a sound password policy and optional TOTP", () => {
            const pool = only(plan, "aws:cognito/userPool:UserPool").inputs;
            assert.deepEqual(pool.passwordPolicy, { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true, temporaryPasswordValidityDays: 3 });
            assert.equal(pool.mfaConfiguration, "OPTIONAL");
            assert.deepEqual(pool.softwareTokenMfaConfiguration, { enabled: true });
            assert.deepEqual(pool.autoVerifiedAttributes, [], "an auto-verified attribute would let users confirm themselves");
            assert.equal(pool.adminCreateUserConfig.allowAdminCreateUserOnly, false);
            assert.deepEqual(pool.accountRecoverySetting.recoveryMechanisms, [{ name: "admin_only", priority: 1 }]);
            assert.equal(pool.deletionProtection, "ACTIVE");
            assert.equal(pool.usernameConfiguration.caseSensitive, false);
            const trigger = only(plan, "aws:lambda/function:Function", "users-pre-sign-up");
            assert.equal(pool.lambdaConfig.preSignUp, trigger.outputs.arn);
            assert.equal(trigger.inputs.runtime, "nodejs22.x");
            assert.equal(trigger.inputs.environment, undefined, "no invitation code configured");
            const permission = only(plan, "aws:lambda/permission:Permission", "users-pre-sign-up").inputs;
            assert.equal(permission.principal, "cognito-idp.amazonaws.com");
            assert.equal(permission.sourceArn, only(plan, "aws:cognito/userPool:UserPool").outputs.arn);
        });

        it("has an admin group and a public CLI client limited to the password and refresh flows", () => {
            const pool = only(plan, "aws:cognito/userPool:UserPool");
            assert.equal(only(plan, "aws:cognito/userGroup:UserGroup").inputs.name, "admin");
            const client = only(plan, "aws:cognito/userPoolClient:UserPoolClient").inputs;
            assert.equal(client.userPoolId, pool.outputs.id);
            assert.equal(client.generateSecret, false);
            assert.deepEqual([...client.explicitAuthFlows].sort(), ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]);
            assert.equal(client.preventUserExistenceErrors, "ENABLED");
            assert.equal(client.enableTokenRevocation, true);
            // A disabled user's access token (API Gateway checks only its signature) lives 5 minutes at most.
            assert.equal(client.accessTokenValidity, 5);
            assert.deepEqual(client.tokenValidityUnits, { accessToken: "minutes", idToken: "minutes", refreshToken: "days" });
        });

        it("gives the pre-sign-up function only the invitation code's SHA-256, and its role only its own logs", async () => {
            const env = only(withInvitation, "aws:lambda/function:Function", "users-pre-sign-up").inputs.environment.variables;
            // The hash is a secret output (shown masked in the plan); the function compares it as tests/api/users.test.ts shows.
            assert.equal(env.INVITATION_CODE_SHA256, "[secret]");
            assert.ok(!JSON.stringify(withInvitation.resources).includes("let-me-in-please-2026"), "the code itself appears in no resource");
            const policy = JSON.parse(only(plan, "aws:iam/rolePolicy:RolePolicy", "users-pre-sign-up").inputs.policy);
            assert.deepEqual(policy.Statement.map((s: { Action: string[] }) => s.Action), [["logs:CreateLogStream", "logs:PutLogEvents"]]);
        });

        it("refuses an invitation code that is too short, naming the config key", async () => {
            const refused = await runPlan({ config: { "cabalmail:invitationCode": "abc" } });
            assert.match(refused.error ?? "", /cabalmail:invitationCode: must be at least 8 characters long/);
            assert.equal(refused.resources.filter((r) => r.custom).length, 0);
        });

        it("exports what the CLI and the mail servers need", () => {
            const pool = only(plan, "aws:cognito/userPool:UserPool");
            assert.equal(plan.outputs.userPoolId, pool.outputs.id);
            assert.equal(plan.outputs.userPoolClientId, only(plan, "aws:cognito/userPoolClient:UserPoolClient").outputs.id);
            assert.equal(plan.outputs.userPoolRegion, "us-east-1");
            assert.equal(plan.outputs.userPoolIssuer, `https://cognito-idp.us-east-1.amazonaws.com/${pool.outputs.id}`);
            assert.match(String(plan.outputs.apiUrl), /^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com$/);
        });
    });

    describe("AddressApi", () => {
        const fn = (operation: OperationName) => only(plan, "aws:lambda/function:Function", `address-api-${kebab(operation)}`);

        it("puts the Cognito JWT authorizer on every route, and has exactly the routes of api/src/routes.ts", () => {
            const authorizer = only(plan, "aws:apigatewayv2/authorizer:Authorizer");
            const pool = only(plan, "aws:cognito/userPool:UserPool");
            assert.equal(authorizer.inputs.authorizerType, "JWT");
            assert.deepEqual(authorizer.inputs.identitySources, ["$request.header.Authorization"]);
            assert.deepEqual(authorizer.inputs.jwtConfiguration, { issuer: `https://cognito-idp.us-east-1.amazonaws.com/${pool.outputs.id}`, audiences: [only(plan, "aws:cognito/userPoolClient:UserPoolClient").outputs.id] });
            const routes = ofType(plan, "aws:apigatewayv2/route:Route");
            assert.deepEqual(routes.map((r) => r.inputs.routeKey).sort(), ROUTES.map((r) => r.routeKey).sort());
            for (const route of routes) {
                assert.equal(route.inputs.authorizationType, "JWT", route.inputs.routeKey);
                assert.equal(route.inputs.authorizerId, authorizer.outputs.id, route.inputs.routeKey);
            }
            const stage = only(plan, "aws:apigatewayv2/stage:Stage").inputs;
            assert.equal(stage.defaultRouteSettings.throttlingRateLimit, 10);
            assert.ok(stage.accessLogSettings.destinationArn);
        });

        it("runs every route on its own Node.js 22 function, invoked only by its own route", () => {
            const api = only(plan, "aws:apigatewayv2/api:Api");
            for (const route of ROUTES) {
                const f = fn(route.operation);
                assert.equal(f.inputs.runtime, "nodejs22.x");
                assert.equal(f.inputs.handler, "index.handler");
                assert.equal(f.inputs.environment.variables.MAIL_DOMAINS, "example.com,example.net");
                const integration = ofType(plan, "aws:apigatewayv2/integration:Integration").find((i) => i.inputs.integrationUri === f.outputs.arn);
                assert.ok(integration, `an integration invokes ${f.name}`);
                assert.equal(integration!.inputs.payloadFormatVersion, "2.0");
                const planned = ofType(plan, "aws:apigatewayv2/route:Route").find((r) => r.inputs.routeKey === route.routeKey)!;
                assert.equal(planned.inputs.target, `integrations/${integration!.outputs.id}`);
                const permission = only(plan, "aws:lambda/permission:Permission", f.name).inputs;
                assert.equal(permission.principal, "apigateway.amazonaws.com");
                assert.equal(permission.sourceArn, `${api.outputs.executionArn}/*/${route.method}${route.path.replace(/\{[^}]+\}/g, "*")}`);
            }
        });

        it("passes the hosted zones of the mail domains, as the MailDns component made them", () => {
            const zones = Object.fromEntries(ofType(plan, "aws:route53/zone:Zone").map((z) => [z.inputs.name, z.outputs.id]));
            assert.deepEqual(JSON.parse(fn("createAddress").inputs.environment.variables.HOSTED_ZONE_IDS), { "example.com": zones["example.com"], "example.net": zones["example.net"] });
        });

        describe("least privilege, checked with an IAM simulator", () => {
            /** What each route's function must be able to do; anything else must be denied. */
            const table = () => only(plan, "aws:dynamodb/table:Table").outputs.arn as string;
            /** The mail domains' zones are created by the stack; the control domain's is an existing one (Pulumi.prod.yaml). */
            const zoneArn = (domain: string) => `arn:aws:route53:::hostedzone/${ofType(plan, "aws:route53/zone:Zone").find((z) => z.inputs.name === domain)?.outputs.id ?? "Z0123456789ABCDEFGHIJ"}`;
            const poolArn = () => only(plan, "aws:cognito/userPool:UserPool").outputs.arn as string;
            const dnsContext = (names: string[], types = ["MX", "TXT", "CNAME"], actions = ["UPSERT"]) => ({
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
                "route53:ChangeResourceRecordSetsRecordTypes": types,
                "route53:ChangeResourceRecordSetsActions": actions,
            });
            type Probe = { name: string; action: string; resource: () => string; context?: () => Record<string, string[]> };
            const probes: Probe[] = [
                ...["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "Query", "BatchWriteItem", "DeleteTable"].map((a) => ({ name: `table:${a}`, action: `dynamodb:${a}`, resource: table })),
                { name: "byUser:Query", action: "dynamodb:Query", resource: () => `${table()}/index/byUser` },
                { name: "bySubdomain:Query", action: "dynamodb:Query", resource: () => `${table()}/index/bySubdomain` },
                { name: "otherTable:GetItem", action: "dynamodb:GetItem", resource: () => "arn:aws:dynamodb:us-east-1:123456789012:table/other" },
                { name: "dns:address records", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.com"), context: () => dnsContext(["acme.example.com", "_dmarc.acme.example.com", "cabal._domainkey.acme.example.com"], ["MX", "TXT", "CNAME"], ["DELETE"]) },
                { name: "dns:address records, second domain", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.net"), context: () => dnsContext(["acme.example.net"]) },
                { name: "dns:apex MX", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.com"), context: () => dnsContext(["example.com"]) },
                { name: "dns:NS record", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.com"), context: () => dnsContext(["acme.example.com"], ["NS"]) },
                { name: "dns:A record", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.com"), context: () => dnsContext(["acme.example.com"], ["A"]) },
                { name: "dns:CREATE", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("example.com"), context: () => dnsContext(["acme.example.com"], ["MX"], ["CREATE"]) },
                { name: "dns:control zone", action: "route53:ChangeResourceRecordSets", resource: () => zoneArn("cabal-admin.example.org"), context: () => dnsContext(["smtp-in.cabal-admin.example.org"]) },
                ...["ListUsers", "ListUsersInGroup", "AdminGetUser", "AdminConfirmSignUp", "AdminEnableUser", "AdminDisableUser", "AdminUserGlobalSignOut", "AdminDeleteUser", "AdminAddUserToGroup", "AdminSetUserPassword"].map((a) => ({ name: `users:${a}`, action: `cognito-idp:${a}`, resource: poolArn })),
            ];
            const reconcile = ["table:GetItem", "bySubdomain:Query", "dns:address records", "dns:address records, second domain"];
            const ALLOWED: Record<OperationName, string[]> = {
                createAddress: ["table:PutItem", "table:DeleteItem", ...reconcile],
                listAddresses: ["byUser:Query"],
                suspendAddress: ["table:UpdateItem", ...reconcile],
                reinstateAddress: ["table:UpdateItem", ...reconcile],
                revokeAddress: ["table:DeleteItem", "table:PutItem", ...reconcile],
                adminListAddresses: ["table:Scan"],
                adminListUsers: ["users:ListUsers", "users:ListUsersInGroup"],
                adminApproveUser: ["users:AdminGetUser", "users:AdminConfirmSignUp", "users:AdminEnableUser"],
                adminDisableUser: ["users:AdminGetUser", "users:AdminDisableUser", "users:AdminUserGlobalSignOut"],
            };

            for (const route of ROUTES) {
                it(`${route.routeKey}: exactly ${ALLOWED[route.operation].length} kinds of request allowed, and no wildcard action`, async () => {
                    const policyResource: PlannedResource = only(plan, "aws:iam/rolePolicy:RolePolicy", `address-api-${kebab(route.operation)}`);
                    const role = only(plan, "aws:iam/role:Role", `address-api-${kebab(route.operation)}`);
                    assert.equal(fn(route.operation).inputs.role, role.outputs.arn);
                    assert.equal(policyResource.inputs.role, role.outputs.id);
                    const policy = JSON.parse(policyResource.inputs.policy);
                    for (const statement of policy.Statement) {
                        for (const action of [statement.Action].flat()) assert.ok(!action.includes("*"), `wildcard action ${action}`);
                        assert.ok(![statement.Resource].flat().includes("*"), "wildcard resource");
                    }
                    const allowed: string[] = [];
                    for (const probe of probes) {
                        if ((await decide([policy], probe.action, probe.resource(), probe.context?.() ?? {})) === "Allowed") allowed.push(probe.name);
                    }
                    assert.deepEqual(allowed.sort(), [...ALLOWED[route.operation]].sort());
                    const logGroup = only(plan, "aws:cloudwatch/logGroup:LogGroup", `address-api-${kebab(route.operation)}`).outputs.arn;
                    assert.equal(await decide([policy], "logs:PutLogEvents", `${logGroup}:log-stream:abc`), "Allowed");
                    assert.equal(await decide([policy], "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:other:log-stream:abc"), "ImplicitlyDenied");
                });
            }
        });
    });

    describe("bundles (esbuild at program run time)", () => {
        it("bundles each entry point into one file that exports a working handler", async () => {
            const source = bundleSource("triggers/preSignUp.ts");
            const module = { exports: {} as any };
            new Script(source).runInContext(createContext({ module, exports: module.exports, require, process: { env: {} }, Buffer }));
            const event = { userName: "alice", request: { userAttributes: {} }, response: {} };
            assert.deepEqual((await module.exports.handler(event)).response, { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
            for (const route of ROUTES) {
                const handlerSource = bundleSource(`handlers/${route.operation}.ts`);
                assert.match(handlerSource, /require\("@aws-sdk\/client-dynamodb"\)/, "the SDK comes from the Lambda runtime");
                assert.doesNotMatch(handlerSource, /require\("\.\.?\//, "no relative requires left");
            }
        });

        it("builds the same bundle in the background, and names the entry point when a bundle cannot be built", async () => {
            assert.equal(await bundleSourceAsync("triggers/preSignUp.ts"), bundleSource("triggers/preSignUp.ts"));
            const named = /esbuild could not bundle api\/handlers\/noSuchHandler\.ts: Could not resolve/;
            assert.throws(() => bundleSource("handlers/noSuchHandler.ts"), named);
            await assert.rejects(bundleSourceAsync("handlers/noSuchHandler.ts"), named);
        });

        it("keeps the program's bundles for the next run, and builds again when any file a bundle was built from changes", () => {
            // An entry point of its own under the project's ignored tmp/, relative to api/ as the program names them.
            const root = path.resolve(__dirname, "../..");
            const dir = path.join(root, "tmp", "bundle-cache-test");
            const entry = "../tmp/bundle-cache-test/entry.ts";
            const kept = path.join(CACHE_ROOT, "bundles", `${entryName(entry)}.json`);
            // Each run is a process of its own, as each preview is.
            const bundleInNewRun = () =>
                execFileSync(process.execPath, ["--require", path.join(root, "lib/loadTypeScript.js"), "-e", "require('./api/bundle').bundleSourceAsync(process.argv[1]).then((text) => process.stdout.write(text))", entry], { cwd: root, encoding: "utf8" });
            const run = (text: string) => {
                const module = { exports: {} as any };
                new Script(text).runInContext(createContext({ module, exports: module.exports }));
                return module.exports.handler();
            };
            rmSync(dir, { recursive: true, force: true });
            rmSync(kept, { force: true });
            mkdirSync(dir, { recursive: true });
            try {
                writeFileSync(path.join(dir, "entry.ts"), 'import { answer } from "./answer";\nexport const handler = (): string => `answer ${answer}`;\n');
                writeFileSync(path.join(dir, "answer.ts"), "export const answer: number = 1;\n");
                assert.equal(run(bundleInNewRun()), "answer 1");
                // The next run uses what was kept: changed behind the program's back, the kept text is what it gets.
                const entryFile = JSON.parse(readFileSync(kept, "utf8")) as { text: string; inputs: Record<string, string> };
                assert.deepEqual(Object.keys(entryFile.inputs).sort(), ["tmp/bundle-cache-test/answer.ts", "tmp/bundle-cache-test/entry.ts"]);
                writeFileSync(kept, JSON.stringify({ ...entryFile, text: entryFile.text.replace("answer ${answer}", "kept ${answer}") }));
                assert.equal(run(bundleInNewRun()), "kept 1");
                // A change in an imported file, not only the entry point, makes it stale.
                writeFileSync(path.join(dir, "answer.ts"), "export const answer: number = 2;\n");
                assert.equal(run(bundleInNewRun()), "answer 2");
                // An unreadable entry is built again.
                writeFileSync(kept, "{ not json");
                assert.equal(run(bundleInNewRun()), "answer 2");
                assert.equal(run(bundleInNewRun()), "answer 2");
            } finally {
                rmSync(dir, { recursive: true, force: true });
                rmSync(kept, { force: true });
            }
        });
    });
});
