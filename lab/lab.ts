// A GCE-like VPC built from network namespaces: a fabric (the VPC's bridge, its gateway, the metadata server and the
// 1:1 NAT of external IPs), an "internet" on documentation addresses, and one namespace per VM with a single NIC, ens4.
// Nothing is ever linked to the root namespace.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type RunOptions, type RunResult } from '../agent/runner.js';
import type { LabInstance } from './metadata-server.js';

export const LAB_PREFIX = 'natgw-lab-';
export const VPC = { cidr: '10.10.0.0/24', gateway: '10.10.0.1', prefix: 24, mtu: 1460 } as const;
export const INTERNET = { server: '198.51.100.10', router: '198.51.100.1', fabricWan: '198.51.100.254', externalRange: '203.0.113.0/24', httpPort: 80, udpPort: 7007 } as const;
export const METADATA_IP = '169.254.169.254';

export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'bin', 'natgw.js'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the natgw repository root');
    dir = parent;
  }
  return dir;
}

export interface VmSpec {
  name: string;
  ip: string;
  externalIp?: string;
  /** Where the VM's default route points: the VPC gateway unless a (tagged) route sends it to a NAT VM. */
  defaultVia?: string;
  zone?: string;
  attributes?: Record<string, string>;
}

export interface LabVm extends VmSpec {
  namespace: string;
  /** The VM's own filesystem root for whatever it writes (lab VMs share the host's filesystem). */
  root: string;
  fabricPort: string;
}

export class LabProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128))));
  }

  get text(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.running) throw new Error(`${this.label} exited before printing ${pattern}: ${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${this.label} did not print ${pattern} within ${timeoutMs} ms: ${this.output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<number | null> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

function controlRequest(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      { socketPath, method, path: urlPath, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => ((response.statusCode ?? 500) < 300 ? resolve(text === '' ? undefined : JSON.parse(text)) : reject(new Error(`${method} ${urlPath}: ${response.statusCode} ${text}`))));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export class Lab {
  readonly fabric: string;
  readonly internet: string;
  readonly dir: string;
  readonly vms = new Map<string, LabVm>();
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private readonly exitHook = () => this.destroySync();
  private nextPort = 1;
  private destroyed = false;

  private constructor(readonly id: string) {
    this.fabric = `${LAB_PREFIX}${id}-fabric`;
    this.internet = `${LAB_PREFIX}${id}-internet`;
    this.dir = path.join('/tmp', `${LAB_PREFIX}${id}`);
  }

  get metadataSocket(): string {
    return path.join(this.dir, 'metadata.sock');
  }

  static async create(options: { id?: string } = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, iptables): run it as root');
    for (const tool of ['ip', 'iptables', 'iptables-restore', 'ipset', 'conntrack']) {
      if (!['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => existsSync(path.join(dir, tool)))) {
        const pkg = { ip: 'iproute2', 'iptables-restore': 'iptables' }[tool] ?? tool;
        throw new Error(`the lab needs '${tool}': apt-get install -y ${pkg}`);
      }
    }
    const lab = new Lab(options.id ?? randomBytes(3).toString('hex'));
    process.once('exit', lab.exitHook);
    try {
      await lab.build();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  static leftovers(): string[] {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(LAB_PREFIX));
  }

  async run(purpose: string, namespace: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(purpose, 'ip', ['netns', 'exec', namespace, ...args], options);
  }

  private async addNamespace(name: string): Promise<void> {
    await runCommand(`create namespace ${name}`, 'ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await runCommand('bring up lo', 'ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async build(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const ipn = (ns: string, ...args: string[]) => runCommand(`configure ${ns}`, 'ip', ['-n', ns, ...args]);
    await this.addNamespace(this.fabric);
    await this.addNamespace(this.internet);
    await ipn(this.fabric, 'link', 'add', 'vpc0', 'type', 'bridge');
    await ipn(this.fabric, 'addr', 'add', `${VPC.gateway}/${VPC.prefix}`, 'dev', 'vpc0');
    await ipn(this.fabric, 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'vpc0');
    await ipn(this.fabric, 'link', 'set', 'vpc0', 'up');
    await ipn(this.fabric, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', 'wan', 'netns', this.internet);
    await ipn(this.fabric, 'addr', 'add', `${INTERNET.fabricWan}/24`, 'dev', 'wan');
    await ipn(this.fabric, 'link', 'set', 'wan', 'up');
    await ipn(this.fabric, 'route', 'add', 'default', 'via', INTERNET.router);
    await ipn(this.internet, 'addr', 'add', `${INTERNET.router}/24`, 'dev', 'wan');
    await ipn(this.internet, 'addr', 'add', `${INTERNET.server}/24`, 'dev', 'wan');
    await ipn(this.internet, 'link', 'set', 'wan', 'up');
    await ipn(this.internet, 'route', 'add', INTERNET.externalRange, 'via', INTERNET.fabricWan);
    await this.run('enable forwarding in the fabric', this.fabric, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // With br_netfilter loaded on the host, bridged VM-to-VM frames would hit the fabric's FORWARD chain.
    await this.run('keep bridged frames out of iptables', this.fabric, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0'], { okExitCodes: [1, 255] });
    // GCE drops internet-bound packets from VMs without an external IP; with one, the fabric does the 1:1 NAT.
    await this.run('install the fabric rules', this.fabric, ['iptables-restore'], {
      input: [
        '*filter',
        ':INPUT ACCEPT [0:0]',
        ':FORWARD DROP [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':LAB-EXTERNAL - [0:0]',
        '-A FORWARD -i vpc0 -o vpc0 -j ACCEPT',
        '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A FORWARD -j LAB-EXTERNAL',
        '-A FORWARD -i vpc0 -o wan -m comment --comment lab:no-external-ip -j DROP',
        'COMMIT',
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':INPUT ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':LAB-1TO1-IN - [0:0]',
        ':LAB-1TO1-OUT - [0:0]',
        '-A PREROUTING -j LAB-1TO1-IN',
        '-A POSTROUTING -j LAB-1TO1-OUT',
        'COMMIT',
        '',
      ].join('\n'),
    });
    // Conntrack in the internet namespace lets tests read which source address each ICMP echo came from.
    await this.run('track connections on the internet side', this.internet, ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT']);
    const root = repoRoot();
    const metadata = this.spawnIn(this.fabric, ['node', path.join(root, 'dist/lab/bin/metadata-server.js'), '--listen', `${METADATA_IP}:80`, '--control', this.metadataSocket], 'metadata server');
    const internet = this.spawnIn(this.internet, ['node', path.join(root, 'dist/lab/bin/internet-server.js'), '--address', INTERNET.server], 'internet server');
    await Promise.all([metadata.waitFor(/ready/), internet.waitFor(/ready/)]);
  }

  spawnIn(namespace: string, args: string[], label: string, env: NodeJS.ProcessEnv = {}): LabProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const labProcess = new LabProcess(child, label);
    this.processes.push(labProcess);
    return labProcess;
  }

  vm(name: string): LabVm {
    const vm = this.vms.get(name);
    if (vm === undefined) throw new Error(`no lab VM named ${name}`);
    return vm;
  }

  async addVm(spec: VmSpec): Promise<LabVm> {
    const namespace = `${LAB_PREFIX}${this.id}-${spec.name}`;
    const fabricPort = `p${this.nextPort++}`;
    const vm: LabVm = { ...spec, namespace, fabricPort, root: path.join(this.dir, 'vms', spec.name) };
    mkdirSync(vm.root, { recursive: true });
    await this.addNamespace(namespace);
    const ipn = (ns: string, ...args: string[]) => runCommand(`configure ${ns}`, 'ip', ['-n', ns, ...args]);
    await ipn(this.fabric, 'link', 'add', fabricPort, 'mtu', String(VPC.mtu), 'type', 'veth', 'peer', 'name', 'ens4', 'netns', namespace);
    await ipn(this.fabric, 'link', 'set', fabricPort, 'master', 'vpc0', 'up');
    await ipn(namespace, 'addr', 'add', `${spec.ip}/${VPC.prefix}`, 'dev', 'ens4');
    await ipn(namespace, 'link', 'set', 'ens4', 'mtu', String(VPC.mtu), 'up');
    await ipn(namespace, 'route', 'add', METADATA_IP, 'dev', 'ens4');
    await ipn(namespace, 'route', 'add', 'default', 'via', spec.defaultVia ?? VPC.gateway);
    if (spec.externalIp !== undefined) await this.attachExternalIp(spec.ip, spec.externalIp);
    await controlRequest(this.metadataSocket, 'PUT', `/vms/${spec.ip}`, {
      name: spec.name,
      zone: spec.zone ?? 'lab-central1-a',
      ...(spec.externalIp === undefined ? {} : { externalIp: spec.externalIp }),
      attributes: spec.attributes ?? {},
    });
    this.vms.set(spec.name, vm);
    return vm;
  }

  private async attachExternalIp(ip: string, externalIp: string): Promise<void> {
    const rule = (...args: string[]) => this.run(`map ${externalIp} to ${ip}`, this.fabric, ['iptables', ...args]);
    await rule('-A', 'LAB-EXTERNAL', '-i', 'vpc0', '-o', 'wan', '-s', ip, '-j', 'ACCEPT');
    await rule('-A', 'LAB-EXTERNAL', '-i', 'wan', '-o', 'vpc0', '-d', ip, '-j', 'ACCEPT');
    await rule('-t', 'nat', '-A', 'LAB-1TO1-IN', '-i', 'wan', '-d', externalIp, '-j', 'DNAT', '--to-destination', ip);
    await rule('-t', 'nat', '-A', 'LAB-1TO1-OUT', '-o', 'wan', '-s', ip, '-j', 'SNAT', '--to-source', externalIp);
  }

  async setDefaultRoute(vmName: string, via: string): Promise<void> {
    await runCommand('change the default route', 'ip', ['-n', this.vm(vmName).namespace, 'route', 'replace', 'default', 'via', via]);
  }

  exec(vmName: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return this.run(`run ${args[0]} on ${vmName}`, this.vm(vmName).namespace, args, options);
  }

  spawn(vmName: string, args: string[], label = `${args[0]} on ${vmName}`, env?: NodeJS.ProcessEnv): LabProcess {
    return this.spawnIn(this.vm(vmName).namespace, args, label, env);
  }

  async setAttributes(vmName: string, changes: Record<string, string | null>): Promise<void> {
    await controlRequest(this.metadataSocket, 'PATCH', `/vms/${this.vm(vmName).ip}/attributes`, changes);
  }

  async instance(vmName: string): Promise<LabInstance> {
    return (await controlRequest(this.metadataSocket, 'GET', `/vms/${this.vm(vmName).ip}`)) as LabInstance;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.all(this.processes.map((labProcess) => labProcess.stop('SIGTERM', 1000)));
    this.destroySync();
  }

  /** Also runs from the process exit hook: a failed or interrupted test must not leave namespaces behind. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.exitHook);
    for (const labProcess of this.processes) if (labProcess.running) labProcess.child.kill('SIGKILL');
    for (const namespace of [...this.namespaces].reverse()) removeNamespace(namespace);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kills whatever still runs inside (a namespace outlives deletion while a process holds it), then deletes it. */
export function removeNamespace(namespace: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
