// What a gateway is made of, in natgw's own terms: desired and observed state, and the ownership markers. Kept free of
// client types so plan() stays pure and testable without the compute package.

export const MANAGED_BY_LABEL = 'managed-by';
export const MANAGED_BY_VALUE = 'natgw';
export const GATEWAY_LABEL = 'natgw-gateway';
export const HEALTH_CHECK_RANGES = ['35.191.0.0/16', '130.211.0.0/22'];
export const IAP_RANGE = '35.235.240.0/20';
export type Architecture = 'X86_64' | 'ARM64';
export interface ImageFamily {
  project: string;
  family: string;
}
export const DEBIAN_IMAGES: Record<Architecture, ImageFamily> = {
  X86_64: { project: 'debian-cloud', family: 'debian-13' },
  ARM64: { project: 'debian-cloud', family: 'debian-13-arm64' },
};
export const imageFamilyUrl = (image: ImageFamily) => `projects/${image.project}/global/images/family/${image.family}`;

// Arm series boot only arm64 images; these series take Hyperdisk boot disks only (no pd-*). Both lists from GCE's
// machine-series docs (2026-11); machineTypes.get's architecture, when GCE reports one, wins over the name.
const ARM_SERIES = new Set(['t2a', 'c4a']);
const HYPERDISK_ONLY_SERIES = new Set(['c4', 'c4a', 'c4d', 'n4', 'x4', 'm4']);

export const machineSeries = (machineType: string) => machineType.split('-')[0] ?? machineType;

export function architectureOf(machineType: string, reported?: string | null): Architecture {
  if (reported === 'ARM64' || reported === 'X86_64') return reported;
  return ARM_SERIES.has(machineSeries(machineType)) ? 'ARM64' : 'X86_64';
}

export const bootDiskTypeFor = (machineType: string) =>
  HYPERDISK_ONLY_SERIES.has(machineSeries(machineType)) ? 'hyperdisk-balanced' : 'pd-balanced';

export const labelsFor = (gateway: string): Record<string, string> => ({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [GATEWAY_LABEL]: gateway });

/** Firewall rules and routes have no labels: ownership is this prefix of their description. */
export const markerFor = (gateway: string) => `natgw-gateway=${gateway};`;

export function ownerFromDescription(description: string | null | undefined): string | undefined {
  return /^natgw-gateway=([a-z][-a-z0-9]*);/.exec(description ?? '')?.[1];
}

export function ownerFromLabels(labels: Record<string, string> | null | undefined): string | undefined {
  return labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE ? labels[GATEWAY_LABEL] : undefined;
}

export interface ResourceNames {
  address: string;
  instance: string;
  /** The NAT VM's own network tag. */
  vmTag: string;
  firewallClients: string;
  firewallHealth: string;
  firewallIap: string;
  /**
   * Prometheus (--metrics-source-ranges) to the agent's port. Not `NAME-metrics`: docs/prometheus.md told users to
   * create a rule of that name by hand, which natgw would then find unmarked and refuse as a conflict.
   */
  firewallMetrics: string;
  route: string;
}

/** Longer than the other suffixes: a gateway name may leave too little room for it (options.ts checks). */
export const METRICS_RULE_SUFFIX = '-allow-metrics';

export function resourceNames(gateway: string): ResourceNames {
  return {
    address: `${gateway}-ip`,
    instance: gateway,
    vmTag: gateway,
    firewallClients: `${gateway}-clients`,
    firewallHealth: `${gateway}-health`,
    firewallIap: `${gateway}-iap-ssh`,
    firewallMetrics: `${gateway}${METRICS_RULE_SUFFIX}`,
    route: `${gateway}-default`,
  };
}

/** The firewall rules every mode may own: observed, reported and destroyed by name. */
export const gatewayFirewalls = (names: ResourceNames): string[] => [
  names.firewallClients,
  names.firewallHealth,
  names.firewallIap,
  names.firewallMetrics,
];

export type Kind =
  | 'address'
  | 'firewall'
  | 'instance'
  | 'route'
  | 'healthCheck'
  | 'template'
  | 'mig'
  | 'vm'
  | 'backendService'
  | 'forwardingRule'
  | 'router'
  | 'routerNat';

export interface DesiredAddress {
  name: string;
  /** false: the operator's own reserved address, used but never created, changed or deleted. */
  managed: boolean;
  labels: Record<string, string>;
  description: string;
}

export interface FirewallRule {
  IPProtocol: string;
  ports?: string[];
}

export interface DesiredFirewall {
  name: string;
  network: string;
  sourceRanges: string[];
  /** Stateful HA's sync rule: from the NAT VMs' tag only (then sourceRanges is empty). */
  sourceTags?: string[];
  /** Stateful HA's return rule: replies addressed to the shared NAT IP only. */
  destinationRanges?: string[];
  targetTags: string[];
  allowed: FirewallRule[];
  priority: number;
  description: string;
}

export interface DesiredInstance {
  name: string;
  zone: string;
  machineType: string;
  architecture: Architecture;
  image: ImageFamily;
  /** The image family's URL, e.g. projects/debian-cloud/global/images/family/debian-13. */
  sourceImage: string;
  bootDiskType: string;
  bootDiskGb: number;
  subnetwork: string;
  network: string;
  tags: string[];
  labels: Record<string, string>;
  metadata: Record<string, string>;
}

/** An HTTP health check on the agent's port (HA's load balancer and autohealing checks). */
export interface DesiredHealthCheck {
  name: string;
  port: number;
  description: string;
  checkIntervalSec: number;
  timeoutSec: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  requestPath: string;
}

export interface DesiredRoute {
  name: string;
  network: string;
  destRange: string;
  priority: number;
  tags: string[];
  /** zones/Z/instances/N */
  nextHopInstance: string;
  description: string;
}

export interface Desired {
  gateway: string;
  project: string;
  region: string;
  network: string;
  address: DesiredAddress;
  firewalls: DesiredFirewall[];
  instance: DesiredInstance;
  route: DesiredRoute;
}

export interface ObservedAddress {
  name: string;
  address: string;
  status: string;
  labels: Record<string, string>;
  labelFingerprint: string;
  users: string[];
}

export interface ObservedFirewall extends DesiredFirewall {
  disabled: boolean;
}

export interface ObservedInstance {
  name: string;
  zone: string;
  status: string;
  machineType: string;
  canIpForward: boolean;
  network: string;
  subnetwork: string;
  natIp?: string;
  internalIp?: string;
  tags: string[];
  tagsFingerprint: string;
  labels: Record<string, string>;
  labelFingerprint: string;
  metadata: Record<string, string>;
  metadataFingerprint: string;
  shielded: boolean;
}

export interface ObservedRoute extends DesiredRoute {
  /** GCE's route warnings, e.g. NEXT_HOP_NOT_RUNNING, NEXT_HOP_INSTANCE_NOT_FOUND (computed by GCE on read). */
  warnings: { code: string; message: string }[];
}

// A next-hop-instance route with one of these still exists, but sends its traffic nowhere.
export const NEXT_HOP_DOWN = new Set([
  'NEXT_HOP_NOT_RUNNING',
  'NEXT_HOP_INSTANCE_NOT_FOUND',
  'NEXT_HOP_CANNOT_IP_FORWARD',
  'NEXT_HOP_ADDRESS_NOT_ASSIGNED',
]);

export interface Observed {
  address?: ObservedAddress;
  firewalls: Record<string, ObservedFirewall | undefined>;
  instance?: ObservedInstance;
  route?: ObservedRoute;
}

/** `…/zones/z/instances/n` or `projects/p/zones/z/instances/n` → `zones/z/instances/n`; same idea for other links. */
export function shortLink(link: string | null | undefined): string {
  const text = link ?? '';
  const match = /(?:^|\/)((?:zones|regions)\/[^/]+\/[^/]+\/[^/]+|global\/[^/]+\/[^/]+)$/.exec(text);
  return match?.[1] ?? text;
}

export const lastSegment = (link: string | null | undefined) => (link ?? '').split('/').pop() ?? '';
