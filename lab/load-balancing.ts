// GCE's passthrough load balancing as the lab emulates it, as pure functions (unit-tested without root): which backends
// get new connections (failover policy and health), which flows stay where they are when their backend stops being
// active (connection persistence), the fabric's nft program that steers an external forwarding rule's IP per flow, and
// the fabric's routes that deliver each backend's health probes, addressed to the forwarding rule's IP, to it alone.
import { type HealthCheckTarget, type LabHealthCheck, type LabLoadBalancedRoute, probeSourceFor } from './model.js';

/**
 * Where new connections go, from one load balancer's view of health. With a failover policy: the healthy primaries,
 * unless too few are healthy (none, for failoverRatio 0), then the healthy failover backends; nobody healthy: the
 * primaries as a last resort (GCE's documented behaviour), or nothing with dropTrafficIfUnhealthy. Without a policy:
 * every healthy backend, all of them when none is (GCE does not fall back to anything else).
 */
export function activeBackends(
  lb: Pick<LabLoadBalancedRoute, 'backends' | 'failoverBackends' | 'failoverPolicy'>,
  healthy: ReadonlySet<string>,
): string[] {
  const backends = [...lb.backends].sort();
  const isHealthy = (ip: string) => healthy.has(ip);
  if (lb.failoverPolicy === undefined) {
    const up = backends.filter(isHealthy);
    return up.length > 0 ? up : backends;
  }
  const failover = new Set(lb.failoverBackends ?? []);
  const primaries = backends.filter((ip) => !failover.has(ip));
  const backups = backends.filter((ip) => failover.has(ip));
  const healthyPrimaries = primaries.filter(isHealthy);
  const healthyBackups = backups.filter(isHealthy);
  const ratio = lb.failoverPolicy.failoverRatio ?? 0;
  const primariesSuffice = healthyPrimaries.length > 0 && (ratio === 0 || healthyPrimaries.length / primaries.length >= ratio);
  if (primariesSuffice) return healthyPrimaries;
  if (healthyBackups.length > 0) return healthyBackups;
  if (healthyPrimaries.length > 0) return healthyPrimaries;
  if (lb.failoverPolicy.dropTrafficIfUnhealthy === true) return [];
  return primaries.length > 0 ? primaries : backends;
}

/**
 * Which of a backend's established flows stay on it although it no longer gets new connections: all of them while it
 * is healthy (connection draining; on failover only when draining on failover is not disabled), and once it is
 * unhealthy TCP for DEFAULT_FOR_PROTOCOL, every protocol for ALWAYS_PERSIST, none for NEVER_PERSIST.
 */
export function flowsKeptOn(
  lb: Pick<LabLoadBalancedRoute, 'backends' | 'failoverPolicy' | 'connectionPersistence'>,
  ip: string,
  healthy: ReadonlySet<string>,
  active: readonly string[],
): 'all' | 'tcp' | 'none' {
  if (!lb.backends.includes(ip)) return 'none';
  if (active.includes(ip)) return 'all';
  if (healthy.has(ip)) return lb.failoverPolicy?.disableConnectionDrainOnFailover === true ? 'none' : 'all';
  const persistence = lb.connectionPersistence ?? 'DEFAULT_FOR_PROTOCOL';
  if (persistence === 'ALWAYS_PERSIST') return 'all';
  return persistence === 'DEFAULT_FOR_PROTOCOL' ? 'tcp' : 'none';
}

/** The fabric's packet and connection mark for a backend: its address as a 32-bit number (unique, never 0). */
export function backendMark(ip: string): number {
  return ip.split('.').reduce((mark, octet) => mark * 256 + Number(octet), 0);
}

const hex = (mark: number) => `0x${mark.toString(16).padStart(8, '0')}`;

/** One external forwarding rule as the fabric has it programmed right now. */
export interface ProgrammedExternalLoadBalancer {
  lb: LabLoadBalancedRoute & { address: string };
  healthy: ReadonlySet<string>;
  active: readonly string[];
}

/**
 * Packets from the internet to a forwarding rule's IP, per flow: a flow whose backend still keeps it goes there again;
 * any other picks an active backend by a 5-tuple hash. The choice is a connection mark (so it sticks) copied to the
 * packet mark, which an ip rule per backend turns into a route to that backend.
 */
export function renderExternalLoadBalancing(lbs: readonly ProgrammedExternalLoadBalancer[], wanInterface = 'wan'): string {
  const chains = lbs.map(({ lb, healthy, active }, index) => [
    `  chain lb_${index} {`,
    `    # ${lb.name}: ${lb.address} → active ${active.join(', ') || 'none'}`,
    ...flowSteering(lb, healthy, active),
    '  }',
  ]);
  return [
    'table ip lab-load-balancing',
    'delete table ip lab-load-balancing',
    'table ip lab-load-balancing {',
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    ...lbs.map(({ lb }, index) => `    iifname "${wanInterface}" ip daddr ${lb.address} jump lb_${index}`),
    '  }',
    ...chains.flat(),
    '}',
    '',
  ].join('\n');
}

/**
 * An internal load balancer as a VM's next hop, per flow, in the VM's namespace (the VPC's routing as the VM sees it):
 * what the VM sends or forwards off the subnet is marked like renderExternalLoadBalancing marks, and an ip rule per
 * backend routes the mark there, so an established flow stays on its backend as long as the load balancer keeps it.
 */
export function renderNextHopSteering(
  lb: LabLoadBalancedRoute,
  healthy: ReadonlySet<string>,
  active: readonly string[],
  local: readonly string[],
): string {
  const skip = `ip daddr { ${local.join(', ')} } return`;
  return [
    'table ip lab-gce-routing',
    'delete table ip lab-gce-routing',
    'table ip lab-gce-routing {',
    '  chain output {',
    '    type route hook output priority mangle; policy accept;',
    '    jump steer',
    '  }',
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    '    jump steer',
    '  }',
    '  chain steer {',
    `    # ${lb.name} → active ${active.join(', ') || 'none'}`,
    `    ${skip}`,
    ...flowSteering(lb, healthy, active),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The seed of the fabric's 5-tuple hash (flowSteering), shared with backendForFlow so tests can place flows. */
const FLOW_HASH_SEED = 0x6c6162;

/** A TCP or UDP flow's 5-tuple as the first packet of it carries it past the load balancer. */
export interface FlowTuple {
  protocol: 'tcp' | 'udp';
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
}

/**
 * The active backend a new flow's first packet is hashed to, computed as the kernel evaluates flowSteering's
 * `jhash ip saddr . ip daddr . meta l4proto . th sport . th dport mod N seed …`: each field in its own zero-padded
 * 32-bit register (20 bytes), Jenkins' lookup3 as include/linux/jhash.h has it, scaled to N by reciprocal_scale.
 * Lets a test choose a source port that lands on the backend it wants on the first try instead of retrying.
 */
export function backendForFlow(active: readonly string[], flow: FlowTuple): string | undefined {
  if (active.length <= 1) return active[0];
  const key = Buffer.alloc(20);
  key.set(flow.source.split('.').map(Number), 0);
  key.set(flow.destination.split('.').map(Number), 4);
  key[8] = flow.protocol === 'tcp' ? 6 : 17;
  key.writeUInt16BE(flow.sourcePort, 12);
  key.writeUInt16BE(flow.destinationPort, 16);
  const slot = Number((BigInt(jhash(key, FLOW_HASH_SEED)) * BigInt(active.length)) >> 32n);
  return active[slot];
}

const rol32 = (word: number, shift: number) => ((word << shift) | (word >>> (32 - shift))) >>> 0;

/** include/linux/jhash.h's jhash() for a key longer than 12 bytes, with the CPU's (little-endian) word loads. */
function jhash(key: Buffer, seed: number): number {
  let a = (0xdeadbeef + key.length + seed) >>> 0;
  let b = a;
  let c = a;
  let offset = 0;
  let length = key.length;
  const mix = () => {
    a = (a - c) >>> 0;
    a = (a ^ rol32(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol32(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol32(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rol32(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol32(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol32(b, 4)) >>> 0;
    b = (b + a) >>> 0;
  };
  while (length > 12) {
    a = (a + key.readUInt32LE(offset)) >>> 0;
    b = (b + key.readUInt32LE(offset + 4)) >>> 0;
    c = (c + key.readUInt32LE(offset + 8)) >>> 0;
    mix();
    length -= 12;
    offset += 12;
  }
  const tail = Buffer.alloc(12);
  key.copy(tail, 0, offset, offset + length);
  a = (a + tail.readUInt32LE(0)) >>> 0;
  b = (b + tail.readUInt32LE(4)) >>> 0;
  c = (c + tail.readUInt32LE(8)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** A flow its backend still keeps goes there again; any other picks an active backend by a 5-tuple hash. */
function flowSteering(lb: LabLoadBalancedRoute, healthy: ReadonlySet<string>, active: readonly string[]): string[] {
  const kept = { all: [] as string[], tcp: [] as string[] };
  for (const ip of [...lb.backends].sort()) {
    const keeps = flowsKeptOn(lb, ip, healthy, active);
    if (keeps !== 'none') kept[keeps].push(hex(backendMark(ip)));
  }
  const marks = active.map((ip) => hex(backendMark(ip)));
  const pick =
    marks.length === 0
      ? [`    counter drop comment "${lb.name}: no backend to send to"`]
      : [
          marks.length === 1
            ? `    meta mark set ${marks[0]}`
            : `    meta mark set jhash ip saddr . ip daddr . meta l4proto . th sport . th dport mod ${marks.length} seed 0x${FLOW_HASH_SEED.toString(16)} map { ${marks.map((mark, slot) => `${slot} : ${mark}`).join(', ')} }`,
          '    ct mark set meta mark',
        ];
  return [
    ...(kept.all.length === 0 ? [] : [`    ct mark { ${kept.all.join(', ')} } meta mark set ct mark accept`]),
    ...(kept.tcp.length === 0 ? [] : [`    meta l4proto tcp ct mark { ${kept.tcp.join(', ')} } meta mark set ct mark accept`]),
    ...pick,
  ];
}

/** Before the backend-mark rules (pref 1000): a probe is routed by its source, whatever mark it might carry. */
const PROBE_RULE_PREF = 900;

/**
 * `ip -batch` input for the fabric: each backend's prober address (probeSourceFor) on the fabric's loopback, and a rule
 * that routes whatever leaves from it to that backend, so a probe addressed to a forwarding rule's IP reaches the one
 * backend it checks, as GCE delivers it; the backend answers only if it holds the IP as a local route.
 */
export function renderProbePaths(backends: readonly string[], bridge = 'vpc0'): string {
  return [...new Set(backends)]
    .sort()
    .flatMap((ip) => {
      const source = probeSourceFor(ip);
      const table = backendMark(ip);
      return [
        `address replace ${source}/32 dev lo`,
        `route replace default via ${ip} dev ${bridge} table ${table}`,
        `rule add from ${source} lookup ${table} pref ${PROBE_RULE_PREF}`,
      ];
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** A group of VMs probed without any load balancer: a MIG's autohealing check. */
export interface HealthWatch {
  group: string;
  backends: string[];
  healthCheck: LabHealthCheck;
}

/**
 * What the fabric's health checker probes: GCE's load balancers probe each backend at the forwarding rule's IP, from
 * the backend's own prober address (renderProbePaths); autohealing checks, and a load balancer the lab was given
 * without an IP, probe the VM's own address. `healthy` is the state the lab already knows for a group's backend.
 */
export function healthCheckTargets(
  routes: readonly LabLoadBalancedRoute[],
  watches: readonly HealthWatch[],
  healthy: (group: string, ip: string) => boolean,
): HealthCheckTarget[] {
  const target = (group: string, ip: string, check: LabHealthCheck, address?: string): HealthCheckTarget => ({
    group,
    ip,
    ...(address === undefined ? {} : { address, source: probeSourceFor(ip) }),
    port: check.port,
    path: check.path,
    intervalMs: check.intervalSeconds * 1000,
    timeoutMs: check.timeoutSeconds * 1000,
    healthyThreshold: check.healthyThreshold,
    unhealthyThreshold: check.unhealthyThreshold,
    initiallyHealthy: healthy(group, ip),
  });
  return [
    ...routes.flatMap((route) => route.backends.map((ip) => target(route.name, ip, route.healthCheck, route.address))),
    ...watches.flatMap((watch) => watch.backends.map((ip) => target(watch.group, ip, watch.healthCheck))),
  ];
}
