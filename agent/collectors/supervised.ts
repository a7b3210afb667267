// A long-running reader (conntrack -E, tcpdump) kept alive: restarted with backoff when it exits, its failure logged
// and visible as the collector's success metric.
import type { Logger } from '../log.js';
import type { LineSpawner, LongRunning } from '../runner.js';

export interface SupervisedCommand {
  collector: string;
  purpose: string;
  file: string;
  args: string[];
}

export class SupervisedReader {
  ok = false;
  lastError: string | undefined;
  private process: LongRunning | undefined;
  private stopped = true;
  private restarts = 0;

  constructor(
    private command: SupervisedCommand,
    private readonly spawn: LineSpawner,
    private readonly log: Logger,
    private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.launch();
  }

  stop(): void {
    this.stopped = true;
    this.process?.stop();
  }

  /** New arguments take effect by restarting the reader, only when they differ. */
  setArgs(args: string[]): void {
    if (args.join(' ') === this.command.args.join(' ')) return;
    this.command = { ...this.command, args };
    if (this.stopped) return;
    this.stop();
    this.stopped = false;
    this.launch();
  }

  private launch(): void {
    const started = Date.now();
    const { collector, purpose, file, args } = this.command;
    this.process = this.spawn(purpose, file, args, this.onLine);
    this.ok = true;
    void this.process.done.then((code) => {
      this.ok = false;
      if (this.stopped) return;
      this.lastError = `${file} exited with ${code ?? 'an error'}${this.lastError === undefined ? '' : `: ${this.lastError}`}`;
      this.log.warn({ event: 'collector_failed', collector, error: this.lastError }, `${purpose}: stopped; restarting`);
      // A reader that ran for a minute starts over from a short delay; one that keeps dying backs off to a minute.
      this.restarts = Date.now() - started > 60_000 ? 0 : this.restarts + 1;
      setTimeout(() => !this.stopped && this.launch(), Math.min(1000 * 2 ** this.restarts, 60_000)).unref();
    });
  }
}
