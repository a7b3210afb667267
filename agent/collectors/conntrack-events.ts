// Connection events from the kernel (`conntrack -E`, source-NAT flows only): closed connections by protocol, and one
// translation log line per new TCP/UDP connection (Cloud NAT's TRANSLATIONS_ONLY entries), rate-limited.
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

/** Without translation logs only DESTROY events are needed, and the kernel filters out the rest. */
const eventArgs = (logTranslations: boolean) => ['-E', '-e', logTranslations ? 'NEW,DESTROY' : 'DESTROY', '-f', 'ipv4', '--src-nat'];

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
}

export class ConntrackEventWatcher {
  readonly counts: EventCounts = { closed: new Map(), lost: 0, logged: 0, suppressed: 0 };
  private readonly limiter: RateLimiter;
  private readonly reader: SupervisedReader;

  constructor(private options: EventWatcherOptions) {
    this.limiter = new RateLimiter(options.ratePerSecond);
    this.reader = new SupervisedReader(
      { collector: 'conntrack_events', purpose: 'watch connection events', file: 'conntrack', args: eventArgs(options.logTranslations) },
      options.spawn,
      options.log,
      (line, stream) => this.handleLine(line, stream),
    );
  }

  get ok(): boolean {
    return this.reader.ok;
  }

  configure(changes: Partial<Pick<EventWatcherOptions, 'logTranslations' | 'ratePerSecond' | 'natExternalIp'>>): void {
    this.options = { ...this.options, ...changes };
    this.limiter.setRate(this.options.ratePerSecond);
    this.reader.setArgs(eventArgs(this.options.logTranslations));
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
    if (isNew && !this.options.logTranslations) return;
    if (isNew && !this.limiter.take()) {
      this.counts.suppressed++;
      return;
    }
    const entry = parseConntrackLine(line);
    if (entry === undefined || !isTranslated(entry)) return;
    if (entry.event === 'DESTROY') {
      this.counts.closed.set(entry.protocol, (this.counts.closed.get(entry.protocol) ?? 0) + 1);
    } else if (entry.event === 'NEW' && this.options.logTranslations) {
      const record = translationLogEntry(entry, this.options.natExternalIp);
      if (record === undefined) return;
      this.counts.logged++;
      this.options.log.info(record, 'translation');
    }
  }

  start(): void {
    this.reader.start();
  }

  stop(): void {
    this.reader.stop();
  }
}

/** Closed connections and lost events; declared without a watcher too, for dashboards. */
export const conntrackEventsCollector = (events: ConntrackEventWatcher | undefined): Collector => ({
  register({ registry }) {
    new Counter({
      name: 'natgw_connections_closed_total',
      help: 'Translated connections removed from the conntrack table, by protocol (from kernel events; see natgw_conntrack_events_lost_total).',
      labelNames: ['protocol'],
      registers: [registry],
      collect() {
        if (events === undefined) return;
        this.reset();
        for (const protocol of ['tcp', 'udp', 'icmp']) this.inc({ protocol }, events.counts.closed.get(protocol) ?? 0);
      },
    });
    new Counter({
      name: 'natgw_conntrack_events_lost_total',
      help: 'Times the kernel dropped connection events because the agent fell behind (closed counts and translation logs miss those).',
      registers: [registry],
      collect() {
        if (events === undefined) return;
        this.reset();
        this.inc(events.counts.lost);
      },
    });
  },
  status: (): Record<string, CollectorStatus> => (events === undefined ? {} : { conntrack_events: { ok: events.ok } }),
});
