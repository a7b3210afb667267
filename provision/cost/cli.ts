import { UsageError } from '../../cli/errors.js';

export async function runCostCli(_argv: string[]): Promise<number> {
  throw new UsageError(`'cost' is not implemented yet`);
}
