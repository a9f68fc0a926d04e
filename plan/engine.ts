/**
 * Runs the Pulumi program under mocks and records every resource registration: type, name, parent, inputs,
 * outputs and the options the mocks alone cannot see (protect, dependsOn). Runs in a process of its own, because
 * Pulumi's mocks are global to a process: `node -r ts-node/register/transpile-only plan/engine.ts REQUEST RESULT`,
 * where REQUEST is a JSON file `{ stack, config, program }` and RESULT the file the plan is written to.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { createMocks } from "./mocks";
import type { Plan, PlannedResource, PlanRequest } from "./types";

import { specialArchiveSig, specialAssetSig, specialResourceSig, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** Turns a registration's wire value into plain JSON: secrets redacted, assets summarised, references as URNs. */
function plain(value: any): any {
    if (value === unknownValue) return "[unknown]";
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
        const sig = value[specialSigKey];
        if (sig === specialSecretSig) return "[secret]";
        if (sig === specialResourceSig) return value.urn;
        if (sig === specialAssetSig || sig === specialArchiveSig) return "[asset]";
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

async function main(requestFile: string, resultFile: string): Promise<void> {
    const request: PlanRequest = JSON.parse(readFileSync(requestFile, "utf8"));
    const region = request.config["aws:region"] ?? "";
    await pulumi.runtime.setMocks(createMocks({ region }), "cabalmail", request.stack, false);
    pulumi.runtime.setAllConfig(request.config);

    // Registrations are recorded as they are answered, and turned into plain JSON once the graph is complete:
    // converting each resource's inputs and outputs is the plan's work, not the program's.
    const registrations: { req: any; resp: any }[] = [];
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) =>
        register(req, (err: any, resp: any) => {
            if (!err) registrations.push({ req, resp });
            callback(err, resp);
        });
    const planned = (): PlannedResource[] =>
        registrations.map(({ req, resp }) => ({
            urn: resp.getUrn(),
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() || undefined,
            custom: req.getCustom(),
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            dependsOn: req.getDependenciesList(),
            inputs: plain(req.getObject()?.toJavaScript() ?? {}),
            outputs: { ...plain(resp.getObject()?.toJavaScript() ?? {}), ...(resp.getId() ? { id: resp.getId() } : {}) },
        }));

    let result: Plan;
    try {
        const outputs = await pulumi.runtime.runInPulumiStack(async () => require(request.program));
        await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
        const graphCompleteAt = process.hrtime.bigint().toString();
        result = { stack: request.stack, config: request.config, resources: planned(), outputs: plain(JSON.parse(JSON.stringify(outputs ?? {}))), graphCompleteAt };
    } catch (error) {
        const message = error instanceof pulumi.RunError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
        result = { stack: request.stack, config: request.config, resources: planned(), outputs: {}, error: message };
    }
    writeFileSync(resultFile, JSON.stringify(result));
}

main(process.argv[2], process.argv[3]).then(
    () => process.exit(0),
    (error) => {
        process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
        process.exit(2);
    },
);
