// The lab's vocabulary: its address plan and the GCE objects it emulates (VMs, routes, load-balanced routes, firewall
// rules). No behaviour here.
import { findPackageRoot } from '../common/version.js';

export const LAB_PREFIX = 'natgw-lab-';
export const VPC = { cidr: '10.10.0.0/24', gateway: '10.10.0.1', prefix: 24, mtu: 1460 } as const;
export const INTERNET = {
  server: '198.51.100.10',
  router: '198.51.100.1',
  fabricWan: '198.51.100.254',
  externalRange: '203.0.113.0/24',
  httpPort: 80,
  udpPort: 7007,
} as const;
export const METADATA_IP = '169.254.169.254';

/** Where bin/natgw.js and dist/ are: lab VMs run the built CLI, agent and helper binaries from there. */
export function repoRoot(): string {
  return findPackageRoot();
}

export interface VmSpec {
  name: string;
  ip: string;
  externalIp?: string;
  /** Where the VM's default route points: the VPC gateway unless a (tagged) route sends it to a NAT VM. */
  defaultVia?: string;
  zone?: string;
  attributes?: Record<string, string>;
  /** Network tags: routes and firewall rules select VMs by them. */
  tags?: string[];
  /** As on GCE, false unless asked for: the fabric then drops what the VM sends or receives for other addresses. */
  canIpForward?: boolean;
}

/** A 0.0.0.0/0 route to an instance, as GCE keeps it: the lowest priority wins, equal priorities share (ECMP). */
export interface LabRoute {
  name: string;
  priority: number;
  tags: string[];
  nextHopIp: string;
}

export interface LabHealthCheck {
  port: number;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/**
 * A 0.0.0.0/0 route whose next hop is an internal passthrough load balancer: traffic is spread over the healthy
 * backends by an L4 hash, and over all of them when none is healthy (GCE does not fall back to the internet gateway).
 */
export interface LabLoadBalancedRoute {
  name: string;
  priority: number;
  tags: string[];
  backends: string[];
  healthCheck: LabHealthCheck;
  /** False: a load balancer no route points at yet; its backends are health-checked all the same. */
  routed?: boolean;
  /**
   * Every route whose next hop it is, when there are several (natgw's tagged route and its probe route, or a demoted
   * copy): each applies with its own priority and tags. Absent: the one route of `priority` and `tags`.
   */
  viaRoutes?: { priority: number; tags: string[] }[];
  /** INTERNAL (default): a next hop for routes. EXTERNAL: the internet reaches `address` through it. */
  scheme?: 'INTERNAL' | 'EXTERNAL';
  /** The forwarding rule's IP (EXTERNAL: the address the backends also hold as a local route). */
  address?: string;
  /** Backends flagged `failover: true` in the backend service: used only when the primaries are not healthy. */
  failoverBackends?: string[];
  failoverPolicy?: LabFailoverPolicy;
  /** connectionTrackingPolicy.connectionPersistenceOnUnhealthyBackends; GCE's default DEFAULT_FOR_PROTOCOL. */
  connectionPersistence?: ConnectionPersistence;
  /** How long after a health change the load balancer sends traffic the new way (each load balancer on its own). */
  programmingMs?: number;
}

/** Any passthrough load balancer the lab emulates: the same record, whether or not a route uses it. */
export type LabLoadBalancer = LabLoadBalancedRoute;

export type ConnectionPersistence = 'DEFAULT_FOR_PROTOCOL' | 'NEVER_PERSIST' | 'ALWAYS_PERSIST';

export interface LabFailoverPolicy {
  failoverRatio?: number;
  dropTrafficIfUnhealthy?: boolean;
  disableConnectionDrainOnFailover?: boolean;
}

/** A load balancer started sending new connections to other backends (its programmed view changed). */
export interface LoadBalancerEvent {
  lb: string;
  active: string[];
  healthy: string[];
  at: number;
}

/** GCE derives a NIC's MAC from its address (42:01 then the IPv4 bytes), so it stays put when a VM is recreated. */
export function gceMac(ip: string): string {
  return ['42', '01', ...ip.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'))].join(':');
}

/** GCE probes from 35.191.0.0/16 and 130.211.0.0/22. */
export const HEALTH_CHECK_RANGES = ['35.191.0.0/16', '130.211.0.0/22'];
/**
 * The fabric's health checker probes from this address of Google's range (on the fabric's loopback), as GCE's probers
 * do: the firewall rules and the agent's own input chain see the source the real ones would.
 */
export const HEALTH_PROBER = '35.191.0.1';

/**
 * The source a load balancer's probes of one backend come from: an address of Google's 35.191.0.0/16 of its own per
 * backend (outside the VPC's /24 mapping of HEALTH_PROBER), so that the fabric can deliver a probe addressed to the
 * forwarding rule's IP to that backend and no other, as GCE's probers do.
 */
export function probeSourceFor(backendIp: string): string {
  const [, , third, fourth] = backendIp.split('.').map(Number);
  return `35.191.${128 + ((third ?? 0) % 128)}.${fourth ?? 0}`;
}

export interface LabFirewallRule {
  name: string;
  priority: number;
  sourceRanges: string[];
  /** Empty: any destination of the VM (its own address, forwarded traffic, a load balancer's IP it holds). */
  destinationRanges?: string[];
  targetTags: string[];
  /** Empty ports: every port; protocol 'all' allows every protocol. */
  allowed: { protocol: string; ports: string[] }[];
}

export interface LabVm extends VmSpec {
  namespace: string;
  /** The VM's own filesystem root for whatever it writes (lab VMs share the host's filesystem). */
  root: string;
  fabricPort: string;
}

/** One backend the fabric's health checker probes (lab/bin/health-checker.ts). */
export interface HealthCheckTarget {
  group: string;
  /** The backend: whose health this is. */
  ip: string;
  /** Where the probe is addressed: the forwarding rule's IP (GCE's load balancers); absent, the backend's own IP. */
  address?: string;
  /** Where the probe comes from (probeSourceFor the backend when it goes to a forwarding rule's IP); absent, HEALTH_PROBER. */
  source?: string;
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** The state the lab already knows for it: a restarted checker reports a change from there, never stays silent. */
  initiallyHealthy?: boolean;
}

/** A backend's health changed, as the checker saw it. */
export interface HealthEvent {
  group: string;
  ip: string;
  healthy: boolean;
  at: number;
}
