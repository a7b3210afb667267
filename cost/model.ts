import { UsageError } from '../common/errors.js';
import type { EgressTier, PriceTable } from './prices.js';

export interface CostInputs {
  region: string;
  /** VMs that use the NAT: Cloud NAT bills per VM, natgw does not care. */
  vms: number;
  /** GiB processed per month, both directions: what Cloud NAT bills per GiB. */
  gibPerMonth: number;
  machineType: string;
  /** 1 = a single gateway VM; K ≥ 2 = K VMs behind an internal passthrough load balancer used as next hop. */
  haSize: number;
  hoursPerMonth: number;
  bootDiskGib: number;
  bootDiskType: string;
  /** Cloud NAT IPs; undefined = as many as the VMs need at Cloud NAT's default 64 ports per VM. */
  natIps?: number | undefined;
  /** Internet-bound GiB per month; undefined = assume half of gibPerMonth. */
  egressGibPerMonth?: number | undefined;
  /**
   * Share of the processed GiB that crosses zones between a client and the gateway VM (Cloud NAT has no such hop).
   * Undefined = 0: not counted, and the output says so.
   */
  crossZoneShare?: number | undefined;
  /** Peak throughput through the gateway (both directions: both leave the gateway VM), for the egress-cap check. */
  peakGbps?: number | undefined;
  /**
   * Hours per month natgw spends on its Cloud NAT fallback (docs/fallback.md): Cloud NAT bills its VM-hours, NAT
   * IP-hours and per-GiB fee for that share of the month and traffic only. Undefined = 0; at most hoursPerMonth (the
   * CLI checks it).
   */
  fallbackHoursPerMonth?: number | undefined;
}

export interface LineItem {
  label: string;
  quantity: number;
  unit: string;
  unitUsd: number;
  monthlyUsd: number;
}

export interface Bill {
  lineItems: LineItem[];
  monthlyUsd: number;
  /** The part that does not depend on traffic; with perGibUsd it makes the bill a line in GiB/month. */
  fixedMonthlyUsd: number;
  perGibUsd: number;
}

export interface CapacityCheck {
  maxEgressGbpsPerVm: number;
  instances: number;
  capacityGbps: number;
  peakGbps: number | null;
  fits: boolean | null;
  /** Cheapest machine type in the region whose cap, times the instance count, covers the peak. */
  cheapestFittingType: string | null;
}

export interface CostResult {
  inputs: Required<Omit<CostInputs, 'peakGbps' | 'egressGibPerMonth' | 'natIps' | 'crossZoneShare' | 'fallbackHoursPerMonth'>> & {
    crossZoneShare: number;
    fallbackHoursPerMonth: number;
    natIps: number;
    egressGibPerMonth: number;
    egressAssumed: boolean;
    peakGbps: number | null;
  };
  pricesDated: string;
  /** The --prices file merged over the bundled table, if any. */
  pricesOverriddenBy: string | null;
  cloudNat: Bill;
  natgw: Bill;
  internetEgress: { gibPerMonth: number; assumed: boolean; lineItems: LineItem[]; monthlyUsd: number };
  /** Cloud NAT minus natgw: positive means natgw saves that much. Internet egress is not in it. */
  differenceUsd: number;
  cheaper: 'natgw' | 'cloudNat' | 'equal';
  /** GiB/month at which both cost the same for this VM count; 0 = natgw is cheaper at any traffic; null = never. */
  breakEvenGibPerMonth: number | null;
  capacity: CapacityCheck;
  warnings: string[];
}

/** Cloud NAT's default minimum ports per VM, and the usable ports of one NAT IP. */
const CLOUD_NAT_MIN_PORTS_PER_VM = 64;
const PORTS_PER_NAT_IP = 64_512;

export function defaultNatIps(vms: number): number {
  return Math.max(1, Math.ceil((vms * CLOUD_NAT_MIN_PORTS_PER_VM) / PORTS_PER_NAT_IP));
}

function item(label: string, quantity: number, unit: string, unitUsd: number, monthlyUsd = quantity * unitUsd): LineItem {
  return { label, quantity, unit, unitUsd, monthlyUsd };
}

function sum(items: LineItem[]): number {
  return items.reduce((total, line) => total + line.monthlyUsd, 0);
}

export function knownList(names: Iterable<string>): string {
  return [...names].sort().join(', ');
}

export function regionPrices(prices: PriceTable, region: string) {
  const found = prices.regions[region];
  if (found === undefined) {
    throw new UsageError(
      `--region: unknown region '${region}'; known regions: ${knownList(Object.keys(prices.regions))} (add one with --prices FILE)`,
    );
  }
  return found;
}

export function machineHourUsd(prices: PriceTable, region: string, type: string): number {
  const hourly = regionPrices(prices, region).machineHourUsd[type];
  if (hourly === undefined || prices.machineTypes[type] === undefined) {
    const known = Object.keys(regionPrices(prices, region).machineHourUsd).filter((name) => prices.machineTypes[name] !== undefined);
    throw new UsageError(
      `--machine-type: unknown machine type '${type}' in ${region}; known types: ${knownList(known)} (add one with --prices FILE)`,
    );
  }
  return hourly;
}

/** Internet egress is tiered by monthly volume: each tier's price applies only to the GiB that fall inside it. */
export function tieredEgress(gib: number, tiers: EgressTier[]): LineItem[] {
  const items: LineItem[] = [];
  let lower = 0;
  for (const tier of tiers) {
    if (gib <= lower) break;
    const upper = tier.upToGib ?? Infinity;
    const inTier = Math.min(gib, upper) - lower;
    const range = tier.upToGib === null ? `above ${fmtGib(lower)}` : `${fmtGib(lower)}–${fmtGib(upper)}`;
    items.push(item(`internet egress ${range}`, inTier, 'GiB', tier.usdPerGib));
    lower = upper;
  }
  return items;
}

function fmtGib(gib: number): string {
  return gib % 1024 === 0 && gib > 0 ? `${gib / 1024} TiB` : `${gib} GiB`;
}

/** Cloud NAT for `hours` of the month carrying `share` of the month's GiB (1 and all of it as the alternative). */
function cloudNatBill(inputs: CostInputs, natIps: number, prices: PriceTable, hours = inputs.hoursPerMonth, share = 1, prefix = ''): Bill {
  const nat = prices.cloudNat;
  const dataPerGib = regionPrices(prices, inputs.region).natDataPerGibUsd;
  const gib = inputs.gibPerMonth * share;
  const vmCharge =
    inputs.vms <= nat.perVmMaxVms
      ? item(`${prefix}VM-hours: ${inputs.vms} VMs × ${round(hours, 2)} h`, inputs.vms * hours, 'VM-hour', nat.perVmHourUsd)
      : item(`${prefix}flat rate above ${nat.perVmMaxVms} VMs: ${round(hours, 2)} h`, hours, 'hour', nat.flatHourUsdAboveMaxVms);
  const fixed = [vmCharge, item(`${prefix}NAT IPs: ${natIps} × ${round(hours, 2)} h`, natIps * hours, 'IP-hour', nat.natIpHourUsd)];
  const data = item(`${prefix}data processed: ${round(gib, 2)} GiB`, gib, 'GiB', dataPerGib);
  const lineItems = [fixed[0]!, data, fixed[1]!];
  return { lineItems, monthlyUsd: sum(lineItems), fixedMonthlyUsd: sum(fixed), perGibUsd: dataPerGib * share };
}

function natgwBill(inputs: CostInputs, natIps: number, prices: PriceTable): Bill {
  const region = regionPrices(prices, inputs.region);
  const hours = inputs.hoursPerMonth;
  // On the fallback, Cloud NAT carries that share of the month's traffic instead of natgw (the VMs keep running).
  const fallbackHours = inputs.fallbackHoursPerMonth ?? 0;
  const fallbackShare = fallbackHours / hours;
  const servedGib = inputs.gibPerMonth * (1 - fallbackShare);
  const k = inputs.haSize;
  const vmHourly = machineHourUsd(prices, inputs.region, inputs.machineType);
  const diskGibMonth = region.diskGibMonthUsd[inputs.bootDiskType];
  if (diskGibMonth === undefined) {
    throw new UsageError(
      `--boot-disk-type: unknown disk type '${inputs.bootDiskType}'; known types: ${knownList(Object.keys(region.diskGibMonthUsd))}`,
    );
  }
  // Disk prices are per GiB-month of the catalog's 730 h; billing is per second, so prorate to the modelled month.
  const diskMonthFraction = hours / prices.about.hoursPerMonth;
  const fixed = [
    item(`${inputs.machineType} VM: ${k} × ${hours} h`, k * hours, 'VM-hour', vmHourly),
    item(
      `boot disk ${inputs.bootDiskType}: ${k} × ${inputs.bootDiskGib} GiB`,
      k * inputs.bootDiskGib,
      'GiB-month',
      diskGibMonth,
      k * inputs.bootDiskGib * diskGibMonth * diskMonthFraction,
    ),
    item(`external IPs: ${k} × ${hours} h`, k * hours, 'IP-hour', region.externalIpHourUsd),
  ];
  let perGib = 0;
  const lineItems = [...fixed];
  const crossZone = inputs.crossZoneShare ?? 0;
  if (crossZone > 0) {
    const crossGib = servedGib * crossZone;
    lineItems.push(
      item(`inter-zone transfer: ${round(crossZone * 100, 1)} % of ${round(servedGib, 2)} GiB`, crossGib, 'GiB', prices.interZonePerGibUsd),
    );
    perGib += (1 - fallbackShare) * crossZone * prices.interZonePerGibUsd;
  }
  if (k >= 2) {
    const lb = prices.loadBalancer;
    const rule = item(`internal load balancer forwarding rule: ${hours} h`, hours, 'hour', lb.forwardingRuleHourUsd);
    fixed.push(rule);
    // An upper bound: through a next-hop load balancer only the client→internet direction passes the load balancer.
    const data = item(`load balancer data processed: ${round(servedGib, 2)} GiB`, servedGib, 'GiB', lb.dataProcessedPerGibUsd);
    perGib += (1 - fallbackShare) * lb.dataProcessedPerGibUsd;
    lineItems.push(rule, data);
  }
  if (fallbackHours > 0) {
    const fallback = cloudNatBill(inputs, natIps, prices, fallbackHours, fallbackShare, 'Cloud NAT fallback ');
    lineItems.push(...fallback.lineItems);
    fixed.push(...fallback.lineItems.filter((line) => line.unit !== 'GiB'));
    perGib += fallback.perGibUsd;
  }
  return { lineItems, monthlyUsd: sum(lineItems), fixedMonthlyUsd: sum(fixed), perGibUsd: perGib };
}

/** Where two lines fixed + perGib × G meet, for G ≥ 0. */
export function breakEven(
  cloudNat: Pick<Bill, 'fixedMonthlyUsd' | 'perGibUsd'>,
  natgw: Pick<Bill, 'fixedMonthlyUsd' | 'perGibUsd'>,
): number | null {
  const fixedGap = natgw.fixedMonthlyUsd - cloudNat.fixedMonthlyUsd;
  const rateGap = cloudNat.perGibUsd - natgw.perGibUsd;
  if (fixedGap <= 0 && rateGap >= 0) return 0;
  if (rateGap <= 0) return fixedGap <= 0 ? 0 : null;
  return fixedGap / rateGap;
}

export function cheapestFittingType(prices: PriceTable, region: string, peakGbps: number, instances: number): string | null {
  const hourly = regionPrices(prices, region).machineHourUsd;
  const fitting = Object.entries(prices.machineTypes)
    .filter(([type, spec]) => hourly[type] !== undefined && spec.maxEgressGbps * instances >= peakGbps)
    .sort(([a], [b]) => (hourly[a] ?? 0) - (hourly[b] ?? 0));
  return fitting[0]?.[0] ?? null;
}

function capacityCheck(inputs: CostInputs, prices: PriceTable, warnings: string[]): CapacityCheck {
  const spec = prices.machineTypes[inputs.machineType];
  const perVm = spec?.maxEgressGbps ?? 0;
  const k = inputs.haSize;
  const capacity = perVm * k;
  const peak = inputs.peakGbps ?? null;
  const check: CapacityCheck = {
    maxEgressGbpsPerVm: perVm,
    instances: k,
    capacityGbps: capacity,
    peakGbps: peak,
    fits: null,
    cheapestFittingType: null,
  };
  if (peak === null) return check;
  check.fits = peak <= capacity;
  if (!check.fits) {
    check.cheapestFittingType = cheapestFittingType(prices, inputs.region, peak, k);
    const what =
      k === 1
        ? `${inputs.machineType} can send at most ${perVm} Gbps`
        : `${k} × ${inputs.machineType} can send at most ${capacity} Gbps together`;
    const fix =
      check.cheapestFittingType !== null
        ? `the cheapest type that fits is ${check.cheapestFittingType} (${prices.machineTypes[check.cheapestFittingType]?.maxEgressGbps} Gbps per VM): --machine-type ${check.cheapestFittingType}`
        : `no known type fits with ${k} instance(s); raise --ha-size`;
    warnings.push(`peak ${round(peak, 3)} Gbps exceeds the egress cap: ${what}; ${fix}`);
  } else if (k >= 2 && perVm * (k - 1) < peak) {
    warnings.push(`with one of the ${k} instances down, ${perVm * (k - 1)} Gbps is below the peak of ${round(peak, 3)} Gbps`);
  }
  return check;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The whole comparison. Pure: everything it knows comes from its arguments. */
export function computeCost(inputs: CostInputs, prices: PriceTable): CostResult {
  const region = regionPrices(prices, inputs.region);
  machineHourUsd(prices, inputs.region, inputs.machineType);
  const natIps = inputs.natIps ?? defaultNatIps(inputs.vms);
  const egressAssumed = inputs.egressGibPerMonth === undefined;
  const egressGib = inputs.egressGibPerMonth ?? inputs.gibPerMonth / 2;

  const cloudNat = cloudNatBill(inputs, natIps, prices);
  const natgw = natgwBill(inputs, natIps, prices);
  const egressItems = tieredEgress(egressGib, region.internetEgressTiers);
  const differenceUsd = cloudNat.monthlyUsd - natgw.monthlyUsd;
  const warnings: string[] = [];
  const capacity = capacityCheck(inputs, prices, warnings);
  if (inputs.vms > 0 && natIps === 0) warnings.push('Cloud NAT priced with 0 NAT IPs: real gateways need at least one');
  if ((inputs.fallbackHoursPerMonth ?? 0) > 0)
    warnings.push(
      'the Cloud NAT fallback is priced only for its hours on duty: whether Cloud NAT bills VM-hours for VMs whose traffic goes to natgw is undocumented (docs/fallback.md#what-it-costs)',
    );

  return {
    inputs: {
      region: inputs.region,
      vms: inputs.vms,
      gibPerMonth: inputs.gibPerMonth,
      machineType: inputs.machineType,
      haSize: inputs.haSize,
      hoursPerMonth: inputs.hoursPerMonth,
      bootDiskGib: inputs.bootDiskGib,
      bootDiskType: inputs.bootDiskType,
      natIps,
      crossZoneShare: inputs.crossZoneShare ?? 0,
      fallbackHoursPerMonth: inputs.fallbackHoursPerMonth ?? 0,
      egressGibPerMonth: egressGib,
      egressAssumed,
      peakGbps: inputs.peakGbps ?? null,
    },
    pricesDated: prices.about.pricesDated,
    pricesOverriddenBy: prices.about.overriddenBy ?? null,
    cloudNat,
    natgw,
    internetEgress: { gibPerMonth: egressGib, assumed: egressAssumed, lineItems: egressItems, monthlyUsd: sum(egressItems) },
    differenceUsd,
    cheaper: Math.abs(differenceUsd) < 0.005 ? 'equal' : differenceUsd > 0 ? 'natgw' : 'cloudNat',
    breakEvenGibPerMonth: breakEven(cloudNat, natgw),
    capacity,
    warnings,
  };
}
