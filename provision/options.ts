// Flags of `natgw provision|status|destroy`, checked completely before any API call or heavy import.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import ipaddr from 'ipaddr.js';
import { UsageError } from '../common/errors.js';
import { ConfigError, MSS_RANGE, STATEFUL_PORT_BLOCKS_REASON, validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { parseEndpoint, type Endpoint } from './gcp/client.js';
import { parseSubnetSelection, type SubnetSelection } from './subnets.js';
import { METRICS_RULE_SUFFIX } from './model.js';

export type Command = 'provision' | 'status' | 'destroy';

/** What `--fallback` may name: the managed NAT that carries the tagged VMs while natgw cannot. */
export const FALLBACKS = ['cloud-nat'] as const;
export type Fallback = (typeof FALLBACKS)[number];

export type NatIpChoice = { mode: 'reserve' } | { mode: 'existing'; ref: string };

export interface Options {
  command: Command;
  project: string;
  region: string;
  network: string;
  zone?: string;
  name: string;
  subnets: SubnetSelection;
  extraSourceRanges: string[];
  machineType: string;
  clientTag: string;
  routePriority: number;
  natIp: NatIpChoice;
  iapSsh: boolean;
  bootDiskGb: number;
  /** Agent config without sourceRanges (derived from the subnets once the network is read). */
  agent: Omit<AgentConfigInput, 'sourceRanges'>;
  agentBundle?: string;
  healthTimeoutMs: number;
  pollIntervalMs: number;
  endpoint?: Endpoint;
  dryRun: boolean;
  json: boolean;
  yes: boolean;
  retryBaseMs: number;
  /** HA mode: a regional MIG behind an internal passthrough load balancer. */
  ha: boolean;
  /** HA: zones of the MIG (default: the region's zones, up to three). */
  zones?: string[];
  /** HA: number of NAT VMs, each with its own reserved external IP (default 2). */
  size: number;
  /** HA with connection-preserving failover (docs/stateful-ha.md): two NAT VMs sharing one NAT IP, state synced. */
  stateful: boolean;
  /** --fallback cloud-nat: a Cloud NAT for natgw's subnets, idle while natgw serves (docs/fallback-provision.md). */
  fallback?: Fallback;
}

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// The longest suffix we append (`-iap-ssh`) must still fit GCE's 63-character names.
const MAX_NAME = 63 - '-iap-ssh'.length;
const REGION = /^[a-z]+-[a-z]+\d+$/;
// HA appends up to `-tmpl-xxxxxx` (instance template names carry a hash of their properties).
export const MAX_HA_NAME = 63 - '-tmpl-xxxxxx'.length;
export const MAX_HA_SIZE = 16;

export const USAGE = `Usage:
  natgw provision --project P --region R [options]   create or converge a NAT gateway in one region
  natgw status    --project P --region R [options]   show its resources, the agent's health, NAT IP and route
  natgw destroy   --project P --region R [options]   remove it (route first); only resources natgw labelled

Where:
  --project P               GCP project id (required)
  --region R                region, e.g. us-central1 (required)
  --network N               VPC network (default: default)
  --zone Z                  zone of the NAT VM (default: the first zone of the region, or where the VM already is)
  --name NAME               gateway name, prefix of every resource (default: natgw-REGION)

Clients (provision):
  --subnets S               which ranges may use the NAT: all (default: every subnet's primary and secondary ranges
                            in the region), primary (primary ranges only), or SUBNET,SUBNET:ALL,SUBNET:RANGE_NAME
  --extra-source-ranges L   more client CIDRs, comma-separated (e.g. ranges routed in over VPN)
  --client-tag TAG          network tag that private VMs carry to use the NAT (default: NAME-client)
  --route-priority N        priority of the 0.0.0.0/0 route, 0-65535, lower wins (default 800; the internet route is 1000)

NAT VM (provision):
  --machine-type T          machine type (default e2-small)
  --boot-disk-gb N          boot disk size (default 10)
  --nat-ip auto|NAME|IP     reserve a static external IP (auto, default) or use an existing reserved address
  --iap-ssh                 allow SSH to the NAT VM from Identity-Aware Proxy (35.235.240.0/20) only
  --metrics-source-ranges L your Prometheus servers' CIDRs, comma-separated: the only sources besides Google's health
                            checkers that reach the agent's port (a firewall rule NAME-allow-metrics and the agent's own
                            input chain; 0.0.0.0/0 refused). Default: none, or the --agent-config file's
  --agent-bundle FILE       a prebuilt agent bundle instead of building agent/entry.ts with esbuild
  --health-timeout D        how long to wait for the agent (HA: a load-balancer backend) to report healthy (default 10m)
  --poll-interval D         how often to read the agent's health meanwhile (default 10s, GCE's advised guest-attribute
                            read rate; also NATGW_POLL_INTERVAL)

High availability (provision; status and destroy find the mode themselves, see docs/ha.md):
  --ha                      several NAT VMs in a regional managed instance group behind an internal passthrough
                            load balancer used as the route's next hop; one reserved external IP per VM
  --zones Z1,Z2,…           zones of the group (default: the region's zones, up to three)
  --size N                  number of NAT VMs, 2-${MAX_HA_SIZE} (default 2); each adds one static external IP
  --stateful                with --ha: established connections survive the loss of a NAT VM. Two NAT VMs (one per
                            zone, active/standby) share ONE NAT IP as an external passthrough load balancer's IP and
                            sync their connection state (conntrackd); relies on undocumented GCE behaviour, see
                            docs/stateful-ha.md. Not with --size or the port-block flags

Agent settings (provision; defaults are Cloud NAT's):
  --udp-timeout D  --tcp-established-timeout D  --tcp-transitory-timeout D  --tcp-time-wait-timeout D  --icmp-timeout D
  --max-connections-per-vm N   --mss-clamp pmtu|BYTES   --conntrack-max N   --logging none|errors|translations|all
  --egress-probe HOST:PORT,…   --egress-probe-interval D   --reconcile-interval D   --agent-port PORT
  --ports-per-vm N             a static block of N ports (64-32768, power of two) of the NAT IP per client VM
  --min-ports-per-vm N --max-ports-per-vm M   dynamic blocks: N ports at first, growing up to M (Cloud NAT's DPA).
                               Without either: one pool shared by all clients, not Cloud NAT's 64 per VM (why:
                               docs/agent.md, "Port allocation"); --stateful takes the shared pool only
  --allow-non-private-ranges   accept client ranges outside private address space (privately used public IPs)
  --agent-config FILE          agent config JSON to start from (flags win; sourceRanges are always derived)

Fallback (provision; status and destroy find it themselves, see docs/fallback-provision.md):
  --fallback cloud-nat      also a Cloud NAT on the region's Cloud Router (reused, or NAME-router) for the same
                            subnets, idle while natgw's route wins, and the route NAME-probe (natgw's next hop for
                            VMs tagged NAME-probe) that proves natgw healthy before traffic moves back

Output and safety:
  --dry-run                 show the plan and the equivalent gcloud commands; change nothing
  --json                    machine-readable plan and result on stdout
  --yes                     do not ask before destroying or replacing
  --compute-endpoint URL    another Compute API endpoint (also NATGW_COMPUTE_ENDPOINT); plain http only to loopback,
                            and then no Google credentials are used
  -h, --help                this text

Durations: 30s, 10m, 1h, 500ms, or plain seconds. Credentials: Application Default Credentials.
`;

const FLAGS = {
  project: { type: 'string' },
  region: { type: 'string' },
  network: { type: 'string' },
  zone: { type: 'string' },
  name: { type: 'string' },
  subnets: { type: 'string' },
  'extra-source-ranges': { type: 'string' },
  'machine-type': { type: 'string' },
  'boot-disk-gb': { type: 'string' },
  'client-tag': { type: 'string' },
  'route-priority': { type: 'string' },
  'nat-ip': { type: 'string' },
  'iap-ssh': { type: 'boolean' },
  'metrics-source-ranges': { type: 'string' },
  'agent-bundle': { type: 'string' },
  'agent-config': { type: 'string' },
  'health-timeout': { type: 'string' },
  'poll-interval': { type: 'string' },
  'udp-timeout': { type: 'string' },
  'tcp-established-timeout': { type: 'string' },
  'tcp-transitory-timeout': { type: 'string' },
  'tcp-time-wait-timeout': { type: 'string' },
  'icmp-timeout': { type: 'string' },
  'max-connections-per-vm': { type: 'string' },
  'ports-per-vm': { type: 'string' },
  'min-ports-per-vm': { type: 'string' },
  'max-ports-per-vm': { type: 'string' },
  'mss-clamp': { type: 'string' },
  'conntrack-max': { type: 'string' },
  logging: { type: 'string' },
  'egress-probe': { type: 'string' },
  'egress-probe-interval': { type: 'string' },
  'reconcile-interval': { type: 'string' },
  'agent-port': { type: 'string' },
  'allow-non-private-ranges': { type: 'boolean' },
  'compute-endpoint': { type: 'string' },
  ha: { type: 'boolean' },
  stateful: { type: 'boolean' },
  fallback: { type: 'string' },
  zones: { type: 'string' },
  size: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags only `provision` understands; status and destroy reject them instead of silently ignoring them. */
const PROVISION_ONLY = new Set([
  'subnets',
  'extra-source-ranges',
  'machine-type',
  'boot-disk-gb',
  'client-tag',
  'route-priority',
  'nat-ip',
  'iap-ssh',
  'metrics-source-ranges',
  'agent-bundle',
  'agent-config',
  'health-timeout',
  'udp-timeout',
  'tcp-established-timeout',
  'tcp-transitory-timeout',
  'tcp-time-wait-timeout',
  'icmp-timeout',
  'max-connections-per-vm',
  'mss-clamp',
  'conntrack-max',
  'logging',
  'egress-probe',
  'egress-probe-interval',
  'reconcile-interval',
  'agent-port',
  'allow-non-private-ranges',
  'zones',
  'size',
  'stateful',
  'ports-per-vm',
  'min-ports-per-vm',
  'max-ports-per-vm',
  'fallback',
]);

export class HelpRequested extends Error {}

export function parseDurationMs(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`--${flag}: '${text}' is not a duration (e.g. 30s, 10m, 1h, 500ms)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * factor);
}

function seconds(flag: string, text: string): number {
  const ms = parseDurationMs(flag, text);
  if (ms % 1000 !== 0 || ms === 0) throw new UsageError(`--${flag}: '${text}' must be a whole, positive number of seconds`);
  return ms / 1000;
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`--${flag}: '${text}' is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${flag}: must be between ${min} and ${max}, got ${text}`);
  return value;
}

export function parseCidrList(flag: string, text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((cidr) => {
      if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || !ipaddr.IPv4.isValidCIDR(cidr))
        throw new UsageError(`--${flag}: '${cidr}' is not an IPv4 CIDR (a.b.c.d/n)`);
      const network = `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${cidr.split('/')[1]}`;
      if (network !== cidr) throw new UsageError(`--${flag}: '${cidr}' has host bits set; did you mean ${network}?`);
      return cidr;
    });
}

/**
 * `--metrics-source-ranges`: checked by the agent's own schema, so the provisioner refuses exactly what an agent would
 * refuse at start (a /0, host bits, more than 256), with the flag named as well as the field.
 */
function metricsSourceRanges(text: string): string[] {
  const ranges = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (ranges.length === 0)
    throw new UsageError("--metrics-source-ranges: give at least one CIDR (your Prometheus servers' ranges, e.g. 10.128.0.50/32)");
  try {
    validateAgentConfig({ sourceRanges: ['10.0.0.0/8'], metricsSourceRanges: ranges }, '--metrics-source-ranges');
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--metrics-source-ranges: ${error.problems.join('; ')}`);
    throw error;
  }
  return ranges;
}

function gceName(flag: string, value: string, max = 63): string {
  if (!NAME.test(value) || value.length > max) {
    throw new UsageError(
      `--${flag}: '${value}' must be lowercase letters, digits and hyphens, start with a letter, not end with a hyphen, at most ${max} characters`,
    );
  }
  return value;
}

/** --project as every natgw command that names a gateway checks it (a domain-scoped id, `example.com:proj`, too). */
export function checkProject(project: string | undefined): string {
  if (project === undefined || project === '') throw new UsageError('--project: required (the GCP project id)');
  if (!/^[a-z][-a-z0-9:.]{4,61}[a-z0-9]$/.test(project)) throw new UsageError(`--project: '${project}' is not a project id`);
  return project;
}

export function checkRegion(region: string | undefined): string {
  if (region === undefined || region === '') throw new UsageError('--region: required (e.g. us-central1)');
  if (!REGION.test(region)) throw new UsageError(`--region: '${region}' is not a region name (e.g. us-central1)`);
  return region;
}

/** --name: short enough for the longest suffix natgw gives a resource name. */
export const checkGatewayName = (name: string) => gceName('name', name, MAX_NAME);

export function parseOptions(command: Command, argv: string[], env: NodeJS.ProcessEnv = process.env): Options {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun 'natgw ${command} --help' for the flags.`);
  }
  if (values.help === true) throw new HelpRequested();
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; every setting is a --flag (see --help)`);
  if (command !== 'provision') {
    const misplaced = Object.keys(values).find((key) => PROVISION_ONLY.has(key));
    if (misplaced !== undefined) throw new UsageError(`--${misplaced}: only 'natgw provision' takes this flag`);
  }
  const str = (key: keyof typeof FLAGS) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const bool = (key: keyof typeof FLAGS) => values[key] === true;

  const project = checkProject(str('project'));
  const region = checkRegion(str('region'));
  const zone = str('zone');
  if (zone !== undefined && !zone.startsWith(`${region}-`))
    throw new UsageError(`--zone: '${zone}' is not a zone of ${region} (e.g. ${region}-a)`);
  if (zone !== undefined) gceName('zone', zone);
  const network = gceName('network', str('network') ?? 'default');
  const name = checkGatewayName(str('name') ?? `natgw-${region}`);
  const clientTag = gceName('client-tag', str('client-tag') ?? `${name}-client`);
  // The NAT VM carries its own tag (the gateway name); carrying the client tag would route it into itself.
  if (clientTag === name)
    throw new UsageError(`--client-tag: '${clientTag}' is the NAT VM's own tag; the NAT VM must never carry the client tag`);

  const natIpText = str('nat-ip') ?? 'auto';
  let natIp: NatIpChoice;
  if (natIpText === 'auto') natIp = { mode: 'reserve' };
  else if (ipaddr.IPv4.isValidFourPartDecimal(natIpText) || NAME.test(natIpText)) natIp = { mode: 'existing', ref: natIpText };
  else throw new UsageError(`--nat-ip: '${natIpText}' is neither auto, an address name, nor an IPv4 address`);

  let agent: Record<string, unknown> = {};
  const agentConfigFile = str('agent-config');
  if (agentConfigFile !== undefined) {
    try {
      agent = JSON.parse(readFileSync(agentConfigFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--agent-config: cannot read ${agentConfigFile}: ${(error as Error).message}`);
    }
    if (agent === null || typeof agent !== 'object' || Array.isArray(agent))
      throw new UsageError(`--agent-config: ${agentConfigFile} must hold a JSON object`);
    delete agent.sourceRanges;
  }
  const timeouts = { ...((agent.timeouts as Record<string, unknown> | undefined) ?? {}) };
  for (const [flag, key] of [
    ['udp-timeout', 'udp'],
    ['tcp-established-timeout', 'tcpEstablished'],
    ['tcp-transitory-timeout', 'tcpTransitory'],
    ['tcp-time-wait-timeout', 'tcpTimeWait'],
    ['icmp-timeout', 'icmp'],
  ] as const) {
    const text = str(flag);
    if (text !== undefined) timeouts[key] = seconds(flag, text);
  }
  if (Object.keys(timeouts).length > 0) agent.timeouts = timeouts;
  const maxConnections = str('max-connections-per-vm');
  if (maxConnections !== undefined) agent.maxConnectionsPerVm = integer('max-connections-per-vm', maxConnections, 1, 1_048_576);
  const portsPerVm = str('ports-per-vm');
  const minPorts = str('min-ports-per-vm');
  const maxPorts = str('max-ports-per-vm');
  if (portsPerVm !== undefined && (minPorts !== undefined || maxPorts !== undefined))
    throw new UsageError(
      '--ports-per-vm: give either --ports-per-vm (static) or --min-ports-per-vm/--max-ports-per-vm (dynamic), not both',
    );
  // Validated with the rest of the agent config below (power of two, 64-32768, max ≥ min), naming the field.
  if (portsPerVm !== undefined) agent.portAllocation = { mode: 'static', portsPerVm: integer('ports-per-vm', portsPerVm, 64, 32_768) };
  else if (minPorts !== undefined || maxPorts !== undefined) {
    if (minPorts === undefined || maxPorts === undefined)
      throw new UsageError('--min-ports-per-vm and --max-ports-per-vm go together (dynamic port allocation)');
    agent.portAllocation = {
      mode: 'dynamic',
      minPortsPerVm: integer('min-ports-per-vm', minPorts, 64, 32_768),
      maxPortsPerVm: integer('max-ports-per-vm', maxPorts, 64, 32_768),
    };
  }
  const mss = str('mss-clamp');
  if (mss !== undefined) agent.mssClamp = mss === 'pmtu' ? 'pmtu' : integer('mss-clamp', mss, MSS_RANGE.min, MSS_RANGE.max);
  const conntrackMax = str('conntrack-max');
  if (conntrackMax !== undefined) agent.conntrackMax = integer('conntrack-max', conntrackMax, 1024, 16_777_216);
  const logging = str('logging');
  if (logging !== undefined) {
    if (!['none', 'errors', 'translations', 'all'].includes(logging))
      throw new UsageError(`--logging: '${logging}' must be none, errors, translations or all`);
    agent.logging = logging;
  }
  const probe = str('egress-probe');
  const probeInterval = str('egress-probe-interval');
  if (probe !== undefined || probeInterval !== undefined) {
    const current = (agent.egressProbe as Record<string, unknown> | undefined) ?? {};
    const targets =
      probe === undefined
        ? current.targets
        : probe
            .split(',')
            .map((target) => target.trim())
            .filter((target) => target !== '');
    if (targets === undefined) throw new UsageError('--egress-probe-interval: needs --egress-probe HOST:PORT,… as well');
    for (const target of targets as string[])
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(target)) throw new UsageError(`--egress-probe: '${target}' is not HOST:PORT`);
    agent.egressProbe = {
      ...current,
      targets,
      ...(probeInterval === undefined ? {} : { intervalSeconds: seconds('egress-probe-interval', probeInterval) }),
    };
  }
  const reconcile = str('reconcile-interval');
  if (reconcile !== undefined) agent.reconcileIntervalSeconds = seconds('reconcile-interval', reconcile);
  const metricsRanges = str('metrics-source-ranges');
  if (metricsRanges !== undefined) agent.metricsSourceRanges = metricsSourceRanges(metricsRanges);
  const agentPort = str('agent-port');
  if (agentPort !== undefined) agent.listen = `0.0.0.0:${integer('agent-port', agentPort, 1, 65535)}`;
  if (bool('allow-non-private-ranges')) agent.allowNonPrivateRanges = true;
  const metricsRuleName = `${name}${METRICS_RULE_SUFFIX}`;
  if (((agent.metricsSourceRanges as unknown[] | undefined) ?? []).length > 0 && metricsRuleName.length > 63)
    throw new UsageError(
      `--name: '${name}' is too long for the metrics firewall rule ${metricsRuleName} (GCE names have at most 63 characters); use a name of at most ${63 - METRICS_RULE_SUFFIX.length} characters with --metrics-source-ranges`,
    );
  // Checked now with a placeholder range, so a bad agent setting fails before any API call.
  try {
    validateAgentConfig({ ...agent, sourceRanges: ['10.0.0.0/8'] }, agentConfigFile ?? 'flags');
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`agent settings: ${error.problems.join('; ')}`);
    throw error;
  }

  const endpointText = str('compute-endpoint') ?? (env.NATGW_COMPUTE_ENDPOINT === '' ? undefined : env.NATGW_COMPUTE_ENDPOINT);
  const endpointFlag = str('compute-endpoint') !== undefined ? '--compute-endpoint' : 'NATGW_COMPUTE_ENDPOINT';
  const endpoint = endpointText === undefined ? undefined : parseEndpoint(endpointFlag, endpointText);
  const machineType = str('machine-type') ?? 'e2-small';
  if (!/^[a-z0-9][-a-z0-9]*$/.test(machineType))
    throw new UsageError(`--machine-type: '${machineType}' is not a machine type name (e.g. e2-small)`);

  const ha = bool('ha') && command === 'provision';
  const zonesText = str('zones');
  const sizeText = str('size');
  let zones: string[] | undefined;
  let size = 2;
  const stateful = bool('stateful') && command === 'provision';
  if (stateful) {
    if (!ha) throw new UsageError('--stateful: only with --ha (stateful failover is a mode of HA: natgw provision --ha --stateful)');
    if (portsPerVm !== undefined || minPorts !== undefined || maxPorts !== undefined)
      throw new UsageError(
        `--stateful: not supported together with port blocks (--ports-per-vm, --min-ports-per-vm, --max-ports-per-vm) yet; stateful HA uses the shared pool (the default) because ${STATEFUL_PORT_BLOCKS_REASON}`,
      );
    const fromFile = (agent.portAllocation as { mode?: unknown } | undefined)?.mode;
    if (fromFile !== undefined && fromFile !== 'shared')
      throw new UsageError(
        `--stateful: not supported together with port blocks yet (--agent-config sets portAllocation mode '${String(fromFile)}'); stateful HA uses the shared pool (the default) because ${STATEFUL_PORT_BLOCKS_REASON}`,
      );
    if (sizeText !== undefined && sizeText.trim() !== '2')
      throw new UsageError(`--stateful: runs exactly 2 NAT VMs (active and standby); drop --size ${sizeText}`);
  }
  if (!ha && command === 'provision') {
    if (zonesText !== undefined) throw new UsageError(`--zones: only with --ha (single mode takes one --zone)`);
    if (sizeText !== undefined) throw new UsageError(`--size: only with --ha (single mode runs one NAT VM)`);
  }
  if (ha) {
    if (zone !== undefined) throw new UsageError(`--zone: HA mode spreads its VMs over --zones; use --zones ${zone}`);
    if (natIpText !== 'auto')
      throw new UsageError(`--nat-ip: HA mode reserves one static external IP per VM (${name}-ip-1, …); --nat-ip is for single mode`);
    if (name.length > MAX_HA_NAME)
      throw new UsageError(
        `--name: '${name}' is too long for HA mode (at most ${MAX_HA_NAME} characters: resource names get suffixes such as -tmpl-xxxxxx)`,
      );
    if (sizeText !== undefined) {
      if (!/^\d+$/.test(sizeText.trim())) throw new UsageError(`--size: '${sizeText}' is not a whole number`);
      size = Number(sizeText);
      if (size < 2)
        throw new UsageError(
          `--size: HA needs at least 2 NAT VMs (one keeps serving while another fails or is replaced), got ${sizeText}; for one VM use single mode (no --ha)`,
        );
      if (size > MAX_HA_SIZE) throw new UsageError(`--size: at most ${MAX_HA_SIZE} NAT VMs, got ${sizeText}`);
    }
    if (zonesText !== undefined) {
      zones = [];
      for (const part of zonesText
        .split(',')
        .map((text) => text.trim())
        .filter((text) => text !== '')) {
        if (!part.startsWith(`${region}-`)) throw new UsageError(`--zones: '${part}' is not a zone of ${region} (e.g. ${region}-a)`);
        gceName('zones', part);
        if (!zones.includes(part)) zones.push(part);
      }
      if (zones.length === 0) throw new UsageError('--zones: give at least one zone, e.g. --zones us-central1-a,us-central1-b');
      if (stateful && zones.length !== 2)
        throw new UsageError(
          `--zones: --stateful puts its two NAT VMs in two different zones; give exactly two (e.g. --zones ${region}-a,${region}-b), got ${zones.join(',')}`,
        );
    }
  }

  const options: Options = {
    command,
    project,
    region,
    network,
    name,
    subnets: parseSubnetSelection(str('subnets') ?? 'all'),
    extraSourceRanges: parseCidrList('extra-source-ranges', str('extra-source-ranges') ?? ''),
    machineType,
    clientTag,
    routePriority: integer('route-priority', str('route-priority') ?? '800', 0, 65535),
    natIp,
    iapSsh: bool('iap-ssh'),
    bootDiskGb: integer('boot-disk-gb', str('boot-disk-gb') ?? '10', 10, 65536),
    agent: agent as Omit<AgentConfigInput, 'sourceRanges'>,
    healthTimeoutMs: parseDurationMs('health-timeout', str('health-timeout') ?? '10m'),
    pollIntervalMs: parseDurationMs('poll-interval', str('poll-interval') ?? env.NATGW_POLL_INTERVAL ?? '10s'),
    dryRun: bool('dry-run'),
    json: bool('json'),
    yes: bool('yes'),
    retryBaseMs: env.NATGW_RETRY_BASE_MS === undefined ? 1000 : Number(env.NATGW_RETRY_BASE_MS),
    ha,
    size,
    stateful,
  };
  const fallback = str('fallback');
  if (fallback !== undefined) {
    if (!(FALLBACKS as readonly string[]).includes(fallback))
      throw new UsageError(`--fallback: '${fallback}' is not a fallback natgw provides; the one there is: ${FALLBACKS.join(', ')}`);
    options.fallback = fallback as Fallback;
  }
  if (zones !== undefined) options.zones = zones;
  if (zone !== undefined) options.zone = zone;
  if (endpoint !== undefined) options.endpoint = endpoint;
  const bundle = str('agent-bundle');
  if (bundle !== undefined) options.agentBundle = bundle;
  return options;
}
