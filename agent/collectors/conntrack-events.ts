// Connection events from the kernel (`conntrack -E`, source-NAT flows only), read only while translation logs are on:
// one log line per new TCP/UDP connection (Cloud NAT's TRANSLATIONS_ONLY entries, rate-limited), and closed
// connections by protocol. Any listener of conntrack events costs every new connection of the NAT VM, whatever it
// filters (the kernel builds each event first): with a DESTROY reader always on, natgw made 0.87 of naive MASQUERADE's
// new connections per second, 0.97 without (docs/bench.md). So the logs that need the events pay for them; the rest of
// the agent counts connections with the table's counters.
import { Counter } from 'prom-client';
import type { Logger } from '../log.js';
import { RateLimiter } from '../rate-limit.js';
import type { LineSpawner } from '../runner.js';
import type { Collector, CollectorStatus } from './collector.js';
import { SupervisedReader } from './supervised.js';
import { isTranslated, parseConntrackLine, type ConntrackEntry } from './conntrack-table.js';

export interface TranslationLogEntry {
  event: 'translation';
  allocation_status: 'OK';
  connection: { src_ip: string; src_port: number; nat_ip: string; nat_port: number; dest_ip: string; dest_port: number; protocol: string };
  endpoint: { vm_ip: string };
}

export function translationLogEntry(entry: ConntrackEntry, natExternalIp?: string): TranslationLogEntry | undefined {
  if (entry.protocol !== 'tcp' && entry.protocol !== 'udp') return undefined;
  return {
    event: 'translation',
    allocation_status: 'OK',
    connection: {
      src_ip: entry.original.src,
      src_port: Number(entry.original.sport),
      // The reply comes back to the address and port the NAT chose; GCE maps that address 1:1 to the external IP.
      nat_ip: natExternalIp ?? entry.reply.dst,
      nat_port: Number(entry.reply.dport),
      dest_ip: entry.original.dst,
      dest_port: Number(entry.original.dport),
      protocol: entry.protocol,
    },
    endpoint: { vm_ip: entry.original.src },
  };
}

const EVENT_ARGS = ['-E', '-e', 'NEW,DESTROY', '-f', 'ipv4', '--src-nat'];

export interface EventCounts {
  closed: Map<string, number>;
  lost: number;
  logged: number;
  suppressed: number;
}

export interface EventWatcherOptions {
  spawn: LineSpawner;
  log: Logger;
  logTranslations: boolean;
  ratePerSecond: number;
  natExternalIp?: string;
  /** Milliseconds since the epoch, for the log's rate limit; tests freeze it. */
  now?: () => number;
}

export class ConntrackEventWatcher {
  readonly counts: EventCounts = { closed: new Map(), lost: 0, logged: 0, suppressed: 0 };
  private readonly limiter: RateLimiter;
  private readonly reader: SupervisedReader;

  constructor(private options: EventWatcherOptions) {
    this.limiter = new RateLimiter(options.ratePerSecond, this.now());
    this.reader = new SupervisedReader(
      { collector: 'conntrack_events', purpose: 'watch connection events', file: 'conntrack', args: EVENT_ARGS },
      options.spawn,
      options.log,
      (line, stream) => this.handleLine(line, stream),
    );
  }

  get ok(): boolean {
    return this.reader.ok;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Reading while translation logs are on, stopped otherwise. */
  get running(): boolean {
    return this.options.logTranslations;
  }

  configure(changes: Partial<Pick<EventWatcherOptions, 'logTranslations' | 'ratePerSecond' | 'natExternalIp'>>): void {
    this.options = { ...this.options, ...changes };
    this.limiter.setRate(this.options.ratePerSecond);
    if (this.options.logTranslations) this.reader.start();
    else this.reader.stop();
  }

  handleLine(line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr') {
      // The kernel drops events when userspace falls behind; conntrack says so and carries on.
      if (/ENOBUFS/.test(line)) this.counts.lost++;
      else if (line.trim() !== '' && !/flow events have been shown/.test(line)) this.reader.lastError = line.trim();
      return;
    }
    // A flood of new connections is a flood of events: decide on the cheap test before parsing, and past the log
    // budget do not parse at all.
    const isNew = line.includes('[NEW]');
    if (isNew && !this.limiter.take(this.now())) {
      this.counts.suppressed++;
      return;
    }
    const entry = parseConntrackLine(line);
    if (entry === undefined || !isTranslated(entry)) return;
    if (entry.event === 'DESTROY') {
      this.counts.closed.set(entry.protocol, (this.counts.closed.get(entry.protocol) ?? 0) + 1);
    } else if (entry.event === 'NEW') {
      const record = translationLogEntry(entry, this.options.natExternalIp);
      if (record === undefined) return;
      this.counts.logged++;
      this.options.log.info(record, 'translation');
    }
  }

  stop(): void {
    this.reader.stop();
  }
}

/** Closed connections and lost events, with samples only while translation logs are on; declared always, for dashboards. */
export const conntrackEventsCollector = (events: ConntrackEventWatcher | undefined): Collector => ({
  register({ registry }) {
    new Counter({
      name: 'natgw_connections_closed_total',
      help: 'Translated connections removed from the conntrack table, by protocol, while translation logs are on (from kernel events; see natgw_conntrack_events_lost_total).',
      labelNames: ['protocol'],
      registers: [registry],
      collect() {
        this.reset();
        if (events?.running !== true) return;
        for (const protocol of ['tcp', 'udp', 'icmp']) this.inc({ protocol }, events.counts.closed.get(protocol) ?? 0);
      },
    });
    new Counter({
      name: 'natgw_conntrack_events_lost_total',
      help: 'Times the kernel dropped connection events because the agent fell behind (closed counts and translation logs miss those).',
      registers: [registry],
      collect() {
        this.reset();
        if (events?.running !== true) return;
        this.inc(events.counts.lost);
      },
    });
  },
  status: (): Record<string, CollectorStatus> => (events?.running === true ? { conntrack_events: { ok: events.ok } } : {}),
});
