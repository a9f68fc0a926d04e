/**
 * The policy builders, evaluated by an IAM policy simulator: what each mail tier's roles may and may not do.
 * (plan.test.ts evaluates the documents the program actually attaches, with the ARNs the mocks resolve.)
 */
import * as assert from "node:assert/strict";
import {
    ecrRepositoryArnOf,
    mailExecutionRolePolicy,
    mailTaskRolePolicy,
    sesRelayPolicy,
    type PolicyDocument,
} from "../../components/mailTierPolicies";
import { MAIL_TIER_NAMES } from "../../lib/mailTiers";
import { decide } from "./iamSimulator";

const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:123456789012:${rest}`;
const table = arn("dynamodb", "table/cabalmail-addresses");
const userIndex = `${table}/index/byUser`;
const subdomainIndex = `${table}/index/bySubdomain`;
const otherTable = arn("dynamodb", "table/someone-elses");
const fileSystem = arn("elasticfilesystem", "file-system/fs-0123456789abcdef0");
const accessPoints = {
    "smtp-in": arn("elasticfilesystem", "access-point/fsap-00000000000000001"),
    imap: arn("elasticfilesystem", "access-point/fsap-00000000000000002"),
    "smtp-out": arn("elasticfilesystem", "access-point/fsap-00000000000000003"),
};

function taskPolicy(tier: keyof typeof accessPoints): PolicyDocument {
    return mailTaskRolePolicy(tier, { tableArn: table, indexArns: [userIndex, subdomainIndex], fileSystemArn: fileSystem, accessPointArn: accessPoints[tier] });
}

describe("mail tier task roles (evaluated by an IAM simulator)", () => {
    for (const tier of MAIL_TIER_NAMES) {
        describe(tier, () => {
            const policy = taskPolicy(tier);

            it("may GetItem, BatchGetItem and Query the address table and Query its indexes", async () => {
                assert.equal(await decide([policy], "dynamodb:GetItem", table), "Allowed");
                assert.equal(await decide([policy], "dynamodb:BatchGetItem", table), "Allowed");
                assert.equal(await decide([policy], "dynamodb:Query", table), "Allowed");
                assert.equal(await decide([policy], "dynamodb:Query", userIndex), "Allowed");
                assert.equal(await decide([policy], "dynamodb:Query", subdomainIndex), "Allowed");
            });

            for (const action of ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:Scan", "dynamodb:PartiQLDelete"]) {
                it(`may not ${action} on the address table`, async () => {
                    assert.equal(await decide([policy], action, table), "ImplicitlyDenied");
                });
            }

            it("may not read any other table", async () => {
                assert.equal(await decide([policy], "dynamodb:GetItem", otherTable), "ImplicitlyDenied");
                assert.equal(await decide([policy], "dynamodb:BatchGetItem", otherTable), "ImplicitlyDenied");
                assert.equal(await decide([policy], "dynamodb:Query", `${otherTable}/index/byUser`), "ImplicitlyDenied");
            });

            const rootOnOwnQueue = tier !== "imap";
            it(`may mount its own access point read-write, and no other${rootOnOwnQueue ? ", as root (the Postfix queue)" : ", never as root"}`, async () => {
                const own = { "elasticfilesystem:AccessPointArn": accessPoints[tier] };
                assert.equal(await decide([policy], "elasticfilesystem:ClientMount", fileSystem, own), "Allowed");
                assert.equal(await decide([policy], "elasticfilesystem:ClientWrite", fileSystem, own), "Allowed");
                assert.equal(await decide([policy], "elasticfilesystem:ClientRootAccess", fileSystem, own), rootOnOwnQueue ? "Allowed" : "ImplicitlyDenied");
                assert.equal(await decide([policy], "elasticfilesystem:ClientMount", fileSystem, {}), "ImplicitlyDenied", "a mount without an access point");
                for (const [other, otherAccessPoint] of Object.entries(accessPoints)) {
                    if (other === tier) continue;
                    assert.equal(
                        await decide([policy], "elasticfilesystem:ClientMount", fileSystem, { "elasticfilesystem:AccessPointArn": otherAccessPoint }),
                        "ImplicitlyDenied",
                        `${tier} mounting ${other}'s access point`,
                    );
                    assert.equal(
                        await decide([policy], "elasticfilesystem:ClientRootAccess", fileSystem, { "elasticfilesystem:AccessPointArn": otherAccessPoint }),
                        "ImplicitlyDenied",
                        `${tier} as root on ${other}'s access point`,
                    );
                }
            });

            it("may not touch the file system's configuration", async () => {
                assert.equal(await decide([policy], "elasticfilesystem:DeleteFileSystem", fileSystem), "ImplicitlyDenied");
                assert.equal(await decide([policy], "elasticfilesystem:PutFileSystemPolicy", fileSystem), "ImplicitlyDenied");
            });

            it("has no wildcard action or resource", () => {
                for (const statement of policy.Statement) {
                    assert.ok(statement.Resource !== "*", statement.Sid);
                    for (const action of statement.Action) assert.ok(!action.includes("*"), `${statement.Sid}: ${action}`);
                    for (const resource of statement.Resource) assert.ok(!resource.includes("*"), `${statement.Sid}: ${resource}`);
                }
            });
        });
    }

    it("rejects an index ARN that belongs to another table, naming it", () => {
        assert.throws(
            () => mailTaskRolePolicy("imap", { tableArn: table, indexArns: [`${otherTable}/index/byUser`], fileSystemArn: fileSystem, accessPointArn: accessPoints.imap }),
            /imap task role: index ARN .*someone-elses.* is not an index of the table/,
        );
    });

    it("rejects a value that is not an ARN (an unresolved output, a name), naming the field", () => {
        assert.throws(
            () => mailTaskRolePolicy("smtp-in", { tableArn: "cabalmail-addresses", indexArns: [], fileSystemArn: fileSystem, accessPointArn: accessPoints["smtp-in"] }),
            /smtp-in task role: tableArn: expected an ARN of the dynamodb service, got "cabalmail-addresses"/,
        );
    });
});

describe("mail tier execution roles (evaluated by an IAM simulator)", () => {
    const logGroup = (tier: string) => arn("logs", `log-group:/cabalmail/${tier}`);
    const repository = (tier: string) => arn("ecr", `repository/cabalmail-${tier}`);
    const dkimSecret = arn("secretsmanager", "secret:cabalmail-dkim-AbCdEf");
    const relaySecret = arn("secretsmanager", "secret:cabalmail-ses-relay-GhIjKl");
    const smtpOut = mailExecutionRolePolicy("smtp-out", { logGroupArn: logGroup("smtp-out"), repositoryArn: repository("smtp-out"), secretArns: [dkimSecret, relaySecret] });
    const imap = mailExecutionRolePolicy("imap", { logGroupArn: logGroup("imap"), repositoryArn: repository("imap"), secretArns: [] });

    it("smtp-out's reads its own secrets and no other", async () => {
        assert.equal(await decide([smtpOut], "secretsmanager:GetSecretValue", dkimSecret), "Allowed");
        assert.equal(await decide([smtpOut], "secretsmanager:GetSecretValue", relaySecret), "Allowed");
        assert.equal(await decide([smtpOut], "secretsmanager:GetSecretValue", arn("secretsmanager", "secret:database-password-XyZabc")), "ImplicitlyDenied");
        assert.equal(await decide([smtpOut], "secretsmanager:PutSecretValue", dkimSecret), "ImplicitlyDenied");
        assert.equal(await decide([smtpOut], "secretsmanager:DeleteSecret", dkimSecret), "ImplicitlyDenied");
    });

    it("imap's may not read the DKIM key", async () => {
        assert.equal(await decide([imap], "secretsmanager:GetSecretValue", dkimSecret), "ImplicitlyDenied");
    });

    it("each writes only its own log group", async () => {
        assert.equal(await decide([imap], "logs:PutLogEvents", `${logGroup("imap")}:log-stream:imap/imap/0123`), "Allowed");
        assert.equal(await decide([imap], "logs:CreateLogStream", `${logGroup("imap")}:log-stream:imap/imap/0123`), "Allowed");
        assert.equal(await decide([imap], "logs:PutLogEvents", `${logGroup("smtp-out")}:log-stream:x`), "ImplicitlyDenied");
        assert.equal(await decide([imap], "logs:DeleteLogGroup", logGroup("imap")), "ImplicitlyDenied");
    });

    it("each pulls only its own image", async () => {
        assert.equal(await decide([imap], "ecr:GetAuthorizationToken", "*"), "Allowed");
        assert.equal(await decide([imap], "ecr:BatchGetImage", repository("imap")), "Allowed");
        assert.equal(await decide([imap], "ecr:GetDownloadUrlForLayer", repository("imap")), "Allowed");
        assert.equal(await decide([imap], "ecr:BatchGetImage", repository("smtp-out")), "ImplicitlyDenied");
        assert.equal(await decide([imap], "ecr:PutImage", repository("imap")), "ImplicitlyDenied");
    });

    it("has no ECR permission at all for an image outside ECR", async () => {
        const publicImage = mailExecutionRolePolicy("imap", { logGroupArn: logGroup("imap"), repositoryArn: ecrRepositoryArnOf("ghcr.io/cabalmail/imap:1.0"), secretArns: [] });
        assert.equal(await decide([publicImage], "ecr:GetAuthorizationToken", "*"), "ImplicitlyDenied");
    });

    it("has wildcards only where AWS allows no narrower resource: the registry login and the log group's streams", () => {
        for (const statement of smtpOut.Statement) {
            for (const action of statement.Action) assert.ok(!action.includes("*"), action);
            if (statement.Resource === "*") assert.deepEqual(statement.Action, ["ecr:GetAuthorizationToken"]);
            else for (const resource of statement.Resource) if (resource.includes("*")) assert.match(resource, /^arn:aws:logs:[^*]+:log-group:\/cabalmail\/smtp-out:log-stream:\*$/);
        }
    });
});

describe("SES relay user (evaluated by an IAM simulator)", () => {
    const identities = [arn("ses", "identity/example.com"), arn("ses", "identity/example.net")];
    const policy = sesRelayPolicy(identities);

    it("may send raw mail as the mail domains only", async () => {
        assert.equal(await decide([policy], "ses:SendRawEmail", identities[0]), "Allowed");
        assert.equal(await decide([policy], "ses:SendRawEmail", identities[1]), "Allowed");
        assert.equal(await decide([policy], "ses:SendRawEmail", arn("ses", "identity/bank.example")), "ImplicitlyDenied");
        assert.equal(await decide([policy], "ses:SendEmail", identities[0]), "ImplicitlyDenied");
        assert.equal(await decide([policy], "ses:DeleteEmailIdentity", identities[0]), "ImplicitlyDenied");
    });

    it("refuses to build a policy for no identity", () => {
        assert.throws(() => sesRelayPolicy([]), /identityArns is empty/);
    });
});

describe("ecrRepositoryArnOf", () => {
    it("finds the repository of an ECR image reference, with a tag or a digest", () => {
        assert.equal(ecrRepositoryArnOf("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cabalmail/imap:1.2"), "arn:aws:ecr:eu-west-1:123456789012:repository/cabalmail/imap");
        assert.equal(ecrRepositoryArnOf("123456789012.dkr.ecr.eu-west-1.amazonaws.com/imap@sha256:abc"), "arn:aws:ecr:eu-west-1:123456789012:repository/imap");
    });
    it("returns undefined for other registries", () => {
        assert.equal(ecrRepositoryArnOf("ghcr.io/cabalmail/imap:1.2"), undefined);
        assert.equal(ecrRepositoryArnOf("public.ecr.aws/cabalmail/imap:1.2"), undefined);
    });
});
