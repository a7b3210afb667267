// Who holds each overflow port, without any process woken per connection. A listener of conntrack events costs every
// new connection of the NAT VM (the kernel builds each event before a socket filter can drop it): the paired benchmark
// measured 0.80 of naive MASQUERADE's new connections per second with one, 0.95 without (docs/bench.md). Instead the
// learner's NFLOG lines (the first packets of clients without a block, which are exactly the ones translated from the
// overflow ports) wake a dump of the overflow-marked entries only, and the dump repeats while any is open.
//
// Times are bounds, so `whois` never misses: a record starts at its first packet as NFLOG saw it (or, when the learn
// rule's rate limit skipped it, at the last dump that did not list it) and ends at the first dump that no longer does.
import type { PortBlockRecord } from './port-blocks.js';
import { parseConntrackLine } from './collectors/conntrack-table.js';
import type { Logger } from './log.js';
import { toLogLine } from './port-blocks.js';
import { OVERFLOW_MARK } from './ruleset.js';
import type { CommandRunner } from './runner.js';

/** Ended overflow records kept for `natgw whois --agent` (the log keeps them all). */
const HISTORY_LIMIT = 20_000;
/** First packets seen by NFLOG and not yet matched by a dump; beyond this the oldest are forgotten (start = last dump). */
const FIRST_PACKETS_LIMIT = 65_536;

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
  private dumping: Promise<void> | undefined;
  private dumpAgain = false;
  private running = false;
  private readonly settleMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: OverflowAttributionOptions) {
    this.settleMs = options.settleMs ?? 50;
    this.pollMs = options.pollMs ?? 2000;
  }

  get ok(): boolean {
    return this.failures === 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
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
    // A listing already due sooner stands (a stream of first packets must not keep postponing it); a later one, such
    // as the next poll, is brought forward. Timers run on the real clock, whatever `now` the records use.
    const dueAt = Date.now() + delayMs;
    if (this.timer !== undefined && this.timerDueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.dump();
    }, delayMs);
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
    let listing: string;
    try {
      // Exit code 1 with no output: no entry carries the mark.
      ({ stdout: listing } = await this.options.run('list the overflow connections', 'conntrack', ['-L', '-f', 'ipv4', '--mark', mark], {
        okExitCodes: [1],
      }));
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
    this.reconcile(listing, startedAt);
  }

  /**
   * The records a listing taken at `listedAt` implies. Records are keyed by the reply tuple (destination and NAT
   * address:port), which no two live connections share; a listed entry with a known reply tuple but another original
   * tuple is a new connection that took the port after the old one ended.
   */
  reconcile(listing: string, listedAt: number): void {
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
      if (open !== undefined) this.end(replyKey, open.record, listedAt);
      const firstPacket = this.firstPackets.get(original);
      this.firstPackets.delete(original);
      // Not seen by NFLOG: it began after the last listing that did not have it (or just now, at the first listing).
      const start = firstPacket ?? previousDump ?? listedAt;
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
    for (const [replyKey, open] of [...this.open]) if (!seen.has(replyKey)) this.end(replyKey, open.record, listedAt);
    // First packets older than this listing that it did not show never became overflow connections (the client got
    // its block first, or the packet was dropped later in the path).
    for (const [key, time] of [...this.firstPackets]) if (time < listedAt - 10_000) this.firstPackets.delete(key);
    this.lastDumpAt = listedAt;
  }

  private end(replyKey: string, record: PortBlockRecord, at: number): void {
    this.open.delete(replyKey);
    record.until = new Date(at).toISOString();
    this.history.push(record);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    this.options.log.info(toLogLine('port_block_released', record, record.until), `overflow port ${record.first} of ${record.vm} released`);
  }

  /** Ended records first, then open ones. */
  records(): PortBlockRecord[] {
    return [...this.history, ...[...this.open.values()].map((open) => open.record)];
  }

  /** Resolves once no dump is running or due within settleMs (tests). */
  async settled(): Promise<void> {
    while (this.dumping !== undefined) await this.dumping;
  }
}
