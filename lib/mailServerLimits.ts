/**
 * AWS limits the mail server's settings must respect, shared by the stack config's checks (lib/config.ts) and the
 * MailServer component's argument checks. No runtime dependencies.
 */

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** SES refuses messages larger than this (40 MiB, after encoding). */
export const SES_MESSAGE_SIZE_LIMIT = 40 * 1024 * 1024;

/** The Fargate CPU sizes (CPU units; 1024 = one vCPU). */
export const FARGATE_CPU_SIZES = [256, 512, 1024, 2048, 4096] as const;

/** The task memory sizes (MiB) Fargate offers for a CPU size; empty for a size Fargate does not offer. */
export function fargateMemoryChoices(cpu: number): number[] {
    const range = (from: number, to: number, step = 1024) => Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
    switch (cpu) {
        case 256: return [512, 1024, 2048];
        case 512: return range(1024, 4096);
        case 1024: return range(2048, 8192);
        case 2048: return range(4096, 16384);
        case 4096: return range(8192, 30720);
        default: return [];
    }
}

/** A Route 53 hosted zone id, such as Z0123456789ABCDEFGHIJ. */
export const HOSTED_ZONE_ID_RE = /^Z[A-Z0-9]{1,31}$/;
