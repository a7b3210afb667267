import type { Measurement } from './measure.js';
import type { Bill, CostResult, LineItem } from './model.js';

const WIDTH = 72;

function money(usd: number): string {
  return usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function unitPrice(usd: number): string {
  // Unit prices carry more digits than cents (e.g. $0.0014 per VM-hour); trailing zeros add nothing.
  return `$${Number(usd.toPrecision(6))}`;
}

function gib(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Number(value.toFixed(2)));
}

function row(label: string, amount: string): string {
  const space = Math.max(1, WIDTH - label.length - amount.length);
  return `${label}${' '.repeat(space)}${amount}`;
}

function lineItemRow(line: LineItem): string {
  return row(`  ${line.label} × ${unitPrice(line.unitUsd)}/${line.unit}`, money(line.monthlyUsd));
}

function billRows(title: string, bill: Bill): string[] {
  return [row(title, '$/month'), ...bill.lineItems.map(lineItemRow), row('  total', money(bill.monthlyUsd))];
}

export function formatTable(result: CostResult, measurement: Measurement | null): string {
  const { inputs } = result;
  const out: string[] = [];
  const gateway =
    inputs.haSize >= 2 ? `${inputs.haSize} × ${inputs.machineType} behind an internal load balancer` : `1 × ${inputs.machineType}`;
  out.push(
    `natgw cost: ${inputs.region}, ${inputs.vms} VMs, ${gib(inputs.gibPerMonth)} GiB/month processed (both directions)`,
    `natgw on ${gateway}; ${inputs.hoursPerMonth} h/month; list prices of ${result.pricesDated} (USD)` +
      (result.pricesOverriddenBy === null ? '' : `, overridden by ${result.pricesOverriddenBy}`),
  );
  if (measurement !== null) {
    const peak = measurement.peakGbps === null ? '' : `, peak ${Number(measurement.peakGbps.toFixed(3))} Gbps`;
    out.push(`measured by ${measurement.source}: ${measurement.basis}${peak}`);
  }
  out.push('', ...billRows('Cloud NAT', result.cloudNat), '', ...billRows('natgw', result.natgw));
  if (inputs.haSize < 2) out.push('  (no per-GiB processing fee)');
  if (inputs.crossZoneShare === 0) out.push('  (inter-zone transfer from clients in other zones not counted: --cross-zone-share)');
  out.push('');

  const diff = result.differenceUsd;
  if (result.cheaper === 'equal') {
    out.push('Difference: none; both cost the same per month.');
  } else {
    const who = diff > 0 ? 'natgw' : 'Cloud NAT';
    const base = diff > 0 ? result.cloudNat.monthlyUsd : result.natgw.monthlyUsd;
    const share = base > 0 ? ` (${Math.round((Math.abs(diff) / base) * 100)} % less)` : '';
    out.push(`Difference: ${who} is $${money(Math.abs(diff))}/month cheaper${share}, $${money(Math.abs(diff) * 12)}/year.`);
  }
  const be = result.breakEvenGibPerMonth;
  if (be === null) out.push(`Break-even: none; Cloud NAT is cheaper at any traffic for ${inputs.vms} VMs.`);
  else if (be === 0) out.push(`Break-even: none; natgw is cheaper at any traffic for ${inputs.vms} VMs.`);
  else out.push(`Break-even: ${gib(be)} GiB/month for ${inputs.vms} VMs; natgw is cheaper above it, Cloud NAT below.`);
  out.push('');

  const egress = result.internetEgress;
  const assumed = egress.assumed ? ' (assumed: half of the processed GiB; set --egress-gib)' : '';
  out.push('Internet egress, billed the same either way, not in the difference:');
  out.push(`  ${gib(egress.gibPerMonth)} GiB/month to the internet${assumed}`);
  for (const line of egress.lineItems) out.push(lineItemRow(line));
  out.push(row('  total', money(egress.monthlyUsd)));

  const cap = result.capacity;
  out.push(
    '',
    `Capacity: ${cap.instances} × ${inputs.machineType} at ${cap.maxEgressGbpsPerVm} Gbps = ${cap.capacityGbps} Gbps egress cap` +
      (cap.peakGbps === null ? ' (no peak given: --peak-gbps)' : `, peak ${Number(cap.peakGbps.toFixed(3))} Gbps`),
  );
  for (const warning of result.warnings) out.push(`WARNING: ${warning}`);
  return `${out.join('\n')}\n`;
}

function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toFixed(6));
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

/** The full result; floating-point noise is cut at 6 decimals so that consumers compare stable numbers. */
export function formatJson(result: CostResult, measurement: Measurement | null): string {
  return `${JSON.stringify(roundDeep({ ...result, measurement }), null, 2)}\n`;
}
