import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Clock, realClock } from '../common/clock.js';
import { UsageError } from '../common/errors.js';
import { renderChart } from './chart.js';
import { formatJson, formatTable } from './format.js';
import { measureFromAgent, measureFromPrometheus, parseDuration, type Measurement } from './measure.js';
import { computeCost, knownList, machineHourUsd, regionPrices, type CostInputs } from './model.js';
import { loadPrices } from './prices.js';

export const COST_USAGE = `Usage: natgw cost --region R (--vms N --gib G | --from-prometheus URL | --from-agent URL) [options]

Compares Cloud NAT's monthly bill with natgw's for the same traffic (list prices, USD).

Traffic (one of):
  --gib G                 GiB processed per month, both directions (what Cloud NAT bills per GiB)
  --from-prometheus URL   measure it: increase(natgw_forwarded_bytes_total[window]) scaled to a month
      --window D          Prometheus range to measure over (default 1h; e.g. 30m, 6h, 7d)
  --from-agent URL        measure it from an agent's /metrics (average since the agent started, or a sample)
      --sample D          scrape twice D apart (default 10s; 0s = once, needs process_start_time_seconds)

Options:
  --region R              GCE region (required)
  --vms N                 VMs that use the NAT (required unless measured)
  --machine-type T        natgw VM machine type (default e2-small)
  --ha-size K             K natgw VMs behind an internal load balancer (default 1: a single VM, no load balancer)
  --hours-per-month H     hours in the month (default 730, as the price catalog)
  --boot-disk-gib N       natgw boot disk size (default 10)
  --boot-disk-type T      pd-balanced (default) or pd-standard
  --nat-ips N             Cloud NAT IPs (default: enough for 64 ports per VM, at least 1)
  --cross-zone-share F    share (0-1) of the GiB that crosses zones to reach natgw, at $0.01/GiB (default 0)
  --fallback-hours H      hours per month on the Cloud NAT fallback (natgw down; docs/fallback.md): Cloud NAT's
                          VM-hours, NAT IP-hours and per-GiB fee for that share of the month (default 0)
  --egress-gib G          of --gib, the GiB that go to the internet (default: half); only the egress line uses it
  --peak-gbps X           peak throughput, checked against the machine type's egress cap
  --prices FILE           JSON price overrides, same shape as cost/prices.json (merged over it)
  --json                  machine-readable output
  --chart FILE.svg        write a chart of monthly cost against GiB/month
  -h, --help              this text
`;

const OPTIONS = {
  region: { type: 'string' },
  vms: { type: 'string' },
  gib: { type: 'string' },
  'machine-type': { type: 'string' },
  'ha-size': { type: 'string' },
  'hours-per-month': { type: 'string' },
  'boot-disk-gib': { type: 'string' },
  'boot-disk-type': { type: 'string' },
  'nat-ips': { type: 'string' },
  'egress-gib': { type: 'string' },
  'cross-zone-share': { type: 'string' },
  'fallback-hours': { type: 'string' },
  'peak-gbps': { type: 'string' },
  prices: { type: 'string' },
  json: { type: 'boolean' },
  chart: { type: 'string' },
  'from-prometheus': { type: 'string' },
  window: { type: 'string' },
  'from-agent': { type: 'string' },
  sample: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface NumberRule {
  integer?: boolean;
  min?: number;
  /** The minimum itself is not allowed. */
  minExclusive?: boolean;
  max?: number;
}

export function parseNumber(flag: string, text: string, rule: NumberRule = {}): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? NaN : Number(trimmed);
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value)) throw new UsageError(`--${flag}: '${text}' is not ${kind}`);
  if (rule.integer && !Number.isInteger(value)) throw new UsageError(`--${flag}: '${text}' is not ${kind}`);
  const min = rule.min ?? 0;
  if (rule.minExclusive ? value <= min : value < min) {
    throw new UsageError(`--${flag}: must be ${rule.minExclusive ? 'more than' : 'at least'} ${min}, got ${text}`);
  }
  if (rule.max !== undefined && value > rule.max) throw new UsageError(`--${flag}: must be at most ${rule.max}, got ${text}`);
  return value;
}

type Values = ReturnType<typeof parseCostArgs>;

/** "--gib -5" would read as a missing value; join it so that the range check names the flag and the number. */
function joinNegativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const option = name === undefined ? undefined : (OPTIONS as Record<string, { type: string }>)[name];
    if (option?.type === 'string' && next !== undefined && /^-\d|^-\.\d|^-Infinity$|^-NaN$/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function parseCostArgs(argv: string[]) {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see natgw cost --help)`);
  }
}

function optionalNumber(values: Values, flag: keyof Values & string, rule?: NumberRule): number | undefined {
  const text = values[flag];
  return typeof text === 'string' ? parseNumber(flag, text, rule) : undefined;
}

/** Where the command writes; tests pass their own to read the output without touching the process's streams. */
export interface CostIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** `clock`: how --sample waits and stamps the agent's two scrapes (a test gives the fake agent and the CLI one clock). */
export async function runCostCli(argv: string[], io: CostIo = process, clock: Clock = realClock): Promise<number> {
  const values = parseCostArgs(argv);
  if (values.help) {
    io.stdout.write(COST_USAGE);
    return 0;
  }
  const prices = loadPrices(values.prices);
  if (values.region === undefined) {
    throw new UsageError(`--region: required; known regions: ${knownList(Object.keys(prices.regions))}`);
  }
  const region = values.region;
  regionPrices(prices, region);
  const machineType = values['machine-type'] ?? 'e2-small';
  machineHourUsd(prices, region, machineType);

  const sources = (['gib', 'from-prometheus', 'from-agent'] as const).filter((flag) => values[flag] !== undefined);
  if (sources.length === 0)
    throw new UsageError('--gib: required (GiB processed per month), or measure it with --from-prometheus URL or --from-agent URL');
  if (sources.length > 1) throw new UsageError(`--${sources[0]} and --${sources[1]} cannot be combined: give the traffic one way`);
  if (values.window !== undefined && values['from-prometheus'] === undefined) throw new UsageError('--window: only with --from-prometheus');
  if (values.sample !== undefined && values['from-agent'] === undefined) throw new UsageError('--sample: only with --from-agent');

  const hoursPerMonth = optionalNumber(values, 'hours-per-month', { min: 0, minExclusive: true, max: 744 }) ?? 730;
  let vms = optionalNumber(values, 'vms', { integer: true, min: 1 });
  let gibPerMonth = optionalNumber(values, 'gib');
  let egressGib = optionalNumber(values, 'egress-gib');
  let peakGbps = optionalNumber(values, 'peak-gbps', { min: 0, minExclusive: true });
  const inputsRest = {
    machineType,
    haSize: optionalNumber(values, 'ha-size', { integer: true, min: 1, max: 64 }) ?? 1,
    bootDiskGib: optionalNumber(values, 'boot-disk-gib', { integer: true, min: 1, max: 65536 }) ?? 10,
    bootDiskType: values['boot-disk-type'] ?? 'pd-balanced',
    natIps: optionalNumber(values, 'nat-ips', { integer: true, min: 0, max: 300 }),
    crossZoneShare: optionalNumber(values, 'cross-zone-share', { min: 0, max: 1 }),
    fallbackHoursPerMonth: optionalNumber(values, 'fallback-hours', { min: 0, max: hoursPerMonth }),
  };
  if (vms === undefined && sources[0] === 'gib') throw new UsageError('--vms: required (the number of VMs that use the NAT)');

  let measurement: Measurement | null = null;
  if (values['from-prometheus'] !== undefined) {
    measurement = await measureFromPrometheus(values['from-prometheus'], values.window ?? '1h', hoursPerMonth);
  } else if (values['from-agent'] !== undefined) {
    measurement = await measureFromAgent(
      values['from-agent'],
      parseDuration(values.sample ?? '10s', '--sample'),
      hoursPerMonth,
      15_000,
      clock,
    );
  }
  if (measurement !== null) {
    gibPerMonth = measurement.gibPerMonth;
    egressGib ??= measurement.egressGibPerMonth;
    peakGbps ??= measurement.peakGbps ?? undefined;
    if (vms === undefined) {
      if (measurement.vms === null)
        throw new UsageError(`--vms: required: ${measurement.source} has no natgw_vm_open_connections series to count the VMs from`);
      vms = measurement.vms;
    }
  }
  if (gibPerMonth === undefined || vms === undefined) throw new Error('unreachable: traffic and VM count are resolved above');
  if (egressGib !== undefined && egressGib > gibPerMonth) {
    throw new UsageError(
      `--egress-gib: ${egressGib} is more than the ${Number(gibPerMonth.toFixed(2))} GiB processed; egress is part of it`,
    );
  }

  const inputs: CostInputs = { region, vms, gibPerMonth, hoursPerMonth, egressGibPerMonth: egressGib, peakGbps, ...inputsRest };
  const result = computeCost(inputs, prices);

  if (values.chart !== undefined) {
    try {
      writeFileSync(values.chart, renderChart(result));
    } catch (error) {
      throw new UsageError(`--chart: cannot write ${values.chart} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  io.stdout.write(values.json ? formatJson(result, measurement) : formatTable(result, measurement));
  if (values.chart !== undefined) io.stderr.write(`chart written to ${values.chart}\n`);
  return 0;
}
