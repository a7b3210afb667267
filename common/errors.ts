// The leaf every layer may import: what an error means for the operator and which exit code it earns. Core code throws
// these; only the CLI edge (cli/, bin/) turns them into text on stderr and an exit code.

/** The operator's input is wrong (a flag, a config field, a file): the message says which, and nothing was changed. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit codes of every natgw command: 0 done, 1 failed, 2 bad input, 3 not serving (status). */
export const EXIT = { ok: 0, failed: 1, usage: 2, notServing: 3 } as const;

/**
 * Why a refusal happened, when it is one GCE decides before creating anything: an organization policy constraint or a
 * quota. The provisioner rolls back what the run created when it meets one (a re-run after the fix starts clean).
 */
export type Refusal = { kind: 'policy'; constraint: string } | { kind: 'quota'; quota: string };

/** An operator-facing provisioning failure: printed as-is, without a stack, exit 1. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
  constructor(
    message: string,
    readonly refusal?: Refusal,
  ) {
    super(message);
  }
}

/** "Not serving" (3) is not an error: status returns it. */
export function exitCode(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof ProvisionError) return EXIT.failed;
  return EXIT.failed;
}
