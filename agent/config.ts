import ipaddr from 'ipaddr.js';
import { networkInterfaces } from 'node:os';
import { z } from 'zod';
import { DEFAULT_AGENT_LISTEN, SYNC_PORT } from '../common/protocol.js';
import { HOST_PORT, isPortNumber, splitHostPort } from '../common/host-port.js';

/** Cloud NAT's defaults, so switching from Cloud NAT changes no timeout behaviour. */
export const DEFAULT_TIMEOUTS = { udp: 30, tcpEstablished: 1200, tcpTransitory: 30, tcpTimeWait: 120, icmp: 30 } as const;
export const DEFAULT_LISTEN = DEFAULT_AGENT_LISTEN;

// RFC 1918 plus the ranges a GCE subnet may use without being "privately used public IPs".
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '192.0.0.0/24', '198.18.0.0/15'].map((cidr) =>
  ipaddr.IPv4.parseCIDR(cidr),
);

function isInsidePrivateSpace(address: ipaddr.IPv4, prefix: number): boolean {
  return PRIVATE_RANGES.some(([network, bits]) => prefix >= bits && address.match(network, bits));
}

const cidr = z.string().superRefine((value, ctx) => {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(value) || !ipaddr.IPv4.isValidCIDR(value)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(value)} is not an IPv4 CIDR (a.b.c.d/n)` });
    return;
  }
  const [address, prefix] = ipaddr.IPv4.parseCIDR(value);
  const network = ipaddr.IPv4.networkAddressFromCIDR(value).toString();
  if (network !== address.toString()) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(value)} has host bits set; the network is ${network}/${prefix}`,
    });
  }
});

const seconds = (max: number) => z.number().int().min(1).max(max);

const hostPort = z
  .string()
  .regex(HOST_PORT, 'must be HOST:PORT')
  .refine((value) => isPortNumber(splitHostPort(value).port), 'port must be 1-65535');

/** The NAT IP's ports that port blocks share (below 1024 stays with the NAT VM's own services). */
/** A fixed MSS clamp, and the one "pmtu" renders from the NIC's MTU: below 536 TCP may not go, 9000 is jumbo frames. */
export const MSS_RANGE = { min: 536, max: 9000 } as const;
export const PORT_SPACE = { first: 1024, last: 65535 } as const;
/**
 * The top 4,096 ports: a client whose block is not in place yet (its first packets, or its first after a release) is
 * translated from here instead of dropped, and each such connection is attributed to its VM as it is made. Sized for
 * a burst while the agent learns: 50 new clients × 30 DNS-like flows to one resolver is 1,500 flows to one
 * destination, and on a loaded NAT VM most of them can come before their blocks (1,024 ports dropped 47 of them).
 */
export const OVERFLOW_PORTS = { first: 61_440, last: 65_535 } as const;
/** What port blocks are cut from: the rest of the space. */
export const BLOCK_PORTS = { first: PORT_SPACE.first, last: OVERFLOW_PORTS.first - 1 } as const;

const blockSize = z
  .number()
  .int()
  .min(64)
  .max(32_768)
  .refine((value) => (value & (value - 1)) === 0, 'must be a power of two (64, 128, … 32768)');

/** How long a block outlives its VM's last connection, and (dynamic) how long extra ports stay after use drops. */
const releaseAfterIdleSeconds = z.number().int().min(1).max(86_400).default(120);

export const portAllocationSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shared') }).strict(),
  z.object({ mode: z.literal('static'), portsPerVm: blockSize, releaseAfterIdleSeconds }).strict(),
  z.object({ mode: z.literal('dynamic'), minPortsPerVm: blockSize, maxPortsPerVm: blockSize, releaseAfterIdleSeconds }).strict(),
]);
export type PortAllocation = z.output<typeof portAllocationSchema>;

/**
 * What a config without `portAllocation` runs with, in every mode, and so what `natgw provision` deploys without a
 * port-block flag. The shared pool never refuses a connection a plain MASQUERADE or a default Cloud NAT (64 ports per
 * VM) would carry; blocks cap a VM at N connections to one destination and key on each pod's address
 * (docs/agent.md, "Port allocation").
 */
export const DEFAULT_PORT_ALLOCATION: PortAllocation = Object.freeze({ mode: 'shared' });

/** Why stateful HA takes the shared pool only; said wherever blocks are refused with it. */
export const STATEFUL_PORT_BLOCKS_REASON =
  "each NAT VM of the pair translates from its own half of the shared NAT IP's ports, and block assignments are one agent's state that its peer does not receive (after a failover the blocks would not match the connections it took over)";

const ipv4 = z
  .string()
  .refine(
    (value) => /^\d{1,3}(\.\d{1,3}){3}$/.test(value) && ipaddr.IPv4.isValidFourPartDecimal(value),
    'must be an IPv4 address (a.b.c.d)',
  );

/** One NAT VM's share of the NAT IP's ports, "first-last": two VMs must never make the same translation. */
const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must be a port range FIRST-LAST')
  .refine((value) => {
    const [first, last] = parsePortRange(value);
    return first >= PORT_SPACE.first && last <= PORT_SPACE.last && first <= last;
  }, `must lie within ${PORT_SPACE.first}-${PORT_SPACE.last}, first ≤ last`);

export function parsePortRange(value: string): [first: number, last: number] {
  const [first, last] = value.split('-').map(Number);
  return [first ?? 0, last ?? 0];
}

/** Two NAT VMs sharing one NAT IP with conntrack state sync (docs/agent.md, "Stateful HA"). */
export const statefulSchema = z
  .object({
    natIp: ipv4,
    members: z.array(z.object({ ip: ipv4, ports: portRange }).strict()).length(2, 'must list exactly two NAT VMs (this one and its peer)'),
    syncPort: z.number().int().min(1).max(65535).default(SYNC_PORT),
  })
  .strict();
export type StatefulConfig = z.output<typeof statefulSchema>;

export const agentConfigSchema = z
  .object({
    sourceRanges: z.array(cidr).min(1, 'must list at least one CIDR'),
    allowNonPrivateRanges: z.boolean().default(false),
    timeouts: z
      .object({
        udp: seconds(86_400).default(DEFAULT_TIMEOUTS.udp),
        tcpEstablished: seconds(432_000).default(DEFAULT_TIMEOUTS.tcpEstablished),
        tcpTransitory: seconds(86_400).default(DEFAULT_TIMEOUTS.tcpTransitory),
        tcpTimeWait: seconds(86_400).default(DEFAULT_TIMEOUTS.tcpTimeWait),
        icmp: seconds(86_400).default(DEFAULT_TIMEOUTS.icmp),
      })
      .strict()
      .default({}),
    reconcileIntervalSeconds: seconds(3600).default(10),
    egressInterface: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a network interface name (1-15 letters, digits, _ . -)')
      .optional(),
    maxConnectionsPerVm: z.number().int().min(1).max(1_048_576).optional(),
    natPortAllocation: z.enum(['preserve', 'random']).default('preserve'),
    /** Per-VM blocks of the NAT IP's ports (Cloud NAT's static/dynamic port allocation); "shared" is one pool for all. */
    portAllocation: portAllocationSchema.default(DEFAULT_PORT_ALLOCATION),
    mssClamp: z.union([z.literal('pmtu'), z.number().int().min(MSS_RANGE.min).max(MSS_RANGE.max)]).default('pmtu'),
    conntrackMax: z.number().int().min(1024).max(16_777_216).optional(),
    /** A software flowtable for established TCP/UDP flows, where the kernel has nf_flow_table (docs/agent.md). */
    flowtableOffload: z.boolean().default(false),
    egressProbe: z
      .object({
        targets: z.array(hostPort).min(1).max(8),
        intervalSeconds: seconds(300).default(5),
        timeoutSeconds: seconds(60).default(2),
      })
      .strict()
      .optional(),
    listen: hostPort.default(DEFAULT_LISTEN),
    /**
     * Who may scrape /metrics besides the VM itself and Google's health checkers: the agent's input chain drops every
     * other source on its port, because the clients' firewall rule lets every client VM reach every port of the NAT VM.
     */
    metricsSourceRanges: z.array(cidr).max(256, 'must list at most 256 CIDRs').default([]),
    logging: z.enum(['none', 'errors', 'translations', 'all']).default('errors'),
    logRateLimitPerSecond: z.number().int().min(1).max(10_000).default(50),
    perVmMetrics: z
      .object({
        topN: z.number().int().min(0).max(1000).default(20),
        minIntervalSeconds: seconds(3600).default(30),
      })
      .strict()
      .default({}),
    deploymentMode: z.enum(['single', 'ha']).default('single'),
    drainSeconds: z.number().int().min(0).max(600).default(0),
    /** Active/standby with conntrack state sync and one shared NAT IP; requires deploymentMode "ha". */
    stateful: statefulSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const stateful = config.stateful;
    if (stateful !== undefined) {
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
      if (config.deploymentMode !== 'ha')
        issue(['stateful'], `requires "deploymentMode": "ha" (got ${JSON.stringify(config.deploymentMode)})`);
      if (config.portAllocation.mode !== 'shared')
        issue(
          ['stateful'],
          `cannot be combined with portAllocation mode ${JSON.stringify(config.portAllocation.mode)}: stateful HA uses the shared pool ("mode": "shared", the default) because ${STATEFUL_PORT_BLOCKS_REASON}`,
        );
      const [a, b] = stateful.members;
      if (a !== undefined && b !== undefined) {
        if (a.ip === b.ip) issue(['stateful', 'members', 1, 'ip'], `must differ from members[0].ip (both are ${a.ip})`);
        const [aFirst, aLast] = parsePortRange(a.ports);
        const [bFirst, bLast] = parsePortRange(b.ports);
        if (aFirst <= bLast && bFirst <= aLast)
          issue(
            ['stateful', 'members', 1, 'ports'],
            `${b.ports} overlaps members[0].ports ${a.ports}: the two VMs would make the same translations`,
          );
      }
      if (stateful.members.some((member) => member.ip === stateful.natIp))
        issue(['stateful', 'natIp'], `${stateful.natIp} is also a member's own IP; the NAT IP is the load balancer's shared address`);
    }
    const ports = config.portAllocation;
    if (ports.mode === 'dynamic' && ports.maxPortsPerVm < ports.minPortsPerVm)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['portAllocation', 'maxPortsPerVm'],
        message: `must be at least minPortsPerVm (${ports.minPortsPerVm}), got ${ports.maxPortsPerVm}`,
      });
    config.metricsSourceRanges.forEach((range, index) => {
      if (ipaddr.IPv4.isValidCIDR(range) && ipaddr.IPv4.parseCIDR(range)[1] === 0)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['metricsSourceRanges', index],
          message: `${JSON.stringify(range)} would open the agent's port to the whole internet; name your Prometheus servers' ranges`,
        });
    });
    config.sourceRanges.forEach((range, index) => {
      if (!ipaddr.IPv4.isValidCIDR(range)) return;
      const [address, prefix] = ipaddr.IPv4.parseCIDR(range);
      if (prefix === 0) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['sourceRanges', index],
          message: `${JSON.stringify(range)} would make this NAT an open relay for the whole internet; list your subnets' ranges`,
        });
      } else if (!config.allowNonPrivateRanges && !isInsidePrivateSpace(address, prefix)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['sourceRanges', index],
          message: `${JSON.stringify(range)} is outside private address space; set "allowNonPrivateRanges": true if your VPC uses privately used public IPs`,
        });
      }
    });
  });

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid config from ${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

function valueAt(raw: unknown, pathKeys: (string | number)[]): unknown {
  return pathKeys.reduce<unknown>(
    (value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
    raw,
  );
}

function describeIssue(issue: z.ZodIssue, raw: unknown): string {
  const field = issue.path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? key : `${text}.${key}`),
    '',
  );
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const where = field === '' ? '' : ` in ${field}`;
    return `${issue.keys.map((key) => (field === '' ? key : `${field}.${key}`)).join(', ')}: unknown key${where}`;
  }
  if (issue.code === z.ZodIssueCode.invalid_type) {
    return `${field || '(top level)'}: expected ${issue.expected}, got ${issue.received === 'undefined' ? 'nothing' : `${issue.received} ${JSON.stringify(valueAt(raw, issue.path))}`}`;
  }
  const value = valueAt(raw, issue.path);
  const got = issue.code === z.ZodIssueCode.custom || value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  return `${field || '(top level)'}: ${issue.message}${got}`;
}

/** Parses JSON text into a complete config with defaults filled in; throws ConfigError naming every bad field. */
export function parseAgentConfig(text: string, source: string, localAddresses: LocalAddresses = systemLocalAddresses): AgentConfig {
  if (text.trim() === '') throw new ConfigError(source, ['(top level): the config is empty; expected a JSON object']);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [`(top level): not valid JSON: ${(error as Error).message}`]);
  }
  return validateAgentConfig(raw, source, localAddresses);
}

export function validateAgentConfig(raw: unknown, source: string, localAddresses: LocalAddresses = systemLocalAddresses): AgentConfig {
  const result = agentConfigSchema.safeParse(raw);
  if (!result.success)
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => describeIssue(issue, raw)),
    );
  if (result.data.stateful !== undefined) statefulRoles(result.data.stateful, localAddresses, source);
  return result.data;
}

export interface StatefulRoles {
  self: StatefulConfig['members'][number];
  peer: StatefulConfig['members'][number];
}

/** The local IPv4 addresses, as the kernel reports them (injectable: tests and --validate on another machine). */
export type LocalAddresses = () => string[];

export const systemLocalAddresses: LocalAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .flatMap((entry) => (entry !== undefined && entry.family === 'IPv4' ? [entry.address] : []));

/** Which member this VM is: the one whose ip is a local address. */
export function statefulRoles(stateful: StatefulConfig, localAddresses: LocalAddresses, source: string): StatefulRoles {
  const local = new Set(localAddresses());
  const selfIndex = stateful.members.findIndex((member) => local.has(member.ip));
  const self = stateful.members[selfIndex];
  const peer = stateful.members[1 - selfIndex];
  if (selfIndex < 0 || self === undefined || peer === undefined)
    throw new ConfigError(source, [
      `stateful.members: none of ${stateful.members.map((member) => member.ip).join(', ')} is an address of this VM (it has ${[...local].join(', ') || 'none'})`,
    ]);
  return { self, peer };
}
