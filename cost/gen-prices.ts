/**
 * Regenerates cost/prices.json from the Cyclenerd google-cloud-pricing-cost-calculator catalog (pricing.yml).
 *
 *   npm run build && node dist/cost/gen-prices.js /work/shared/data/gcp-pricing-2026-07-30.yml > cost/prices.json
 *
 * Build-time only: the product never reads the catalog (users do not have it). Facts the catalog lacks (Cloud NAT's
 * per-VM rates, machine egress caps, load balancer prices) are kept here with their public source.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PriceTable, RegionPrices } from './prices.js';

export const REGIONS = [
  'us-central1',
  'us-east1',
  'us-east4',
  'us-west1',
  'europe-west1',
  'europe-west3',
  'europe-west4',
  'asia-northeast1',
  'asia-southeast1',
] as const;

const NOTES_CAPS = 'project notes (gce-facts.md) from cloud.google.com/compute/docs/network-bandwidth';
const SERIES_RULE = 'cloud.google.com/compute/docs/general-purpose-machines per-series bandwidth table; not in the project notes';

// The catalog has vCPU and memory but no bandwidth; the VM's egress cap is what limits a NAT gateway.
export const MACHINE_EGRESS: Record<string, { maxEgressGbps: number; source: string }> = {
  'e2-micro': { maxEgressGbps: 1, source: NOTES_CAPS },
  'e2-small': { maxEgressGbps: 1, source: NOTES_CAPS },
  'e2-medium': { maxEgressGbps: 2, source: NOTES_CAPS },
  'e2-standard-2': { maxEgressGbps: 4, source: NOTES_CAPS },
  'e2-standard-4': { maxEgressGbps: 8, source: SERIES_RULE },
  'n2-standard-2': { maxEgressGbps: 10, source: SERIES_RULE },
  'n2d-standard-2': { maxEgressGbps: 10, source: NOTES_CAPS },
  'c3-standard-4': { maxEgressGbps: 23, source: NOTES_CAPS },
};

/**
 * Reads just the scalar leaves of the catalog into a flat "a.b.c" → value map. The file is machine-written YAML with
 * two-space indentation, plain keys and numeric or plain-string leaves, so a line reader is enough and avoids a
 * YAML dependency; block scalars (the licence text) and list items are skipped.
 */
export function readCatalogLeaves(text: string): Map<string, string> {
  const leaves = new Map<string, string>();
  const stack: string[] = [];
  let blockIndent = -1;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('---')) continue;
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (indent > blockIndent) continue;
      blockIndent = -1;
    }
    const match = /^(\s*)([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line);
    if (match === null) continue;
    const depth = indent / 2;
    stack.length = depth;
    const key = match[2]!;
    const value = match[3];
    if (value === undefined || value === '') {
      stack.push(key);
    } else if (value.startsWith('|') || value.startsWith('>')) {
      blockIndent = indent;
    } else {
      leaves.set([...stack, key].join('.'), value.trim());
    }
  }
  return leaves;
}

function num(leaves: Map<string, string>, path: string): number {
  const raw = leaves.get(path);
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`catalog has no number at ${path}`);
  return value;
}

export function buildPriceTable(leaves: Map<string, string>, catalogName: string): PriceTable {
  const generated = leaves.get('about.generated') ?? 'unknown';
  const dated = new Date(Number(leaves.get('about.timestamp') ?? NaN) * 1000);
  const pricesDated = Number.isNaN(dated.getTime()) ? generated : dated.toISOString().slice(0, 10);

  const regions: Record<string, RegionPrices> = {};
  for (const region of REGIONS) {
    const machineHourUsd: Record<string, number> = {};
    for (const type of Object.keys(MACHINE_EGRESS)) {
      machineHourUsd[type] = num(leaves, `compute.instance.${type}.cost.${region}.hour`);
    }
    const egress = (tier: string) => num(leaves, `compute.network.traffic.egress.internet.cost.${tier}.${region}.month`);
    regions[region] = {
      location: leaves.get(`region.${region}.location`) ?? region,
      machineHourUsd,
      diskGibMonthUsd: {
        'pd-balanced': num(leaves, `compute.storage.balanced.cost.${region}.month`),
        'pd-standard': num(leaves, `compute.storage.hdd.cost.${region}.month`),
      },
      externalIpHourUsd: num(leaves, `compute.network.ip.vm.cost.${region}.hour`),
      natDataPerGibUsd: num(leaves, `compute.network.nat.data.cost.${region}.month`),
      internetEgressTiers: [
        { upToGib: 1024, usdPerGib: egress('0-1') },
        { upToGib: 10240, usdPerGib: egress('1-10') },
        { upToGib: null, usdPerGib: egress('10n') },
      ],
    };
  }

  const machineTypes: PriceTable['machineTypes'] = {};
  for (const [type, egress] of Object.entries(MACHINE_EGRESS)) {
    machineTypes[type] = {
      vcpus: num(leaves, `compute.instance.${type}.cpu`),
      memoryGib: num(leaves, `compute.instance.${type}.ram`),
      maxEgressGbps: egress.maxEgressGbps,
      egressSource: egress.source,
    };
  }

  const natCap = num(leaves, `compute.network.nat.gateway.cost.us-central1.hour`);
  return {
    about: {
      pricesDated,
      currency: 'USD',
      hoursPerMonth: 730,
      generatedBy: `cost/gen-prices.ts from ${catalogName}`,
      sources: {
        catalog: `${catalogName}: Cloud Billing catalog export generated ${generated} by github.com/Cyclenerd/google-cloud-pricing-cost-calculator (machine hours, pd-balanced/pd-standard GiB-month, in-use external IPv4 hours, Cloud NAT data per GiB, internet egress tiers)`,
        cloudNat: `cloud.google.com/nat/pricing (2026): $0.0014 per VM-hour up to 32 VMs, $0.044/h flat above 32, $0.045/GiB processed, $0.005/h per NAT IP. The catalog's gateway cap ${natCap} $/h equals 32 x 0.0014.`,
        interZone:
          'cloud.google.com/vpc/network-pricing: data transfer between zones of one region $0.01/GiB, charged at the sending VM. Not in the catalog.',
        loadBalancer:
          'cloud.google.com/load-balancing/pricing (us-central1 figures, applied to every region): forwarding rule $0.025/h (first 5 rules in a project), data processed by the load balancer $0.008/GiB. Not in the catalog.',
        machineEgress: 'per machine type, see machineTypes.*.egressSource',
      },
      licence:
        'Derived from Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml, Copyright 2022-2025 Nils Knieling, Apache License 2.0. List prices only: no sustained-use, committed-use or negotiated discounts, no taxes.',
    },
    cloudNat: {
      perVmHourUsd: 0.0014,
      perVmMaxVms: 32,
      flatHourUsdAboveMaxVms: 0.044,
      natIpHourUsd: 0.005,
    },
    loadBalancer: {
      forwardingRuleHourUsd: 0.025,
      dataProcessedPerGibUsd: 0.008,
    },
    interZonePerGibUsd: 0.01,
    machineTypes,
    regions,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/cost/gen-prices.js PRICING.yml > cost/prices.json\n');
    process.exit(2);
  }
  const table = buildPriceTable(readCatalogLeaves(readFileSync(file, 'utf8')), basename(file));
  process.stdout.write(`${JSON.stringify(table, null, 2)}\n`);
}
