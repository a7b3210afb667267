// Per-VM figures from the conntrack table, like Cloud NAT's open connections and port usage per VM. A dump of the table
// costs time proportional to its size, so it never runs on the scrape path: a background sampler takes it at most
// every `minIntervalSeconds`, and further apart when one dump is slow (≤ 1 % of a core spent dumping).
import { Gauge } from 'prom-client';
import type { LineSpawner } from '../runner.js';
import type { Collector, CollectorStatus } from './collector.js';

export interface Tuple {
  src: string;
  dst: string;
  sport?: string;
  dport?: string;
}

export interface ConntrackEntry {
  event?: string;
  protocol: string;
  original: Tuple;
  reply: Tuple;
}

/** Parses one line of `conntrack -L` or `conntrack -E`; the first src/dst/ports are the original direction. */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const words = line.trim().split(/\s+/);
  let index = 0;
  let event: string | undefined;
  if (words[0]?.startsWith('[') === true && words[0].endsWith(']') && /^\[[A-Z]+\]$/.test(words[0])) {
    event = words[0].slice(1, -1);
    index = 1;
  } else if (/^\[\d+\.\d+\]$/.test(words[0] ?? '')) {
    event = words[1]?.slice(1, -1);
    index = 2;
  }
  const protocol = words[index];
  if (protocol === undefined) return undefined;
  const tuples: Partial<Tuple>[] = [{}, {}];
  let current = -1;
  for (let i = index + 1; i < words.length; i++) {
    const word = words[i] ?? '';
    const eq = word.indexOf('=');
    if (eq <= 0) continue;
    const key = word.slice(0, eq);
    if (key === 'src') current++;
    if (current < 0 || current > 1) continue;
    if (key === 'src' || key === 'dst' || key === 'sport' || key === 'dport') tuples[current]![key] = word.slice(eq + 1);
  }
  const [original, reply] = tuples;
  if (original?.src === undefined || original.dst === undefined || reply?.src === undefined || reply.dst === undefined) return undefined;
  return { ...(event === undefined ? {} : { event }), protocol, original: original as Tuple, reply: reply as Tuple };
}

/** Source NAT happened when the reply no longer goes back to the original source. */
export const isTranslated = (entry: ConntrackEntry) => entry.reply.dst !== entry.original.src;

export interface VmUsage {
  vm: string;
  openConnections: number;
  /** The most connections from this VM to one destination ip:port and protocol (Cloud NAT's port_usage). */
  portUsage: number;
}

export interface TableSummary {
  translated: number;
  vms: VmUsage[];
}

/** The dotted IPv4 address after `key=` at `index`, as a number: no substring of the line is kept alive. */
function ipAt(line: string, index: number): number {
  let value = 0;
  let octet = 0;
  for (let i = index; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else if (code >= 48 && code <= 57) octet = octet * 10 + code - 48;
    else break;
  }
  return value * 256 + octet;
}

function numberAt(line: string, index: number): number {
  let value = 0;
  for (let i = index; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code < 48 || code > 57) break;
    value = value * 10 + code - 48;
  }
  return value;
}

const dotted = (ip: number) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');

/**
 * Connections per destination key, in an open-addressing table of typed arrays: 12 bytes a slot and no object per
 * key, so a dump with hundreds of thousands of distinct destinations costs a few MB outside the V8 heap, freed at once.
 */
export class DestinationCounter {
  private keys = new Float64Array(1024);
  private counts = new Uint32Array(1024);
  private size = 0;
  /** The highest count of any one key. */
  max = 0;

  /** `key` must be a positive integer below 2^53; 0 marks an empty slot. */
  add(key: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const slot = this.slotOf(key, this.keys);
    if (this.keys[slot] === 0) {
      this.keys[slot] = key;
      this.size++;
    }
    const count = ++this.counts[slot]!;
    if (count > this.max) this.max = count;
  }

  get distinct(): number {
    return this.size;
  }

  private slotOf(key: number, keys: Float64Array): number {
    const mask = keys.length - 1;
    // Mixes both halves of the key (the port sits in the low bits, the address across both).
    let hash = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 4_294_967_296), 0x9e3779b1), 0x85ebca6b);
    hash ^= hash >>> 13;
    let slot = hash & mask;
    while (keys[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    this.keys = new Float64Array(oldKeys.length * 2);
    this.counts = new Uint32Array(oldKeys.length * 2);
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i]!;
      if (key === 0) continue;
      const slot = this.slotOf(key, this.keys);
      this.keys[slot] = key;
      this.counts[slot] = oldCounts[i]!;
    }
  }
}

/**
 * Counts translated connections per VM and per destination, one `conntrack -L` line at a time. Memory grows with VMs
 * and destinations, not with the table: keys are numbers, so no key keeps a piece of the dump's text alive.
 */
export class TableSummarizer {
  private readonly perVm = new Map<number, { open: number; perDestination: DestinationCounter }>();
  private translated = 0;

  add(line: string): void {
    const originalSrc = line.indexOf(' src=');
    if (originalSrc === -1) return;
    const replySrc = line.indexOf(' src=', originalSrc + 5);
    if (replySrc === -1) return;
    const vmIp = ipAt(line, originalSrc + 5);
    const replyDst = line.indexOf(' dst=', replySrc);
    if (replyDst === -1 || ipAt(line, replyDst + 5) === vmIp) return;
    const originalDst = line.indexOf(' dst=', originalSrc);
    const dport = line.indexOf(' dport=', originalSrc);
    const protocol = line.charCodeAt(0) === 116 ? 1 : line.charCodeAt(0) === 117 ? 2 : 3;
    // protocol × 2^48 + address × 2^16 + port stays below 2^53 and above 0: an exact, non-empty key.
    const destination =
      protocol * 2 ** 48 + ipAt(line, originalDst + 5) * 65_536 + (dport !== -1 && dport < replySrc ? numberAt(line, dport + 7) : 0);
    this.translated++;
    let vm = this.perVm.get(vmIp);
    if (vm === undefined) {
      vm = { open: 0, perDestination: new DestinationCounter() };
      this.perVm.set(vmIp, vm);
    }
    vm.open++;
    vm.perDestination.add(destination);
  }

  result(): TableSummary {
    const vms = [...this.perVm.entries()].map(([vm, usage]) => ({
      vm: dotted(vm),
      openConnections: usage.open,
      portUsage: usage.perDestination.max,
    }));
    vms.sort((a, b) => b.openConnections - a.openConnections || a.vm.localeCompare(b.vm));
    return { translated: this.translated, vms };
  }
}

export function summarizeTable(listing: string): TableSummary {
  const summarizer = new TableSummarizer();
  for (const line of listing.split('\n')) summarizer.add(line);
  return summarizer.result();
}

export interface SamplerStatus {
  summary?: TableSummary;
  ok: boolean;
  durationSeconds: number;
  lastSuccess?: number;
  nextDelaySeconds: number;
  error?: string;
}

export class ConntrackTableSampler {
  status: SamplerStatus = { ok: false, durationSeconds: 0, nextDelaySeconds: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly spawn: LineSpawner,
    private minIntervalSeconds: number,
  ) {}

  setInterval(minIntervalSeconds: number): void {
    this.minIntervalSeconds = minIntervalSeconds;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  async sampleOnce(): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const summarizer = new TableSummarizer();
      let stderr = '';
      const dump = this.spawn('dump translated connections', 'conntrack', ['-L', '-f', 'ipv4', '--src-nat'], (line, stream) => {
        if (stream === 'stdout') summarizer.add(line);
        else if (!/flow entries have been shown/.test(line)) stderr += `${line}\n`;
      });
      const code = await dump.done;
      if (code !== 0) throw new Error(`conntrack -L -f ipv4 --src-nat exited with ${code ?? 'an error'}: ${stderr.trim()}`);
      const summary = summarizer.result();
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.status = {
        summary,
        ok: true,
        durationSeconds,
        lastSuccess: Date.now() / 1000,
        nextDelaySeconds: Math.max(this.minIntervalSeconds, durationSeconds * 100),
      };
    } catch (error) {
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.status = {
        ...this.status,
        ok: false,
        durationSeconds,
        error: (error as Error).message,
        nextDelaySeconds: this.minIntervalSeconds,
      };
    }
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    await this.sampleOnce();
    if (this.running) this.timer = setTimeout(() => void this.loop(), this.status.nextDelaySeconds * 1000);
  }
}

/**
 * Per-VM figures from the sampler's last summary, the top `topN()` VMs by connections (perVmMetrics.topN); declared
 * without a sampler too, for dashboards.
 */
export const conntrackTableCollector = (sampler: ConntrackTableSampler | undefined, topN: () => number): Collector => ({
  register({ registry }) {
    const sampled = (
      name: string,
      help: string,
      pick: (summary: TableSummary, topN: number) => { labels?: Record<string, string>; value: number }[],
      labelNames: string[] = [],
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          const summary = sampler?.status.summary;
          this.reset();
          if (summary === undefined) return;
          for (const { labels, value } of pick(summary, topN())) {
            if (labels === undefined) this.set(value);
            else this.set(labels, value);
          }
        },
      });
    sampled('natgw_open_connections', 'Translated connections open at the last sample.', (summary) => [{ value: summary.translated }]);
    sampled('natgw_vms', 'VMs with at least one translated connection at the last sample.', (summary) => [{ value: summary.vms.length }]);
    sampled(
      'natgw_vm_open_connections',
      'Open translated connections per VM at the last sample; only the top N VMs by connections (perVmMetrics.topN).',
      (summary, top) => summary.vms.slice(0, top).map((vm) => ({ labels: { vm: vm.vm }, value: vm.openConnections })),
      ['vm'],
    );
    sampled(
      'natgw_vm_port_usage',
      'Most connections from one VM to a single destination ip:port/protocol (Cloud NAT port_usage); top N VMs by connections.',
      (summary, top) => summary.vms.slice(0, top).map((vm) => ({ labels: { vm: vm.vm }, value: vm.portUsage })),
      ['vm'],
    );
    new Gauge({
      name: 'natgw_vm_series_omitted',
      help: 'VMs left out of the per-VM series by the top-N limit.',
      registers: [registry],
      collect() {
        const summary = sampler?.status.summary;
        if (summary !== undefined) this.set(Math.max(0, summary.vms.length - topN()));
      },
    });
    new Gauge({
      name: 'natgw_vm_sample_age_seconds',
      help: 'Age of the per-VM figures (the sampler adapts its cadence to the table size).',
      registers: [registry],
      collect() {
        const last = sampler?.status.lastSuccess;
        if (last !== undefined) this.set(Date.now() / 1000 - last);
      },
    });
  },
  status: (): Record<string, CollectorStatus> =>
    sampler === undefined ? {} : { conntrack_table: { ok: sampler.status.ok, seconds: sampler.status.durationSeconds } },
});
