// A long-running reader (conntrack -E, tcpdump) kept alive: restarted with backoff when it exits, its failure logged
// and visible as the collector's success metric.
import { type Clock, realClock } from '../../common/clock.js';
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
  /** Aborts the wait before a restart, so a stopped reader holds no timer. */
  private backoff = new AbortController();

  constructor(
    private command: SupervisedCommand,
    private readonly spawn: LineSpawner,
    private readonly log: Logger,
    private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void,
    private readonly clock: Clock = realClock,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.launch();
  }

  stop(): void {
    this.stopped = true;
    this.backoff.abort();
    this.backoff = new AbortController();
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
    const started = this.clock.now();
    const { collector, purpose, file, args } = this.command;
    const launched = this.spawn(purpose, file, args, this.onLine);
    this.process = launched;
    this.ok = true;
    void launched.done.then((code) => {
      // A reader replaced by setArgs ends too: only the current one's exit is a failure.
      if (this.process !== launched) return;
      this.ok = false;
      if (this.stopped) return;
      this.lastError = `${file} exited with ${code ?? 'an error'}${this.lastError === undefined ? '' : `: ${this.lastError}`}`;
      this.log.warn({ event: 'collector_failed', collector, error: this.lastError }, `${purpose}: stopped; restarting`);
      // A reader that ran for a minute starts over from a short delay; one that keeps dying backs off to a minute.
      this.restarts = this.clock.now() - started > 60_000 ? 0 : this.restarts + 1;
      this.clock.sleep(Math.min(1000 * 2 ** this.restarts, 60_000), this.backoff.signal).then(
        () => {
          if (!this.stopped) this.launch();
        },
        () => undefined,
      );
    });
  }
}
