// The lab's Compute API: the fake Compute Engine API, backed by the lab, so that what the provisioner creates becomes
// real network state. Instances become VM namespaces (and boot: their startup script runs), routes become the default
// routes of tagged VMs, firewall rules are enforced on each VM's NIC, guest attributes written by a VM's agent reach
// the API.
import {
  ComputeStore,
  DEFAULT_GUEST_ATTRIBUTE_LIMITS,
  FakeComputeApi,
  lastSegment,
  REALISTIC_TIMING,
  seedProject,
  type Collection,
  type GuestAttributeLimits,
  type Json,
  type ResourceEvent,
  type Timing,
} from './compute-api/index.js';
import {
  allocateCloudNatPorts,
  apiPath,
  natCoversSubnet,
  parseCloudNatCounters,
  renderCloudNat,
  type CloudNatCounters,
  type LabCloudNat,
} from './cloud-nat.js';
import { waitFor } from '../common/wait.js';
import { HandlerKit } from './compute-api/handler-kit.js';
import type { Guest } from './guest.js';
import { ensureGuestImage } from './guest-image.js';
import {
  Lab,
  VPC,
  type ConnectionPersistence,
  type LabFailoverPolicy,
  type LabFirewallRule,
  type LabHealthCheck,
  type LabLoadBalancedRoute,
  type LabRoute,
} from './lab.js';

export const LAB_PROJECT = 'natgw-lab';
export const LAB_REGION = 'us-central1';
export const LAB_ZONE = `${LAB_REGION}-a`;
export const LAB_NETWORK = 'default';
const GUEST_ATTRIBUTE_POLL_MS = 500;
const DELETE_GRACE_MS = 30_000;

const zoneOf = (event: ResourceEvent) => event.scope.replace(/^zones\//, '');
/** Cloud Routers (with their Cloud NAT configs): a regional collection of the fake API. */
const ROUTERS = 'routers' as Collection;

interface InstanceView {
  name: string;
  zone: string;
  ip: string;
  externalIp?: string;
  subnetwork: string;
  tags: string[];
  canIpForward: boolean;
  metadata: Record<string, string>;
  status: string;
}

function viewOf(event: ResourceEvent): InstanceView {
  const resource = event.resource;
  const nic = ((resource.networkInterfaces as Json[] | undefined) ?? [])[0] ?? {};
  const natIp = ((nic.accessConfigs as Json[] | undefined) ?? [])[0]?.natIP;
  const items = ((resource.metadata as Json | undefined)?.items as { key: string; value: string }[] | undefined) ?? [];
  return {
    name: event.name,
    zone: zoneOf(event),
    ip: String(nic.networkIP),
    ...(natIp === undefined ? {} : { externalIp: String(natIp) }),
    subnetwork: String(nic.subnetwork ?? ''),
    tags: ((resource.tags as Json | undefined)?.items as string[] | undefined) ?? [],
    canIpForward: resource.canIpForward === true,
    metadata: Object.fromEntries(items.map((item) => [item.key, item.value])),
    status: String(resource.status ?? 'RUNNING'),
  };
}

export interface LabCloudOptions {
  /** Called with each line a VM's startup script prints (also appended to its serial port output). */
  onBootOutput?: (vm: string, line: string) => void;
  /** How long operations and MIG actions take; default REALISTIC_TIMING (operations ~300 ms, MIG actions 1.5 s). */
  timing?: Timing;
  /** GCE's advised guest-attribute rates, above which writes are dropped; default on, false = every write lands. */
  guestAttributeLimits?: GuestAttributeLimits | false;
  /** Seed the default network's `default-allow-ssh` rule, as a new project has it; default true. */
  defaultFirewalls?: boolean;
  /**
   * How long each kind of load balancer takes to act on a health change, in ms; default
   * DEFAULT_LOAD_BALANCER_PROGRAMMING_MS. Each load balancer follows its own health checks, so an internal and an
   * external one over the same VMs flip at different moments: the window in which both VMs get traffic.
   */
  loadBalancerProgrammingMs?: { internal?: number; external?: number };
}

/**
 * Google publishes no figure for how long a passthrough load balancer takes to act on a health change; these are
 * guesses of the right order (sub-second), different on purpose so that tests see the ILB and the NLB disagree.
 */
export const DEFAULT_LOAD_BALANCER_PROGRAMMING_MS = { internal: 200, external: 500 } as const;

/** What GCE's API calls a backend service's connection persistence, and its default. */
const persistenceOf = (service: Json): ConnectionPersistence =>
  String(
    (service.connectionTrackingPolicy as Json | undefined)?.connectionPersistenceOnUnhealthyBackends ?? 'DEFAULT_FOR_PROTOCOL',
  ) as ConnectionPersistence;

export class LabCloud {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly errors: Error[] = [];
  private readonly instances = new Map<string, InstanceView>();
  private guestPoll: NodeJS.Timeout | undefined;
  private loadBalancersApplied = '';
  private readonly bootedAt = new Map<string, number>();
  private readonly guestsReady = new Map<string, Promise<string>>();
  /** The forwarded IPs last handed to the metadata server, per VM (comma-joined). */
  private readonly forwardedIps = new Map<string, string>();
  /** The last guest-attribute write (metadata server sequence number) handed to the API, per VM. */
  private readonly guestAttributeSeq = new Map<string, number>();
  /** Cloud NAT: each NAT config's first port per VM address (a VM keeps its block), and AUTO_ONLY configs' IPs. */
  private readonly cloudNatPorts = new Map<string, Map<string, number>>();
  private readonly cloudNatAutoIps = new Map<string, string>();
  private cloudNatApplied: string | undefined;

  private constructor(
    readonly lab: Lab,
    readonly store: ComputeStore,
    readonly api: FakeComputeApi,
    readonly url: string,
    private readonly options: LabCloudOptions,
  ) {}

  static async start(options: LabCloudOptions = {}): Promise<LabCloud> {
    // NAT VMs are real guests: the image is built (once per package list) before anything boots, and a host that
    // cannot build or boot guests says why now.
    await ensureGuestImage({ log: (line) => options.onBootOutput?.('lab', line) });
    const lab = await Lab.create();
    try {
      const store = new ComputeStore({
        timing: options.timing ?? REALISTIC_TIMING,
        guestAttributeLimits: options.guestAttributeLimits ?? DEFAULT_GUEST_ATTRIBUTE_LIMITS,
      });
      seedProject(store, {
        project: LAB_PROJECT,
        region: LAB_REGION,
        network: LAB_NETWORK,
        defaultFirewalls: options.defaultFirewalls ?? true,
        subnets: [
          {
            name: LAB_NETWORK,
            ipCidrRange: `${VPC.cidr.split('/')[0]}/${VPC.prefix}`,
            secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.20.0.0/16' }],
          },
        ],
      });
      const api = new FakeComputeApi(store);
      const { url } = await api.listen();
      const cloud = new LabCloud(lab, store, api, url, options);
      // getHealth answers from the lab's own probes of backends it load-balances.
      store.backendHealth = (selfLink) => cloud.backendHealth(selfLink);
      lab.onHealth = (event) => cloud.autoheal(event);
      for (const kind of ['insert', 'update', 'delete'] as const)
        store.on(kind, (event: ResourceEvent) => cloud.enqueue(() => cloud.handle(kind, event)));
      cloud.guestPoll = setInterval(() => cloud.enqueue(() => cloud.syncGuestAttributes()), GUEST_ATTRIBUTE_POLL_MS);
      return cloud;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  /**
   * A user's workload VM, present before natgw is provisioned: no external IP, optionally the client tag; with
   * canIpForward (a GKE node, an appliance) GCE lets it send from any source address.
   */
  async addWorkload(name: string, tags: string[] = [], options: { canIpForward?: boolean } = {}): Promise<string> {
    const subnet = this.store.list(LAB_PROJECT, `regions/${LAB_REGION}`, 'subnetworks')[0]!;
    // As the API allocates: forwarding rules and internal addresses hold subnet IPs too (a workload given an internal
    // load balancer's IP could not even ARP its backends, which hold that IP as a local address).
    const ip = this.store.allocateInternalIp(String(subnet.ipCidrRange), new HandlerKit(this.store).usedInternalIps());
    this.store.put(LAB_PROJECT, `zones/${LAB_ZONE}`, 'instances', {
      name,
      status: 'RUNNING',
      canIpForward: options.canIpForward === true,
      labels: {},
      tags: { items: tags },
      metadata: { items: [] },
      networkInterfaces: [{ network: subnet.network, subnetwork: subnet.selfLink, networkIP: ip, accessConfigs: [] }],
    });
    await this.settled();
    return ip;
  }

  /** Resolves when every API change so far is real network state; rejects with the first failure. */
  async settled(): Promise<void> {
    await this.queue;
    const error = this.errors.shift();
    if (error !== undefined) throw error;
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.errors.push(error as Error);
    });
  }

  private async handle(kind: 'insert' | 'update' | 'delete', event: ResourceEvent): Promise<void> {
    if (event.collection === 'instances') {
      const view = viewOf(event);
      if (kind === 'delete') await this.deleteVm(event.name);
      else if (view.status !== 'RUNNING') await this.stopVm(view);
      else if (!this.lab.vms.has(view.name)) await this.createVm(view);
      else await this.updateVm(view);
      await this.applyRoutes();
      await this.applyCloudNat();
    } else if (event.collection === ROUTERS) {
      await this.applyCloudNat();
    } else if (
      event.collection === 'routes' ||
      event.collection === 'forwardingRules' ||
      event.collection === 'backendServices' ||
      event.collection === 'instanceGroupManagers'
    ) {
      await this.applyRoutes();
    } else if (event.collection === 'firewalls') {
      await this.applyFirewalls();
    }
  }

  private async createVm(instance: InstanceView): Promise<void> {
    this.instances.set(instance.name, instance);
    this.forwardedIps.delete(instance.name);
    // A recreated VM keeps its name but has a new metadata server whose write numbers start again at 1: the previous
    // VM's last number would hide the new VM's first writes (a replaced NAT VM's natgw/sync went unseen for ~50 s).
    this.guestAttributeSeq.delete(instance.name);
    await this.lab.addVm({
      name: instance.name,
      ip: instance.ip,
      zone: instance.zone,
      tags: instance.tags,
      canIpForward: instance.canIpForward,
      attributes: instance.metadata,
      ...(instance.externalIp === undefined ? {} : { externalIp: instance.externalIp }),
    });
    if (this.store.list(LAB_PROJECT, 'global', 'firewalls').length > 0) await this.applyFirewalls();
    await this.boot(instance);
  }

  /**
   * GCE boots the VM's image and its guest environment runs the startup script from metadata. A VM with a startup
   * script is a real guest here (lab/guest.ts): the cached Debian 13 image, systemd as PID 1 in the VM's namespace,
   * google-startup-scripts.service running the script unmodified; its journal becomes the VM's serial port output.
   * A VM without one (a user's workload) stays a plain namespace.
   */
  private async boot(instance: InstanceView): Promise<void> {
    this.bootedAt.set(instance.name, Date.now());
    if (instance.metadata['startup-script'] === undefined) return;
    const image = await ensureGuestImage({ log: (line) => this.serialLine(instance, 'lab', line) });
    const guest = await this.lab.bootGuest(instance.name, image);
    this.serialLine(instance, 'lab', `booted ${instance.name} as a Debian 13 guest (systemd-nspawn, PID 1 is host PID ${guest.pid1})`);
    const ready = this.followStartupScript(instance, guest).then(async () => {
      const { state, failedUnits } = await guest.waitUntilRunning(120_000);
      this.serialLine(
        instance,
        'lab',
        `systemctl is-system-running: ${state}${failedUnits.length > 0 ? ` (failed: ${failedUnits.join(', ')})` : ''}`,
      );
      return state;
    });
    // Nothing waits on it (GCE does not either); a test reads it through guestReady().
    ready.catch((error: unknown) => this.serialLine(instance, 'lab', `guest ${instance.name}: ${(error as Error).message}`));
    this.guestsReady.set(instance.name, ready);
  }

  /** Resolves with `systemctl is-system-running` once the VM's guest finished booting (running or degraded). */
  guestReady(vm: string): Promise<string> {
    const ready = this.guestsReady.get(vm);
    if (ready === undefined) return Promise.reject(new Error(`${vm} is not a guest`));
    return ready;
  }

  /** Forwards google-startup-scripts.service's journal, line by line, to the VM's serial port, as GCE's images do. */
  private async followStartupScript(instance: InstanceView, guest: Guest): Promise<void> {
    // journalctl -f needs journald; it is up well within a second of PID 1.
    const journaldUp = async () => {
      if ((await guest.exec(['test', '-S', '/run/systemd/journal/socket'], { okExitCodes: [1] })).exitCode === 0) return true;
      if (!guest.running) throw new Error('journald did not start in the guest');
      return false;
    };
    if (!(await waitFor(journaldUp, { timeoutMs: 30_000, everyMs: 100 }))) throw new Error('journald did not start in the guest');
    const follower = guest.spawn([
      'journalctl',
      '--boot',
      '--follow',
      '--lines=all',
      '--output=json',
      '--unit=google-startup-scripts.service',
    ]);
    let pending = '';
    follower.stdout?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { MESSAGE?: unknown; SYSLOG_IDENTIFIER?: string; _PID?: string };
        if (typeof entry.MESSAGE !== 'string') continue;
        this.serialLine(instance, `${entry.SYSLOG_IDENTIFIER ?? 'systemd'}[${entry._PID ?? 1}]`, entry.MESSAGE);
      }
    });
  }

  /** A line on the VM's serial port as the guest logged it; the script runner's lines also go to onBootOutput. */
  private serialLine(instance: InstanceView, source: string, message: string): void {
    this.store.appendSerialOutput(LAB_PROJECT, instance.zone, instance.name, `${instance.name} ${source}: ${message}\n`);
    if (source.startsWith('google_metadata_script_runner'))
      this.options.onBootOutput?.(instance.name, message.replace(/^startup-script: /, ''));
    else if (source === 'lab') this.options.onBootOutput?.(instance.name, `lab: ${message}`);
  }

  /** A line on the VM's serial port, as GCE's guest environment logs startup-script output there. */
  private serial(instance: InstanceView, line: string): void {
    this.store.appendSerialOutput(
      LAB_PROJECT,
      instance.zone,
      instance.name,
      `${instance.name} google_metadata_script_runner[1]: startup-script: ${line}\n`,
    );
    this.options.onBootOutput?.(instance.name, line);
  }

  private async updateVm(instance: InstanceView): Promise<void> {
    const before = this.instances.get(instance.name);
    this.instances.set(instance.name, instance);
    const vm = this.lab.vm(instance.name);
    vm.tags = instance.tags;
    vm.canIpForward = instance.canIpForward;
    const changes: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(instance.metadata)) if (before?.metadata[key] !== value) changes[key] = value;
    for (const key of Object.keys(before?.metadata ?? {})) if (!(key in instance.metadata)) changes[key] = null;
    if (Object.keys(changes).length > 0) await this.lab.setAttributes(instance.name, changes);
    await this.lab.refreshFabric();
    await this.applyFirewalls();
  }

  /** A stopped VM is powered off: its namespace goes (processes, NIC, external IP); its record stays for a start. */
  private async stopVm(instance: InstanceView): Promise<void> {
    this.instances.set(instance.name, instance);
    if (this.lab.vms.has(instance.name)) await this.lab.removeVm(instance.name);
  }

  private async deleteVm(name: string): Promise<void> {
    this.instances.delete(name);
    // GCE gives a deleted VM's processes time to shut down (the agent drains); its NIC keeps working meanwhile.
    if (this.lab.vms.has(name)) await this.lab.removeVm(name, { graceMs: DELETE_GRACE_MS });
    if (this.store.list(LAB_PROJECT, 'global', 'firewalls').some((rule) => rule.sourceTags !== undefined)) await this.applyFirewalls();
  }

  /**
   * Cloud NAT: every NAT config of every router, over the running VMs without an external IP in the subnets it covers
   * (lab/cloud-nat.ts). Whether a VM's packets reach it is the routes' business: only what follows the default route
   * to the VPC gateway meets the fabric's Cloud NAT rules.
   */
  private async applyCloudNat(): Promise<void> {
    const nats: LabCloudNat[] = [];
    for (const entry of this.store.all(ROUTERS)) {
      for (const nat of (entry.resource.nats as Json[] | undefined) ?? []) {
        const name = `${entry.name}/${String(nat.name)}`;
        const natIp = this.cloudNatIp(name, nat);
        if (natIp === undefined) continue;
        const covered = [...this.instances.values()].filter(
          (instance) =>
            instance.status === 'RUNNING' &&
            instance.externalIp === undefined &&
            apiPath(instance.subnetwork).startsWith(`${apiPath(entry.resource.region)}/`) &&
            natCoversSubnet(nat as { sourceSubnetworkIpRangesToNat?: string; subnetworks?: { name?: string }[] }, instance.subnetwork),
        );
        const minPorts = Number(nat.minPortsPerVm ?? 64);
        const vms = allocateCloudNatPorts(covered, minPorts, this.cloudNatPorts.get(name) ?? new Map());
        this.cloudNatPorts.set(name, new Map(vms.flatMap((vm) => (vm.ports === undefined ? [] : [[vm.ip, vm.ports.first] as const]))));
        nats.push({ name, natIp, minPortsPerVm: minPorts, vms });
      }
    }
    const text = renderCloudNat(nats);
    if (text === this.cloudNatApplied) return;
    await this.lab.setCloudNat(text);
    this.cloudNatApplied = text;
  }

  /** MANUAL_ONLY: the first of its reserved addresses (the lab uses one); AUTO_ONLY: one the lab allocates, kept. */
  private cloudNatIp(name: string, nat: Json): string | undefined {
    if (nat.natIpAllocateOption === 'MANUAL_ONLY') {
      const address = this.store.getByPath(apiPath(((nat.natIps as string[] | undefined) ?? [])[0]));
      return address?.address === undefined ? undefined : String(address.address);
    }
    let ip = this.cloudNatAutoIps.get(name);
    if (ip === undefined) {
      ip = this.store.allocateExternalIp();
      this.cloudNatAutoIps.set(name, ip);
    }
    return ip;
  }

  /** The NAT IP of each Cloud NAT config the lab applies (router/nat → IP). */
  cloudNatIps(): Map<string, string> {
    const ips = new Map<string, string>();
    for (const entry of this.store.all(ROUTERS))
      for (const nat of (entry.resource.nats as Json[] | undefined) ?? []) {
        const name = `${entry.name}/${String(nat.name)}`;
        const ip = this.cloudNatIp(name, nat);
        if (ip !== undefined) ips.set(name, ip);
      }
    return ips;
  }

  /** What went through Cloud NAT so far (packets and bytes, both directions), from the fabric's counters. */
  async cloudNatCounters(): Promise<CloudNatCounters> {
    return parseCloudNatCounters(await this.lab.fabricIptablesSave());
  }

  private async applyRoutes(): Promise<void> {
    const routes: LabRoute[] = [];
    const allRoutes = this.store.list(LAB_PROJECT, 'global', 'routes');
    for (const route of allRoutes) {
      if (route.destRange !== '0.0.0.0/0' || route.nextHopInstance === undefined) continue;
      const target = this.instances.get(lastSegment(route.nextHopInstance));
      // GCE keeps a route whose instance is gone or stopped, and drops what it would carry; the lab leaves it out.
      if (target === undefined || target.status !== 'RUNNING') continue;
      routes.push({
        name: String(route.name),
        priority: Number(route.priority ?? 1000),
        tags: (route.tags as string[] | undefined) ?? [],
        nextHopIp: target.ip,
      });
    }
    await this.lab.setRoutes(routes);
    await this.applyLoadBalancers(allRoutes);
  }

  /**
   * Passthrough load balancers: every forwarding rule's backends are health-checked from the fabric with the backend
   * service's own check, probes addressed to the rule's IP, whether or not a route uses it yet (the provisioner waits
   * for a healthy backend before it creates the route). A route with nextHopIlb sends its VMs' traffic to the active
   * backends (failover policy); an EXTERNAL rule's IP is steered to them from the internet. Each backend's metadata
   * lists the rules' IPs as forwarded IPs: its guest agent makes them local routes, or nothing answers the probes.
   */
  private async applyLoadBalancers(allRoutes: Json[]): Promise<void> {
    const balanced: LabLoadBalancedRoute[] = [];
    for (const entry of this.store.all('forwardingRules')) {
      const rule = entry.resource;
      const service = this.resourceAt(rule.backendService);
      const healthCheck = service === undefined ? undefined : this.healthCheckAt(((service.healthChecks as string[] | undefined) ?? [])[0]);
      if (healthCheck === undefined) continue;
      const running = (ip: string) => [...this.instances.values()].some((instance) => instance.ip === ip && instance.status === 'RUNNING');
      const backends: string[] = [];
      const failoverBackends: string[] = [];
      for (const backend of (service!.backends as Json[] | undefined) ?? []) {
        const mig = this.store.migForGroup(apiPath(backend.group));
        if (mig === undefined) continue;
        for (const instance of this.store.managedInstances(mig)) {
          const ip = String(((instance.networkInterfaces as Json[])[0] as Json).networkIP);
          if (!running(ip)) continue;
          backends.push(ip);
          if (backend.failover === true) failoverBackends.push(ip);
        }
      }
      const external = String(rule.loadBalancingScheme ?? 'EXTERNAL') === 'EXTERNAL';
      const programming = { ...DEFAULT_LOAD_BALANCER_PROGRAMMING_MS, ...this.options.loadBalancerProgrammingMs };
      const routes = allRoutes.filter(
        (candidate) =>
          candidate.destRange === '0.0.0.0/0' && (candidate.nextHopIlb === rule.selfLink || candidate.nextHopIlb === rule.IPAddress),
      );
      const route = routes[0];
      balanced.push({
        name: String(rule.name),
        priority: Number(route?.priority ?? 1000),
        tags: (route?.tags as string[] | undefined) ?? [],
        routed: route !== undefined,
        ...(routes.length > 1
          ? { viaRoutes: routes.map((via) => ({ priority: Number(via.priority ?? 1000), tags: (via.tags as string[] | undefined) ?? [] })) }
          : {}),
        backends: backends.sort(),
        healthCheck,
        scheme: external ? 'EXTERNAL' : 'INTERNAL',
        ...(rule.IPAddress === undefined ? {} : { address: String(rule.IPAddress) }),
        failoverBackends: failoverBackends.sort(),
        ...(service!.failoverPolicy === undefined ? {} : { failoverPolicy: service!.failoverPolicy as LabFailoverPolicy }),
        connectionPersistence: persistenceOf(service!),
        programmingMs: external ? programming.external : programming.internal,
      });
    }
    await this.applyForwardedIps(balanced);
    const watches = this.autohealingWatches();
    // The checker restarts (and forgets health) only when what it probes changes, not on every API event.
    const probed = JSON.stringify([balanced.map(({ name, backends, healthCheck }) => ({ name, backends, healthCheck })), watches]);
    if (probed !== this.loadBalancersApplied) {
      this.loadBalancersApplied = probed;
      await this.lab.setLoadBalancedRoutes(balanced, watches);
    } else {
      this.lab.updateLoadBalancedRouting(balanced);
      await this.lab.refreshRoutes();
    }
  }

  /**
   * GCE's metadata server lists, for each VM, the IPs of the passthrough load balancers' forwarding rules it is a
   * backend of (instance/network-interfaces/0/forwarded-ips); the guest agent makes each a local route.
   */
  private async applyForwardedIps(balanced: LabLoadBalancedRoute[]): Promise<void> {
    for (const instance of this.instances.values()) {
      if (!this.lab.vms.has(instance.name)) continue;
      const ips = [
        ...new Set(balanced.flatMap((lb) => (lb.backends.includes(instance.ip) && lb.address !== undefined ? [lb.address] : []))),
      ].sort();
      if ((this.forwardedIps.get(instance.name) ?? '') === ips.join()) continue;
      await this.lab.setForwardedIps(instance.name, ips);
      this.forwardedIps.set(instance.name, ips.join());
    }
  }

  private resourceAt(link: unknown): Json | undefined {
    return this.store.getByPath(apiPath(link));
  }

  private healthCheckAt(link: unknown): LabHealthCheck | undefined {
    const check = this.resourceAt(link);
    const http = (check?.httpHealthCheck ?? check?.tcpHealthCheck) as Json | undefined;
    if (check === undefined || http === undefined) return undefined;
    return {
      port: Number(http.port ?? 80),
      path: String(http.requestPath ?? '/'),
      intervalSeconds: Number(check.checkIntervalSec ?? 5),
      timeoutSeconds: Number(check.timeoutSec ?? 5),
      healthyThreshold: Number(check.healthyThreshold ?? 2),
      unhealthyThreshold: Number(check.unhealthyThreshold ?? 2),
    };
  }

  /** Each managed instance group's autohealing check, probed from the fabric like the load balancer's. */
  private autohealingWatches(): { group: string; backends: string[]; healthCheck: LabHealthCheck }[] {
    return this.store.all('instanceGroupManagers').flatMap((entry) => {
      const policy = ((entry.resource.autoHealingPolicies as Json[] | undefined) ?? [])[0];
      const healthCheck = policy === undefined ? undefined : this.healthCheckAt(policy.healthCheck);
      if (healthCheck === undefined) return [];
      const backends = this.store
        .managedInstances(entry.resource)
        .map((instance) => String(((instance.networkInterfaces as Json[])[0] as Json).networkIP))
        .sort();
      return [{ group: `autoheal:${entry.name}`, backends, healthCheck }];
    });
  }

  /**
   * MIG autohealing: a VM that turns unhealthy on its group's autohealing check, once past the initial delay, is
   * recreated through the API and boots again. Lab VMs boot in a second, so the delay is capped at 30 s here.
   */
  autoheal(event: { group: string; ip: string; healthy: boolean }): void {
    if (event.healthy || !event.group.startsWith('autoheal:')) return;
    const migName = event.group.slice('autoheal:'.length);
    const mig = this.store.all('instanceGroupManagers').find((entry) => entry.name === migName);
    const instance = [...this.instances.values()].find((candidate) => candidate.ip === event.ip);
    if (mig === undefined || instance === undefined) return;
    const delaySeconds = Math.min(30, Number(((mig.resource.autoHealingPolicies as Json[] | undefined) ?? [])[0]?.initialDelaySec ?? 0));
    if (Date.now() - (this.bootedAt.get(instance.name) ?? 0) < delaySeconds * 1000) return;
    this.enqueue(async () => {
      this.api.recreateManagedInstance(LAB_PROJECT, mig.scope.replace(/^regions\//, ''), migName, instance.name);
      // After the recreate: the serial port of the new instance keeps the reason.
      this.serial(instance, `lab: autohealing recreated ${instance.name} (it failed ${migName}'s autohealing check)`);
    });
  }

  /** HEALTHY/UNHEALTHY from the lab's probes for a VM behind a load balancer; undefined for any other VM. */
  backendHealth(selfLink: string): 'HEALTHY' | 'UNHEALTHY' | undefined {
    const instance = this.instances.get(lastSegment(selfLink));
    if (instance === undefined) return undefined;
    const groups = this.lab.loadBalancersWith(instance.ip);
    if (groups.length === 0) return undefined;
    return groups.some((group) => this.lab.healthyBackendsOf(group).includes(instance.ip)) ? 'HEALTHY' : 'UNHEALTHY';
  }

  /** Ingress rules as each VM enforces them; `sourceTags` stand for the addresses of the VMs that carry those tags now. */
  private async applyFirewalls(): Promise<void> {
    const addressesTagged = (tags: string[]) =>
      [...this.instances.values()]
        .filter((instance) => instance.status === 'RUNNING' && instance.tags.some((tag) => tags.includes(tag)))
        .map((instance) => `${instance.ip}/32`);
    const rules: LabFirewallRule[] = this.store
      .list(LAB_PROJECT, 'global', 'firewalls')
      .filter((rule) => (rule.direction ?? 'INGRESS') === 'INGRESS' && rule.disabled !== true && Array.isArray(rule.allowed))
      .map((rule) => ({
        name: String(rule.name),
        priority: Number(rule.priority ?? 1000),
        sourceRanges: [
          ...((rule.sourceRanges as string[] | undefined) ?? []),
          ...addressesTagged((rule.sourceTags as string[] | undefined) ?? []),
        ],
        destinationRanges: (rule.destinationRanges as string[] | undefined) ?? [],
        targetTags: (rule.targetTags as string[] | undefined) ?? [],
        allowed: (rule.allowed as { IPProtocol: string; ports?: string[] }[]).map((allowed) => ({
          protocol: allowed.IPProtocol,
          ports: allowed.ports ?? [],
        })),
      }))
      .filter((rule) => rule.sourceRanges.length > 0);
    await this.lab.setFirewalls(rules);
  }

  /** Hands each guest-attribute write a VM made to the API, with its time: the API's rate limits decide what lands. */
  private async syncGuestAttributes(): Promise<void> {
    for (const instance of this.instances.values()) {
      // The API may have deleted the instance while its namespace is still being torn down.
      if (
        !this.lab.vms.has(instance.name) ||
        this.store.get(LAB_PROJECT, `zones/${instance.zone}`, 'instances', instance.name) === undefined
      )
        continue;
      const writes = (await this.lab.instance(instance.name)).guestAttributeWrites ?? [];
      const seen = this.guestAttributeSeq.get(instance.name) ?? 0;
      for (const write of writes) {
        if (write.seq <= seen) continue;
        this.store.setGuestAttribute(LAB_PROJECT, instance.zone, instance.name, write.path, write.value, write.at);
        this.guestAttributeSeq.set(instance.name, write.seq);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.guestPoll);
    await this.queue;
    await this.api.close();
    await this.lab.destroy();
  }
}
