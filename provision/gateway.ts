// Reads what exists (observe) and computes what should exist (desired) for one gateway.
import { ConfigError, validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { UsageError } from '../common/errors.js';
import { getAddress, listAddresses, type Address } from './gcp/addresses.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { getFirewall, type Firewall } from './gcp/firewalls.js';
import { getInstance, type Instance } from './gcp/instances.js';
import { getNetwork, getRegion, listSubnetworks, type Network, type Region, type Subnetwork } from './gcp/network.js';
import { getRoute, type Route } from './gcp/routes.js';
import { clientRouteDescription } from './kinds/route.js';
import {
  architectureOf,
  bootDiskTypeFor,
  DEBIAN_IMAGES,
  HEALTH_CHECK_RANGES,
  imageFamilyUrl,
  IAP_RANGE,
  labelsFor,
  lastSegment,
  markerFor,
  resourceNames,
  shortLink,
  type Desired,
  type DesiredFirewall,
  type Observed,
  type ObservedAddress,
  type ObservedFirewall,
  type ObservedInstance,
  type ObservedRoute,
  type ResourceNames,
  gatewayFirewalls,
} from './model.js';
import type { Options } from './options.js';
import { resolveSourceRanges, type SubnetInfo } from './subnets.js';
import { DEFAULT_AGENT_LISTEN, METADATA } from '../common/protocol.js';

export interface Discovery {
  network: Network;
  subnets: Subnetwork[];
  zones: string[];
  /** The region as read (its quotas feed the preflight). */
  region?: Region;
  /** What machineTypes.get reported (the preflight reads it); absent: derived from the series name. */
  machineArchitecture?: string;
}

async function readRegion(ctx: CallContext, region: string): Promise<Region> {
  const found = await getRegion(ctx, region);
  if (found === undefined) throw new ProvisionError(`region '${region}' not found in project ${ctx.project} (check --region)`);
  return found;
}

/** The region's zones, sorted, so the default zone is stable across runs. */
const zonesOf = (region: Region) => (region.zones ?? []).map(lastSegment).sort();

export const regionZones = async (ctx: CallContext, region: string): Promise<string[]> => zonesOf(await readRegion(ctx, region));

export async function discover(ctx: CallContext, options: Options): Promise<Discovery> {
  const region = await readRegion(ctx, options.region);
  const zones = zonesOf(region);
  const network = await getNetwork(ctx, options.network);
  if (network === undefined)
    throw new ProvisionError(`network '${options.network}' not found in project ${options.project} (check --network and --project)`);
  const subnets = (await listSubnetworks(ctx, options.region)).filter((subnet) => lastSegment(subnet.network) === options.network);
  return { network, subnets, zones, region };
}

// ---- observe ----

const labelsOf = (labels: Record<string, string> | null | undefined): Record<string, string> => ({ ...(labels ?? {}) });

export function observeAddress(address: Address): ObservedAddress {
  return {
    name: address.name ?? '',
    address: address.address ?? '',
    status: String(address.status ?? ''),
    labels: labelsOf(address.labels),
    labelFingerprint: address.labelFingerprint ?? '',
    users: [...(address.users ?? [])],
  };
}

export function observeFirewall(firewall: Firewall): ObservedFirewall {
  return {
    name: firewall.name ?? '',
    network: firewall.network ?? '',
    sourceRanges: [...(firewall.sourceRanges ?? [])],
    ...((firewall.sourceTags ?? []).length === 0 ? {} : { sourceTags: [...(firewall.sourceTags ?? [])] }),
    ...((firewall.destinationRanges ?? []).length === 0 ? {} : { destinationRanges: [...(firewall.destinationRanges ?? [])] }),
    targetTags: [...(firewall.targetTags ?? [])],
    allowed: (firewall.allowed ?? []).map((rule) => ({
      IPProtocol: rule.IPProtocol ?? '',
      ...(rule.ports === undefined || rule.ports === null || rule.ports.length === 0 ? {} : { ports: [...rule.ports] }),
    })),
    priority: Number(firewall.priority ?? 1000),
    description: firewall.description ?? '',
    disabled: firewall.disabled === true,
  };
}

export function observeInstance(instance: Instance): ObservedInstance {
  const nic = instance.networkInterfaces?.[0];
  const natIp = nic?.accessConfigs?.[0]?.natIP ?? undefined;
  const shielded = instance.shieldedInstanceConfig;
  return {
    name: instance.name ?? '',
    zone: lastSegment(instance.zone),
    status: String(instance.status ?? ''),
    machineType: lastSegment(instance.machineType),
    canIpForward: instance.canIpForward === true,
    network: nic?.network ?? '',
    subnetwork: nic?.subnetwork ?? '',
    ...(natIp === undefined || natIp === null ? {} : { natIp }),
    ...(nic?.networkIP === undefined || nic.networkIP === null ? {} : { internalIp: nic.networkIP }),
    tags: [...(instance.tags?.items ?? [])],
    tagsFingerprint: instance.tags?.fingerprint ?? '',
    labels: labelsOf(instance.labels),
    labelFingerprint: instance.labelFingerprint ?? '',
    metadata: Object.fromEntries((instance.metadata?.items ?? []).map((item) => [item.key ?? '', item.value ?? ''])),
    metadataFingerprint: instance.metadata?.fingerprint ?? '',
    shielded: shielded?.enableSecureBoot === true && shielded.enableVtpm === true && shielded.enableIntegrityMonitoring === true,
  };
}

function observeRoute(route: Route): ObservedRoute {
  return {
    name: route.name ?? '',
    network: route.network ?? '',
    destRange: route.destRange ?? '',
    priority: Number(route.priority ?? 1000),
    tags: [...(route.tags ?? [])],
    nextHopInstance: shortLink(route.nextHopInstance),
    description: route.description ?? '',
    warnings: routeWarnings(route),
  };
}

export const routeWarnings = (route: Route) =>
  (route.warnings ?? []).map((warning) => ({ code: String(warning.code ?? ''), message: warning.message ?? '' }));

export interface ObserveTarget {
  names: ResourceNames;
  region: string;
  zones: string[];
  natIp?: Options['natIp'];
}

/** Reads every resource the gateway may own (GETs only). The VM is looked for in every zone of the region. */
export async function observe(ctx: CallContext, target: ObserveTarget): Promise<Observed> {
  const { names, region } = target;
  const addressPromise = (async () => {
    const choice = target.natIp ?? { mode: 'reserve' as const };
    if (choice.mode === 'reserve') return getAddress(ctx, region, names.address);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(choice.ref))
      return (await listAddresses(ctx, region)).find((address) => address.address === choice.ref);
    return getAddress(ctx, region, choice.ref);
  })();
  const firewallNames = gatewayFirewalls(names);
  const [address, firewalls, instances, route] = await Promise.all([
    addressPromise,
    Promise.all(firewallNames.map((name) => getFirewall(ctx, name))),
    Promise.all(target.zones.map((zone) => getInstance(ctx, zone, names.instance))),
    getRoute(ctx, names.route),
  ]);
  return observedSingle(names, {
    address,
    firewalls: Object.fromEntries(
      firewallNames.map((name, index) => [name, firewalls[index] === undefined ? undefined : observeFirewall(firewalls[index]!)]),
    ),
    instances,
    route,
  });
}

/** What single mode reads, as the API returned it: by observe() itself, or by the reader status and destroy share. */
export interface SingleReads {
  address: Address | undefined;
  /** By name: the rules single mode may own. */
  firewalls: Record<string, ObservedFirewall | undefined>;
  /** The NAT VM's name looked up in each zone of the region. */
  instances: (Instance | undefined)[];
  route: Route | undefined;
}

export function observedSingle(names: ResourceNames, reads: SingleReads): Observed {
  const found = reads.instances.filter((instance): instance is Instance => instance !== undefined);
  if (found.length > 1) {
    throw new ProvisionError(
      `instance '${names.instance}' exists in several zones (${found.map((instance) => lastSegment(instance.zone)).join(', ')}); delete the extra one`,
    );
  }
  const observed: Observed = { firewalls: reads.firewalls };
  if (reads.address !== undefined) observed.address = observeAddress(reads.address);
  if (found[0] !== undefined) observed.instance = observeInstance(found[0]);
  if (reads.route !== undefined) observed.route = observeRoute(reads.route);
  return observed;
}

// ---- desired ----

export function subnetInfo(subnets: Subnetwork[]): SubnetInfo[] {
  return subnets.map((subnet) => ({
    name: subnet.name ?? '',
    ipCidrRange: subnet.ipCidrRange ?? '',
    secondaryIpRanges: (subnet.secondaryIpRanges ?? []).map((range) => ({
      rangeName: range.rangeName ?? '',
      ipCidrRange: range.ipCidrRange ?? '',
    })),
  }));
}

/** The agent config for the VM, validated with the agent's own schema before anything is created. */
export function agentConfigFor(options: Options, sourceRanges: string[]): AgentConfigInput {
  const config = { sourceRanges, ...options.agent } as AgentConfigInput;
  try {
    validateAgentConfig(config, `the generated ${METADATA.config}`);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(
        `the client ranges do not make a valid agent config:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}\n(use --subnets to choose ranges, or --allow-non-private-ranges)`,
      );
    }
    throw error;
  }
  return config;
}

export function agentPort(config: AgentConfigInput): number {
  const listen = config.listen ?? DEFAULT_AGENT_LISTEN;
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

export interface DesiredInputs {
  options: Options;
  discovery: Discovery;
  zone: string;
  /** Agent bundle and startup script metadata (natgw-agent-*, startup-script). */
  payload: Record<string, string>;
  /**
   * Who the health-check rule lets in and why, for a mode whose load balancers check more than /healthz: a mode that
   * builds on this one says so here rather than rewriting the rule it finds by name.
   */
  healthRule?: HealthRule;
}

export interface HealthRule {
  /** After the ownership marker. */
  description: string;
  extraSourceRanges: string[];
}

export function desiredState({ options, discovery, zone, payload, healthRule }: DesiredInputs): {
  desired: Desired;
  agentConfig: AgentConfigInput;
} {
  const names = resourceNames(options.name);
  const where = `network '${options.network}' in ${options.region}`;
  const sourceRanges = [...resolveSourceRanges(options.subnets, subnetInfo(discovery.subnets), where)];
  for (const cidr of options.extraSourceRanges) if (!sourceRanges.includes(cidr)) sourceRanges.push(cidr);
  const agentConfig = agentConfigFor(options, sourceRanges);
  const networkLink = `projects/${options.project}/global/networks/${options.network}`;
  const marker = markerFor(options.name);
  const labels = labelsFor(options.name);
  const vmSubnet = pickVmSubnet(options, discovery.subnets);
  const architecture = architectureOf(options.machineType, discovery.machineArchitecture);

  const firewalls: DesiredFirewall[] = [
    {
      name: names.firewallClients,
      network: networkLink,
      sourceRanges,
      targetTags: [names.vmTag],
      allowed: [{ IPProtocol: 'all' }],
      priority: 1000,
      description: `${marker} clients of NAT gateway ${options.name} may send any traffic to it`,
    },
    {
      name: names.firewallHealth,
      network: networkLink,
      sourceRanges: [...HEALTH_CHECK_RANGES, ...(healthRule?.extraSourceRanges ?? [])],
      targetTags: [names.vmTag],
      allowed: [{ IPProtocol: 'tcp', ports: [String(agentPort(agentConfig))] }],
      priority: 1000,
      description: `${marker} ${healthRule?.description ?? "Google health checks may reach the natgw agent's /healthz"}`,
    },
  ];
  if (options.iapSsh) {
    firewalls.push({
      name: names.firewallIap,
      network: networkLink,
      sourceRanges: [IAP_RANGE],
      targetTags: [names.vmTag],
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
      priority: 1000,
      description: `${marker} SSH to the NAT VM through Identity-Aware Proxy only`,
    });
  }
  // The agent's input chain admits the same ranges (agent/ruleset.ts): both guards name the same Prometheus servers.
  const metricsRanges = agentConfig.metricsSourceRanges ?? [];
  if (metricsRanges.length > 0) {
    firewalls.push({
      name: names.firewallMetrics,
      network: networkLink,
      sourceRanges: metricsRanges,
      targetTags: [names.vmTag],
      allowed: [{ IPProtocol: 'tcp', ports: [String(agentPort(agentConfig))] }],
      priority: 1000,
      description: `${marker} Prometheus may scrape the natgw agent's /metrics`,
    });
  }

  const metadata: Record<string, string> = {
    'enable-guest-attributes': 'TRUE',
    'enable-oslogin': 'TRUE',
    'block-project-ssh-keys': 'TRUE',
    [METADATA.config]: JSON.stringify(agentConfig),
    ...payload,
  };

  const desired: Desired = {
    gateway: options.name,
    project: options.project,
    region: options.region,
    network: options.network,
    address: {
      name: options.natIp.mode === 'reserve' ? names.address : options.natIp.ref,
      managed: options.natIp.mode === 'reserve',
      labels,
      description: `${marker} NAT IP of gateway ${options.name}`,
    },
    firewalls,
    instance: {
      name: names.instance,
      zone,
      machineType: options.machineType,
      architecture,
      image: DEBIAN_IMAGES[architecture],
      sourceImage: imageFamilyUrl(DEBIAN_IMAGES[architecture]),
      bootDiskType: bootDiskTypeFor(options.machineType),
      bootDiskGb: options.bootDiskGb,
      subnetwork: vmSubnet.selfLink ?? '',
      network: networkLink,
      tags: [names.vmTag],
      labels,
      metadata,
    },
    route: {
      name: names.route,
      network: networkLink,
      destRange: '0.0.0.0/0',
      priority: options.routePriority,
      tags: [options.clientTag],
      nextHopInstance: `zones/${zone}/instances/${names.instance}`,
      description: clientRouteDescription(options.name, options.clientTag, 'instance'),
    },
  };
  return { desired, agentConfig };
}

/** The NAT VM sits in the first selected subnet (any subnet of the network in the region reaches every other). */
export function pickVmSubnet(options: Options, subnets: Subnetwork[]): Subnetwork {
  const sorted = [...subnets].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const preferred =
    options.subnets.mode === 'list'
      ? sorted.find((subnet) => subnet.name === (options.subnets as { entries: { subnet: string }[] }).entries[0]?.subnet)
      : undefined;
  const chosen = preferred ?? sorted[0];
  if (chosen === undefined)
    throw new UsageError(`--network: '${options.network}' has no subnet in ${options.region}; the NAT VM needs one`);
  return chosen;
}

/** Zone for the VM: --zone, else where the VM already runs, else the region's first zone. */
export function chooseZone(options: Options, zones: string[], observed: Observed): string {
  if (options.zone !== undefined) {
    if (!zones.includes(options.zone))
      throw new UsageError(`--zone: '${options.zone}' is not a zone of ${options.region} (zones: ${zones.join(', ')})`);
    return options.zone;
  }
  if (observed.instance !== undefined) return observed.instance.zone;
  const first = zones[0];
  if (first === undefined) throw new ProvisionError(`region ${options.region} lists no zones`);
  return first;
}
