// The fake's state, kept apart from its HTTP layer so the lab can drive real network namespaces from the same events
// (an instance inserted here becomes a namespace there; a route inserted here becomes a route there).
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { GUEST_ATTRIBUTE } from '../../common/protocol.js';

export const API_BASE = 'https://www.googleapis.com/compute/v1/';

export type Json = Record<string, unknown>;
export type Collection =
  | 'addresses'
  | 'firewalls'
  | 'instances'
  | 'routes'
  | 'networks'
  | 'subnetworks'
  | 'images'
  | 'regions'
  | 'zones'
  | 'machineTypes'
  | 'diskTypes'
  // HA: global instance templates; regional health checks, managed instance groups, backend services, forwarding rules.
  | 'instanceTemplates'
  | 'healthChecks'
  | 'instanceGroupManagers'
  | 'backendServices'
  | 'forwardingRules'
  // Cloud NAT fallback: regional Cloud Routers with their NAT configs.
  | 'routers';

export type BackendHealthState = 'HEALTHY' | 'UNHEALTHY';

/** One backend VM of an internal passthrough load balancer, as the lab needs it to forward a next-hop-ILB route. */
export interface IlbBackend {
  project: string;
  zone: string;
  name: string;
  selfLink: string;
  networkIP: string;
  healthState: BackendHealthState;
}

/** `global`, `regions/R` or `zones/Z`. */
export type Scope = string;

export interface ResourceEvent {
  collection: Collection;
  project: string;
  scope: Scope;
  name: string;
  resource: Json;
}

export interface OperationError {
  code: string;
  message: string;
  /** The operation's httpErrorStatusCode; 400 unless given (a quota error is 403). */
  httpStatus?: number;
}

export interface StoredOperation {
  resource: Json;
  scope: Scope;
  project: string;
  /** Polls (get or wait) left before the operation reports DONE. */
  pollsLeft: number;
  /** Wall time (ms) the operation was accepted at. */
  createdAt: number;
  /** Reported when the operation finishes, as the real API reports errors only on DONE. */
  pendingError?: OperationError;
}

/** How long things take. 0 everywhere = instant, for fast unit tests; the lab uses realistic values. */
export interface Timing {
  /** An operation goes PENDING → RUNNING → DONE over this many ms. */
  operationMs?: number;
  /** MIG actions (create, delete, recreate) take effect this long after their operation was accepted. */
  migActionMs?: number;
  /** The longest a `wait` call blocks before it returns a not-yet-DONE operation (real GCE: about 2 minutes). */
  waitCapMs?: number;
  /** The clock operations age by (default Date.now): a test that asserts their phases moves it itself. */
  now?: () => number;
}

/** Documented guest-attribute rates (manage-guest-attributes): above them, writes may be dropped. */
export interface GuestAttributeLimits {
  perMinute: number;
  burstPerSecond: number;
}

export const DEFAULT_GUEST_ATTRIBUTE_LIMITS: GuestAttributeLimits = { perMinute: 10, burstPerSecond: 3 };

/** A failure the real API reports through a DONE operation with `error.errors[]`, not an HTTP error. */
export class OperationFailure extends Error {
  constructor(readonly error: OperationError) {
    super(error.message);
  }
}

export type QuotaMetric = 'STATIC_ADDRESSES' | 'IN_USE_ADDRESSES' | 'INSTANCES' | 'CPUS' | 'E2_CPUS';
export const QUOTA_METRICS: QuotaMetric[] = ['STATIC_ADDRESSES', 'IN_USE_ADDRESSES', 'INSTANCES', 'CPUS', 'E2_CPUS'];
const DEFAULT_QUOTAS: Record<QuotaMetric, number> = { STATIC_ADDRESSES: 8, IN_USE_ADDRESSES: 8, INSTANCES: 24, CPUS: 24, E2_CPUS: 24 };

export type OrgPolicyConstraint = 'constraints/compute.vmExternalIpAccess' | 'constraints/compute.vmCanIpForward';

/** The machine types the fake offers in every zone (name, vCPUs, memory, architecture), as machineTypes.get shows them. */
export const MACHINE_TYPES: {
  name: string;
  guestCpus: number;
  memoryMb: number;
  architecture: 'X86_64' | 'ARM64';
  isSharedCpu?: boolean;
}[] = [
  { name: 'e2-micro', guestCpus: 2, memoryMb: 1024, architecture: 'X86_64', isSharedCpu: true },
  { name: 'e2-small', guestCpus: 2, memoryMb: 2048, architecture: 'X86_64', isSharedCpu: true },
  { name: 'e2-medium', guestCpus: 2, memoryMb: 4096, architecture: 'X86_64', isSharedCpu: true },
  { name: 'e2-standard-2', guestCpus: 2, memoryMb: 8192, architecture: 'X86_64' },
  { name: 'n2d-standard-2', guestCpus: 2, memoryMb: 8192, architecture: 'X86_64' },
  { name: 'c3-standard-4', guestCpus: 4, memoryMb: 16384, architecture: 'X86_64' },
  { name: 't2a-standard-1', guestCpus: 1, memoryMb: 4096, architecture: 'ARM64' },
  { name: 'c4a-standard-1', guestCpus: 1, memoryMb: 4096, architecture: 'ARM64' },
  { name: 'c4-standard-2', guestCpus: 2, memoryMb: 7680, architecture: 'X86_64' },
  { name: 'n4-standard-2', guestCpus: 2, memoryMb: 8192, architecture: 'X86_64' },
];
export const DISK_TYPES = ['pd-standard', 'pd-balanced', 'pd-ssd', 'hyperdisk-balanced'];

/** Boot disk types a machine series takes: the newest series are Hyperdisk only; T2A and E2 take no Hyperdisk. */
export function diskTypesForSeries(machineType: string): string[] {
  const series = machineType.split('-')[0] ?? '';
  if (['c4', 'n4', 'c4a'].includes(series)) return ['hyperdisk-balanced'];
  if (['t2a', 'e2'].includes(series)) return ['pd-standard', 'pd-balanced', 'pd-ssd'];
  return DISK_TYPES;
}

/** An API error with the real API's body shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }

  body(): Json {
    const statusText: Record<number, string> = {
      400: 'INVALID_ARGUMENT',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      409: 'ALREADY_EXISTS',
      412: 'FAILED_PRECONDITION',
      429: 'RESOURCE_EXHAUSTED',
      500: 'INTERNAL',
      503: 'UNAVAILABLE',
      504: 'DEADLINE_EXCEEDED',
    };
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
        ...(statusText[this.status] === undefined ? {} : { status: statusText[this.status] }),
        ...this.extra,
      },
    };
  }
}

export const notFound = (path: string) => new ApiError(404, 'notFound', `The resource '${path}' was not found`);
export const invalid = (message: string) => new ApiError(400, 'invalid', message);

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

let idCounter = 1_000_000_000_000_000n;
const nextId = () => String(idCounter++);
const fingerprint = (value: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('base64')
    .slice(0, 12);
const now = () => new Date().toISOString();

/** natgw/health as the agent writes it: `ok`, or a JSON object whose `status` is `ok` (stateful mode adds `sync`). */
export function healthAttributeOk(value: string | undefined): boolean {
  if (value === 'ok') return true;
  if (value === undefined || !value.trimStart().startsWith('{')) return false;
  try {
    return (JSON.parse(value) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

/** `projects/p/zones/z/instances/n` from a full URL or a partial one, relative to a project and scope. */
export function relativePath(reference: string, project: string, scope: Scope, collection: Collection): string {
  const trimmed = reference.replace(/^https:\/\/[^/]+\/compute\/(v1|beta|alpha)\//, '');
  if (trimmed.startsWith('projects/')) return trimmed;
  if (trimmed.startsWith('global/') || trimmed.startsWith('regions/') || trimmed.startsWith('zones/'))
    return `projects/${project}/${trimmed}`;
  return `projects/${project}/${scope}/${collection}/${trimmed}`;
}

export class ComputeStore extends EventEmitter {
  private readonly resources = new Map<string, Json>();
  readonly operations = new Map<string, StoredOperation>();
  private readonly requestIds = new Map<string, string>();
  readonly guestAttributes = new Map<string, Map<string, string>>();
  readonly serialOutput = new Map<string, string>();
  private nextIp = 1;
  /** How many polls an operation takes to finish; 1 = the first wait/get reports DONE. Counted on top of timing. */
  pollsUntilDone = 1;
  timing: Required<Timing>;
  /** false = every guest-attribute write lands (unit tests); the lab turns the documented limits on. */
  guestAttributeLimits: GuestAttributeLimits | false;
  private readonly guestAttributeWrites = new Map<string, number[]>();
  private readonly quotaOverrides = new Map<string, { limit: number; usage?: number }>();
  private readonly orgPolicies = new Set<string>();
  private readonly migCreateFailures = new Map<string, { error: OperationError; left: number }>();
  /** Stateful per-instance configs of each managed instance group (key: the MIG's store key), by instance name. */
  readonly perInstanceConfigs = new Map<string, Map<string, Json>>();
  /**
   * The lab's override of load-balancer health: called with an instance's selfLink by getHealth (and ilbBackends).
   * Return undefined to fall back to the default: HEALTHY when the instance is RUNNING and its guest attribute
   * natgw/health is `ok`, else UNHEALTHY.
   */
  backendHealth?: (instanceSelfLink: string) => BackendHealthState | undefined;

  constructor(options: { timing?: Timing; guestAttributeLimits?: GuestAttributeLimits | false } = {}) {
    super();
    this.timing = { operationMs: 0, migActionMs: 0, waitCapMs: 2000, now: Date.now, ...options.timing };
    this.guestAttributeLimits = options.guestAttributeLimits ?? false;
  }

  static key(project: string, scope: Scope, collection: Collection, name: string): string {
    return `projects/${project}/${scope}/${collection}/${name}`;
  }

  get(project: string, scope: Scope, collection: Collection, name: string): Json | undefined {
    return this.resources.get(ComputeStore.key(project, scope, collection, name));
  }

  getByPath(path: string): Json | undefined {
    return this.resources.get(path);
  }

  require(project: string, scope: Scope, collection: Collection, name: string): Json {
    const resource = this.get(project, scope, collection, name);
    if (resource === undefined) throw notFound(ComputeStore.key(project, scope, collection, name));
    return resource;
  }

  list(project: string, scope: Scope, collection: Collection): Json[] {
    const prefix = `projects/${project}/${scope}/${collection}/`;
    return [...this.resources.entries()]
      .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
      .map(([, value]) => value);
  }

  all(collection?: Collection): ResourceEvent[] {
    return [...this.resources.entries()]
      .map(([key, resource]) => {
        const match = /^projects\/([^/]+)\/(global|regions\/[^/]+|zones\/[^/]+)\/([^/]+)\/(.+)$/.exec(key)!;
        return { project: match[1]!, scope: match[2]!, collection: match[3] as Collection, name: match[4]!, resource };
      })
      .filter((entry) => collection === undefined || entry.collection === collection);
  }

  /** Stores a resource as the API would after an insert: server-side fields filled in. Emits `insert`. */
  put(project: string, scope: Scope, collection: Collection, resource: Json): Json {
    const name = String(resource.name ?? '');
    const key = ComputeStore.key(project, scope, collection, name);
    const kind = {
      addresses: 'address',
      firewalls: 'firewall',
      instances: 'instance',
      routes: 'route',
      networks: 'network',
      subnetworks: 'subnetwork',
      images: 'image',
      regions: 'region',
      zones: 'zone',
      machineTypes: 'machineType',
      diskTypes: 'diskType',
      instanceTemplates: 'instanceTemplate',
      healthChecks: 'healthCheck',
      instanceGroupManagers: 'instanceGroupManager',
      backendServices: 'backendService',
      forwardingRules: 'forwardingRule',
      routers: 'router',
    }[collection];
    const stored: Json = {
      kind: `compute#${kind}`,
      id: nextId(),
      creationTimestamp: now(),
      ...resource,
      selfLink: `${API_BASE}${key}`,
    };
    if (scope.startsWith('regions/')) stored.region = `${API_BASE}projects/${project}/${scope}`;
    if (scope.startsWith('zones/')) stored.zone = `${API_BASE}projects/${project}/${scope}`;
    this.resources.set(key, stored);
    this.emit('insert', { collection, project, scope, name, resource: stored } satisfies ResourceEvent);
    return stored;
  }

  update(project: string, scope: Scope, collection: Collection, name: string, change: (resource: Json) => void): Json {
    const resource = this.require(project, scope, collection, name);
    change(resource);
    this.emit('update', { collection, project, scope, name, resource } satisfies ResourceEvent);
    return resource;
  }

  remove(project: string, scope: Scope, collection: Collection, name: string): Json {
    const key = ComputeStore.key(project, scope, collection, name);
    const resource = this.resources.get(key);
    if (resource === undefined) throw notFound(key);
    this.resources.delete(key);
    this.emit('delete', { collection, project, scope, name, resource } satisfies ResourceEvent);
    return resource;
  }

  // ---- seeding helpers for tests and the lab ----

  seedRegion(project: string, region: string, zoneSuffixes: string[] = ['a', 'b', 'c']): void {
    const zones = zoneSuffixes.map((suffix) => `${region}-${suffix}`);
    this.put(project, 'global', 'regions', {
      name: region,
      status: 'UP',
      zones: zones.map((zone) => `${API_BASE}projects/${project}/zones/${zone}`),
    });
    for (const zone of zones) {
      this.put(project, 'global', 'zones', { name: zone, status: 'UP', region: `${API_BASE}projects/${project}/regions/${region}` });
      for (const type of MACHINE_TYPES) {
        this.put(project, `zones/${zone}`, 'machineTypes', {
          ...type,
          isSharedCpu: type.isSharedCpu ?? false,
          description: `${type.guestCpus} vCPUs, ${type.memoryMb / 1024} GB RAM`,
          maximumPersistentDisks: 128,
          maximumPersistentDisksSizeGb: '263168',
          imageSpaceGb: 0,
        });
      }
      for (const name of DISK_TYPES) {
        this.put(project, `zones/${zone}`, 'diskTypes', {
          name,
          description: name,
          validDiskSize: name.startsWith('hyperdisk') ? '4GB-65536GB' : '10GB-65536GB',
          defaultDiskSizeGb: name === 'pd-standard' ? '500' : '100',
        });
      }
    }
  }

  seedNetwork(project: string, name: string): Json {
    return this.put(project, 'global', 'networks', {
      name,
      autoCreateSubnetworks: false,
      mtu: 1460,
      routingConfig: { routingMode: 'REGIONAL' },
    });
  }

  seedSubnetwork(
    project: string,
    region: string,
    subnet: { name: string; network: string; ipCidrRange: string; secondaryIpRanges?: { rangeName: string; ipCidrRange: string }[] },
  ): Json {
    return this.put(project, `regions/${region}`, 'subnetworks', {
      name: subnet.name,
      network: `${API_BASE}projects/${project}/global/networks/${subnet.network}`,
      ipCidrRange: subnet.ipCidrRange,
      gatewayAddress: subnet.ipCidrRange.replace(/\d+\/\d+$/, '1'),
      secondaryIpRanges: subnet.secondaryIpRanges ?? [],
      privateIpGoogleAccess: false,
      stackType: 'IPV4_ONLY',
      fingerprint: fingerprint(subnet),
    });
  }

  seedImage(project: string, name: string, family: string, architecture: 'X86_64' | 'ARM64' = 'X86_64'): Json {
    return this.put(project, 'global', 'images', { name, family, status: 'READY', diskSizeGb: '10', architecture });
  }

  // ---- quotas and organization policies ----

  /** Overrides a region quota's limit; `usage` given = that much extra usage on top of what the store holds. */
  setQuota(project: string, region: string, metric: QuotaMetric, limit: number, usage?: number): void {
    this.quotaOverrides.set(`${project}/${region}/${metric}`, { limit, ...(usage === undefined ? {} : { usage }) });
  }

  /** The region's quotas as regions.get reports them, usage counted live from the store. */
  quotas(project: string, region: string): { metric: QuotaMetric; limit: number; usage: number }[] {
    const zones = new Set(
      this.list(project, 'global', 'zones')
        .filter((zone) => String(zone.region).endsWith(`/regions/${region}`))
        .map((zone) => String(zone.name)),
    );
    const instances = this.all('instances').filter((entry) => entry.project === project && zones.has(entry.scope.replace(/^zones\//, '')));
    const running = instances.filter((entry) => entry.resource.status !== 'TERMINATED').map((entry) => entry.resource);
    const cpusOf = (instance: Json) =>
      MACHINE_TYPES.find(
        (type) =>
          type.name ===
          String(instance.machineType ?? '')
            .split('/')
            .pop(),
      )?.guestCpus ?? 0;
    const live: Record<QuotaMetric, number> = {
      // Internal addresses count against another quota (INTERNAL_ADDRESSES), not modelled.
      STATIC_ADDRESSES: this.list(project, `regions/${region}`, 'addresses').filter((address) => address.addressType !== 'INTERNAL').length,
      IN_USE_ADDRESSES: running.filter((instance) =>
        (((instance.networkInterfaces as Json[] | undefined)?.[0]?.accessConfigs as Json[] | undefined) ?? []).some(
          (config) => config.natIP !== undefined,
        ),
      ).length,
      INSTANCES: instances.length,
      CPUS: running.reduce((sum, instance) => sum + cpusOf(instance), 0),
      E2_CPUS: running
        .filter((instance) => /\/e2-[^/]*$|^e2-/.test(String(instance.machineType ?? '')))
        .reduce((sum, instance) => sum + cpusOf(instance), 0),
    };
    return QUOTA_METRICS.map((metric) => {
      const override = this.quotaOverrides.get(`${project}/${region}/${metric}`);
      return { metric, limit: override?.limit ?? DEFAULT_QUOTAS[metric], usage: live[metric] + (override?.usage ?? 0) };
    });
  }

  /** Throws the operation failure GCE reports when `needs` would take a region over a quota. */
  checkQuota(project: string, region: string, needs: Partial<Record<QuotaMetric, number>>): void {
    for (const quota of this.quotas(project, region)) {
      const need = needs[quota.metric] ?? 0;
      if (need > 0 && quota.usage + need > quota.limit) {
        throw new OperationFailure({
          code: 'QUOTA_EXCEEDED',
          message: `Quota '${quota.metric}' exceeded. Limit: ${quota.limit.toFixed(1)} in region ${region}.`,
          httpStatus: 403,
        });
      }
    }
  }

  /** Enforces (or lifts) an organization policy constraint on a project. No API reads it back, as in natgw's world. */
  setOrgPolicy(project: string, constraint: OrgPolicyConstraint, enforced = true): void {
    if (enforced) this.orgPolicies.add(`${project} ${constraint}`);
    else this.orgPolicies.delete(`${project} ${constraint}`);
  }

  orgPolicyEnforced(project: string, constraint: OrgPolicyConstraint): boolean {
    return this.orgPolicies.has(`${project} ${constraint}`);
  }

  /**
   * Makes a regional MIG's next create attempts fail with this error (a stockout, a bad template): the VM stays in
   * CREATING with lastAttempt.errors, listErrors reports each attempt, no instance appears. GCE retries; so does the fake.
   */
  failMigCreates(project: string, region: string, migName: string, error: OperationError, times = Infinity): void {
    this.migCreateFailures.set(ComputeStore.key(project, `regions/${region}`, 'instanceGroupManagers', migName), { error, left: times });
  }

  /** @returns the error for this create attempt of the MIG (its store key), if one is set to fail. */
  takeMigCreateFailure(migKey: string): OperationError | undefined {
    const failure = this.migCreateFailures.get(migKey);
    if (failure === undefined) return undefined;
    failure.left -= 1;
    if (failure.left <= 0) this.migCreateFailures.delete(migKey);
    return failure.error;
  }

  /** The image a family points at: the newest non-deprecated image of that family. */
  imageFromFamily(project: string, family: string): Json | undefined {
    return this.list(project, 'global', 'images')
      .filter((image) => image.family === family && image.deprecated === undefined)
      .sort(
        (a, b) => String(b.creationTimestamp).localeCompare(String(a.creationTimestamp)) || String(b.name).localeCompare(String(a.name)),
      )[0];
  }

  // ---- guest attributes and serial port: what the VM side would write ----

  private instanceKey(project: string, zone: string, instance: string) {
    return ComputeStore.key(project, `zones/${zone}`, 'instances', instance);
  }

  /**
   * Simulates the agent writing a guest attribute (e.g. natgw/health = ok). With limits on, a write above the
   * documented rate is dropped silently, as GCE may do; returns whether it landed. `at` = when the VM wrote it.
   */
  setGuestAttribute(project: string, zone: string, instance: string, path: string, value: string, at = Date.now()): boolean {
    const key = this.instanceKey(project, zone, instance);
    if (!this.resources.has(key)) throw new Error(`fake: no instance ${key}`);
    if (this.guestAttributeLimits !== false) {
      const writes = (this.guestAttributeWrites.get(key) ?? []).filter((time) => time > at - 60_000);
      const lastSecond = writes.filter((time) => time > at - 1000).length;
      const accepted = writes.length < this.guestAttributeLimits.perMinute && lastSecond < this.guestAttributeLimits.burstPerSecond;
      // Every write counts against the rate, a dropped one too: a writer that bursts keeps being throttled.
      writes.push(at);
      this.guestAttributeWrites.set(key, writes);
      if (!accepted) {
        this.emit('guestAttributeDropped', { project, zone, instance, path, value });
        return false;
      }
    }
    const map = this.guestAttributes.get(key) ?? new Map<string, string>();
    map.set(path, value);
    this.guestAttributes.set(key, map);
    this.emit('guestAttribute', { project, zone, instance, path, value });
    return true;
  }

  /**
   * A deleted instance's guest attributes and write rate go with it: GCE counts the rate per instance, and a
   * recreated VM of the same name is a new instance that starts with neither.
   */
  forgetGuestAttributes(key: string): void {
    this.guestAttributes.delete(key);
    this.guestAttributeWrites.delete(key);
  }

  /** What a `getGuestAttributes` call reads; said first (`guestAttributesRead`), so a simulated agent may answer it. */
  readGuestAttributes(project: string, zone: string, instance: string): Map<string, string> {
    this.emit('guestAttributesRead', { project, zone, instance });
    return this.guestAttributesOf(project, zone, instance);
  }

  guestAttributesOf(project: string, zone: string, instance: string): Map<string, string> {
    return this.guestAttributes.get(this.instanceKey(project, zone, instance)) ?? new Map();
  }

  appendSerialOutput(project: string, zone: string, instance: string, text: string): void {
    const key = this.instanceKey(project, zone, instance);
    this.serialOutput.set(key, (this.serialOutput.get(key) ?? '') + text);
  }

  serialOutputOf(project: string, zone: string, instance: string): string {
    return this.serialOutput.get(this.instanceKey(project, zone, instance)) ?? '';
  }

  allocateExternalIp(): string {
    const n = this.nextIp++;
    return `203.0.113.${n}`;
  }

  allocateInternalIp(cidr: string, used: Set<string>): string {
    const [base] = cidr.split('/');
    const parts = base!.split('.').map(Number);
    for (let host = 2; host < 250; host++) {
      const ip = `${parts[0]}.${parts[1]}.${parts[2]}.${host}`;
      if (!used.has(ip)) return ip;
    }
    throw new ApiError(400, 'ipSpaceExhausted', `IP space of subnetwork is exhausted`);
  }

  // ---- load balancing (HA) ----

  /** The load balancer's view of one VM: the lab's hook first, else RUNNING + guest attribute natgw/health = ok. */
  healthOf(instance: Json): BackendHealthState {
    const selfLink = String(instance.selfLink);
    const override = this.backendHealth?.(selfLink);
    if (override !== undefined) return override;
    if (instance.status !== 'RUNNING') return 'UNHEALTHY';
    const match = /projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(selfLink);
    if (match === null) return 'UNHEALTHY';
    return healthAttributeOk(this.guestAttributesOf(match[1]!, match[2]!, match[3]!).get(GUEST_ATTRIBUTE.health)) ? 'HEALTHY' : 'UNHEALTHY';
  }

  /** The instances a managed instance group owns: those whose `created-by` metadata names it. */
  managedInstances(mig: Json): Json[] {
    const link = String(mig.selfLink).replace(API_BASE, '');
    return this.all('instances')
      .map((entry) => entry.resource)
      .filter((instance) =>
        (((instance.metadata as Json | undefined)?.items as { key: string; value: string }[] | undefined) ?? []).some(
          (item) => item.key === 'created-by' && item.value === link,
        ),
      )
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  /** The MIG behind an instance-group link (a regional MIG's group has the MIG's name). */
  migForGroup(groupLink: string): Json | undefined {
    const match = /projects\/([^/]+)\/(regions|zones)\/([^/]+)\/instanceGroups\/([^/]+)$/.exec(groupLink);
    if (match === null) return undefined;
    return this.get(match[1]!, `${match[2]}/${match[3]}`, 'instanceGroupManagers', match[4]!);
  }

  /**
   * Where a next-hop-ILB route sends packets: the backends of the forwarding rule's backend service, with health.
   * Accepts the route's nextHopIlb (a forwarding-rule URL, or its IP address) or the route itself.
   */
  ilbBackends(routeOrNextHop: Json | string): IlbBackend[] {
    const nextHop = typeof routeOrNextHop === 'string' ? routeOrNextHop : String(routeOrNextHop.nextHopIlb ?? '');
    const rule = /^\d+\.\d+\.\d+\.\d+$/.test(nextHop)
      ? this.all('forwardingRules').find((entry) => entry.resource.IPAddress === nextHop)?.resource
      : this.getByPath(nextHop.replace(/^https:\/\/[^/]+\/compute\/(v1|beta|alpha)\//, ''));
    if (rule === undefined) return [];
    const service = this.getByPath(String(rule.backendService ?? '').replace(API_BASE, ''));
    if (service === undefined) return [];
    const backends: IlbBackend[] = [];
    for (const backend of (service.backends as Json[] | undefined) ?? []) {
      const mig = this.migForGroup(String(backend.group ?? ''));
      if (mig === undefined) continue;
      for (const instance of this.managedInstances(mig)) {
        const match = /projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(String(instance.selfLink))!;
        backends.push({
          project: match[1]!,
          zone: match[2]!,
          name: match[3]!,
          selfLink: String(instance.selfLink),
          networkIP: String(((instance.networkInterfaces as Json[])[0] as Json).networkIP),
          healthState: this.healthOf(instance),
        });
      }
    }
    return backends;
  }

  // ---- operations ----

  /** The operation for a requestId seen before: the real API answers a retried mutation with the first operation. */
  operationForRequestId(requestId: string | undefined): Json | undefined {
    if (requestId === undefined || requestId === '') return undefined;
    const name = this.requestIds.get(requestId);
    return name === undefined ? undefined : this.operations.get(name)?.resource;
  }

  createOperation(args: {
    project: string;
    scope: Scope;
    operationType: string;
    targetLink: string;
    targetId?: string;
    requestId?: string;
    error?: OperationError;
  }): Json {
    const name = `operation-${Date.now()}-${randomBytes(6).toString('hex')}`;
    const selfLink = `${API_BASE}projects/${args.project}/${args.scope}/operations/${name}`;
    const resource: Json = {
      kind: 'compute#operation',
      id: nextId(),
      name,
      operationType: args.operationType,
      targetLink: args.targetLink,
      ...(args.targetId === undefined ? {} : { targetId: args.targetId }),
      status: this.timing.operationMs > 0 ? 'PENDING' : 'RUNNING',
      user: 'natgw-test@example.iam.gserviceaccount.com',
      progress: 0,
      insertTime: now(),
      selfLink,
    };
    if (this.timing.operationMs === 0) resource.startTime = now();
    if (args.scope.startsWith('zones/')) resource.zone = `${API_BASE}projects/${args.project}/${args.scope}`;
    if (args.scope.startsWith('regions/')) resource.region = `${API_BASE}projects/${args.project}/${args.scope}`;
    const stored: StoredOperation = {
      resource,
      scope: args.scope,
      project: args.project,
      pollsLeft: this.pollsUntilDone,
      createdAt: this.timing.now(),
      ...(args.error === undefined ? {} : { pendingError: args.error }),
    };
    this.operations.set(name, stored);
    if (args.requestId !== undefined && args.requestId !== '') this.requestIds.set(args.requestId, name);
    if (stored.pollsLeft <= 0 && this.timing.operationMs === 0) this.finish(stored);
    return resource;
  }

  requireOperation(project: string, scope: Scope, name: string): StoredOperation {
    const stored = this.operations.get(name);
    if (stored === undefined || stored.project !== project || stored.scope !== scope)
      throw notFound(`projects/${project}/${scope}/operations/${name}`);
    return stored;
  }

  /** Milliseconds until the operation's wall time is up (0 when it could be DONE at the next poll). */
  operationRemainingMs(stored: StoredOperation): number {
    return Math.max(0, stored.createdAt + this.timing.operationMs - this.timing.now());
  }

  /** One get or wait: the operation advances PENDING → RUNNING → DONE with wall time (and the poll count). */
  pollOperation(project: string, scope: Scope, name: string): Json {
    const stored = this.requireOperation(project, scope, name);
    if (stored.resource.status === 'DONE') return stored.resource;
    stored.pollsLeft -= 1;
    const elapsed = this.timing.now() - stored.createdAt;
    if (stored.pollsLeft <= 0 && elapsed >= this.timing.operationMs) this.finish(stored);
    else if (elapsed >= this.timing.operationMs / 3) {
      if (stored.resource.status === 'PENDING') stored.resource.startTime = now();
      stored.resource.status = 'RUNNING';
      stored.resource.progress = Math.min(99, Math.floor((100 * elapsed) / Math.max(1, this.timing.operationMs)));
    }
    return stored.resource;
  }

  private finish(stored: StoredOperation): void {
    stored.resource.status = 'DONE';
    stored.resource.progress = 100;
    stored.resource.startTime ??= now();
    stored.resource.endTime = now();
    const error = stored.pendingError;
    if (error !== undefined) {
      stored.resource.error = { errors: [{ code: error.code, message: error.message }] };
      const status = error.httpStatus ?? 400;
      stored.resource.httpErrorStatusCode = status;
      stored.resource.httpErrorMessage =
        { 400: 'BAD REQUEST', 403: 'FORBIDDEN', 404: 'NOT FOUND', 409: 'CONFLICT', 412: 'PRECONDITION FAILED' }[status] ?? 'ERROR';
    }
  }

  static fingerprint = fingerprint;
  static validName(name: unknown): boolean {
    return typeof name === 'string' && NAME.test(name);
  }
}
