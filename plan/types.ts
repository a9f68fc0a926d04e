/** The offline plan's data: what `npm run plan --json` prints and what tests assert on. */

export interface PlanRequest {
    /** The stack name (Pulumi.<stack>.yaml). */
    stack: string;
    /** The config as the program sees it: namespaced keys, string values. */
    config: Record<string, string>;
    /** Absolute path of the program's entry point. */
    program: string;
}

export interface PlannedResource {
    urn: string;
    /** e.g. "aws:efs/fileSystem:FileSystem" or "cabalmail:index:MailStore". */
    type: string;
    name: string;
    /** The parent's URN; the stack itself has none. */
    parent?: string;
    /** True for provider-managed resources, false for components. */
    custom: boolean;
    /** Pulumi's protect option: `pulumi destroy` stops at this resource. */
    protect: boolean;
    retainOnDelete: boolean;
    /** URNs of explicit dependencies (dependsOn). */
    dependsOn: string[];
    /** Inputs as registered, secrets shown as "[secret]". */
    inputs: Record<string, any>;
    /** Outputs the (mock) provider returned, with the resource's `id`. */
    outputs: Record<string, any>;
}

export interface Plan {
    stack: string;
    config: Record<string, string>;
    resources: PlannedResource[];
    /** The stack's exports. */
    outputs: Record<string, unknown>;
    /** The program's error, when it failed (e.g. invalid config): message only for a pulumi.RunError. */
    error?: string;
    /**
     * When the resource graph was complete (every registration answered), as `process.hrtime.bigint()` in
     * nanoseconds: the monotonic clock every process on the machine shares, so bench/startup.ts can measure from
     * the moment it started the engine.
     */
    graphCompleteAt?: string;
}
