// natgw cost --fallback-hours: the hours natgw spends on its Cloud NAT fallback are billed at Cloud NAT's prices for
// that share of the month and traffic only, and natgw's own per-GiB lines shrink by the same share.
import t from 'tap';
import { UsageError } from '../common/errors.js';
import { computeCost, type CostInputs } from '../cost/model.js';
import { bundledPrices } from '../cost/prices.js';
import { mulberry32, runCost } from './fixtures/cost/helpers.js';

const prices = bundledPrices();
const base: CostInputs = {
  region: 'us-central1',
  vms: 14,
  gibPerMonth: 1000,
  machineType: 'e2-small',
  haSize: 2,
  hoursPerMonth: 730,
  bootDiskGib: 10,
  bootDiskType: 'pd-balanced',
  crossZoneShare: 0.5,
};
const line = (result: ReturnType<typeof computeCost>, label: RegExp) => result.natgw.lineItems.find((item) => label.test(item.label));

t.test('no fallback hours: the bill is the one without the flag', async (t) => {
  t.same(computeCost({ ...base, fallbackHoursPerMonth: 0 }, prices).natgw, computeCost(base, prices).natgw);
});

t.test("10 h on the fallback: Cloud NAT's VM-hours, IP-hours and per-GiB fee for 10 h; natgw's per-GiB lines for the rest", async (t) => {
  const result = computeCost({ ...base, fallbackHoursPerMonth: 10 }, prices);
  const share = 10 / 730;
  t.equal(line(result, /^Cloud NAT fallback VM-hours/)?.monthlyUsd, 14 * 10 * 0.0014);
  t.equal(line(result, /^Cloud NAT fallback NAT IPs/)?.monthlyUsd, 10 * 0.005);
  t.ok(Math.abs((line(result, /^Cloud NAT fallback data processed/)?.monthlyUsd ?? 0) - 1000 * share * 0.045) < 1e-9);
  t.ok(Math.abs((line(result, /^load balancer data processed/)?.quantity ?? 0) - 1000 * (1 - share)) < 1e-9);
  t.ok(Math.abs((line(result, /^inter-zone transfer/)?.quantity ?? 0) - 500 * (1 - share)) < 1e-9);
  const without = computeCost(base, prices);
  t.ok(result.natgw.monthlyUsd > without.natgw.monthlyUsd, 'the fallback costs more than natgw serving');
  t.match(result.warnings.join('\n'), /undocumented/);
  t.equal(result.inputs.fallbackHoursPerMonth, 10);
});

t.test('above 32 VMs the fallback pays the flat hourly rate', async (t) => {
  const result = computeCost({ ...base, vms: 100, fallbackHoursPerMonth: 5 }, prices);
  t.equal(line(result, /^Cloud NAT fallback flat rate/)?.monthlyUsd, 5 * 0.044);
});

t.test('property: the bill stays a line in GiB (fixed + perGib × G) and grows with the hours on fallback', async (t) => {
  const random = mulberry32(26);
  for (let run = 0; run < 200; run++) {
    const inputs = {
      ...base,
      vms: 1 + Math.floor(random() * 80),
      gibPerMonth: random() * 50_000,
      haSize: 1 + Math.floor(random() * 3),
      crossZoneShare: random(),
      fallbackHoursPerMonth: random() * 730,
    };
    const result = computeCost(inputs, prices);
    const { fixedMonthlyUsd, perGibUsd, monthlyUsd } = result.natgw;
    t.ok(Math.abs(fixedMonthlyUsd + perGibUsd * inputs.gibPerMonth - monthlyUsd) < 1e-6, `run ${run}: a line`);
    const more = computeCost({ ...inputs, fallbackHoursPerMonth: Math.min(730, inputs.fallbackHoursPerMonth + 1) }, prices);
    if (more.inputs.fallbackHoursPerMonth > inputs.fallbackHoursPerMonth)
      t.ok(more.natgw.fixedMonthlyUsd > fixedMonthlyUsd, `run ${run}: an hour more on the fallback adds Cloud NAT's hourly charges`);
  }
});

t.test('bad input names the flag, exit 2', async (t) => {
  for (const value of ['800', '-1', 'soon']) {
    const result = await runCost(['--region', 'us-central1', '--vms', '3', '--gib', '10', '--fallback-hours', value]);
    t.type(result.error, UsageError, `${value}: a usage error (exit 2)`);
    t.match(result.error?.message, /--fallback-hours/);
  }
  const more = await runCost([
    '--region',
    'us-central1',
    '--vms',
    '3',
    '--gib',
    '10',
    '--hours-per-month',
    '100',
    '--fallback-hours',
    '200',
  ]);
  t.equal(more.error?.message, '--fallback-hours: must be at most 100, got 200', 'no more hours on the fallback than in the month');
  const ok = await runCost(['--region', 'us-central1', '--vms', '3', '--gib', '10', '--fallback-hours', '12', '--json']);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(JSON.parse(ok.stdout).inputs.fallbackHoursPerMonth, 12);
});
