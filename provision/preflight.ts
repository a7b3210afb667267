// The preflight: read-only checks that run before the first mutation and in every --dry-run, so a deploy that would
// certainly fail on a real project (no such machine type in the zone, an image of the wrong architecture, a disk type
// the series refuses, an exhausted quota) stops with each problem named and nothing created.
import type { CallContext } from './gcp/call.js';
import {
  getDiskType,
  getImageFromFamily,
  getMachineType,
  listFirewalls,
  type Firewall,
  type MachineType,
  type Region,
} from './gcp/network.js';
import {
  architectureOf,
  IAP_RANGE,
  lastSegment,
  machineSeries,
  ownerFromDescription,
  type Architecture,
  type ImageFamily,
} from './model.js';

export interface PreflightReport {
  /** Each one makes the deploy fail for certain: nothing may be created. */
  problems: string[];
  /** Worth the operator's attention; the deploy goes ahead. */
  warnings: string[];
  notes: string[];
}

export const ORG_POLICY_NOTE =
  'organization policies cannot be read through the Compute API, so the preflight does not check them; if one forbids what a NAT VM needs ' +
  '(constraints/compute.vmExternalIpAccess, constraints/compute.vmCanIpForward), GCE refuses at insert time and natgw rolls back what that run created.';

/** The machine type in the first zone that offers it (read before the plan: its architecture picks the image). */
export interface MachineCheck {
  machineType: string;
  found: Map<string, MachineType | undefined>;
  architecture: Architecture;
}

export async function readMachineType(ctx: CallContext, machineType: string, zones: string[]): Promise<MachineCheck> {
  const results = await Promise.all(zones.map((zone) => getMachineType(ctx, zone, machineType)));
  const found = new Map(zones.map((zone, index) => [zone, results[index]]));
  const reported = results.find((result) => result !== undefined)?.architecture;
  return { machineType, found, architecture: architectureOf(machineType, reported) };
}

/** What the plan adds, in the units GCE's regional quotas count. */
export interface QuotaNeeds {
  addresses: number;
  vms: number;
}

// E2 and the newer series have their own CPU metric; N1 (and f1/g1) count against CPUS.
const cpuMetric = (machineType: string) => {
  const series = machineSeries(machineType);
  return ['n1', 'f1', 'g1'].includes(series) ? 'CPUS' : `${series.toUpperCase()}_CPUS`;
};

export function quotaProblems(
  region: Region | undefined,
  regionName: string,
  machineType: string,
  cpusPerVm: number | undefined,
  needs: QuotaNeeds,
): string[] {
  const quotas = region?.quotas ?? [];
  const metrics = new Set(quotas.map((quota) => quota.metric));
  const cpu = metrics.has(cpuMetric(machineType)) ? cpuMetric(machineType) : 'CPUS';
  const wanted: [string, number][] = [
    ['STATIC_ADDRESSES', needs.addresses],
    // Every NAT VM holds an external IP.
    ['IN_USE_ADDRESSES', needs.vms],
    ['INSTANCES', needs.vms],
    [cpu, needs.vms * (cpusPerVm ?? 0)],
  ];
  const problems: string[] = [];
  for (const [metric, need] of wanted) {
    if (need <= 0) continue;
    const quota = quotas.find((candidate) => candidate.metric === metric);
    if (quota?.limit === undefined || quota.limit === null) continue;
    const usage = Number(quota.usage ?? 0);
    const limit = Number(quota.limit);
    if (usage + need > limit) {
      problems.push(
        `quota ${metric} in ${regionName}: limit ${limit}, in use ${usage}, this plan needs ${need} more. ` +
          `Raise it (console: IAM & Admin > Quotas, metric ${metric}, region ${regionName}) or free some, then re-run.`,
      );
    }
  }
  return problems;
}

export interface PreflightInput {
  region: Region | undefined;
  regionName: string;
  network: string;
  machine: MachineCheck;
  /** Zones the plan puts VMs in (single: one; HA: the group's zones). */
  zones: string[];
  image: ImageFamily;
  bootDiskType: string;
  needs: QuotaNeeds;
  gateway: string;
  /** The NAT VM's network tags: a rule targeting one of them applies to it. */
  vmTags: string[];
}

export async function preflight(ctx: CallContext, input: PreflightInput): Promise<PreflightReport> {
  const problems: string[] = [];
  const { machine } = input;
  for (const zone of input.zones) {
    if (machine.found.get(zone) === undefined) {
      problems.push(
        `machine type ${machine.machineType} is not offered in zone ${zone}: pick another --machine-type ` +
          `(gcloud compute machine-types list --zones ${zone} --project ${ctx.project}) or another zone.`,
      );
    }
  }
  const cpus = [...machine.found.values()].find((type) => type !== undefined)?.guestCpus ?? undefined;

  const [image, diskTypes, firewalls] = await Promise.all([
    getImageFromFamily(ctx, input.image.project, input.image.family),
    Promise.all(input.zones.map((zone) => getDiskType(ctx, zone, input.bootDiskType))),
    listFirewalls(ctx),
  ]);
  if (image === undefined) {
    problems.push(
      `image family ${input.image.project}/${input.image.family} not found; natgw runs on stock Debian 13 (${machine.architecture === 'ARM64' ? 'arm64' : 'amd64'} for ${machine.machineType}).`,
    );
  } else if (
    image.architecture !== undefined &&
    image.architecture !== null &&
    image.architecture !== '' &&
    String(image.architecture) !== machine.architecture
  ) {
    problems.push(
      `image ${image.name} is ${String(image.architecture)} but ${machine.machineType} is ${machine.architecture}: GCE would refuse the boot disk.`,
    );
  }
  input.zones.forEach((zone, index) => {
    if (diskTypes[index] === undefined) {
      problems.push(
        `disk type ${input.bootDiskType} (the boot disk ${machine.machineType} needs) is not offered in zone ${zone}: pick another --machine-type or zone.`,
      );
    }
  });
  problems.push(
    ...quotaProblems(input.region, input.regionName, machine.machineType, cpus === undefined ? undefined : Number(cpus), input.needs),
  );

  return {
    problems,
    warnings: exposureWarnings(ctx.project, input.network, input.gateway, input.vmTags, firewalls),
    notes: [ORG_POLICY_NOTE],
  };
}

const OPEN_RANGES = new Set(['0.0.0.0/0', '::/0']);

const allowedText = (rule: Firewall) =>
  (rule.allowed ?? [])
    .map(
      (allowed) =>
        `${allowed.IPProtocol ?? '?'}${allowed.ports !== undefined && allowed.ports !== null && allowed.ports.length > 0 ? `:${allowed.ports.join(',')}` : ''}`,
    )
    .join(', ');

/**
 * Rules of the network that let anyone on the internet reach the NAT VM (it has an external IP), e.g. the default
 * network's default-allow-ssh. The NAT VM runs without a service account, so service-account targets never match it.
 */
export function exposureWarnings(project: string, network: string, gateway: string, vmTags: string[], firewalls: Firewall[]): string[] {
  const warnings: string[] = [];
  for (const rule of firewalls) {
    if (lastSegment(rule.network) !== network || rule.disabled === true) continue;
    if (String(rule.direction ?? 'INGRESS') !== 'INGRESS' || (rule.allowed ?? []).length === 0) continue;
    if (ownerFromDescription(rule.description) === gateway) continue;
    if (!(rule.sourceRanges ?? []).some((range) => OPEN_RANGES.has(range))) continue;
    if ((rule.targetServiceAccounts ?? []).length > 0) continue;
    const targets = rule.targetTags ?? [];
    if (targets.length > 0 && !targets.some((tag) => vmTags.includes(tag))) continue;
    const name = rule.name ?? '?';
    warnings.push(
      `firewall rule ${name} lets the internet (0.0.0.0/0) reach the NAT VM on ${allowedText(rule)} ` +
        `(${targets.length === 0 ? 'it applies to every instance of the network' : `it targets the tag ${targets.filter((tag) => vmTags.includes(tag)).join(',')}`}), and the NAT VM has a public IP. ` +
        `Narrow it to Identity-Aware Proxy (use --iap-ssh for SSH): gcloud compute firewall-rules update ${name} --project ${project} --source-ranges ${IAP_RANGE}, ` +
        `or delete it: gcloud compute firewall-rules delete ${name} --project ${project}`,
    );
  }
  return warnings;
}
