// Shared pieces of the benchmarks: result rows, statistics, and the lab topology they measure in.
import { parseConntrackStatTable } from '../agent/collectors/conntrack-stats.js';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Lab, repoRoot, type LabProcess } from '../lab/lab.js';
import { manyRanges } from './ranges.js';
import { AGENT_PORT } from '../common/protocol.js';

export const ROOT = repoRoot();
export const NATGW = path.join(ROOT, 'bin', 'natgw.js');
export const dist = (file: string) => path.join(ROOT, 'dist', file);
export const SERVER = '198.51.100.10';
export const LISTEN = `127.0.0.1:${AGENT_PORT}`;

export interface Row {
  /** Which benchmark produced it. */
  bench: string;
  metric: string;
  /** The measured value of natgw (or the only value). */
  value: number | null;
  unit: string;
  /** The comparison: what natgw is divided by, when the target is a ratio. */
  baseline?: { label: string; value: number };
  ratio?: number;
  /** e.g. ">= 0.95" or "<= 50"; applies to ratio when there is one, else to value. */
  target?: string;
  met?: boolean;
  note?: string;
  samples?: number[];
}

export interface BenchContext {
  quick: boolean;
  log: (message: string) => void;
  /** Options only some benchmarks read (`--pairs N`, `--perf`: bench/pairs). */
  options?: { pairs?: string; perf?: boolean; pieces?: string };
}

export type Bench = (context: BenchContext) => Promise<Row[]>;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function checkTarget(target: string | undefined, value: number | null | undefined): boolean | undefined {
  if (target === undefined || value === null || value === undefined || Number.isNaN(value)) return undefined;
  const match = /^(>=|<=)\s*([\d.]+)/.exec(target);
  if (match === null) return undefined;
  return match[1] === '>=' ? value >= Number(match[2]) : value <= Number(match[2]);
}

/** A row comparing natgw with a baseline: ratio = natgw / baseline. */
export function ratioRow(
  bench: string,
  metric: string,
  unit: string,
  natgw: number[],
  baselineLabel: string,
  baseline: number[],
  target?: string,
  note?: string,
): Row {
  const value = median(natgw);
  const base = median(baseline);
  const ratio = value / base;
  return {
    bench,
    metric,
    value,
    unit,
    baseline: { label: baselineLabel, value: base },
    ratio,
    ...(target === undefined ? {} : { target, met: checkTarget(target, ratio) }),
    ...(note === undefined ? {} : { note }),
    samples: natgw,
  };
}

export function valueRow(
  bench: string,
  metric: string,
  unit: string,
  value: number | null,
  target?: string,
  note?: string,
  samples?: number[],
): Row {
  return {
    bench,
    metric,
    value,
    unit,
    ...(target === undefined ? {} : { target, met: checkTarget(target, value) }),
    ...(note === undefined ? {} : { note }),
    ...(samples === undefined ? {} : { samples }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a lab command and parses the one JSON line it prints last. */
export async function execJson<T>(lab: Lab, vm: string, args: string[]): Promise<T> {
  const { stdout } = await lab.exec(vm, args);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    // iperf3 -J prints one pretty-printed document
  }
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`${args.join(' ')} printed no JSON: ${stdout.slice(-500)}`);
  }
}

export async function sysctls(lab: Lab, namespace: string, settings: Record<string, string | number>): Promise<void> {
  await lab.run('tune the namespace', namespace, ['sysctl', '-qw', ...Object.entries(settings).map(([name, value]) => `${name}=${value}`)]);
}

export const MASQUERADE_RULE = ['POSTROUTING', '-o', 'ens4', '-j', 'MASQUERADE'];

/** Every window starts from an empty conntrack table: no entries of the one before holding ports or hash chains. */
export const flushConntrack = (lab: Lab, vm: string): Promise<unknown> => lab.exec(vm, ['conntrack', '-F'], { okExitCodes: [1] });

/** The naive recipe on a NAT VM whose agent is gone (its sysctls stay): forwarding on and one MASQUERADE rule. */
export async function masquerade(lab: Lab, vm: string): Promise<void> {
  await sysctls(lab, lab.vm(vm).namespace, { 'net.ipv4.ip_forward': 1 });
  await lab.exec(vm, ['iptables', '-t', 'nat', '-A', ...MASQUERADE_RULE]);
}

/** The sinks the connection benchmarks talk to: 9000 closes first (server TIME_WAIT), 9001 lets the client close first. */
/** `maxSeconds` bounds the sinks' life: a benchmark that runs longer must ask for more, or its last windows read 0. */
export async function startSinks(lab: Lab, maxSeconds = 900): Promise<void> {
  const sinks = ['server', 'client'].map((close, i) =>
    lab.spawnIn(
      lab.internet,
      [
        'taskset',
        '-c',
        '1',
        'node',
        dist('lab/bin/tcp-sink.js'),
        '--address',
        SERVER,
        '--port',
        String(9000 + i),
        '--close',
        close,
        '--max-seconds',
        String(maxSeconds),
      ],
      `tcp sink (${close} closes)`,
    ),
  );
  await Promise.all(sinks.map((sink) => sink.waitFor(/ready/)));
}

export interface ConnectRate {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** How long the loop ran, from its start (or the end of its warm-up) to its last connection's end. */
  seconds: number;
  rate: number;
  slow: number;
  connectMs: { p50: number; p99: number };
}

export function connectRate(
  lab: Lab,
  client: string,
  options: {
    close: 'client' | 'server';
    concurrency: number;
    seconds: number;
    cpu?: number;
    warmupMs?: number;
    /** Client addresses the connections take in turn (the client VM holds them); its own address when absent. */
    sources?: readonly string[];
    /** Stops after this many connections (connect-rate's own default otherwise). */
    maxConnections?: number;
  },
): Promise<ConnectRate> {
  return execJson<ConnectRate>(lab, client, [
    ...(options.cpu === undefined ? [] : ['taskset', '-c', String(options.cpu)]),
    'node',
    dist('lab/bin/connect-rate.js'),
    '--host',
    SERVER,
    '--port',
    options.close === 'server' ? '9000' : '9001',
    '--close',
    options.close,
    '--concurrency',
    String(options.concurrency),
    '--seconds',
    String(options.seconds),
    ...(options.warmupMs === undefined ? [] : ['--warmup-ms', String(options.warmupMs)]),
    ...(options.sources === undefined ? [] : ['--sources', options.sources.join(',')]),
    ...(options.maxConnections === undefined ? [] : ['--max-connections', String(options.maxConnections)]),
  ]);
}

// --- agent ---

export function writeAgentConfig(lab: Lab, vm: string, config: unknown): string {
  const file = path.join(lab.vm(vm).root, 'natgw.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Pass as `extraArgs` to run the agent as a NAT VM does: the esbuild bundle, with the systemd unit's flags and environment. */
export const SHIPPED: string[] = [];

function startupScriptWords(name: string): string[] {
  const script = readFileSync(path.join(ROOT, 'startup-scripts/natgw-startup.sh'), 'utf8');
  const value = new RegExp(`^readonly ${name}="([^"]*)"$`, 'm').exec(script);
  if (value === null) throw new Error(`startup-scripts/natgw-startup.sh no longer sets ${name}`);
  return value[1]!.split(' ').filter(Boolean);
}

export const shippedNodeFlags = () => startupScriptWords('AGENT_NODE_FLAGS');

export const shippedEnvironment = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    startupScriptWords('AGENT_ENVIRONMENT').map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
  );

async function shippedAgent(lab: Lab): Promise<string> {
  const { buildAgentBundle } = await import('../provision/agent-bundle.js');
  const file = path.join(lab.dir, 'natgw-agent.mjs');
  writeFileSync(file, await buildAgentBundle());
  return file;
}

export async function startAgent(lab: Lab, vm: string, config: unknown, extraArgs: string[] = []): Promise<LabProcess> {
  const file = writeAgentConfig(lab, vm, config);
  const command = extraArgs === SHIPPED ? ['node', ...shippedNodeFlags(), await shippedAgent(lab)] : ['node', ...extraArgs, NATGW, 'agent'];
  const agent = lab.spawn(
    vm,
    [...command, '--config', file, '--listen', LISTEN, '--root', lab.vm(vm).root],
    `natgw agent on ${vm}`,
    extraArgs === SHIPPED ? shippedEnvironment() : {},
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { stdout } = await lab.exec(vm, ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${LISTEN}/healthz`], {
      okExitCodes: [7, 28, 52, 56],
    });
    if (stdout.trim() === '200') return agent;
    if (!agent.running) throw new Error(`the agent on ${vm} exited: ${agent.text.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`the agent on ${vm} did not become healthy: ${agent.text.slice(-2000)}`);
    await sleep(200);
  }
}

export async function scrapeMetrics(lab: Lab, vm: string): Promise<Map<string, number>> {
  const { stdout } = await lab.exec(vm, ['curl', '-sS', '-m', '30', `http://${LISTEN}/metrics`]);
  const values = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) values.set(match[1] ?? '', Number(match[2]));
  }
  return values;
}

// --- /proc ---

export const CLK_TCK = 100;

export interface ProcTimes {
  /** utime + stime of the process itself, in seconds. */
  self: number;
  /** cutime + cstime: children it has already reaped (short-lived commands), in seconds. */
  reaped: number;
}

export function procTimes(pid: number): ProcTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const at = (field: number) => Number(fields[field - 3]);
  return { self: (at(14) + at(15)) / CLK_TCK, reaped: (at(16) + at(17)) / CLK_TCK };
}

/** Live children of a process: pid → command name and CPU seconds so far. */
export function liveChildren(ppid: number): Map<number, { comm: string; cpu: number }> {
  const children = new Map<number, { comm: string; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      children.set(Number(entry), { comm, cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** RssFile is mostly the node binary's own code, shared and reclaimable; RssAnon is what the process allocated. */
export function procStatus(pid: number): { rssMb: number; hwmMb: number; anonMb: number; fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

/** /proc/net/stat/nf_conntrack of a namespace, summed over CPUs, plus the entry count. */
export async function conntrackStats(lab: Lab, namespace: string): Promise<Record<string, number>> {
  const { stdout } = await lab.run('read conntrack statistics', namespace, ['cat', '/proc/net/stat/nf_conntrack']);
  const totals = parseConntrackStatTable(stdout);
  const { stdout: count } = await lab.run('read conntrack count', namespace, ['cat', '/proc/sys/net/netfilter/nf_conntrack_count']);
  totals.count = Number(count.trim());
  return totals;
}

// --- the topology ---

export interface PathSpec {
  /** natgw-1, natgw-1000, naive, routed */
  name: string;
  gateway: string;
  clients: string[];
}

const ROUTER_IP = '10.10.0.3';
const GATEWAYS: Record<string, { ip: string; externalIp?: string; clients: [string, string][] }> = {
  'natgw-1': {
    ip: '10.10.0.2',
    externalIp: '203.0.113.10',
    clients: [
      ['c-nat1', '10.10.0.21'],
      ['c-nat1b', '10.10.0.22'],
    ],
  },
  'natgw-1000': {
    ip: '10.10.0.4',
    externalIp: '203.0.113.11',
    clients: [
      ['c-nat1k', '10.10.0.41'],
      ['c-nat1kb', '10.10.0.42'],
    ],
  },
  // Three more NAT VMs like natgw-1, for benchmarks that keep one VM per side (bench/pairs).
  'natgw-2': {
    ip: '10.10.0.8',
    externalIp: '203.0.113.14',
    clients: [
      ['c-nat2', '10.10.0.81'],
      ['c-nat2b', '10.10.0.82'],
    ],
  },
  'natgw-3': {
    ip: '10.10.0.9',
    externalIp: '203.0.113.15',
    clients: [
      ['c-nat3', '10.10.0.91'],
      ['c-nat3b', '10.10.0.92'],
    ],
  },
  'natgw-4': {
    ip: '10.10.0.10',
    externalIp: '203.0.113.16',
    clients: [
      ['c-nat4', '10.10.0.101'],
      ['c-nat4b', '10.10.0.102'],
    ],
  },
  naive: {
    ip: '10.10.0.6',
    externalIp: '203.0.113.13',
    clients: [
      ['c-naive', '10.10.0.61'],
      ['c-naiveb', '10.10.0.62'],
    ],
  },
  routed: {
    ip: ROUTER_IP,
    clients: [
      ['c-routed', '10.10.0.31'],
      ['c-routedb', '10.10.0.32'],
    ],
  },
};
const GATEWAY_VM: Record<string, string> = {
  'natgw-1': 'nat1',
  'natgw-1000': 'nat1k',
  'natgw-2': 'nat2',
  'natgw-3': 'nat3',
  'natgw-4': 'nat4',
  naive: 'naive',
  routed: 'router',
};

export const SMALL_CONFIG = (overrides: Record<string, unknown> = {}) => ({ sourceRanges: ['10.10.0.0/25'], ...overrides });

/**
 * A lab with the asked paths to the internet, each through its own gateway VM and clients, all crossing the same hops
 * (client → VPC bridge → gateway VM → VPC bridge → fabric → internet, and back the same way):
 * - routed: a plain router (ip_forward=1, no rules, no conntrack); the fabric 1:1-NATs its clients like VMs with an
 *   external IP and sends their return traffic back through the router.
 * - natgw-1 / natgw-1000: the natgw agent with 1 / 1,000 source ranges.
 * - naive: `iptables -t nat -A POSTROUTING -o ens4 -j MASQUERADE`, kernel defaults, no agent.
 */
export async function buildLab(
  paths: string[],
  options: { clientsPerPath?: number; natgwConfig?: (path: string) => unknown } = {},
): Promise<{ lab: Lab; paths: PathSpec[]; agents: Map<string, LabProcess> }> {
  const lab = await Lab.create();
  const agents = new Map<string, LabProcess>();
  try {
    const specs: PathSpec[] = [];
    for (const name of paths) {
      const gateway = GATEWAYS[name];
      if (gateway === undefined) throw new Error(`unknown path ${name}`);
      const vm = GATEWAY_VM[name]!;
      await lab.addVm({
        name: vm,
        ip: gateway.ip,
        ...(gateway.externalIp === undefined ? {} : { externalIp: gateway.externalIp }),
        canIpForward: true,
      });
      const clients = gateway.clients.slice(0, options.clientsPerPath ?? 1);
      for (const [client, ip] of clients) {
        // Routed clients get an external IP of their own: the fabric translates them 1:1, as GCE would.
        const externalIp = name === 'routed' ? `203.0.113.${ip.split('.')[3]}` : undefined;
        await lab.addVm({ name: client, ip, defaultVia: gateway.ip, ...(externalIp === undefined ? {} : { externalIp }) });
        // Load generators: all ephemeral ports, and TIME_WAIT ports reused after 1 s (client-closes connection loops).
        await sysctls(lab, lab.vm(client).namespace, { 'net.ipv4.ip_local_port_range': '1024 65535', 'net.ipv4.tcp_tw_reuse': 1 });
        // Return traffic for a routed client goes back through the router, like the NAT paths' return traffic.
        if (name === 'routed')
          await lab.run('route replies via the router', lab.fabric, ['ip', 'route', 'add', `${ip}/32`, 'via', ROUTER_IP, 'dev', 'vpc0']);
      }
      specs.push({ name, gateway: vm, clients: clients.map(([client]) => client) });
    }
    // Keep the lab's own bookkeeping (fabric 1:1 NAT, internet-side tracking) from filling up under connection churn.
    for (const namespace of [lab.fabric, lab.internet])
      await sysctls(lab, namespace, { 'net.netfilter.nf_conntrack_tcp_timeout_time_wait': 10 });
    for (const spec of specs) {
      const vm = lab.vm(spec.gateway);
      const plainForwarding = {
        'net.ipv4.ip_forward': 1,
        'net.ipv4.conf.all.send_redirects': 0,
        'net.ipv4.conf.default.send_redirects': 0,
        'net.ipv4.conf.ens4.send_redirects': 0,
      };
      if (spec.name === 'routed') await sysctls(lab, vm.namespace, plainForwarding);
      else if (spec.name === 'naive') {
        await sysctls(lab, vm.namespace, plainForwarding);
        await lab.exec(spec.gateway, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'ens4', '-j', 'MASQUERADE']);
      } else {
        const config =
          options.natgwConfig?.(spec.name) ?? SMALL_CONFIG(spec.name === 'natgw-1000' ? { sourceRanges: manyRangesCached() } : {});
        agents.set(spec.name, await startAgent(lab, spec.gateway, config));
      }
    }
    return { lab, paths: specs, agents };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

let cachedRanges: string[] | undefined;
export const manyRangesCached = () => (cachedRanges ??= manyRanges(1000, '10.10.0.0/25'));
