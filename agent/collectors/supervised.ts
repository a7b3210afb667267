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

/** Failures in a row (none of them after a minute of running) after which a reader counts as failing, not restarting. */
export const FAILING_AFTER_RESTARTS = 3;
const STEADY_RUN_MS = 60_000;

export class SupervisedReader {
  ok = false;
  lastError: string | undefined;
  /** The reader's last line on stderr in its current run (why tcpdump refused to start, say). */
  private lastStderr: string | undefined;
  private launchedAt = 0;
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

  /**
   * Up and not dying over and over: false while it is down, and after FAILING_AFTER_RESTARTS quick failures in a row
   * until a relaunched reader has run for a minute. A reader that exits once is restarted (about 2 s later) and stays
   * healthy; one that cannot run (e.g. tcpdump refused by the sandbox) turns unhealthy within three restarts.
   */
  get healthy(): boolean {
    if (!this.ok) return false;
    return this.restarts < FAILING_AFTER_RESTARTS || this.clock.now() - this.launchedAt >= STEADY_RUN_MS;
  }

  /** How many times in a row it failed without a minute of running. */
  get failuresInARow(): number {
    return this.restarts;
  }

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
    this.lastStderr = undefined;
    this.launchedAt = started;
    const launched = this.spawn(purpose, file, args, (line, stream) => {
      if (stream === 'stderr' && line.trim() !== '' && !/^(listening on|tcpdump: verbose|\d+ packets)/.test(line.trim()))
        this.lastStderr = line.trim();
      this.onLine(line, stream);
    });
    this.process = launched;
    this.ok = true;
    void launched.done.then((code) => {
      // A reader replaced by setArgs ends too: only the current one's exit is a failure.
      if (this.process !== launched) return;
      this.ok = false;
      if (this.stopped) return;
      this.lastError = `${file} exited with ${code ?? 'an error'}${this.lastStderr === undefined ? '' : `: ${this.lastStderr}`}`;
      this.log.warn({ event: 'collector_failed', collector, error: this.lastError }, `${purpose}: stopped; restarting`);
      // A reader that ran for a minute starts over from a short delay; one that keeps dying backs off to a minute.
      this.restarts = this.clock.now() - started > STEADY_RUN_MS ? 0 : this.restarts + 1;
      this.clock.sleep(Math.min(1000 * 2 ** this.restarts, 60_000), this.backoff.signal).then(
        () => {
          if (!this.stopped) this.launch();
        },
        () => undefined,
      );
    });
  }
}
