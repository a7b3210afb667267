// A fake Compute Engine REST API for tests and the lab: `startFakeCompute()` serves it on 127.0.0.1 with a store
// seeded like a fresh project (one region with its quotas, machine and disk types, the default network, the public
// Debian images for x86 and Arm).
import { FakeComputeApi } from './server.js';
import { ComputeStore, DEFAULT_GUEST_ATTRIBUTE_LIMITS, type GuestAttributeLimits, type Timing } from './store.js';
import type { Fault } from './handler-kit.js';

export {
  ApiError,
  ComputeStore,
  API_BASE,
  DEFAULT_GUEST_ATTRIBUTE_LIMITS,
  MACHINE_TYPES,
  DISK_TYPES,
  QUOTA_METRICS,
  type Json,
  type ResourceEvent,
  type Collection,
  type Timing,
  type GuestAttributeLimits,
  type QuotaMetric,
  type OrgPolicyConstraint,
  type OperationError,
} from './store.js';
export { FakeComputeApi, type Fault, type LoggedRequest } from './server.js';
export { lastSegment } from './handler-kit.js';

/** The timing the lab runs with: operations and MIG actions take about as long as they do on GCE (scaled down). */
export const REALISTIC_TIMING: Timing = { operationMs: 300, migActionMs: 1500, waitCapMs: 2000 };

export interface FakeCompute {
  url: string;
  port: number;
  store: ComputeStore;
  api: FakeComputeApi;
  close(): Promise<void>;
}

export interface SeedOptions {
  project?: string;
  region?: string;
  network?: string;
  subnets?: { name: string; ipCidrRange: string; secondaryIpRanges?: { rangeName: string; ipCidrRange: string }[] }[];
  /** The default network's firewall rules as a new project has them (`default-allow-ssh`: 0.0.0.0/0 → tcp:22). */
  defaultFirewalls?: boolean;
}

export function seedProject(store: ComputeStore, options: SeedOptions = {}): void {
  const project = options.project ?? 'test-project';
  const region = options.region ?? 'us-central1';
  const network = options.network ?? 'default';
  store.seedRegion(project, region);
  const seeded = store.seedNetwork(project, network);
  for (const subnet of options.subnets ?? [{ name: network, ipCidrRange: '10.128.0.0/20' }])
    store.seedSubnetwork(project, region, { ...subnet, network });
  store.seedImage('debian-cloud', 'debian-12-bookworm-v20261001', 'debian-12');
  store.seedImage('debian-cloud', 'debian-13-trixie-v20261001', 'debian-13');
  store.seedImage('debian-cloud', 'debian-13-trixie-arm64-v20261001', 'debian-13-arm64', 'ARM64');
  if (options.defaultFirewalls === true) {
    store.put(project, 'global', 'firewalls', {
      name: `${network}-allow-ssh`,
      description: 'Allow SSH from anywhere',
      network: seeded.selfLink,
      direction: 'INGRESS',
      priority: 65534,
      disabled: false,
      logConfig: { enable: false },
      sourceRanges: ['0.0.0.0/0'],
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    });
  }
}

export interface FakeComputeOptions {
  store?: ComputeStore;
  seed?: SeedOptions | false;
  /** Default: everything instant (operations DONE at the first poll, MIG actions at once). */
  timing?: Timing;
  /** Default false (every write lands); `true` = the documented limits. */
  guestAttributeLimits?: GuestAttributeLimits | boolean;
}

export async function startFakeCompute(options: FakeComputeOptions = {}): Promise<FakeCompute> {
  const limits = options.guestAttributeLimits === true ? DEFAULT_GUEST_ATTRIBUTE_LIMITS : (options.guestAttributeLimits ?? false);
  const store =
    options.store ??
    new ComputeStore({ ...(options.timing === undefined ? {} : { timing: options.timing }), guestAttributeLimits: limits });
  if (options.seed !== false) seedProject(store, options.seed ?? {});
  const api = new FakeComputeApi(store);
  const { url, port } = await api.listen();
  return { url, port, store, api, close: () => api.close() };
}

/** The fault fields of an organization-policy refusal (412 conditionNotMet naming the constraint), for api.inject. */
export function orgPolicyError(constraint: string, project = 'test-project'): Pick<Fault, 'status' | 'reason' | 'message'> {
  return {
    status: 412,
    reason: 'conditionNotMet',
    message: `Constraint ${constraint} violated for project ${project}. The resource violates the organization policy; ask an organization policy administrator for an exception.`,
  };
}
