// Who holds each overflow port, without any process woken per connection. A listener of conntrack events costs every
// new connection of the NAT VM (the kernel builds each event before a socket filter can drop it): the paired benchmark
// measured 0.80 of naive MASQUERADE's new connections per second with one, 0.95 without (docs/bench.md). Instead the
// learner's NFLOG lines (the first packets of clients without a block, which are exactly the ones translated from the
// overflow ports) wake a dump of the overflow-marked entries only, and the dump repeats while any is open.
//
// Times are bounds, so `whois` does not miss a connection a listing saw: a record starts no later than its first
// packet (the NFLOG line's time less a second, since tcpdump stamps a packet when it reads it; never before the last
// listing that did not show it) and ends no earlier than its entry (when the first listing that no longer shows it
// has finished).
import type { PortBlockRecord } from './port-blocks.js';
import { parseConntrackLine } from './collectors/conntrack-table.js';
import { FAILING_AFTER_RESTARTS } from './collectors/supervised.js';
import type { Logger } from './log.js';
import { appendToHistory, toLogLine } from './port-blocks.js';
import { OVERFLOW_MARK } from './ruleset.js';
import type { CommandRunner } from './runner.js';

/** First packets seen by NFLOG and not yet matched by a dump; beyond this the oldest are forgotten (start = last dump). */
const FIRST_PACKETS_LIMIT = 65_536;
/** How much earlier than tcpdump's time a first packet may have passed the rule (libpcap stamps NFLOG at read time). */
const NFLOG_DELAY_MARGIN_MS = 1000;

/**
 * When the next listing should start, asked for `delayMs` from `now`: never sooner than `minGapMs` after the last one
 * started, and undefined when the one already due (`pendingDueAt`) comes first, so a stream of first packets cannot
 * keep postponing it. Times on the real clock.
 */
export function nextListingAt(
  now: number,
  delayMs: number,
  lastListingAt: number,
  minGapMs: number,
  pendingDueAt?: number,
): number | undefined {
  const dueAt = Math.max(now + delayMs, lastListingAt + minGapMs);
  return pendingDueAt !== undefined && pendingDueAt <= dueAt ? undefined : dueAt;
}

/** The first packet of a connection, as `tcpdump -q -n -tt -i nflog:…` prints it. */
export interface FirstPacket {
  time: number;
  protocol: 'tcp' | 'udp';
  src: string;
  sport: string;
  dst: string;
  dport: string;
}

export function parseNflogLine(line: string): FirstPacket | undefined {
  const match = /^(\d+)\.(\d+) IP (\d{1,3}(?:\.\d{1,3}){3})\.(\d+) > (\d{1,3}(?:\.\d{1,3}){3})\.(\d+): (tcp|UDP)\b/.exec(line.trim());
  if (match === null) return undefined;
  const [, seconds, fraction, src, sport, dst, dport, protocol] = match as unknown as string[];
  return {
    time: Number(seconds) * 1000 + Math.floor(Number(`0.${fraction}`) * 1000),
    protocol: protocol === 'tcp' ? 'tcp' : 'udp',
    src: src!,
    sport: sport!,
    dst: dst!,
    dport: dport!,
  };
}

const originalKey = (protocol: string, src: string, sport: string | undefined, dst: string, dport: string | undefined) =>
  `${protocol} ${src}:${sport} ${dst}:${dport}`;

export interface OverflowAttributionOptions {
  run: CommandRunner;
  log: Logger;
  now: () => number;
  /** The address the internet sees, for the records. */
  natIp: () => string | undefined;
  /** A VM found on the overflow ports: it should have a block (the learn rule's rate limit may have skipped it). */
  onClient: (vm: string) => void;
  /** From a first packet to the dump that finds its entry (the entry is confirmed once the packet leaves). */
  settleMs?: number;
  /** Between dumps while overflow connections are open: the bound on a record's end. */
  pollMs?: number;
  /**
   * The least time between two listings, however many first packets come: each walks the conntrack table. Below the
   * shortest life of an entry (1 s: the smallest timeout the config allows), so no overflow connection is missed.
   */
  minGapMs?: number;
}

interface Open {
  record: PortBlockRecord;
  originalKey: string;
}

export class OverflowAttribution {
  /** Connections translated from the overflow ports that dumps have found since the agent started. */
  found = 0;
  /** Dumps that failed in a row (0 when the last one worked), and the last error. */
  failures = 0;
  lastError: string | undefined;
  private readonly open = new Map<string, Open>();
  private history: PortBlockRecord[] = [];
  private readonly firstPackets = new Map<string, number>();
  private lastDumpAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = 0;
  /** When the last listing started, on the real clock. */
  private lastListingAt = 0;
  private dumping: Promise<void> | undefined;
  private dumpAgain = false;
  private running = false;
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly minGapMs: number;

  constructor(private readonly options: OverflowAttributionOptions) {
    this.settleMs = options.settleMs ?? 50;
    this.pollMs = options.pollMs ?? 2000;
    this.minGapMs = options.minGapMs ?? 500;
  }

  get ok(): boolean {
    return this.failures === 0;
  }

  /** Failing, not retrying: as many listings failed in a row as a reader may exit before it counts as failing. */
  get failing(): boolean {
    return this.failures >= FAILING_AFTER_RESTARTS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Ends every open record now: nothing watches them any more (blocks turned off, the agent stopping), and a record left
   * open would name its VM for the port until some later listing, hours on.
   */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.options.now();
    for (const [replyKey, open] of [...this.open]) this.end(replyKey, open.record, now);
    this.firstPackets.clear();
    this.lastDumpAt = undefined;
  }

  /** A learner line: a client without a block sent a connection's first packet, which leaves from the overflow ports. */
  firstPacket(packet: FirstPacket): void {
    const key = originalKey(packet.protocol, packet.src, packet.sport, packet.dst, packet.dport);
    if (!this.firstPackets.has(key)) {
      if (this.firstPackets.size >= FIRST_PACKETS_LIMIT) this.firstPackets.delete(this.firstPackets.keys().next().value!);
      this.firstPackets.set(key, packet.time);
    }
    this.schedule(this.settleMs);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    // Timers run on the real clock, whatever `now` the records use.
    const dueAt = nextListingAt(
      Date.now(),
      delayMs,
      this.lastListingAt,
      this.minGapMs,
      this.timer === undefined ? undefined : this.timerDueAt,
    );
    if (dueAt === undefined) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.dump();
      },
      Math.max(0, dueAt - Date.now()),
    );
  }

  /** One dump of the overflow-marked entries, and the records it implies. Concurrent calls share one dump. */
  dump(): Promise<void> {
    if (this.dumping !== undefined) {
      this.dumpAgain = true;
      return this.dumping;
    }
    this.dumping = this.dumpOnce().finally(() => {
      this.dumping = undefined;
      if (this.dumpAgain) {
        this.dumpAgain = false;
        this.schedule(0);
      } else if (this.open.size > 0) this.schedule(this.pollMs);
    });
    return this.dumping;
  }

  private async dumpOnce(): Promise<void> {
    const mark = `0x${OVERFLOW_MARK.value.toString(16)}/0x${OVERFLOW_MARK.mask.toString(16)}`;
    const startedAt = this.options.now();
    this.lastListingAt = Date.now();
    let listing: string;
    try {
      // No entry with the mark is exit code 0 (and "0 flow entries" on stderr); 1 is a failure (EPERM, no netlink).
      ({ stdout: listing } = await this.options.run('list the overflow connections', 'conntrack', ['-L', '-f', 'ipv4', '--mark', mark]));
    } catch (error) {
      this.failures++;
      this.lastError = (error as Error).message;
      if (this.failures === 1)
        this.options.log.error(
          { event: 'port_block_overflow_scan_failed', error: this.lastError },
          'could not list the overflow connections: overflow ports are not attributed until a listing works',
        );
      return;
    }
    if (this.failures > 0)
      this.options.log.info({ event: 'port_block_overflow_scan_recovered' }, 'the overflow connections are listed again');
    this.failures = 0;
    this.lastError = undefined;
    if (this.running) this.reconcile(listing, startedAt, this.options.now());
  }

  /**
   * The records a listing implies: it started at `startedAt` (an entry it lacks began after that) and finished at
   * `finishedAt` (an entry it lacks ended before that). Records are keyed by the reply tuple (destination and NAT
   * address:port), which no two live connections share; a listed entry with a known reply tuple but another original
   * tuple is a new connection that took the port after the old one ended.
   */
  reconcile(listing: string, startedAt: number, finishedAt: number = startedAt): void {
    const seen = new Set<string>();
    const previousDump = this.lastDumpAt;
    for (const line of listing.split('\n')) {
      const entry = parseConntrackLine(line);
      if (entry?.reply.dport === undefined) continue;
      const replyKey = `${entry.protocol} ${entry.reply.src}:${entry.reply.sport} ${entry.reply.dst}:${entry.reply.dport}`;
      const original = originalKey(entry.protocol, entry.original.src, entry.original.sport, entry.original.dst, entry.original.dport);
      seen.add(replyKey);
      const open = this.open.get(replyKey);
      if (open !== undefined && open.originalKey === original) continue;
      const firstPacket = this.firstPackets.get(original);
      this.firstPackets.delete(original);
      // Not seen by NFLOG: it began after the last listing that did not have it. At the first listing since the start,
      // entries already there get that listing's time (the previous run's log has their start).
      const notBefore = previousDump ?? Number.NEGATIVE_INFINITY;
      const start = firstPacket === undefined ? (previousDump ?? startedAt) : Math.max(notBefore, firstPacket - NFLOG_DELAY_MARGIN_MS);
      // The connection it replaces ended before this one began: no instant where both hold the port.
      if (open !== undefined) this.end(replyKey, open.record, Math.max(Date.parse(open.record.since), Math.min(finishedAt, start)));
      const port = Number(entry.reply.dport);
      const record: PortBlockRecord = {
        vm: entry.original.src,
        natIp: this.options.natIp() ?? entry.reply.dst,
        natAddress: entry.reply.dst,
        first: port,
        last: port,
        since: new Date(start).toISOString(),
        destination: `${entry.original.dst}:${entry.original.dport}/${entry.protocol}`,
      };
      this.open.set(replyKey, { record, originalKey: original });
      this.found++;
      this.options.onClient(record.vm);
      this.options.log.info(
        toLogLine('port_block_assigned', record, record.since),
        `overflow port ${port} for ${record.vm} to ${record.destination}`,
      );
    }
    for (const [replyKey, open] of [...this.open]) if (!seen.has(replyKey)) this.end(replyKey, open.record, finishedAt);
    // First packets well before this listing that it did not show never became overflow connections (the client got
    // its block first, or the packet was dropped later in the path).
    for (const [key, time] of [...this.firstPackets]) if (time < startedAt - 10_000) this.firstPackets.delete(key);
    this.lastDumpAt = startedAt;
  }

  private end(replyKey: string, record: PortBlockRecord, at: number): void {
    this.open.delete(replyKey);
    record.until = new Date(at).toISOString();
    appendToHistory(this.history, record);
    this.options.log.info(toLogLine('port_block_released', record, record.until), `overflow port ${record.first} of ${record.vm} released`);
  }

  /** Ended records first, then open ones. */
  records(): PortBlockRecord[] {
    return [...this.history, ...[...this.open.values()].map((open) => open.record)];
  }

  /** A listing is running or one is due: false once nothing is open and no first packet is waiting for one. */
  get listingPending(): boolean {
    return this.dumping !== undefined || this.timer !== undefined;
  }

  /** Resolves once no listing is running (a listing due later is not waited for). */
  async settled(): Promise<void> {
    while (this.dumping !== undefined) await this.dumping;
  }
}
