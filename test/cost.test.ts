import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { UsageError } from '../common/errors.js';
import { chartRange, renderChart } from '../cost/chart.js';
import { buildPriceTable, readCatalogLeaves } from '../cost/gen-prices.js';
import { breakEven, computeCost, defaultNatIps, tieredEgress, type CostInputs } from '../cost/model.js';
import { bundledPrices, mergePrices } from '../cost/prices.js';
import { mulberry32, REPO, runCost, runNatgwProcess } from './fixtures/cost/helpers.js';

const prices = bundledPrices();

function inputs(over: Partial<CostInputs> = {}): CostInputs {
  return {
    region: 'us-central1',
    vms: 14,
    gibPerMonth: 100,
    machineType: 'e2-small',
    haSize: 1,
    hoursPerMonth: 730,
    bootDiskGib: 10,
    bootDiskType: 'pd-balanced',
    ...over,
  };
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** The Cloud NAT pricing page's first example (14 VMs, 100 GiB, its 720-hour month, no NAT IP line) as CLI flags. */
const PRICING_PAGE_SMALL = [
  '--region',
  'us-central1',
  '--vms',
  '14',
  '--gib',
  '100',
  '--hours-per-month',
  '720',
  '--nat-ips',
  '0',
  '--json',
];

t.test("Cloud NAT pricing page's own examples (720 h, no NAT IP charge)", async (t) => {
  const small = computeCost(inputs({ vms: 14, gibPerMonth: 100, hoursPerMonth: 720, natIps: 0 }), prices);
  t.equal(cents(small.cloudNat.monthlyUsd), 18.61, '14 VMs + 100 GiB = $18.61');
  t.ok(Math.abs(small.cloudNat.monthlyUsd - 18.612) < 1e-9, 'exactly 14 × 720 × 0.0014 + 100 × 0.045');

  const large = computeCost(inputs({ vms: 36, gibPerMonth: 200, hoursPerMonth: 720, natIps: 0 }), prices);
  t.equal(cents(large.cloudNat.monthlyUsd), 40.68, '36 VMs + 200 GiB = $40.68');
  t.ok(Math.abs(large.cloudNat.monthlyUsd - 40.68) < 1e-9, 'exactly 720 × 0.044 + 200 × 0.045');
  t.match(large.cloudNat.lineItems[0]?.label, /flat rate above 32 VMs/);

  const cli = await runCost(PRICING_PAGE_SMALL);
  t.equal(cli.code, 0);
  t.equal(JSON.parse(cli.stdout).cloudNat.monthlyUsd, 18.612, 'the CLI reproduces it too');
});

t.test('natgw line items: VM, boot disk, IP; the load balancer only in HA mode', async (t) => {
  const single = computeCost(inputs(), prices);
  const vmHour = prices.regions['us-central1']!.machineHourUsd['e2-small']!;
  t.same(
    single.natgw.lineItems.map((line) => line.monthlyUsd.toFixed(6)),
    [(vmHour * 730).toFixed(6), (10 * 0.1).toFixed(6), (730 * 0.005).toFixed(6)],
  );
  t.equal(single.natgw.perGibUsd, 0, 'no processing fee for a single gateway');
  t.equal(single.inputs.natIps, 1, 'Cloud NAT needs one IP for 14 VMs at 64 ports each');
  t.ok(Math.abs(single.cloudNat.monthlyUsd - (14 * 730 * 0.0014 + 100 * 0.045 + 730 * 0.005)) < 1e-9);

  const ha = computeCost(inputs({ haSize: 3, machineType: 'e2-medium' }), prices);
  const labels = ha.natgw.lineItems.map((line) => line.label);
  t.match(labels, [
    /e2-medium VM: 3 × 730 h/,
    /boot disk pd-balanced: 3 × 10 GiB/,
    /external IPs: 3 × 730 h/,
    /forwarding rule/,
    /load balancer data processed/,
  ]);
  t.equal(ha.natgw.perGibUsd, prices.loadBalancer.dataProcessedPerGibUsd);
  t.ok(Math.abs(ha.natgw.lineItems[3]!.monthlyUsd - 730 * 0.025) < 1e-9);

  const crossZone = computeCost(inputs({ crossZoneShare: 0.5, gibPerMonth: 1000 }), prices);
  const crossLine = crossZone.natgw.lineItems.find((line) => /inter-zone/.test(line.label));
  t.ok(
    crossLine !== undefined && Math.abs(crossLine.monthlyUsd - 500 * prices.interZonePerGibUsd) < 1e-9,
    'inter-zone transfer when asked for',
  );
  t.equal(crossZone.natgw.perGibUsd, 0.5 * prices.interZonePerGibUsd);
  t.notOk(
    single.natgw.lineItems.some((line) => /inter-zone/.test(line.label)),
    'not counted by default',
  );

  const disk = computeCost(inputs({ bootDiskGib: 20, bootDiskType: 'pd-standard' }), prices);
  t.ok(Math.abs(disk.natgw.lineItems[1]!.monthlyUsd - 20 * 0.04) < 1e-9, 'the boot disk size and type are honoured');
});

t.test('NAT IP count follows 64 ports per VM on 64,512-port IPs', async (t) => {
  t.equal(defaultNatIps(1), 1);
  t.equal(defaultNatIps(1008), 1);
  t.equal(defaultNatIps(1009), 2);
});

t.test('internet egress: tiered, shown, and kept out of the difference', async (t) => {
  const tiers = prices.regions['us-central1']!.internetEgressTiers;
  const items = tieredEgress(2048, tiers);
  t.same(
    items.map((line) => [line.quantity, line.unitUsd]),
    [
      [1024, 0.12],
      [1024, 0.11],
    ],
  );
  const big = tieredEgress(20 * 1024, tiers);
  t.equal(big.length, 3);
  t.equal(big[2]!.quantity, 10 * 1024);
  t.same(tieredEgress(0, tiers), []);

  const result = computeCost(inputs({ gibPerMonth: 4000, egressGibPerMonth: 1500 }), prices);
  t.equal(result.internetEgress.gibPerMonth, 1500);
  t.equal(result.internetEgress.assumed, false);
  t.ok(Math.abs(result.internetEgress.monthlyUsd - (1024 * 0.12 + 476 * 0.11)) < 1e-9);
  t.equal(result.differenceUsd, result.cloudNat.monthlyUsd - result.natgw.monthlyUsd, 'difference has no egress in it');
  const assumed = computeCost(inputs({ gibPerMonth: 300 }), prices);
  t.equal(assumed.internetEgress.gibPerMonth, 150);
  t.equal(assumed.internetEgress.assumed, true);
});

t.test('break-even', async (t) => {
  t.equal(breakEven({ fixedMonthlyUsd: 5, perGibUsd: 0.045 }, { fixedMonthlyUsd: 14, perGibUsd: 0 }), 200);
  t.equal(breakEven({ fixedMonthlyUsd: 20, perGibUsd: 0.045 }, { fixedMonthlyUsd: 14, perGibUsd: 0 }), 0, 'natgw cheaper at any traffic');
  t.equal(breakEven({ fixedMonthlyUsd: 5, perGibUsd: 0.01 }, { fixedMonthlyUsd: 14, perGibUsd: 0.02 }), null, 'never');
  const few = computeCost(inputs({ vms: 2 }), prices);
  t.ok(few.breakEvenGibPerMonth !== null && few.breakEvenGibPerMonth > 100, 'two VMs at 100 GiB: Cloud NAT is cheaper');
  t.equal(few.cheaper, 'cloudNat');
  t.equal(computeCost(inputs({ vms: 14 }), prices).breakEvenGibPerMonth, 0, '14 VMs: natgw is cheaper at any traffic');
});

t.test('properties over random inputs (seeded)', async (t) => {
  const random = mulberry32(20261126);
  const regions = Object.keys(prices.regions);
  const types = Object.keys(prices.machineTypes);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const cap = prices.cloudNat.perVmMaxVms;
  let failures = 0;
  const N = 400;
  for (let i = 0; i < N; i++) {
    const base = inputs({
      region: pick(regions),
      machineType: pick(types),
      vms: 1 + Math.floor(random() * 200),
      gibPerMonth: Math.round(random() * 50_000 * 100) / 100,
      haSize: 1 + Math.floor(random() * 4),
      hoursPerMonth: pick([720, 730, 744]),
      crossZoneShare: random() < 0.5 ? undefined : random(),
    });
    const at = (over: Partial<CostInputs>) => computeCost({ ...base, ...over }, prices);
    const r = at({});
    const more = at({ gibPerMonth: base.gibPerMonth + 1 + random() * 1000 });
    const check = (ok: boolean, what: string) => {
      if (!ok) {
        failures++;
        t.fail(`${what}: ${JSON.stringify(base)}`);
      }
    };
    check(more.cloudNat.monthlyUsd > r.cloudNat.monthlyUsd, 'Cloud NAT grows with GiB');
    check(more.natgw.monthlyUsd >= r.natgw.monthlyUsd, 'natgw does not shrink with GiB');
    check(more.internetEgress.monthlyUsd >= r.internetEgress.monthlyUsd, 'egress does not shrink with GiB');
    const oneMore = at({ vms: base.vms + 1 });
    if (base.vms === cap) {
      // The page's own rates: 32 × $0.0014 = $0.0448/h, above the $0.044/h flat rate for 33 or more VMs.
      const step = (prices.cloudNat.flatHourUsdAboveMaxVms - cap * prices.cloudNat.perVmHourUsd) * base.hoursPerMonth;
      check(Math.abs(oneMore.cloudNat.monthlyUsd - r.cloudNat.monthlyUsd - step) < 1e-9, 'only the documented 32→33 step');
    } else {
      check(oneMore.cloudNat.monthlyUsd >= r.cloudNat.monthlyUsd, 'Cloud NAT does not shrink with VMs');
    }
    check(oneMore.natgw.monthlyUsd === r.natgw.monthlyUsd, 'natgw does not depend on the VM count');
    for (const bill of [r.cloudNat, r.natgw]) {
      const sum = bill.lineItems.reduce((total, line) => total + line.monthlyUsd, 0);
      check(Math.abs(sum - bill.monthlyUsd) < 1e-9, 'line items add up to the total');
      check(Math.abs(bill.fixedMonthlyUsd + bill.perGibUsd * base.gibPerMonth - bill.monthlyUsd) < 1e-6, 'fixed + per-GiB is the total');
    }
    const be = r.breakEvenGibPerMonth;
    if (be !== null && be > 0) {
      const even = at({ gibPerMonth: be });
      check(Math.abs(even.cloudNat.monthlyUsd - even.natgw.monthlyUsd) < 0.01, 'both totals equal at break-even');
      check(at({ gibPerMonth: be * 0.9 }).cheaper !== 'natgw', 'below break-even natgw is not cheaper');
      check(at({ gibPerMonth: be * 1.1 + 1 }).cheaper === 'natgw', 'above break-even natgw is cheaper');
    } else if (be === 0) {
      check(at({ gibPerMonth: 0 }).natgw.monthlyUsd <= at({ gibPerMonth: 0 }).cloudNat.monthlyUsd + 1e-9, 'natgw cheaper from 0 GiB');
    }
  }
  t.equal(failures, 0, `${N} random cases hold every property`);
});

t.test('egress cap warning names the cheapest type that fits', async (t) => {
  const over = computeCost(inputs({ peakGbps: 3 }), prices);
  t.equal(over.capacity.fits, false);
  t.equal(over.capacity.cheapestFittingType, 'e2-standard-2');
  t.match(over.warnings.join('\n'), /peak 3 Gbps exceeds the egress cap: e2-small can send at most 1 Gbps.*--machine-type e2-standard-2/);

  const ok = computeCost(inputs({ peakGbps: 0.5 }), prices);
  t.equal(ok.capacity.fits, true);
  t.same(ok.warnings, []);

  const huge = computeCost(inputs({ peakGbps: 40 }), prices);
  t.equal(huge.capacity.cheapestFittingType, null);
  t.match(huge.warnings.join('\n'), /raise --ha-size/);

  const ha = computeCost(inputs({ haSize: 2, machineType: 'e2-medium', peakGbps: 3 }), prices);
  t.equal(ha.capacity.capacityGbps, 4);
  t.equal(ha.capacity.fits, true);
  t.match(ha.warnings.join('\n'), /one of the 2 instances down/);
});

t.test('prices: partial overrides merge; bad files are named', async (t) => {
  const merged = mergePrices(prices, { regions: { 'us-central1': { machineHourUsd: { 'e2-small': 0.02 } } } }, 'o.json');
  t.equal(merged.regions['us-central1']!.machineHourUsd['e2-small'], 0.02);
  t.equal(merged.regions['us-central1']!.machineHourUsd['e2-micro'], prices.regions['us-central1']!.machineHourUsd['e2-micro']);
  t.equal(merged.cloudNat.natIpHourUsd, prices.cloudNat.natIpHourUsd);
  t.throws(() => mergePrices(prices, { cloudNat: { perVmHourUsd: -1 } }, 'o.json'), /--prices o\.json: cloudNat\.perVmHourUsd/);
  t.throws(() => mergePrices(prices, [1], 'o.json'), UsageError);

  const dir = mkdtempSync(join(tmpdir(), 'natgw-cost-'));
  const file = join(dir, 'prices.json');
  const region = structuredClone(prices.regions['us-central1']!);
  writeFileSync(file, JSON.stringify({ regions: { 'mars-north1': { ...region, location: 'Mars' } }, cloudNat: { perVmHourUsd: 0.002 } }));
  const run = await runCost(['--region', 'mars-north1', '--vms', '10', '--gib', '0', '--prices', file, '--json']);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  t.ok(Math.abs(JSON.parse(run.stdout).cloudNat.lineItems[0].unitUsd - 0.002) < 1e-12, 'override used');
  t.equal(JSON.parse(run.stdout).pricesOverriddenBy, file);
  const table = await runCost(['--region', 'mars-north1', '--vms', '10', '--gib', '0', '--prices', file]);
  t.match(
    table.stdout,
    /list prices of 2026-07-30 \(USD\), overridden by .*prices\.json/,
    'the output says the prices are not all list prices',
  );

  writeFileSync(file, '{ not json');
  t.match(
    (await runCost(['--region', 'us-central1', '--vms', '1', '--gib', '1', '--prices', file])).error?.message,
    /--prices .*not valid JSON/,
  );
});

t.test('the bundled table is dated, sourced, licensed, and matches the catalog it came from', async (t) => {
  t.match(prices.about.pricesDated, /^\d{4}-\d{2}-\d{2}$/);
  t.match(prices.about.licence, /Apache/);
  t.match(prices.about.sources.cloudNat, /cloud\.google\.com\/nat\/pricing/);
  t.equal(prices.regions['us-central1']!.machineHourUsd['e2-micro']!.toFixed(6), '0.008376');
  t.equal(prices.regions['asia-northeast1']!.machineHourUsd['c3-standard-4'], 0.258905);

  const leaves = readCatalogLeaves(
    'about:\n  copyright: |2\n    not: a key\n  url: x\ncompute:\n  instance:\n    e2-micro:\n      cost:\n        us-central1:\n          hour: 0.5\n      cpu: 0.25\n',
  );
  t.same(Object.fromEntries(leaves), {
    'about.url': 'x',
    'compute.instance.e2-micro.cost.us-central1.hour': '0.5',
    'compute.instance.e2-micro.cpu': '0.25',
  });

  const catalog = '/work/shared/data/gcp-pricing-2026-07-30.yml';
  t.test(
    'regenerating from the catalog gives the committed file',
    { skip: existsSync(catalog) ? false : 'the pricing catalog is not on this machine' },
    async (t) => {
      const regenerated = buildPriceTable(readCatalogLeaves(readFileSync(catalog, 'utf8')), 'gcp-pricing-2026-07-30.yml');
      t.same(regenerated, JSON.parse(readFileSync(join(REPO, 'cost/prices.json'), 'utf8')));
    },
  );
});

t.test('human-readable table (golden)', async (t) => {
  const run = await runCost(['--region', 'us-central1', '--vms', '4', '--gib', '150', '--peak-gbps', '1.5']);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  t.matchSnapshot(run.stdout, 'us-central1, 4 VMs, 150 GiB, e2-small');
  t.match(run.stdout, /Break-even: \d+ GiB\/month for 4 VMs/);
  t.match(run.stdout, /WARNING: peak 1\.5 Gbps exceeds the egress cap.*e2-medium/);
});

t.test('--json carries the totals, break-even and line items', async (t) => {
  const run = await runCost([
    '--region',
    'asia-northeast1',
    '--vms',
    '20',
    '--gib',
    '3000',
    '--ha-size',
    '2',
    '--machine-type',
    'e2-medium',
    '--json',
  ]);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  const json = JSON.parse(run.stdout);
  t.type(json.cloudNat.monthlyUsd, 'number');
  t.type(json.natgw.monthlyUsd, 'number');
  t.type(json.breakEvenGibPerMonth, 'number');
  t.ok(json.cloudNat.lineItems.length >= 3);
  t.ok(json.natgw.lineItems.some((line: { label: string }) => /forwarding rule/.test(line.label)));
  t.equal(json.inputs.region, 'asia-northeast1');
  t.equal(json.measurement, null);
});

t.test('--chart writes a labelled SVG that renders', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'natgw-cost-'));
  const svgFile = join(dir, 'cost.svg');
  const run = await runCost(['--region', 'us-central1', '--vms', '2', '--gib', '100', '--chart', svgFile]);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  t.match(run.stderr, /chart written/);
  const svg = readFileSync(svgFile, 'utf8');
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /us-central1, 2 VMs, natgw on e2-small/, 'title names region, VM count, machine type');
  t.match(svg, />Cloud NAT</);
  t.match(svg, />natgw</);
  t.match(svg, /break-even: 249 GiB\/month/);
  t.match(svg, /GiB processed per month/);
  t.match(svg, /USD per month/);
  t.equal((svg.match(/<polyline/g) ?? []).length, 2);

  const noEven = renderChart(computeCost(inputs({ vms: 14 }), prices));
  t.match(noEven, /natgw is cheaper at any traffic for 14 VMs/);
  t.ok(chartRange(computeCost(inputs({ vms: 2, gibPerMonth: 100 }), prices)) >= 2 * 248);

  let rsvg = true;
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
  } catch {
    rsvg = false;
  }
  t.test('librsvg renders it', { skip: rsvg ? false : 'rsvg-convert is not installed (apt-get install librsvg2-bin)' }, async (t) => {
    const png = execFileSync('rsvg-convert', [svgFile]);
    t.equal(png.subarray(1, 4).toString(), 'PNG');
  });
});

t.test('bad input fails clearly, naming the flag', async (t) => {
  const base = ['--region', 'us-central1', '--vms', '4', '--gib', '100'];
  const cases: Array<[string, string[], RegExp]> = [
    ['negative GiB', ['--region', 'us-central1', '--vms', '4', '--gib', '-5'], /--gib: must be at least 0, got -5/],
    ['negative GiB with =', ['--region', 'us-central1', '--vms', '4', '--gib=-5'], /--gib: must be at least 0/],
    ['NaN GiB', ['--region', 'us-central1', '--vms', '4', '--gib', 'NaN'], /--gib: 'NaN' is not a number/],
    ['empty GiB', ['--region', 'us-central1', '--vms', '4', '--gib', ''], /--gib: '' is not a number/],
    ['negative VMs', ['--region', 'us-central1', '--vms', '-3', '--gib', '1'], /--vms: must be at least 1/],
    ['fractional VMs', ['--region', 'us-central1', '--vms', '2.5', '--gib', '1'], /--vms: '2.5' is not a whole number/],
    ['missing --vms', ['--region', 'us-central1', '--gib', '1'], /--vms: required/],
    ['missing --gib', ['--region', 'us-central1', '--vms', '1'], /--gib: required/],
    ['missing --region', ['--vms', '1', '--gib', '1'], /--region: required; known regions: .*us-central1/],
    [
      'unknown region',
      ['--region', 'mars-north1', '--vms', '1', '--gib', '1'],
      /--region: unknown region 'mars-north1'; known regions: .*asia-northeast1.*us-central1/,
    ],
    [
      'unknown machine type',
      [...base, '--machine-type', 'x9-huge'],
      /--machine-type: unknown machine type 'x9-huge' in us-central1; known types: .*e2-small/,
    ],
    ['unknown disk type', [...base, '--boot-disk-type', 'pd-gold'], /--boot-disk-type: unknown disk type 'pd-gold'/],
    ['zero hours', [...base, '--hours-per-month', '0'], /--hours-per-month: must be more than 0/],
    ['too many hours', [...base, '--hours-per-month', '800'], /--hours-per-month: must be at most 744/],
    ['HA size 0', [...base, '--ha-size', '0'], /--ha-size: must be at least 1/],
    ['cross-zone share above 1', [...base, '--cross-zone-share', '1.5'], /--cross-zone-share: must be at most 1/],
    ['Infinity peak', [...base, '--peak-gbps', 'Infinity'], /--peak-gbps: 'Infinity' is not a number/],
    ['egress above total', [...base, '--egress-gib', '101'], /--egress-gib: 101 is more than the 100 GiB/],
    ['two traffic sources', [...base, '--from-agent', 'http://127.0.0.1:9'], /--gib and --from-agent cannot be combined/],
    ['window without prometheus', [...base, '--window', '1h'], /--window: only with --from-prometheus/],
    ['unknown flag', [...base, '--colour'], /Unknown option '--colour'/],
  ];
  for (const [what, argv, message] of cases) {
    const run = await runCost(argv);
    t.type(run.error, UsageError, `${what}: a UsageError (exit 2)`);
    t.match(run.error?.message, message, what);
    t.equal(run.stdout, '', `${what}: nothing on stdout`);
  }
});

t.test('as a subprocess: exit codes and stderr through the real CLI entry', async (t) => {
  const ok = await runNatgwProcess(PRICING_PAGE_SMALL);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(JSON.parse(ok.stdout).cloudNat.monthlyUsd, 18.612);

  const bad: Array<[string[], RegExp]> = [
    [['--region', 'us-central1', '--vms', '4', '--gib', '-1'], /natgw cost: --gib: must be at least 0/],
    [['--region', 'us-central1', '--vms', '4', '--gib', 'lots'], /natgw cost: --gib: 'lots' is not a number/],
    [['--region', 'nowhere1', '--vms', '4', '--gib', '1'], /natgw cost: --region: unknown region 'nowhere1'; known regions:/],
    [
      ['--region', 'us-central1', '--vms', '4', '--gib', '1', '--machine-type', 'z1'],
      /natgw cost: --machine-type: unknown machine type 'z1'/,
    ],
    [['--region', 'us-central1', '--gib', '1'], /natgw cost: --vms: required/],
  ];
  for (const [argv, message] of bad) {
    const run = await runNatgwProcess(argv);
    t.equal(run.code, 2, `exit 2 for ${argv.join(' ')}`);
    t.match(run.stderr, message);
    t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});
