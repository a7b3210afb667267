// natgw provision | status | destroy: parse the flags, pick the mode, run it, and map errors to exit codes.
import { realClock, type Clock } from '../common/clock.js';
import { exitCode, UsageError } from '../common/errors.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { connectCompute, type ComputeClients } from './gcp/client.js';
import { readGateway } from './found.js';
import { haMode } from './ha/mode.js';
import { statefulMode } from './ha/stateful-mode.js';
import { HelpRequested, parseOptions, USAGE, type Command, type Options } from './options.js';
import type { Io, Mode, Run } from './pipeline.js';
import { Progress } from './progress.js';
import { singleMode } from './single/mode.js';

export type { Io } from './pipeline.js';

function callContext(clients: ComputeClients, options: Options, progress: Progress, clock: Clock): CallContext {
  return {
    clients,
    clock,
    project: options.project,
    retryBaseMs: options.retryBaseMs,
    maxAttempts: 6,
    operationTimeoutMs: 15 * 60_000,
    onRetry: (what, attempt, reason, delayMs) =>
      progress.line(`  ${what}: ${reason}, retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1})`),
  };
}

// Most specific first: a stateful gateway is also an HA one, and single mode takes whatever is left.
const MODES: Mode[] = [statefulMode, haMode, singleMode];

function pick(test: (mode: Mode) => boolean): Mode {
  const mode = MODES.find(test);
  if (mode === undefined) throw new UsageError('no gateway mode fits these options');
  return mode;
}

/** What a run needs from outside besides its streams; tests pass a fake clock and clients shared across runs. */
export interface Dependencies {
  clock?: Clock;
  connect?: typeof connectCompute;
}

export async function runProvisionCommand(command: Command, argv: string[], io: Io, dependencies: Dependencies = {}): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(command, argv, io.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout.write(USAGE);
      return 0;
    }
    throw error;
  }
  const clock = dependencies.clock ?? realClock;
  const progress = new Progress(io.stderr, () => clock.now());
  let clients: ComputeClients | undefined;
  try {
    clients = await (dependencies.connect ?? connectCompute)(options.endpoint, { requestTimeoutMs: 60_000 });
    const ctx = callContext(clients, options, progress, clock);
    const run: Run = { options, io, ctx, progress };
    switch (command) {
      case 'provision':
        return await pick((mode) => mode.chosenBy(options)).provision(run);
      case 'status':
      case 'destroy': {
        const found = await readGateway(ctx, options.name, options.region, command === 'destroy' ? progress : undefined);
        const mode = pick((candidate) => candidate.runs(found, options.name));
        if (command === 'status') return await mode.status(run, found);
        return await mode.destroy(run, found);
      }
      default:
        throw new UsageError(`unknown command ${String(command)}`);
    }
  } catch (error) {
    if (error instanceof ProvisionError) {
      io.stderr.write(`natgw ${command}: ${error.message}\n`);
      return exitCode(error);
    }
    throw error;
  } finally {
    await clients?.close();
  }
}

export async function runProvisionCli(command: 'provision' | 'status' | 'destroy', argv: string[]): Promise<number> {
  return runProvisionCommand(command, argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
}
