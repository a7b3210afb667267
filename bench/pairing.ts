// The paired benchmark's arithmetic, apart from the lab: which side runs first in each pair, the per-pair ratios, their
// median, and the tables (report rows and the markdown block for docs/bench.md). A noisy box drifts over minutes; a
// ratio taken within one pair, with the order balanced, cancels that drift where a ratio of two medians would not.
import { checkTarget, median, type Row } from './lib.js';

/**
 * Rounds (bench/pairs): 15 is three per phase with five sides, about 12 minutes of measuring on the 2-vCPU box (a
 * round holds 18 windows of both sides at once). The issue asks for the median of at least 5 pairs; the A/A control
 * of both sides at once strays by about 1 % per pair, where one side after the other strayed by 5–15 %.
 */
export const DEFAULT_PAIRS = 15;
/** A run's rounds stay under half an hour on the 2-vCPU box. */
export const MAX_PAIRS = 96;

/**
 * The order of the sides in round i, from a Williams design: over a cycle of rounds (n of them for an even number of
 * sides, 2n for an odd one) every side stands at every position in the round equally often, and every side follows
 * every other one equally often. A window's place in its round moved its result on new connections by up to 13 % (in
 * most runs the first and last of a round read faster); an order that kept some sides at the ends credited them with it.
 * With two sides it alternates which goes first.
 */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  const n = sides.length;
  // 0, 1, n-1, 2, n-2, ...: with an even n, consecutive entries differ by every step 1..n-1 once, so each side follows
  // each other one once per cycle; with an odd n the mirrored rows supply the steps the first n rows lack.
  const base = Array.from({ length: n }, (_, index) => (index % 2 === 1 ? (index + 1) / 2 : (n - index / 2) % n));
  const cycle = n % 2 === 0 ? n : 2 * n;
  const row = ((round % cycle) + cycle) % cycle;
  const order = base.map((offset) => sides[(offset + row) % n]!);
  return row < n ? order : order.reverse();
}

/**
 * Which NAT VM each side runs on in a phase: side i on VM (i + phase) mod n, a Latin square. Over n phases every side
 * runs once on every VM, so a VM that is a little faster than the others (its client's CPU, its place on the bridge)
 * favours every side equally instead of one.
 */
export function gatewayOf(sideIndex: number, phase: number, gateways: number): number {
  return (sideIndex + phase) % gateways;
}

/** The rounds of one phase: `pairs` rounds in all, spread as evenly as they go over the phases (some get none when pairs < phases). */
export const roundsInPhase = (pairs: number, phase: number, phases: number): number =>
  Math.floor(((phase + 1) * pairs) / phases) - Math.floor((phase * pairs) / phases);

/** `--pairs`: a whole number from 1 to MAX_PAIRS; anything else is refused with the option's name. */
export function parsePairs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PAIRS;
  const pairs = Number(text);
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > MAX_PAIRS)
    throw new Error(`--pairs must be a whole number from 1 to ${MAX_PAIRS} (got ${JSON.stringify(text)})`);
  return pairs;
}

export interface Pair {
  /** What is measured (natgw, or port blocks) and what it is divided by (naive MASQUERADE, or the shared pool). */
  subject: number;
  baseline: number;
  /** Which one ran first. */
  first: 'subject' | 'baseline';
}

export const pairRatio = (pair: Pair): number => pair.subject / pair.baseline;

/** The median of the per-pair ratios; pairs where either side measured nothing (NaN, 0) are left out. */
export function medianRatio(pairs: Pair[]): number {
  return median(pairs.map(pairRatio).filter((ratio) => Number.isFinite(ratio) && ratio > 0));
}

/** The 25th and 75th percentiles of the per-pair ratios (linear between ranks): how far one pair strays. */
export function ratioQuartiles(pairs: Pair[]): [number, number] {
  const sorted = pairs
    .map(pairRatio)
    .filter((ratio) => Number.isFinite(ratio) && ratio > 0)
    .sort((a, b) => a - b);
  if (sorted.length === 0) return [Number.NaN, Number.NaN];
  const at = (q: number) => {
    const rank = q * (sorted.length - 1);
    const low = Math.floor(rank);
    return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (rank - low);
  };
  return [at(0.25), at(0.75)];
}

export interface PairedMeasure {
  section: string;
  metric: string;
  unit: string;
  subjectLabel: string;
  baselineLabel: string;
  target: string;
  note: string;
  pairs: Pair[];
}

const fmt = (value: number) =>
  Number.isFinite(value) ? (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2)) : '—';

/** One report row: the value and baseline are medians of each side, the ratio is the median of the per-pair ratios. */
export function pairedRow(measure: PairedMeasure): Row {
  const ratio = medianRatio(measure.pairs);
  const raw = measure.pairs.map((pair) => `${fmt(pair.subject)}/${fmt(pair.baseline)}`).join(', ');
  return {
    bench: measure.section,
    metric: measure.metric,
    value: median(measure.pairs.map((pair) => pair.subject)),
    unit: measure.unit,
    baseline: { label: measure.baselineLabel, value: median(measure.pairs.map((pair) => pair.baseline)) },
    ratio,
    target: measure.target,
    met: checkTarget(measure.target, ratio),
    note: `${measure.note}; median of ${measure.pairs.length} per-pair ratios; pairs (${measure.subjectLabel}/${measure.baselineLabel}): ${raw}`,
    samples: measure.pairs.map((pair) => pair.subject),
  };
}

/** The block for docs/bench.md: one table of medians, then every pair as measured, in the order run. */
export function pairsMarkdown(measures: PairedMeasure[], heading: string): string {
  const verdict = (measure: PairedMeasure) => {
    const met = checkTarget(measure.target, medianRatio(measure.pairs));
    return met === undefined ? '' : met ? '✅' : '❌';
  };
  const spread = (measure: PairedMeasure) => ratioQuartiles(measure.pairs).map(fmt).join('–');
  const lines = [
    heading,
    '',
    '| measure | median of per-pair ratios | middle half of the ratios | target | |',
    '| --- | ---: | ---: | --- | --- |',
    ...measures.map(
      (measure) =>
        `| ${measure.metric} | **${fmt(medianRatio(measure.pairs))}** | ${spread(measure)} | ${measure.target} | ${verdict(measure)} |`,
    ),
    '',
    'Raw pairs, in the order run (first = the side measured first in that pair):',
    '',
    '| measure | pair | subject | baseline | ratio | first |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...measures.flatMap((measure) =>
      measure.pairs.map(
        (pair, index) =>
          `| ${measure.metric} | ${index + 1} | ${fmt(pair.subject)} ${measure.unit} | ${fmt(pair.baseline)} ${measure.unit} | ${fmt(pairRatio(pair))} | ${pair.first === 'subject' ? measure.subjectLabel : measure.baselineLabel} |`,
      ),
    ),
    '',
  ];
  return lines.join('\n');
}

/** `perf report --sort sym` text → kernel symbols ([k]) and their share of samples, largest first. */
export function parsePerfReport(text: string): { symbol: string; percent: number }[] {
  const symbols: { symbol: string; percent: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([\d.]+)%\s+(?:[\d.]+%\s+)?\[k\]\s+(\S+)/.exec(line);
    if (match !== null) symbols.push({ symbol: match[2]!, percent: Number(match[1]) });
  }
  return symbols.sort((a, b) => b.percent - a.percent);
}

/**
 * The share of a profile's samples spent evaluating nftables rules: the rule engine, its expressions and sets
 * (`nft_*`, `__nft_*`, `nf_tables_*`) and connection counts (`nf_conncount*`). Conntrack and NAT themselves are left
 * out: both sides pay them alike. Both sides also pay the fabric's rules and iptables-nft's MASQUERADE, so the
 * difference between a natgw side and naive is natgw's own rules, as a share of every busy cycle of the box.
 */
export function ruleEvaluationShare(symbols: readonly { symbol: string; percent: number }[]): number {
  return ruleEvaluationSymbols(symbols).reduce((sum, { percent }) => sum + percent, 0);
}

/** The symbols ruleEvaluationShare adds up, the largest first (a profile's list is sorted already). */
export const ruleEvaluationSymbols = (symbols: readonly { symbol: string; percent: number }[]) =>
  symbols.filter(({ symbol }) => /^(__)?nft_|^nf_tables_|^nf_conncount/.test(symbol));

/** The CPUs idling (the hypervisor's halt, cpuidle): what is left of 100 % is the box's busy samples. */
export function idleShare(symbols: readonly { symbol: string; percent: number }[]): number {
  return symbols
    .filter(({ symbol }) =>
      /^(pv_native_safe_halt|native_safe_halt|default_idle|intel_idle|acpi_idle|poll_idle|cpu_idle_poll)/.test(symbol),
    )
    .reduce((sum, { percent }) => sum + percent, 0);
}

/**
 * Rule evaluation in % of the busy samples. The box's speed swings between two 3 s profiles, but within one profile
 * the rules and everything else slow down alike, so this share compares across sides where a per-second count does not.
 */
export function ruleEvaluationOfBusy(symbols: readonly { symbol: string; percent: number }[]): number {
  const busy = 100 - idleShare(symbols);
  return busy <= 0 ? Number.NaN : (100 * ruleEvaluationShare(symbols)) / busy;
}

/** Two profiles' top kernel symbols next to each other, so a missed target comes with where the cycles went. */
export function profilesSideBySide(
  left: { label: string; symbols: { symbol: string; percent: number }[] },
  right: { label: string; symbols: { symbol: string; percent: number }[] },
  top = 20,
): string {
  const cell = (entry: { symbol: string; percent: number } | undefined) =>
    entry === undefined ? ' | ' : `${entry.percent.toFixed(2)} % | \`${entry.symbol}\``;
  const rows = Array.from({ length: Math.min(top, Math.max(left.symbols.length, right.symbols.length)) }, (_, index) => {
    return `| ${index + 1} | ${cell(left.symbols[index])} | ${cell(right.symbols[index])} |`;
  });
  return [`| # | ${left.label} | kernel symbol | ${right.label} | kernel symbol |`, '| ---: | ---: | --- | ---: | --- |', ...rows, ''].join(
    '\n',
  );
}

/** What the internet counts per NAT VM while both sides of a pair load their own: one counter per measure and VM. */
export type CountedKind = 'conn' | 'udp' | 'tcp';
const COUNTED_KINDS: readonly CountedKind[] = ['conn', 'udp', 'tcp'];
export const counterName = (kind: CountedKind, vmIndex: number) => `${kind}_${vmIndex}`;

/**
 * The internet's counting table (bench/pairs): every NAT VM leaves from its own external address, so one counter per
 * address and measure tells the two sides of a pair apart when both load at once. It counts before conntrack (raw
 * priority), so both sides pay the same lookups: new connections as SYNs to the client-closes sink, UDP as datagrams
 * and TCP bulk as bytes to either iperf3 server.
 */
export function countingRuleset(
  table: string,
  externalAddresses: readonly string[],
  ports: { sink: number; iperf: readonly number[] },
): string {
  const map = (kind: CountedKind) =>
    `{ ${externalAddresses.map((address, index) => `${address} : ${JSON.stringify(counterName(kind, index))}`).join(', ')} }`;
  const iperf = `{ ${ports.iperf.join(', ')} }`;
  return [
    `table ip ${table} {`,
    ...COUNTED_KINDS.flatMap((kind) => externalAddresses.map((_, index) => `  counter ${counterName(kind, index)} { }`)),
    '  chain count {',
    '    type filter hook prerouting priority raw - 10; policy accept;',
    `    tcp dport ${ports.sink} tcp flags syn / syn,ack counter name ip saddr map ${map('conn')}`,
    `    udp dport ${iperf} counter name ip saddr map ${map('udp')}`,
    `    tcp dport ${iperf} counter name ip saddr map ${map('tcp')}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export type CounterValues = Record<string, { packets: number; bytes: number }>;

/** `nft -j list counters` → each named counter's packets and bytes. */
export function parseCounters(json: string): CounterValues {
  const values: CounterValues = {};
  for (const item of (JSON.parse(json) as { nftables?: { counter?: { name: string; packets: number; bytes: number } }[] }).nftables ?? [])
    if (item.counter !== undefined) values[item.counter.name] = { packets: item.counter.packets, bytes: item.counter.bytes };
  return values;
}

/**
 * What one NAT VM delivered between two dumps, per second, in the measure's unit: conn/s, kpps, Gbit/s. NaN if the
 * counter is missing from either dump (a typo in a name must not read as zero).
 */
export function deliveredPerSecond(
  kind: CountedKind,
  vmIndex: number,
  before: CounterValues,
  after: CounterValues,
  seconds: number,
): number {
  const name = counterName(kind, vmIndex);
  const [from, to] = [before[name], after[name]];
  if (from === undefined || to === undefined || !(seconds > 0)) return Number.NaN;
  if (kind === 'tcp') return ((to.bytes - from.bytes) * 8) / seconds / 1e9;
  const packets = (to.packets - from.packets) / seconds;
  return kind === 'udp' ? packets / 1000 : packets;
}
