// The leaf every layer may import: what an error means for the operator and which exit code it earns. Core code throws
// these; only the CLI edge (cli/, bin/) turns them into text on stderr and an exit code.

/** The operator's input is wrong (a flag, a config field, a file): the message says which, and nothing was changed. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit codes of every natgw command: 0 done, 1 failed, 2 bad input, 3 not serving (status). */
export const EXIT = { ok: 0, failed: 1, usage: 2, notServing: 3 } as const;

export function exitCode(error: unknown): number {
  return error instanceof UsageError ? EXIT.usage : EXIT.failed;
}
