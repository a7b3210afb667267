// Per-VM port blocks (RFC 7422's deterministic NAT, Cloud NAT's port allocation): the pure part. Which ports are free,
// which block a VM holds, and who held NAT IP:port at a given time. No I/O here: the manager applies and persists.
import { BLOCK_PORTS } from './config.js';

/** One VM's hold on a range of the NAT IP's ports, from `since` until `until` (absent while it still holds it). */
export interface PortBlockRecord {
  vm: string;
  /** The address the internet sees (the external IP when the agent knows it, else the NAT VM's own address). */
  natIp: string;
  /** The NAT VM's address on its egress interface: what the kernel writes into packets (GCE maps it 1:1). */
  natAddress: string;
  first: number;
  last: number;
  since: string;
  until?: string;
  /**
   * Only for a port of the overflow range (OVERFLOW_PORTS): one connection's, to this destination (`ip:port/protocol`).
   * Several VMs may hold one overflow port at once, each to another destination.
   */
  destination?: string;
}

/** Ended records kept in memory for `natgw whois --agent` (the log keeps them all). */
export const HISTORY_LIMIT = 20_000;

/** Appends an ended record, dropping the oldest past HISTORY_LIMIT. */
export function appendToHistory(history: PortBlockRecord[], record: PortBlockRecord): void {
  history.push(record);
  if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
}

export const blockSize = (block: Pick<PortBlockRecord, 'first' | 'last'>) => block.last - block.first + 1;

/** The smallest block size: every block is a whole number of these, aligned on its own size from BLOCK_PORTS.first. */
const UNIT = 64;

/** Free and used ports of one NAT IP, in aligned power-of-two blocks (a buddy layout: a block never straddles two). */
export class PortSpace {
  private readonly used: Uint8Array;

  constructor(
    readonly first: number = BLOCK_PORTS.first,
    readonly last: number = BLOCK_PORTS.last,
  ) {
    this.used = new Uint8Array(Math.floor((last - first + 1) / UNIT));
  }

  get totalPorts(): number {
    return this.used.length * UNIT;
  }

  get usedPorts(): number {
    return this.used.reduce((sum, unit) => sum + unit, 0) * UNIT;
  }

  private lowestFree(units: number): number | undefined {
    for (let start = 0; start + units <= this.used.length; start += units) {
      if (this.used.subarray(start, start + units).every((unit) => unit === 0)) return start;
    }
    return undefined;
  }

  hasRoomFor(size: number): boolean {
    return this.lowestFree(size / UNIT) !== undefined;
  }

  /** The lowest free aligned block of `size` ports, marked used; undefined when none is left. */
  take(size: number): { first: number; last: number } | undefined {
    const units = size / UNIT;
    const start = this.lowestFree(units);
    if (start === undefined) return undefined;
    this.used.fill(1, start, start + units);
    return { first: this.first + start * UNIT, last: this.first + (start + units) * UNIT - 1 };
  }

  /** Marks a known block used again (state read back after a restart); false when it overlaps one already used. */
  claim(block: { first: number; last: number }): boolean {
    const start = (block.first - this.first) / UNIT;
    const end = (block.last + 1 - this.first) / UNIT;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.used.length) return false;
    if (this.used.subarray(start, end).some((unit) => unit === 1)) return false;
    this.used.fill(1, start, end);
    return true;
  }

  free(block: { first: number; last: number }): void {
    this.used.fill(0, (block.first - this.first) / UNIT, (block.last + 1 - this.first) / UNIT);
  }
}

export interface WhoisQuery {
  natIp?: string;
  port: number;
  at: Date;
  /** `ip:port` or `ip:port/protocol`: narrows overflow records to the connection's destination. */
  destination?: string;
}

const destinationMatches = (record: PortBlockRecord, wanted: string | undefined) =>
  wanted === undefined || record.destination === undefined || record.destination === wanted || record.destination.startsWith(`${wanted}/`);

/** Every record that held NAT IP:port at that time, latest first (overflow ports can have several, one per destination). */
export function whoHeldAll(records: PortBlockRecord[], query: WhoisQuery): PortBlockRecord[] {
  const at = query.at.getTime();
  return records
    .filter(
      (record) =>
        record.first <= query.port &&
        query.port <= record.last &&
        (query.natIp === undefined || record.natIp === query.natIp || record.natAddress === query.natIp) &&
        destinationMatches(record, query.destination) &&
        Date.parse(record.since) <= at &&
        (record.until === undefined || at < Date.parse(record.until)),
    )
    .sort((a, b) => Date.parse(b.since) - Date.parse(a.since));
}

/** The block that held NAT IP:port at that time; the latest one when a log repeats itself. */
export function whoHeld(records: PortBlockRecord[], query: WhoisQuery): PortBlockRecord | undefined {
  return whoHeldAll(records, query)[0];
}

export interface PortBlockLogLine {
  event: 'port_block_assigned' | 'port_block_released';
  vm: string;
  nat_ip: string;
  nat_address: string;
  first_port: number;
  last_port: number;
  /**
   * When the block was assigned or released. Not `time`: that is the logger's own key (when the line was written, which
   * differs when a restarted agent logs its blocks again), and a second `time` would make the line JSON with a
   * duplicate key.
   */
  at: string;
  /** An overflow port's connection: its destination (`ip:port/protocol`). */
  destination?: string;
}

export const toLogLine = (event: PortBlockLogLine['event'], record: PortBlockRecord, at: string): PortBlockLogLine => ({
  event,
  vm: record.vm,
  nat_ip: record.natIp,
  nat_address: record.natAddress,
  first_port: record.first,
  last_port: record.last,
  at,
  ...(record.destination === undefined ? {} : { destination: record.destination }),
});

/** Rebuilds the block history from the agent's JSON log lines (other lines, and lines that are not JSON, are skipped). */
export function recordsFromLog(text: string): PortBlockRecord[] {
  const open = new Map<string, PortBlockRecord>();
  const records: PortBlockRecord[] = [];
  const key = (line: PortBlockLogLine) => `${line.vm} ${line.nat_address} ${line.first_port}-${line.last_port} ${line.destination ?? ''}`;
  for (const raw of text.split('\n')) {
    if (!raw.includes('"port_block_')) continue;
    // Lines written before `at` existed carry the event's time as `time`.
    let line: PortBlockLogLine & { time?: string };
    try {
      line = JSON.parse(raw) as PortBlockLogLine & { time?: string };
    } catch {
      continue;
    }
    if (line.event === 'port_block_assigned') {
      const record: PortBlockRecord = {
        vm: line.vm,
        natIp: line.nat_ip,
        natAddress: line.nat_address ?? line.nat_ip,
        first: line.first_port,
        last: line.last_port,
        since: line.at ?? line.time ?? '',
        ...(line.destination === undefined ? {} : { destination: line.destination }),
      };
      // The same block or overflow connection logged again (a restarted agent logs what it holds): the earlier record
      // ends where the new one starts, or it would name its VM for ever.
      const earlier = open.get(key(line));
      if (earlier !== undefined && earlier.until === undefined) earlier.until = record.since;
      open.set(key(line), record);
      records.push(record);
    } else if (line.event === 'port_block_released') {
      const record = open.get(key(line));
      if (record !== undefined) record.until = line.at ?? line.time ?? '';
      open.delete(key(line));
    }
  }
  return records;
}
