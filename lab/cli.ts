import { UsageError } from '../cli/errors.js';

export async function runLabCli(_argv: string[]): Promise<number> {
  throw new UsageError(`'lab' is not implemented yet`);
}
