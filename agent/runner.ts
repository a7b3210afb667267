// The only module that starts processes: every command the agent runs goes through here, so errors always say what was
// attempted, the exact command line and what the command printed on stderr.
import { execa } from 'execa';

export interface RunOptions {
  input?: string;
  /** Exit codes that are an answer, not a failure (e.g. `iptables -C` says "no such rule" with 1). */
  okExitCodes?: number[];
  /** Default 30 s: every command the agent runs must end; only tests and the lab run longer ones. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type CommandRunner = (purpose: string, file: string, args: string[], options?: RunOptions) => Promise<RunResult>;

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly purpose: string,
    readonly commandLine: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(
      `${purpose} failed: \`${commandLine}\` ${exitCode === undefined ? 'could not start' : `exited ${exitCode}`}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
    );
  }
}

export const runCommand: CommandRunner = async (purpose, file, args, options = {}) => {
  const commandLine = [file, ...args].join(' ');
  const result = await execa(file, args, {
    input: options.input ?? '',
    reject: false,
    timeout: options.timeoutMs ?? 30_000,
    stripFinalNewline: false,
  });
  const exitCode = result.exitCode;
  if (result.failed && exitCode === undefined) {
    throw new CommandError(purpose, commandLine, undefined, result.stderr || (result.message ?? ''));
  }
  if (exitCode !== 0 && !(options.okExitCodes ?? []).includes(exitCode ?? -1)) {
    throw new CommandError(purpose, commandLine, exitCode, result.stderr);
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode: exitCode ?? 0 };
};

export interface LongRunning {
  /** Resolves with the exit code once the process ends (after stop(), or on its own). */
  done: Promise<number | undefined>;
  stop(): void;
}

export type LineSpawner = (
  purpose: string,
  file: string,
  args: string[],
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
) => LongRunning;

/** A process whose output is a stream of events (conntrack -E, tcpdump): each line is handed over as it arrives. */
export const spawnLines: LineSpawner = (purpose, file, args, onLine) => {
  const subprocess = execa(file, args, { reject: false, buffer: false, stdin: 'ignore', cleanup: true });
  const forward = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') => {
    if (stream === null) return;
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line, name);
    });
  };
  forward(subprocess.stdout, 'stdout');
  forward(subprocess.stderr, 'stderr');
  const done = subprocess.then(
    (result) => result.exitCode,
    (error: unknown) => {
      onLine(`${purpose} failed: \`${[file, ...args].join(' ')}\`: ${(error as Error).message}`, 'stderr');
      return undefined;
    },
  );
  return { done, stop: () => void subprocess.kill('SIGTERM') };
};
