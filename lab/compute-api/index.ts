// A fake Compute Engine REST API for tests and the lab: `startFakeCompute()` serves it on 127.0.0.1 with a store
// seeded like a fresh project (one region, the default network, the public Debian images).
import { FakeComputeApi } from './server.js';
import { ComputeStore } from './store.js';

export { ApiError, ComputeStore, API_BASE, type Json, type ResourceEvent, type Collection } from './store.js';
export { FakeComputeApi, type Fault, type LoggedRequest } from './server.js';

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
}

export function seedProject(store: ComputeStore, options: SeedOptions = {}): void {
  const project = options.project ?? 'test-project';
  const region = options.region ?? 'us-central1';
  const network = options.network ?? 'default';
  store.seedRegion(project, region);
  store.seedNetwork(project, network);
  for (const subnet of options.subnets ?? [{ name: network, ipCidrRange: '10.128.0.0/20' }]) store.seedSubnetwork(project, region, { ...subnet, network });
  store.seedImage('debian-cloud', 'debian-12-bookworm-v20261001', 'debian-12');
  store.seedImage('debian-cloud', 'debian-13-trixie-v20261001', 'debian-13');
}

export async function startFakeCompute(options: { store?: ComputeStore; seed?: SeedOptions | false } = {}): Promise<FakeCompute> {
  const store = options.store ?? new ComputeStore();
  if (options.seed !== false) seedProject(store, options.seed ?? {});
  const api = new FakeComputeApi(store);
  const { url, port } = await api.listen();
  return { url, port, store, api, close: () => api.close() };
}
