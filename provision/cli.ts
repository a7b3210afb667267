import { UsageError } from '../cli/errors.js';

export async function runProvisionCli(command: 'provision' | 'status' | 'destroy', _argv: string[]): Promise<number> {
  throw new UsageError(`'${command}' is not implemented yet`);
}
