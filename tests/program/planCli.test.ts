/** `npm run plan` as a person runs it: the printed tree, --json, and the errors. */
import * as assert from "node:assert/strict";
import { runPlanCli as plan } from "../support/plan";

describe("npm run plan", () => {
    it("prints the resource tree for Pulumi.prod.yaml with the settings that matter and what is protected", async () => {
        const { code, stdout, stderr } = await plan();
        assert.equal(code, 0, stderr);
        assert.match(stdout, /^Stack prod \(us-east-1\): \d+ resources in \d+ components; protected: .*aws:backup\/vault:Vault mail-backup/m);
        assert.match(stdout, /├─ cabalmail:index:BackupPlan mail-backup\n/);
        assert.match(stdout, /aws:backup\/vault:Vault mail-backup  \[PROTECTED\]/);
        assert.match(stdout, /aws:efs\/fileSystem:FileSystem mail  \[PROTECTED\]\n.*encrypted on/);
        assert.match(stdout, /ingress tcp 2049 sg-/);
        assert.match(stdout, /retention 7–3650 days, governance mode/);
        assert.match(stdout, /^Outputs:\n(.|\n)*fileSystemId: fs-/m);
    });

    it("prints the same plan as JSON with --json, and takes --config overrides", async () => {
        const { code, stdout } = await plan("--json", "--config", "backup=false");
        assert.equal(code, 0);
        const parsed = JSON.parse(stdout);
        assert.equal(parsed.config["cabalmail:backup"], "false");
        assert.ok(parsed.resources.length > 10);
        assert.ok(!parsed.resources.some((r: { type: string }) => r.type.startsWith("aws:backup/")));
    });

    it("exits 1 with the config error alone, no stack trace", async () => {
        const { code, stdout, stderr } = await plan("--config", "availabilityZones=0");
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.equal(stderr, 'error: Invalid stack config cabalmail:availabilityZones: must be at least 2: the load balancer and the mail store span two zones or more; got "0". Fix: pulumi config set availabilityZones 2\n');
    });

    it("names a missing stack file and how to make one", async () => {
        const { code, stderr } = await plan("--stack", "nosuch");
        assert.equal(code, 1);
        assert.match(stderr, /^error: Stack file Pulumi\.nosuch\.yaml does not exist\. Create it with pulumi stack init nosuch/);
    });

    it("rejects a --config that is not key=value", async () => {
        const { code, stderr } = await plan("--config", "backup");
        assert.equal(code, 1);
        assert.match(stderr, /"backup" is not key=value; write e\.g\. --config backup=true/);
    });
});
