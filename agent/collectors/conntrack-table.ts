// Per-VM figures from the conntrack table, like Cloud NAT's open connections and port usage per VM. A dump of the table
// costs time proportional to its size, so it never runs on the scrape path: a background sampler takes it at most
// every `minIntervalSeconds`, and further apart when one dump is slow (≤ 1 % of a core spent dumping).
import type { CommandRunner } from '../runner.js';

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

export function summarizeTable(listing: string): TableSummary {
  const perVm = new Map<string, { open: number; perDestination: Map<string, number> }>();
  let translated = 0;
  for (const line of listing.split('\n')) {
    const entry = parseConntrackLine(line);
    if (entry === undefined || !isTranslated(entry)) continue;
    translated++;
    const vm = perVm.get(entry.original.src) ?? { open: 0, perDestination: new Map<string, number>() };
    vm.open++;
    const destination = `${entry.protocol} ${entry.original.dst}:${entry.original.dport ?? ''}`;
    vm.perDestination.set(destination, (vm.perDestination.get(destination) ?? 0) + 1);
    perVm.set(entry.original.src, vm);
  }
  const vms = [...perVm.entries()].map(([vm, usage]) => ({ vm, openConnections: usage.open, portUsage: Math.max(...usage.perDestination.values()) }));
  vms.sort((a, b) => b.openConnections - a.openConnections || a.vm.localeCompare(b.vm));
  return { translated, vms };
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
    private readonly run: CommandRunner,
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
      const { stdout } = await this.run('dump translated connections', 'conntrack', ['-L', '-f', 'ipv4', '--src-nat']);
      const summary = summarizeTable(stdout);
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.status = { summary, ok: true, durationSeconds, lastSuccess: Date.now() / 1000, nextDelaySeconds: Math.max(this.minIntervalSeconds, durationSeconds * 100) };
    } catch (error) {
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.status = { ...this.status, ok: false, durationSeconds, error: (error as Error).message, nextDelaySeconds: this.minIntervalSeconds };
    }
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    await this.sampleOnce();
    if (this.running) this.timer = setTimeout(() => void this.loop(), this.status.nextDelaySeconds * 1000);
  }
}
