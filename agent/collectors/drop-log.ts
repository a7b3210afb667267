// Error logs: packets we drop reach userspace through NFLOG (rate-limited by the kernel rule itself) and tcpdump,
// which reads NFLOG groups without a netlink library. One JSON line per logged drop, with the reason.
import type { Logger } from '../log.js';
import { DROP_REASONS, type DropReason } from '../ruleset.js';
import type { LineSpawner } from '../runner.js';
import type { Collector, CollectorStatus } from './collector.js';
import { SupervisedReader } from './supervised.js';

export interface DropLogEntry {
  event: 'dropped';
  allocation_status: 'DROPPED';
  reason: DropReason;
  connection: { src_ip: string; src_port?: number; dest_ip: string; dest_port?: number; protocol: string };
}

const splitAddress = (text: string): { ip: string; port?: number } => {
  const parts = text.split('.');
  return parts.length === 5 ? { ip: parts.slice(0, 4).join('.'), port: Number(parts[4]) } : { ip: text };
};

/** Parses a `tcpdump -q -n -e -tt -i nflog:…` line into a drop record (-q: no dissection by port number). */
export function parseNflogLine(line: string): DropLogEntry | undefined {
  const match = /resource ID (\d+), (?:family )?IPv4\b.*?, length \d+: (\S+) > (\S+): +(\S+)/.exec(line);
  if (match === null) return undefined;
  const reason = DROP_REASONS.find((entry) => entry.nflogGroup === Number(match[1]))?.reason;
  if (reason === undefined) return undefined;
  const source = splitAddress(match[2] ?? '');
  const destination = splitAddress((match[3] ?? '').replace(/:$/, ''));
  const kind = match[4] ?? '';
  const protocol = /^udp/i.test(kind) ? 'udp' : /^(tcp|Flags)/i.test(kind) ? 'tcp' : kind.startsWith('ICMP') ? 'icmp' : 'other';
  return {
    event: 'dropped',
    allocation_status: 'DROPPED',
    reason,
    connection: {
      src_ip: source.ip,
      ...(source.port === undefined ? {} : { src_port: source.port }),
      dest_ip: destination.ip,
      ...(destination.port === undefined ? {} : { dest_port: destination.port }),
      protocol,
    },
  };
}

export class DropLogWatcher {
  logged = 0;
  private readonly reader: SupervisedReader;

  constructor(
    spawn: LineSpawner,
    private readonly log: Logger,
  ) {
    const groups = DROP_REASONS.map((entry) => entry.nflogGroup).join(',');
    this.reader = new SupervisedReader(
      {
        collector: 'drop_log',
        purpose: 'read dropped packets from NFLOG',
        file: 'tcpdump',
        // -Z root: tcpdump drops to user tcpdump by default, which the agent's unit (no CAP_SETUID/SETGID) refuses.
        args: ['-Z', 'root', '-l', '-q', '-n', '-e', '-tt', '-i', `nflog:${groups}`],
      },
      spawn,
      log,
      (line, stream) => this.handleLine(line, stream),
    );
  }

  get ok(): boolean {
    return this.reader.ok;
  }

  get healthy(): boolean {
    return this.reader.healthy;
  }

  get lastError(): string | undefined {
    return this.reader.lastError;
  }

  handleLine(line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr') {
      return;
    }
    const record = parseNflogLine(line);
    if (record === undefined) return;
    this.logged++;
    this.log.warn(record, `dropped: ${record.reason}`);
  }

  start(): void {
    this.reader.start();
  }

  stop(): void {
    this.reader.stop();
  }
}

/** The drop log has no series of its own (natgw_log_entries_total counts it from the rules): only its success. */
export const dropLogCollector = (dropLog: DropLogWatcher | undefined): Collector => ({
  register: () => undefined,
  status: (): Record<string, CollectorStatus> => (dropLog === undefined ? {} : { drop_log: { ok: dropLog.ok } }),
});
