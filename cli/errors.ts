/** An error whose message is meant for the operator as-is: the CLI prints it without a stack and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
