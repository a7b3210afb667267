import { type Clock, realClock } from '../common/clock.js';
import { UsageError } from '../common/errors.js';
import { round } from './model.js';

/** What a measurement says about traffic, already extrapolated to a month of hoursPerMonth. */
export interface Measurement {
  source: string;
  /** How the month was extrapolated, in words, for the report. */
  basis: string;
  gibPerMonth: number;
  egressGibPerMonth: number;
  vms: number | null;
  peakGbps: number | null;
}

const GIB = 1024 ** 3;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Prometheus duration syntax ("1h", "90m", "1h30m", "500ms"), also used for --sample. */
export function parseDuration(text: string, flag: string): number {
  const whole = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
  if (!whole.test(text)) throw new UsageError(`${flag}: '${text}' is not a duration like 30s, 15m, 1h or 1h30m`);
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(amount) * (UNIT_MS[unit!] ?? NaN);
  return ms;
}

function monthScale(windowSeconds: number, hoursPerMonth: number): number {
  return (hoursPerMonth * 3600) / windowSeconds;
}

function toGbps(bytesPerSecond: number): number {
  return (bytesPerSecond * 8) / 1e9;
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

async function httpGet(url: URL, flag: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json, text/plain;q=0.9' } });
  } catch (error) {
    throw new UsageError(`${flag}: cannot reach ${url.origin} (${reason(error)})`);
  }
  const body = await response.text();
  if (!response.ok) throw new UsageError(`${flag}: ${url.href} answered HTTP ${response.status}: ${body.slice(0, 200).trim()}`);
  return body;
}

export function parseBaseUrl(text: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: '${text}' is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: '${text}' must be an http:// or https:// URL`);
  return url;
}

// ---------- Prometheus HTTP API ----------

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(base: URL, query: string, timeoutMs: number): Promise<PromSample[]> {
  const url = new URL('api/v1/query', base.href.endsWith('/') ? base : new URL(`${base.href}/`));
  url.searchParams.set('query', query);
  const body = await httpGet(url, '--from-prometheus', timeoutMs);
  let parsed: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new UsageError(`--from-prometheus: ${url.origin} did not answer like the Prometheus HTTP API (not JSON)`);
  }
  if (parsed.status !== 'success') throw new UsageError(`--from-prometheus: query ${query} failed: ${parsed.error ?? 'unknown error'}`);
  const { resultType, result } = parsed.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: result as [number, string] }];
  if (resultType !== 'vector' || !Array.isArray(result)) {
    throw new UsageError(`--from-prometheus: query ${query} returned ${resultType ?? 'nothing'}, expected an instant vector`);
  }
  return result as PromSample[];
}

function sampleValue(sample: PromSample): number {
  const value = Number(sample.value[1]);
  return Number.isFinite(value) ? value : NaN;
}

export const PROM_QUERIES = {
  bytes: (window: string) => `sum by (direction) (increase(natgw_forwarded_bytes_total[${window}]))`,
  vms: (window: string) => `count(count by (vm) (max_over_time(natgw_vm_open_connections[${window}])))`,
  // Both directions leave the gateway VM (to the internet, or back to the client), so both count against its egress cap.
  peak: (window: string) => `max_over_time(sum(rate(natgw_forwarded_bytes_total[2m]))[${window}:1m])`,
};

export async function measureFromPrometheus(
  baseText: string,
  window: string,
  hoursPerMonth: number,
  timeoutMs = 15_000,
): Promise<Measurement> {
  const base = parseBaseUrl(baseText, '--from-prometheus');
  const windowSeconds = parseDuration(window, '--window') / 1000;
  if (windowSeconds < 60) throw new UsageError(`--window: ${window} is too short to extrapolate a month from; use at least 1m`);
  const [bytes, vms, peak] = await Promise.all([
    promQuery(base, PROM_QUERIES.bytes(window), timeoutMs),
    promQuery(base, PROM_QUERIES.vms(window), timeoutMs),
    promQuery(base, PROM_QUERIES.peak(window), timeoutMs),
  ]);
  if (bytes.length === 0) {
    throw new UsageError(
      `--from-prometheus: no natgw_forwarded_bytes_total series in the last ${window} at ${base.origin}; is Prometheus scraping the natgw agents?`,
    );
  }
  let total = 0;
  let egress = 0;
  for (const sample of bytes) {
    const value = sampleValue(sample);
    if (!Number.isFinite(value) || value < 0)
      throw new UsageError(`--from-prometheus: unusable value ${sample.value[1]} for natgw_forwarded_bytes_total`);
    total += value;
    if (sample.metric.direction === 'egress') egress += value;
  }
  const scale = monthScale(windowSeconds, hoursPerMonth);
  const vmCount = vms[0] !== undefined ? sampleValue(vms[0]) : NaN;
  const peakBytes = peak[0] !== undefined ? sampleValue(peak[0]) : NaN;
  return {
    source: `Prometheus ${base.origin}`,
    basis: `increase over the last ${window}, scaled × ${round(scale, 1)} to ${hoursPerMonth} h`,
    gibPerMonth: (total / GIB) * scale,
    egressGibPerMonth: (egress / GIB) * scale,
    vms: Number.isFinite(vmCount) && vmCount > 0 ? Math.round(vmCount) : null,
    peakGbps: Number.isFinite(peakBytes) ? toGbps(peakBytes) : null,
  };
}

// ---------- agent /metrics ----------

export interface Scrape {
  atMs: number;
  egressBytes: number;
  ingressBytes: number;
  vms: number | null;
  processStartSeconds: number | null;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Reads only what we need from the Prometheus text exposition format. */
export function parseMetricsText(text: string, atMs: number): Scrape {
  const scrape: Scrape = { atMs, egressBytes: 0, ingressBytes: 0, vms: null, processStartSeconds: null };
  const vmNames = new Set<string>();
  let sawBytes = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const [, name, labelText, valueText] = match;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = unescapeLabel(value!);
    const value = Number(valueText);
    if (name === 'natgw_forwarded_bytes_total' && Number.isFinite(value)) {
      sawBytes = true;
      if (labels.direction === 'egress') scrape.egressBytes += value;
      else if (labels.direction === 'ingress') scrape.ingressBytes += value;
    } else if (name === 'natgw_vm_open_connections' && labels.vm !== undefined) {
      vmNames.add(labels.vm);
    } else if (name === 'process_start_time_seconds' && Number.isFinite(value)) {
      scrape.processStartSeconds = value;
    }
  }
  if (!sawBytes) throw new UsageError('--from-agent: the metrics have no natgw_forwarded_bytes_total series; is this a natgw agent?');
  scrape.vms = vmNames.size > 0 ? vmNames.size : null;
  return scrape;
}

async function scrapeAgent(url: URL, timeoutMs: number, clock: Clock): Promise<Scrape> {
  const text = await httpGet(url, '--from-agent', timeoutMs);
  return parseMetricsText(text, clock.now());
}

export function agentMetricsUrl(text: string): URL {
  const url = parseBaseUrl(text, '--from-agent');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
  return url;
}

/** Turns one or two scrapes into a month: the uptime average when the agent tells its start time, else the sample's rate. */
export function extrapolateScrapes(first: Scrape, second: Scrape | null, hoursPerMonth: number, source: string): Measurement {
  const monthSeconds = hoursPerMonth * 3600;
  const last = second ?? first;
  let sampleRate: { total: number; egress: number } | null = null;
  if (second !== null) {
    const seconds = (second.atMs - first.atMs) / 1000;
    const dTotal = second.egressBytes + second.ingressBytes - (first.egressBytes + first.ingressBytes);
    const dEgress = second.egressBytes - first.egressBytes;
    if (dTotal < 0 || dEgress < 0)
      throw new UsageError('--from-agent: the byte counters went backwards between the two scrapes (agent restarted?); try again');
    if (seconds > 0) sampleRate = { total: dTotal / seconds, egress: dEgress / seconds };
  }
  const uptime = last.processStartSeconds === null ? null : last.atMs / 1000 - last.processStartSeconds;
  let average: { total: number; egress: number };
  let basis: string;
  if (uptime !== null && uptime > 0) {
    average = { total: (last.egressBytes + last.ingressBytes) / uptime, egress: last.egressBytes / uptime };
    basis = `average since the agent started ${humanSeconds(uptime)} ago, scaled to ${hoursPerMonth} h`;
  } else if (sampleRate !== null) {
    average = sampleRate;
    basis = `rate over a ${humanSeconds((last.atMs - first.atMs) / 1000)} sample, scaled to ${hoursPerMonth} h (a short sample: prefer --from-prometheus for a long window)`;
  } else {
    throw new UsageError(
      '--from-agent: one scrape is not enough without process_start_time_seconds; use --sample 10s (or longer) to scrape twice',
    );
  }
  const peakBytesPerSecond = Math.max(average.total, sampleRate?.total ?? 0);
  return {
    source: `agent ${source}`,
    basis,
    gibPerMonth: (average.total * monthSeconds) / GIB,
    egressGibPerMonth: (average.egress * monthSeconds) / GIB,
    vms: last.vms,
    peakGbps: toGbps(peakBytesPerSecond),
  };
}

export async function measureFromAgent(
  urlText: string,
  sampleMs: number,
  hoursPerMonth: number,
  timeoutMs = 15_000,
  clock: Clock = realClock,
): Promise<Measurement> {
  const url = agentMetricsUrl(urlText);
  const first = await scrapeAgent(url, timeoutMs, clock);
  let second: Scrape | null = null;
  if (sampleMs > 0) {
    await clock.sleep(sampleMs);
    second = await scrapeAgent(url, timeoutMs, clock);
  }
  return extrapolateScrapes(first, second, hoursPerMonth, url.href);
}

function humanSeconds(seconds: number): string {
  if (seconds < 120) return `${round(seconds, 1)} s`;
  if (seconds < 7200) return `${round(seconds / 60, 1)} min`;
  if (seconds < 172_800) return `${round(seconds / 3600, 1)} h`;
  return `${round(seconds / 86_400, 1)} d`;
}
