// The paired benchmark's arithmetic (bench/pairing.ts): order, per-pair ratios, medians, tables, profiles.
import t from 'tap';
import {
  DEFAULT_PAIRS,
  MAX_PAIRS,
  countingRuleset,
  deliveredPerSecond,
  gatewayOf,
  parseCounters,
  roundsInPhase,
  medianRatio,
  ratioQuartiles,
  pairedRow,
  pairsMarkdown,
  parsePairs,
  parsePerfReport,
  profilesSideBySide,
  idleShare,
  ruleEvaluationOfBusy,
  ruleEvaluationShare,
  roundOrder,
  type PairedMeasure,
} from '../bench/pairing.js';

t.test('with two sides, the one that runs first alternates from round to round', async (t) => {
  const sides = ['many', 'few'] as const;
  t.same(
    Array.from({ length: 4 }, (_, round) => roundOrder(sides, round)),
    [
      ['many', 'few'],
      ['few', 'many'],
      ['many', 'few'],
      ['few', 'many'],
    ],
  );
  t.same(sides, ['many', 'few'], 'the given order is left as it was');
});

t.test('every side stands at every place in a round equally often, and follows every other side equally often', async (t) => {
  for (const count of [2, 3, 4, 5, 6]) {
    const sides = Array.from({ length: count }, (_, index) => `side${index}`);
    const cycle = count % 2 === 0 ? count : 2 * count;
    const rounds = Array.from({ length: cycle }, (_, round) => roundOrder(sides, round));
    for (const order of rounds) t.same([...order].sort(), [...sides].sort(), `${count} sides: each round runs every side once`);
    // Positions balance within every n rounds (a phase of bench pairs), not only over the whole cycle.
    for (let block = 0; block < cycle; block += count)
      for (let position = 0; position < count; position++) {
        const there = rounds.slice(block, block + count).map((order) => order[position]);
        t.same(new Set(there).size, count, `${count} sides, rounds ${block}–${block + count - 1}: every side once at place ${position}`);
      }
    const follows = new Map<string, number>();
    for (const order of rounds)
      for (let index = 1; index < order.length; index++) {
        const key = `${order[index - 1]}→${order[index]}`;
        follows.set(key, (follows.get(key) ?? 0) + 1);
      }
    t.equal(follows.size, count * (count - 1), `${count} sides: every ordered pair of sides is adjacent in some round`);
    t.equal(new Set(follows.values()).size, 1, `${count} sides: and equally often (${[...follows.values()].join(',')})`);
    t.same(roundOrder(sides, cycle + 1), rounds[1], `${count} sides: the design repeats after ${cycle} rounds`);
  }
});

t.test('every side runs once on every NAT VM, and no two sides share one in a phase', async (t) => {
  const sides = 5;
  const all = [0, 1, 2, 3, 4];
  for (let phase = 0; phase < sides; phase++) {
    const used = Array.from({ length: sides }, (_, side) => gatewayOf(side, phase, sides));
    t.same([...used].sort(), all, `phase ${phase}: ${used.join(', ')}`);
  }
  for (let side = 0; side < sides; side++) {
    const visited = Array.from({ length: sides }, (_, phase) => gatewayOf(side, phase, sides));
    t.same([...visited].sort(), all, `side ${side} visits every VM`);
  }
});

t.test('the rounds are spread over every phase, as evenly as they go, and add up to the rounds asked for', async (t) => {
  const spread = (pairs: number) => Array.from({ length: 5 }, (_, phase) => roundsInPhase(pairs, phase, 5));
  t.same(spread(25), [5, 5, 5, 5, 5]);
  t.same(spread(7), [1, 1, 2, 1, 2]);
  t.same(spread(3), [0, 1, 0, 1, 1], 'fewer rounds than phases: some phases have none');
  for (const pairs of [1, 5, 6, 24, 96])
    t.equal(
      spread(pairs).reduce((a, b) => a + b, 0),
      pairs,
      `${pairs} in all`,
    );
});

t.test('--pairs: 15 by default, bounded, refused with the option named', async (t) => {
  t.equal(parsePairs(undefined), DEFAULT_PAIRS);
  t.equal(DEFAULT_PAIRS, 15);
  t.equal(DEFAULT_PAIRS % 5, 0, 'every one of the five phases gets the same number of rounds');
  t.ok(DEFAULT_PAIRS >= 5, 'the issue asks for the median of at least 5 pairs');
  t.equal(parsePairs('7'), 7);
  for (const bad of ['0', '-1', '2.5', 'many', String(MAX_PAIRS + 1)]) t.throws(() => parsePairs(bad), /--pairs/, bad);
});

t.test('the ratio is the median of per-pair ratios, not a ratio of medians', async (t) => {
  // Drift: the box slows down pair after pair; each pair's ratio is 0.9, the ratio of the medians would be 1.0.
  const pairs = [
    { subject: 90, baseline: 100, first: 'subject' as const },
    { subject: 45, baseline: 50, first: 'baseline' as const },
    { subject: 9, baseline: 10, first: 'subject' as const },
    { subject: 100, baseline: 111.2, first: 'baseline' as const },
    { subject: 50, baseline: 55.5, first: 'subject' as const },
  ];
  t.equal(medianRatio(pairs).toFixed(3), '0.900');
  t.equal(
    medianRatio([...pairs, { subject: Number.NaN, baseline: 10, first: 'subject' }]).toFixed(3),
    '0.900',
    'a failed side is left out',
  );
  t.ok(Number.isNaN(medianRatio([])), 'no pairs: no ratio');
  const ratios = [0.8, 0.9, 1.0, 1.1, 1.2].map((ratio) => ({ subject: ratio * 100, baseline: 100, first: 'subject' as const }));
  t.same(
    ratioQuartiles(ratios).map((value) => value.toFixed(2)),
    ['0.90', '1.10'],
    'the middle half of the ratios',
  );
  t.same(ratioQuartiles([]).map(Number.isNaN), [true, true]);
});

const measure = (subject: number[], baseline: number[], target = '>= 0.97'): PairedMeasure => ({
  section: 'pairs',
  metric: 'UDP 64 B: natgw / naive MASQUERADE (shared pool)',
  unit: 'kpps',
  subjectLabel: 'natgw',
  baselineLabel: 'naive',
  target,
  note: 'iperf3',
  pairs: subject.map((value, index) => ({ subject: value, baseline: baseline[index]!, first: index % 2 === 0 ? 'subject' : 'baseline' })),
});

t.test('a report row: medians of each side, the paired ratio, the target, the raw pairs in the note', async (t) => {
  const row = pairedRow(measure([98, 99, 95, 97, 100], [100, 100, 100, 100, 100]));
  t.equal(row.value, 98);
  t.equal(row.baseline?.value, 100);
  t.equal(row.ratio, 0.98);
  t.equal(row.met, true);
  t.match(row.note, /median of 5 per-pair ratios; pairs \(natgw\/naive\): 98\.0\/100, 99\.0\/100, 95\.0\/100, 97\.0\/100, 100\/100/);
  t.equal(pairedRow(measure([90, 90, 90], [100, 100, 100])).met, false, 'a miss is reported as a miss');
});

t.test('the markdown block has the medians and every pair in the order run', async (t) => {
  const text = pairsMarkdown([measure([98, 96], [100, 100])], '### Paired run');
  t.match(text, /^### Paired run\n/);
  t.match(text, /\| UDP 64 B: natgw \/ naive MASQUERADE \(shared pool\) \| \*\*0\.97\*\* \| 0\.9[67]–0\.9[78] \| >= 0\.97 \| ✅ \|/);
  const control = pairsMarkdown([{ ...measure([100, 101], [100, 100]), target: 'report only' }], '### Control');
  t.match(control, /\| \*\*1\.00\*\* \| 1\.00–1\.01 \| report only \| {2}\|/, 'a row without a target has no verdict');
  t.match(text, /\| 1 \| 98\.0 kpps \| 100 kpps \| 0\.98 \| natgw \|\n.*\| 2 \| 96\.0 kpps \| 100 kpps \| 0\.96 \| naive \|/);
});

t.test('perf report: kernel symbols with their share, largest first; user-space ones left out', async (t) => {
  const report = [
    '# Samples: 12K of event cpu-clock',
    '#',
    '# Overhead  Symbol',
    '     3.10%  [k] nft_do_chain',
    '    12.50%  [k] _raw_spin_unlock_irqrestore',
    '     9.00%  [.] Builtins_LoadIC',
    '     0.75%  [k] nft_fib4_eval',
    '',
  ].join('\n');
  t.same(parsePerfReport(report), [
    { symbol: '_raw_spin_unlock_irqrestore', percent: 12.5 },
    { symbol: 'nft_do_chain', percent: 3.1 },
    { symbol: 'nft_fib4_eval', percent: 0.75 },
  ]);
  const table = profilesSideBySide(
    { label: 'natgw', symbols: parsePerfReport(report) },
    { label: 'naive', symbols: [{ symbol: 'ipt_do_table', percent: 2 }] },
  );
  t.match(table, /\| 1 \| 12\.50 % \| `_raw_spin_unlock_irqrestore` \| 2\.00 % \| `ipt_do_table` \|/);
  t.match(table, /\| 3 \| 0\.75 % \| `nft_fib4_eval` \| {2}\| {2}\|/, 'the shorter side leaves its cells empty');
  t.equal(
    ruleEvaluationShare([
      ...parsePerfReport(report),
      { symbol: '__nft_set_do_lookup', percent: 0.5 },
      { symbol: 'nf_tables_core_module_exit', percent: 0.25 },
      { symbol: 'nf_conncount_add', percent: 1 },
      { symbol: 'nf_conntrack_in', percent: 4 },
      { symbol: 'nf_nat_setup_info', percent: 2 },
    ]),
    3.1 + 0.75 + 0.5 + 0.25 + 1,
    "rule evaluation: nftables' engine, expressions and sets, and connection counts; not conntrack or NAT themselves",
  );
  const profile = [
    { symbol: 'pv_native_safe_halt', percent: 40 },
    { symbol: 'default_idle_call', percent: 10 },
    { symbol: 'nft_do_chain', percent: 2 },
    { symbol: 'nf_conncount_add', percent: 1 },
  ];
  t.equal(idleShare(profile), 50, 'idle: the halt and the idle loop');
  t.equal(ruleEvaluationOfBusy(profile), 6, 'rule evaluation of the busy half: 3 % of the box is 6 % of its busy samples');
  t.ok(Number.isNaN(ruleEvaluationOfBusy([{ symbol: 'pv_native_safe_halt', percent: 100 }])), 'an idle profile has no share');
});

t.test('the internet counts each NAT VM by its external address, one counter per measure, before conntrack', async (t) => {
  const text = countingRuleset('natgw_bench', ['203.0.113.10', '203.0.113.11'], { sink: 9001, iperf: [5201, 5202] });
  for (const name of ['conn_0', 'conn_1', 'udp_0', 'udp_1', 'tcp_0', 'tcp_1']) t.match(text, `counter ${name} { }`, name);
  t.match(text, 'priority raw - 10', 'before conntrack: both sides pay the same lookups whatever their state');
  t.match(text, 'tcp dport 9001 tcp flags syn / syn,ack counter name ip saddr map { 203.0.113.10 : "conn_0", 203.0.113.11 : "conn_1" }');
  t.match(text, 'udp dport { 5201, 5202 } counter name ip saddr map { 203.0.113.10 : "udp_0", 203.0.113.11 : "udp_1" }');
  t.match(text, 'tcp dport { 5201, 5202 } counter name ip saddr map { 203.0.113.10 : "tcp_0", 203.0.113.11 : "tcp_1" }');
});

t.test("what a NAT VM delivered between two dumps, per second, in each measure's unit", async (t) => {
  const dump = (conn: number, udp: number, tcpBytes: number) =>
    JSON.stringify({
      nftables: [
        { metainfo: { version: '1.1.3' } },
        { counter: { family: 'ip', name: 'conn_1', table: 'natgw_bench', handle: 1, packets: conn, bytes: conn * 60 } },
        { counter: { family: 'ip', name: 'udp_1', table: 'natgw_bench', handle: 2, packets: udp, bytes: udp * 92 } },
        { counter: { family: 'ip', name: 'tcp_1', table: 'natgw_bench', handle: 3, packets: 1, bytes: tcpBytes } },
      ],
    });
  const before = parseCounters(dump(1000, 50_000, 1e9));
  const after = parseCounters(dump(5000, 250_000, 3e9));
  t.same(before.conn_1, { packets: 1000, bytes: 60_000 });
  t.equal(deliveredPerSecond('conn', 1, before, after, 2), 2000, 'conn/s: SYNs a second');
  t.equal(deliveredPerSecond('udp', 1, before, after, 2), 100, 'kpps');
  t.equal(deliveredPerSecond('tcp', 1, before, after, 2), 8, 'Gbit/s from bytes');
  t.ok(Number.isNaN(deliveredPerSecond('conn', 0, before, after, 2)), 'a VM the dump does not hold is NaN, not 0');
  t.ok(Number.isNaN(deliveredPerSecond('conn', 1, before, after, 0)), 'no time between the dumps: NaN');
});
