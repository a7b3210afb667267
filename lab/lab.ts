// A GCE-like VPC built from network namespaces: a fabric (the VPC's bridge, its gateway, the metadata server and the
// 1:1 NAT of external IPs), an "internet" on documentation addresses, and one namespace per VM with a single NIC, ens4.
// Nothing is ever linked to the root namespace. What is programmed is rendered by fabric.ts and routing.ts.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand, type RunOptions, type RunResult } from '../agent/runner.js';
import {
  externalIpRules,
  renderAntiSpoofing,
  renderFabricRules,
  renderLoadBalancerForwarding,
  renderVmFirewall,
  type LoadBalancerAddress,
} from './fabric.js';
import { waitFor } from '../common/wait.js';
import { Guest } from './guest.js';
import {
  activeBackends,
  backendForFlow,
  backendMark,
  type FlowTuple,
  healthCheckTargets,
  type HealthWatch,
  renderExternalLoadBalancing,
  renderNextHopSteering,
  renderProbePaths,
} from './load-balancing.js';
import type { LabInstance } from './metadata-server.js';
import {
  INTERNET,
  LAB_PREFIX,
  METADATA_IP,
  VPC,
  gceMac,
  HEALTH_PROBER,
  repoRoot,
  type HealthCheckTarget,
  type HealthEvent,
  type LabFirewallRule,
  type LabLoadBalancedRoute,
  type LabRoute,
  type LabVm,
  type LoadBalancerEvent,
  type VmSpec,
} from './model.js';
import { LabProcess, controlRequest, removeNamespace } from './process.js';
import { balancedRoutePriority, defaultRouteArgs, defaultRouteHops } from './routing.js';

export * from './model.js';

function namespacePids(namespace: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
export { LabProcess, removeNamespace } from './process.js';

export class Lab {
  readonly fabric: string;
  /** Every VM's port on the fabric's bridge, kept after the VM is gone: a capture there names the VM (a recreated one too). */
  readonly fabricPortsEver = new Map<string, string>();
  readonly internet: string;
  readonly dir: string;
  readonly vms = new Map<string, LabVm>();
  /** VMs that are real guests (systemd-nspawn, lab/guest.ts), by VM name; the others are plain namespaces. */
  readonly guests = new Map<string, Guest>();
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private readonly exitHook = () => this.destroySync();
  // A signal ends the process without running exit hooks. When nobody else handles it, clean up and exit as the
  // signal would have; a command that handles it itself (lab up) tears the lab down on its own.
  private readonly signalHook = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    this.destroySync();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  private nextPort = 1;
  private destroyed = false;
  private routes: LabRoute[] = [];
  private balancedRoutes: LabLoadBalancedRoute[] = [];
  private readonly healthyBackends = new Map<string, Set<string>>();
  private healthChecker: LabProcess | undefined;
  /** Backend health changes, for tests that measure failover. */
  readonly healthEvents: HealthEvent[] = [];
  private firewalls: LabFirewallRule[] | undefined;
  /** Each load balancer's programmed view: the health it last acted on, and where it sends new connections. */
  private readonly programmed = new Map<string, { healthy: Set<string>; active: string[] }>();
  private readonly programming = new Map<string, NodeJS.Timeout>();
  /** Failures to program a health change into the network (a test should find none). */
  readonly programmingErrors: Error[] = [];
  /** VMs removeVm is unplugging: no route is written for them any more. */
  private readonly leaving = new Set<LabVm>();
  /** Every change of a load balancer's programmed view (where new connections go, which backends it deems healthy). */
  readonly loadBalancerEvents: LoadBalancerEvent[] = [];
  private readonly loadBalancerListeners = new Set<(event: LoadBalancerEvent) => void>();
  /**
   * Forwarding-rule IPs whose backend each VM is, by VM name: its GCE firewall tracks them per VM, and a plain namespace
   * holds each as a local route (a guest's own guest agent adds those, from the metadata server's forwarded-ips).
   */
  private readonly forwardedAddresses = new Map<string, Set<string>>();
  private readonly backendRoutingTables = new Set<string>();
  /** Backends the fabric has a probe path to (renderProbePaths). */
  private readonly probePaths = new Set<string>();
  /** VMs whose flows follow an internal load balancer one by one, with the backends they have a routing table for. */
  private readonly steeredVms = new Map<string, Set<string>>();
  /** VMs whose flows are being steered now (their lab-gce-routing table is loaded). */
  private readonly steering = new Set<string>();
  /** VMs whose host failed (failHost): their namespace is left as it died, nothing is programmed into it any more. */
  private readonly failedHosts = new Set<string>();

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
    for (const tool of ['ip', 'iptables', 'iptables-restore', 'ipset', 'conntrack', 'nft', 'curl']) {
      if (!['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => existsSync(path.join(dir, tool)))) {
        const pkg = { ip: 'iproute2', 'iptables-restore': 'iptables', nft: 'nftables' }[tool] ?? tool;
        throw new Error(`the lab needs '${tool}': apt-get install -y ${pkg}`);
      }
    }
    const lab = new Lab(options.id ?? randomBytes(3).toString('hex'));
    process.once('exit', lab.exitHook);
    process.on('SIGTERM', lab.signalHook);
    process.on('SIGINT', lab.signalHook);
    try {
      await lab.build();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  static namespaces(): string[] {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(LAB_PREFIX));
  }

  /** Namespaces of labs whose owning process is gone; a lab another process is still using is not a leftover. */
  static leftovers(): string[] {
    return Lab.namespaces().filter((name) => !Lab.ownerAlive(name.slice(LAB_PREFIX.length).split('-')[0] ?? ''));
  }

  private static ownerAlive(id: string): boolean {
    try {
      process.kill(Number(readFileSync(path.join('/tmp', `${LAB_PREFIX}${id}`, 'owner.pid'), 'utf8')), 0);
      return true;
    } catch {
      return false;
    }
  }

  async run(purpose: string, namespace: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(purpose, 'ip', ['netns', 'exec', namespace, ...args], options);
  }

  /**
   * What the lab programs into a VM's namespace with nft: in a guest, with the guest's own nft. The host's nft (Debian
   * 12's 1.0.6) reads the whole ruleset of the namespace and crashes on tables the guest's newer nft wrote.
   */
  private runOnVm(vm: LabVm, purpose: string, args: string[], options?: RunOptions): Promise<RunResult> {
    const guest = this.guests.get(vm.name);
    if (guest?.running === true) return guest.exec(args, options);
    return this.run(purpose, vm.namespace, args, options);
  }

  private async addNamespace(name: string): Promise<void> {
    await runCommand(`create namespace ${name}`, 'ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await runCommand('bring up lo', 'ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async build(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(path.join(this.dir, 'owner.pid'), String(process.pid));
    const ipn = (ns: string, ...args: string[]) => runCommand(`configure ${ns}`, 'ip', ['-n', ns, ...args]);
    await this.addNamespace(this.fabric);
    await this.addNamespace(this.internet);
    // A bridge without its own address takes its lowest port MAC, so plugging in a VM could change the gateway's MAC
    // under every VM's ARP cache (seen in CI as a lab going dark after addVm).
    await ipn(this.fabric, 'link', 'add', 'vpc0', 'address', gceMac(VPC.gateway), 'type', 'bridge');
    await ipn(this.fabric, 'addr', 'add', `${VPC.gateway}/${VPC.prefix}`, 'dev', 'vpc0');
    await ipn(this.fabric, 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'vpc0');
    await ipn(this.fabric, 'addr', 'add', `${HEALTH_PROBER}/32`, 'dev', 'lo');
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
    await this.run('keep bridged frames out of iptables', this.fabric, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0'], {
      okExitCodes: [1, 255],
    });
    await this.run('install the fabric rules', this.fabric, ['iptables-restore'], { input: renderFabricRules() });
    // Conntrack in the internet namespace lets tests read which source address each ICMP echo came from.
    await this.run('track connections on the internet side', this.internet, [
      'iptables',
      '-A',
      'INPUT',
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-j',
      'ACCEPT',
    ]);
    const root = repoRoot();
    const metadata = this.spawnIn(
      this.fabric,
      ['node', path.join(root, 'dist/lab/bin/metadata-server.js'), '--listen', `${METADATA_IP}:80`, '--control', this.metadataSocket],
      'metadata server',
    );
    const internet = this.spawnIn(
      this.internet,
      ['node', path.join(root, 'dist/lab/bin/internet-server.js'), '--address', INTERNET.server],
      'internet server',
    );
    await Promise.all([metadata.waitFor(/ready/), internet.waitFor(/ready/)]);
  }

  /** With `tiedToStdin`, the process gets a pipe as stdin that closes when this process ends, whatever ends it. */
  spawnIn(namespace: string, args: string[], label: string, env: NodeJS.ProcessEnv = {}, tiedToStdin = false): LabProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, ...args], {
      stdio: [tiedToStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const labProcess = new LabProcess(child, label, namespace);
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
    this.fabricPortsEver.set(fabricPort, `${spec.name} ${spec.ip} (${gceMac(spec.ip)})`);
    const vm: LabVm = { ...spec, namespace, fabricPort, root: path.join(this.dir, 'vms', spec.name) };
    mkdirSync(vm.root, { recursive: true });
    await this.addNamespace(namespace);
    const ipn = (ns: string, ...args: string[]) => runCommand(`configure ${ns}`, 'ip', ['-n', ns, ...args]);
    await ipn(
      this.fabric,
      'link',
      'add',
      fabricPort,
      'mtu',
      String(VPC.mtu),
      'type',
      'veth',
      'peer',
      'name',
      'ens4',
      'address',
      gceMac(spec.ip),
      'netns',
      namespace,
    );
    await ipn(this.fabric, 'link', 'set', fabricPort, 'master', 'vpc0', 'up');
    await ipn(namespace, 'addr', 'add', `${spec.ip}/${VPC.prefix}`, 'dev', 'ens4');
    // A GCE VM's NIC came up early in its boot, its IPv6 link-local address long past duplicate address detection when
    // the guest agent starts; here the NIC comes up a second before. The guest agent's first run waits for that address
    // to leave 'tentative' by re-running one exec.Cmd, which fails from the second try on, so seeing it tentative once
    // cost the full 5 s on every boot before forwarded IPs were routed and the load balancers' probes were answered.
    // Each VM's MAC, and with it its link-local address, is unique in the lab: DAD has nothing to find.
    await this.run('skip duplicate address detection on the NIC', namespace, ['sysctl', '-qw', 'net.ipv6.conf.ens4.accept_dad=0']);
    await ipn(namespace, 'link', 'set', 'ens4', 'mtu', String(VPC.mtu), 'up');
    await ipn(namespace, 'route', 'add', METADATA_IP, 'dev', 'ens4');
    await ipn(namespace, 'route', 'add', 'default', 'via', spec.defaultVia ?? VPC.gateway);
    if (spec.externalIp !== undefined) await this.attachExternalIp(spec.ip, spec.externalIp);
    this.vms.set(spec.name, vm);
    await this.applyFabricFilters();
    if (spec.defaultVia === undefined && this.routes.length + this.balancedRoutes.length > 0) await this.applyRoutesTo(vm);
    if (this.firewalls !== undefined) await this.applyFirewallTo(vm);
    await controlRequest(this.metadataSocket, 'PUT', `/vms/${spec.ip}`, {
      name: spec.name,
      zone: spec.zone ?? 'lab-central1-a',
      mac: gceMac(spec.ip),
      ...(spec.externalIp === undefined ? {} : { externalIp: spec.externalIp }),
      attributes: spec.attributes ?? {},
    });
    return vm;
  }

  /**
   * Shuts the VM down: SIGTERM to every process in it, at once, and up to `graceMs` for them to exit (GCE gives a
   * deleted VM's processes time to finish; the lab's Compute API deletes with 30 s), then SIGKILL and the VM is gone.
   */
  async removeVm(name: string, options: { graceMs?: number } = {}): Promise<void> {
    const vm = this.vm(name);
    // From here the load balancer may reprogram at any moment (the VM's agent drains first): the VM gets no route
    // written any more, and the others still get theirs.
    this.leaving.add(vm);
    try {
      const guest = this.guests.get(name);
      if (guest !== undefined) {
        // A guest shuts down as a VM does: systemd stops its units (the agent drains), within the same grace.
        await guest.stop(options.graceMs ?? 1000);
        this.guests.delete(name);
      }
      await this.stopProcessesOf(vm, options.graceMs ?? 1000);
      this.forwardedAddresses.delete(name);
      this.steeredVms.delete(name);
      this.steering.delete(name);
      this.failedHosts.delete(name);
      // Unplugged first, as a powered-off VM is: a namespace being deleted drops its nftables and conntrack state
      // while its NIC still takes packets, and with the NAT IP still a local route its TCP stack answered the server's
      // segments of live flows with RSTs from the NAT IP (a rolling replacement's old active: 1 flow in ~2,500 reset
      // on both ends).
      await runCommand('unplug the VM', 'ip', ['-n', this.fabric, 'link', 'del', vm.fabricPort]);
      removeNamespace(vm.namespace);
      this.namespaces.splice(this.namespaces.indexOf(vm.namespace), 1);
      this.vms.delete(name);
    } finally {
      this.leaving.delete(vm);
    }
    if (vm.externalIp !== undefined) await this.detachExternalIp(vm.ip, vm.externalIp);
    await controlRequest(this.metadataSocket, 'DELETE', `/vms/${vm.ip}`);
    // GCE has no ARP caches; nothing here should answer from cache for a VM that is gone.
    for (const namespace of [this.fabric, ...[...this.vms.values()].map((other) => other.namespace)]) {
      await runCommand('forget the old MAC', 'ip', ['-n', namespace, 'neigh', 'flush', 'to', vm.ip], { okExitCodes: [1, 2] });
    }
    await this.applyFabricFilters();
  }

  private async stopProcessesOf(vm: LabVm, graceMs: number): Promise<void> {
    const pids = () => namespacePids(vm.namespace);
    for (const pid of pids()) signal(pid, 'SIGTERM');
    await waitFor(() => pids().length === 0, { timeoutMs: graceMs, everyMs: 50 });
    for (const pid of pids()) signal(pid, 'SIGKILL');
    await Promise.all(this.processes.filter((labProcess) => labProcess.namespace === vm.namespace).map((labProcess) => labProcess.exited));
  }

  /** A host failure: the NIC goes down and every process of the VM dies in the same instant; nothing shuts down cleanly. */
  async failHost(name: string): Promise<void> {
    const vm = this.vm(name);
    this.failedHosts.add(name);
    const pids = namespacePids(vm.namespace);
    this.guests.get(name)?.kill();
    await Promise.all([
      this.run('pull the NIC', vm.namespace, ['ip', 'link', 'set', 'ens4', 'down']),
      ...pids.map(async (pid) => signal(pid, 'SIGKILL')),
    ]);
  }

  /** Re-programs the fabric's anti-spoofing (GCE's canIpForward) after VMs changed. */
  refreshFabric(): Promise<void> {
    return this.applyFabricFilters();
  }

  private async applyFabricFilters(): Promise<void> {
    await this.run('program anti-spoofing in the fabric', this.fabric, ['nft', '-f', '-'], {
      input: renderAntiSpoofing(this.vms.values(), this.loadBalancerAddresses()),
    });
  }

  /** Like GCE's routing table: every VM's default route follows the best route whose tags it carries. */
  async setRoutes(routes: LabRoute[]): Promise<void> {
    this.routes = routes;
    await this.applyAllRoutes();
  }

  private async applyRoutesTo(vm: LabVm): Promise<void> {
    if (this.failedHosts.has(vm.name) || this.leaving.has(vm)) return;
    const hops = defaultRouteHops(vm, this.routes, this.balancedRoutes, this.programmedHealth());
    if (hops.length > 1) {
      // L4 hashing, as the load balancer does: each connection sticks to one backend, connections spread.
      await this.run('hash multipath routes on ports', vm.namespace, ['sysctl', '-qw', 'net.ipv4.fib_multipath_hash_policy=1']);
    }
    await runCommand(`route ${vm.name}`, 'ip', ['-n', vm.namespace, ...defaultRouteArgs(hops)]);
    await this.steerFlowsOf(vm, hops);
  }

  /**
   * When an internal load balancer is the VM's next hop, its flows are steered one by one (lab/load-balancing.ts), so
   * that connection persistence decides whether an established flow follows a failover, as on GCE.
   */
  private async steerFlowsOf(vm: LabVm, hops: string[]): Promise<void> {
    const tags = vm.tags ?? [];
    const lb = this.balancedRoutes.find((route) => {
      const view = this.programmed.get(route.name);
      return (
        route.scheme !== 'EXTERNAL' &&
        route.routed !== false &&
        balancedRoutePriority(route, tags) !== undefined &&
        !route.backends.includes(vm.ip) &&
        view !== undefined &&
        view.active.length > 0 &&
        view.active.join() === hops.join()
      );
    });
    const steered = this.steeredVms.get(vm.name);
    if (lb === undefined) {
      if (!this.steering.has(vm.name)) return;
      // The backends' routing tables and rules stay: without the table nothing is marked, and steering that resumes
      // (a route demoted and restored) finds them in place instead of failing on "File exists".
      await this.runOnVm(vm, `stop steering ${vm.name}`, ['nft', 'delete', 'table', 'ip', 'lab-gce-routing'], { okExitCodes: [1] });
      this.steering.delete(vm.name);
      return;
    }
    const tables = steered ?? new Set<string>();
    // Claimed before the awaits: two overlapping route refreshes would otherwise both add the rule ("File exists").
    this.steeredVms.set(vm.name, tables);
    for (const ip of lb.backends) {
      if (tables.has(ip)) continue;
      tables.add(ip);
      const mark = String(backendMark(ip));
      try {
        await this.run('route a backend mark', vm.namespace, [
          'ip',
          'route',
          'replace',
          'default',
          'via',
          ip,
          'dev',
          'ens4',
          'table',
          mark,
        ]);
        await this.run('rule for a backend mark', vm.namespace, ['ip', 'rule', 'add', 'fwmark', mark, 'lookup', mark, 'pref', '1000']);
      } catch (error) {
        tables.delete(ip);
        throw error;
      }
    }
    const view = this.programmed.get(lb.name)!;
    await this.runOnVm(vm, `steer ${vm.name}'s flows`, ['nft', '-f', '-'], {
      input: renderNextHopSteering(lb, view.healthy, view.active, [VPC.cidr, METADATA_IP]),
    });
    this.steering.add(vm.name);
  }

  /**
   * Load-balanced routes: a health checker in the fabric probes the backends and the routes follow their health.
   * `watches` are probed the same way without steering any route (autohealing checks); `onHealth` hears every change.
   */
  async setLoadBalancedRoutes(routes: LabLoadBalancedRoute[], watches: HealthWatch[] = []): Promise<void> {
    this.balancedRoutes = routes;
    const groups = new Set([...routes.map((route) => route.name), ...watches.map((watch) => watch.group)]);
    for (const name of [...this.healthyBackends.keys()]) if (!groups.has(name)) this.healthyBackends.delete(name);
    for (const name of [...this.programmed.keys()]) if (!groups.has(name)) this.programmed.delete(name);
    for (const route of routes) this.program(route.name);
    await this.healthChecker?.stop('SIGTERM', 500);
    this.healthChecker = undefined;
    const targets = healthCheckTargets(routes, watches, (group, ip) => this.healthyBackends.get(group)?.has(ip) === true);
    // A backend that left its group (a recreated VM comes back with the same address) starts over as unhealthy.
    for (const [group, healthy] of this.healthyBackends)
      for (const ip of healthy) if (!targets.some((probed) => probed.group === group && probed.ip === ip)) healthy.delete(ip);
    await this.addProbePaths(targets.flatMap((probed) => (probed.address === undefined ? [] : [probed.ip])));
    if (targets.length > 0) {
      this.healthChecker = this.spawnHealthChecker(targets, (event) => {
        this.healthEvents.push(event);
        const healthy = this.healthyBackends.get(event.group) ?? new Set<string>();
        if (event.healthy) healthy.add(event.ip);
        else healthy.delete(event.ip);
        this.healthyBackends.set(event.group, healthy);
        this.onHealth?.(event);
        const route = this.balancedRoutes.find((candidate) => candidate.name === event.group);
        if (route !== undefined) this.scheduleProgramming(route);
      });
    }
    await this.applyAllRoutes();
    await this.applyExternalLoadBalancing();
  }

  /** The load balancer acts on a health change after its own programming delay, so two of them flip at different times. */
  private scheduleProgramming(route: LabLoadBalancedRoute): void {
    if (this.programming.has(route.name)) return;
    this.programming.set(
      route.name,
      setTimeout(() => {
        this.programming.delete(route.name);
        if (this.destroyed || !this.program(route.name)) return;
        this.routeQueue = this.routeQueue
          .then(async () => {
            await this.applyAllRoutes();
            await this.applyExternalLoadBalancing();
          })
          .catch((error: unknown) => {
            this.programmingErrors.push(error as Error);
          });
      }, route.programmingMs ?? 0),
    );
  }

  /** Takes the current health as the load balancer's view; true when where it sends new connections changed. */
  private program(name: string): boolean {
    const route = this.balancedRoutes.find((candidate) => candidate.name === name);
    if (route === undefined) return false;
    const healthy = new Set([...(this.healthyBackends.get(name) ?? [])].filter((ip) => route.backends.includes(ip)));
    const active = activeBackends(route, healthy);
    const before = this.programmed.get(name);
    this.programmed.set(name, { healthy, active });
    const sameHealth = before !== undefined && [...before.healthy].sort().join() === [...healthy].sort().join();
    if (before !== undefined && before.active.join() === active.join() && sameHealth) return false;
    const event: LoadBalancerEvent = { lb: name, active, healthy: [...healthy].sort(), at: Date.now() };
    this.loadBalancerEvents.push(event);
    for (const listener of this.loadBalancerListeners) listener(event);
    return true;
  }

  private programmedHealth(): Map<string, Set<string>> {
    return new Map([...this.programmed.entries()].map(([name, view]) => [name, view.healthy]));
  }

  /** Where a load balancer sends new connections now, as programmed (after its delay), by backend IP. */
  activeBackendsOf(lb: string): string[] {
    return [...(this.programmed.get(lb)?.active ?? [])];
  }

  /**
   * The backend `lb`, as programmed now, hashes a new flow's first packet to (its packets from the internet for an
   * external forwarding rule, what a VM sends past an internal one), so a test can choose a source port that lands where
   * it wants instead of retrying until one happens to.
   */
  backendForFlow(lb: string, flow: FlowTuple): string | undefined {
    return backendForFlow(this.activeBackendsOf(lb), flow);
  }

  /**
   * Resolves with the first programming change of `lb` (from now on, or the current state if it already matches)
   * whose active backends satisfy `matches`, e.g. "moved to 10.10.0.3"; rejects after `timeoutMs`.
   */
  whenActive(lb: string, matches: (active: string[]) => boolean, timeoutMs = 30_000): Promise<LoadBalancerEvent> {
    const current = this.programmed.get(lb);
    if (current !== undefined && matches(current.active)) {
      const last = [...this.loadBalancerEvents].reverse().find((event) => event.lb === lb);
      return Promise.resolve(last ?? { lb, active: current.active, healthy: [...current.healthy].sort(), at: Date.now() });
    }
    return new Promise((resolve, reject) => {
      const listener = (event: LoadBalancerEvent) => {
        if (event.lb !== lb || !matches(event.active)) return;
        clearTimeout(timer);
        this.loadBalancerListeners.delete(listener);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.loadBalancerListeners.delete(listener);
        reject(
          new Error(`${lb} did not move as expected within ${timeoutMs} ms (active: ${this.activeBackendsOf(lb).join(', ') || 'none'})`),
        );
      }, timeoutMs);
      this.loadBalancerListeners.add(listener);
    });
  }

  private externalLoadBalancers(): (LabLoadBalancedRoute & { address: string })[] {
    return this.balancedRoutes.filter(
      (route): route is LabLoadBalancedRoute & { address: string } => route.scheme === 'EXTERNAL' && route.address !== undefined,
    );
  }

  /** Every forwarding rule's IP, internal or external, with its backends: they alone receive for it and send from it. */
  private loadBalancerAddresses(): LoadBalancerAddress[] {
    return this.balancedRoutes.flatMap((lb) => (lb.address === undefined ? [] : [{ address: lb.address, backends: lb.backends }]));
  }

  /**
   * External passthrough load balancers: the fabric steers each forwarding rule's IP per flow to a backend and lets it
   * out from the backends only; what the backends do with every forwarding rule's IP: applyForwardedAddresses.
   */
  private async applyExternalLoadBalancing(): Promise<void> {
    const lbs = this.externalLoadBalancers();
    const programmedLbs = lbs.map((lb) => {
      const view = this.programmed.get(lb.name) ?? { healthy: new Set<string>(), active: activeBackends(lb, new Set()) };
      return { lb, healthy: view.healthy, active: view.active };
    });
    for (const ip of new Set(lbs.flatMap((lb) => lb.backends))) {
      if (this.backendRoutingTables.has(ip)) continue;
      const mark = String(backendMark(ip));
      await this.run('route a backend mark', this.fabric, ['ip', 'route', 'replace', 'default', 'via', ip, 'dev', 'vpc0', 'table', mark]);
      await this.run('rule for a backend mark', this.fabric, ['ip', 'rule', 'add', 'fwmark', mark, 'lookup', mark, 'pref', '1000']);
      this.backendRoutingTables.add(ip);
    }
    await this.run('program the external load balancers', this.fabric, ['nft', '-f', '-'], {
      input: renderExternalLoadBalancing(programmedLbs),
    });
    await this.run('let load balancer IPs through', this.fabric, ['iptables-restore', '--noflush'], {
      input: renderLoadBalancerForwarding(lbs.map((lb) => lb.address)),
    });
    await this.applyFabricFilters();
    await this.applyForwardedAddresses();
  }

  /**
   * What each VM's forwarding-rule IPs mean to it: its firewall tracks them (as GCE's does, per VM), and a VM that is
   * no guest holds them as local routes, as GCE's guest agent programs them (`proto 66`): a plain namespace has no
   * guest agent, so the lab stands in for it. A real guest gets them from its own guest agent alone, reading the
   * metadata server's forwarded-ips, so a guest without them stays unhealthy as it would on GCE.
   */
  private async applyForwardedAddresses(): Promise<void> {
    const lbs = this.loadBalancerAddresses();
    for (const vm of this.vms.values()) {
      if (this.failedHosts.has(vm.name)) continue;
      const wanted = new Set(lbs.filter((lb) => lb.backends.includes(vm.ip)).map((lb) => lb.address));
      const held = this.forwardedAddresses.get(vm.name) ?? new Set<string>();
      if ([...wanted].sort().join() === [...held].sort().join()) continue;
      if (!this.guests.has(vm.name)) await this.routeLocally(vm, wanted, held);
      this.forwardedAddresses.set(vm.name, wanted);
      if (this.firewalls !== undefined) await this.applyFirewallTo(vm);
    }
  }

  private async routeLocally(vm: LabVm, wanted: ReadonlySet<string>, held: ReadonlySet<string>): Promise<void> {
    for (const address of wanted)
      if (!held.has(address))
        await this.run(`${address} is local on ${vm.name}`, vm.namespace, [
          'ip',
          'route',
          'replace',
          'to',
          'local',
          `${address}/32`,
          'dev',
          'ens4',
          'table',
          'local',
          'proto',
          '66',
        ]);
    for (const address of held)
      if (!wanted.has(address))
        await this.run(
          `${address} no longer local on ${vm.name}`,
          vm.namespace,
          ['ip', 'route', 'del', 'to', 'local', `${address}/32`, 'table', 'local'],
          {
            okExitCodes: [2],
          },
        );
  }

  /** Routes each backend's prober address to it in the fabric (once per backend; a recreated VM keeps its address). */
  private async addProbePaths(backends: readonly string[]): Promise<void> {
    const missing = [...new Set(backends)].filter((ip) => !this.probePaths.has(ip));
    if (missing.length === 0) return;
    await this.run('route probes to their backends', this.fabric, ['ip', '-batch', '-'], { input: renderProbePaths(missing) });
    for (const ip of missing) this.probePaths.add(ip);
  }

  /** Probes `targets` from the fabric (where GCE's health checkers stand); every change of a target's health is reported. */
  spawnHealthChecker(targets: HealthCheckTarget[], onEvent: (event: HealthEvent) => void): LabProcess {
    const checker = this.spawnIn(
      this.fabric,
      ['node', path.join(repoRoot(), 'dist/lab/bin/health-checker.js'), JSON.stringify({ targets })],
      'load balancer health checker',
      {},
      true,
    );
    let consumed = 0;
    checker.child.stdout?.on('data', () => {
      const lines = checker.text.split('\n');
      for (; consumed < lines.length - 1; consumed++) {
        const line = lines[consumed] ?? '';
        if (line.startsWith('{')) onEvent(JSON.parse(line) as HealthEvent);
      }
    });
    return checker;
  }

  onHealth: ((event: HealthEvent) => void) | undefined;

  private routeQueue: Promise<void> = Promise.resolve();

  private async applyAllRoutes(): Promise<void> {
    for (const vm of [...this.vms.values()]) {
      try {
        await this.applyRoutesTo(vm);
      } catch (error) {
        // removeVm can take a VM away while its routes are being written (the load balancer reprograms when the VM's
        // agent drains). That VM needs no route any more; the VMs after it still need theirs, or clients keep hashing
        // new connections to the VM that is gone until the next health change.
        if (!this.leaving.has(vm) && this.vms.get(vm.name) === vm) throw error;
      }
    }
  }

  /** Route fields (priority, tags, routed) may change without touching what is probed. */
  updateLoadBalancedRouting(routes: LabLoadBalancedRoute[]): void {
    const before = new Map(this.balancedRoutes.map((route) => [route.name, JSON.stringify(route)]));
    this.balancedRoutes = routes;
    // A changed backend service acts at once; health changes wait for the load balancer's programming delay.
    for (const route of routes) if (before.get(route.name) !== JSON.stringify(route)) this.program(route.name);
  }

  async refreshRoutes(): Promise<void> {
    await this.applyAllRoutes();
    await this.applyExternalLoadBalancing();
  }

  loadBalancersWith(ip: string): string[] {
    return this.balancedRoutes.filter((route) => route.backends.includes(ip)).map((route) => route.name);
  }

  healthyBackendsOf(route: string): string[] {
    return [...(this.healthyBackends.get(route) ?? [])].sort();
  }

  /** The fabric's Cloud NAT rules (lab/cloud-nat.ts renderCloudNat), replacing the last ones. */
  async setCloudNat(rules: string): Promise<void> {
    await this.run('program Cloud NAT', this.fabric, ['iptables-restore', '--noflush'], { input: rules });
  }

  /** The fabric's filter table with its counters (iptables-save -c). */
  async fabricIptablesSave(): Promise<string> {
    return (await this.run('read the fabric counters', this.fabric, ['iptables-save', '-c', '-t', 'filter'])).stdout;
  }

  /** GCE firewall rules for ingress: enforced on each VM's NIC, stateful, implied deny. Egress is left open. */
  async setFirewalls(rules: LabFirewallRule[]): Promise<void> {
    this.firewalls = rules;
    for (const vm of this.vms.values()) await this.applyFirewallTo(vm);
  }

  private async applyFirewallTo(vm: LabVm): Promise<void> {
    if (this.failedHosts.has(vm.name)) return;
    await this.runOnVm(vm, `firewall ${vm.name}`, ['nft', '-f', '-'], {
      input: renderVmFirewall(this.firewalls ?? [], vm.tags ?? [], [...(this.forwardedAddresses.get(vm.name) ?? [])]),
    });
  }

  private async attachExternalIp(ip: string, externalIp: string): Promise<void> {
    for (const args of externalIpRules('-A', ip, externalIp))
      await this.run(`map ${externalIp} to ${ip}`, this.fabric, ['iptables', ...args]);
  }

  private async detachExternalIp(ip: string, externalIp: string): Promise<void> {
    for (const args of externalIpRules('-D', ip, externalIp))
      await this.run(`unmap ${externalIp}`, this.fabric, ['iptables', ...args], { okExitCodes: [1] });
  }

  /**
   * Boots the VM as a real guest (lab/guest.ts) in its namespace: systemd as PID 1, its own root over `image`, Google's
   * guest environment. Resolves once PID 1 runs; `guest.waitUntilRunning()` waits for the boot to finish.
   */
  async bootGuest(vmName: string, image: string, onConsole?: (line: string) => void): Promise<Guest> {
    const vm = this.vm(vmName);
    if (this.guests.has(vmName)) throw new Error(`lab VM ${vmName} already runs a guest`);
    const guest = await Guest.boot({
      machine: `natgw-lab-${this.id}-${vmName}`.slice(0, 64),
      hostname: vmName,
      namespace: vm.namespace,
      image,
      ...(onConsole === undefined ? {} : { onConsole }),
    });
    this.guests.set(vmName, guest);
    return guest;
  }

  guest(vmName: string): Guest | undefined {
    return this.guests.get(vmName);
  }

  /** Runs a command on the VM: inside the guest (its root, its systemd) when it is one, else in its namespace. */
  exec(vmName: string, args: string[], options?: RunOptions): Promise<RunResult> {
    const guest = this.guests.get(vmName);
    if (guest !== undefined) return guest.exec(args, options);
    return this.run(`run ${args[0]} on ${vmName}`, this.vm(vmName).namespace, args, options);
  }

  spawn(vmName: string, args: string[], label = `${args[0]} on ${vmName}`, env?: NodeJS.ProcessEnv): LabProcess {
    const guest = this.guests.get(vmName);
    if (guest === undefined) return this.spawnIn(this.vm(vmName).namespace, args, label, env);
    const envArgs = Object.entries(env ?? {}).map(([key, value]) => `${key}=${value}`);
    const child = guest.spawn([...envArgs, ...args]);
    const labProcess = new LabProcess(child, label, this.vm(vmName).namespace);
    this.processes.push(labProcess);
    return labProcess;
  }

  async setAttributes(vmName: string, changes: Record<string, string | null>): Promise<void> {
    await controlRequest(this.metadataSocket, 'PATCH', `/vms/${this.vm(vmName).ip}/attributes`, changes);
  }

  /** The forwarding rules' IPs the metadata server lists for the VM (the guest agent makes each a local route). */
  async setForwardedIps(vmName: string, forwardedIps: string[]): Promise<void> {
    await controlRequest(this.metadataSocket, 'PUT', `/vms/${this.vm(vmName).ip}/forwarded-ips`, forwardedIps);
  }

  async instance(vmName: string): Promise<LabInstance> {
    return (await controlRequest(this.metadataSocket, 'GET', `/vms/${this.vm(vmName).ip}`)) as LabInstance;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const timer of this.programming.values()) clearTimeout(timer);
    await Promise.all(this.processes.map((labProcess) => labProcess.stop('SIGTERM', 1000)));
    // Nothing is left to drain to: a graceful power-off here only waited out the agents' stop (the full 5 s grace per
    // teardown in stateful HA), after every test had read what it needed.
    const guests = [...this.guests.values()];
    for (const guest of guests) guest.kill();
    await Promise.all(guests.map((guest) => guest.exited));
    this.destroySync();
  }

  /** Also runs from the process exit hook: a failed or interrupted test must not leave namespaces behind. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.exitHook);
    process.off('SIGTERM', this.signalHook);
    process.off('SIGINT', this.signalHook);
    for (const labProcess of this.processes) if (labProcess.running) labProcess.child.kill('SIGKILL');
    for (const guest of this.guests.values()) guest.kill();
    this.guests.clear();
    for (const namespace of [...this.namespaces].reverse()) removeNamespace(namespace);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
