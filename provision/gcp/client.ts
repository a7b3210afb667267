// One place that loads @google-cloud/compute (seconds to import) and builds every client the provisioner uses, so the
// rest of natgw never pays for it and each client is created once per run.
import type * as ComputeModule from '@google-cloud/compute';
import { UsageError } from '../../common/errors.js';

export interface ComputeClients {
  addresses: ComputeModule.AddressesClient;
  firewalls: ComputeModule.FirewallsClient;
  instances: ComputeModule.InstancesClient;
  routes: ComputeModule.RoutesClient;
  networks: ComputeModule.NetworksClient;
  subnetworks: ComputeModule.SubnetworksClient;
  images: ComputeModule.ImagesClient;
  regions: ComputeModule.RegionsClient;
  machineTypes: ComputeModule.MachineTypesClient;
  diskTypes: ComputeModule.DiskTypesClient;
  globalOperations: ComputeModule.GlobalOperationsClient;
  regionOperations: ComputeModule.RegionOperationsClient;
  zoneOperations: ComputeModule.ZoneOperationsClient;
  // HA mode
  instanceTemplates: ComputeModule.InstanceTemplatesClient;
  regionHealthChecks: ComputeModule.RegionHealthChecksClient;
  regionInstanceGroupManagers: ComputeModule.RegionInstanceGroupManagersClient;
  regionBackendServices: ComputeModule.RegionBackendServicesClient;
  forwardingRules: ComputeModule.ForwardingRulesClient;
  routers: ComputeModule.RoutersClient;
  close(): Promise<void>;
}

export interface Endpoint {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/;

/** Checks --compute-endpoint / NATGW_COMPUTE_ENDPOINT before anything is loaded. */
export function parseEndpoint(flag: string, value: string): Endpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: '${value}' is not a URL (e.g. https://compute.googleapis.com or http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: '${value}' must be an http:// or https:// URL`);
  if (url.pathname !== '/' && url.pathname !== '')
    throw new UsageError(`${flag}: '${value}' must not have a path; the client adds /compute/v1/…`);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  // Plain http would send a bearer token in clear text anywhere but loopback, so it is only allowed there.
  if (protocol === 'http' && !LOOPBACK.test(url.hostname))
    throw new UsageError(`${flag}: plain http is only allowed to a loopback address, got '${url.hostname}'`);
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol };
}

let modulePromise: Promise<typeof ComputeModule> | undefined;

export async function connectCompute(endpoint: Endpoint | undefined, options: { requestTimeoutMs: number }): Promise<ComputeClients> {
  modulePromise ??= import('@google-cloud/compute');
  const compute = await modulePromise;
  type ClientOptions = NonNullable<ConstructorParameters<typeof compute.AddressesClient>[0]>;
  let clientOptions: ClientOptions = {};
  if (endpoint !== undefined && endpoint.protocol === 'http') {
    // A loopback fake: a fixed token, so neither ADC nor the metadata server is looked up.
    const { OAuth2Client } = await import('google-auth-library');
    const authClient = new OAuth2Client({ transporterOptions: { timeout: options.requestTimeoutMs } } as ConstructorParameters<
      typeof OAuth2Client
    >[0]);
    authClient.setCredentials({ access_token: 'natgw-loopback', expiry_date: Date.now() + 24 * 3600 * 1000 });
    clientOptions = { apiEndpoint: endpoint.host, port: endpoint.port, protocol: 'http', authClient } as unknown as ClientOptions;
  } else if (endpoint !== undefined) {
    clientOptions = { apiEndpoint: endpoint.host, port: endpoint.port };
  }
  // Built on first use: each client costs tens of milliseconds, and status or a re-run needs only some of them.
  const factories = {
    addresses: () => new compute.AddressesClient(clientOptions),
    firewalls: () => new compute.FirewallsClient(clientOptions),
    instances: () => new compute.InstancesClient(clientOptions),
    routes: () => new compute.RoutesClient(clientOptions),
    networks: () => new compute.NetworksClient(clientOptions),
    subnetworks: () => new compute.SubnetworksClient(clientOptions),
    images: () => new compute.ImagesClient(clientOptions),
    regions: () => new compute.RegionsClient(clientOptions),
    machineTypes: () => new compute.MachineTypesClient(clientOptions),
    diskTypes: () => new compute.DiskTypesClient(clientOptions),
    globalOperations: () => new compute.GlobalOperationsClient(clientOptions),
    regionOperations: () => new compute.RegionOperationsClient(clientOptions),
    zoneOperations: () => new compute.ZoneOperationsClient(clientOptions),
    instanceTemplates: () => new compute.InstanceTemplatesClient(clientOptions),
    regionHealthChecks: () => new compute.RegionHealthChecksClient(clientOptions),
    regionInstanceGroupManagers: () => new compute.RegionInstanceGroupManagersClient(clientOptions),
    regionBackendServices: () => new compute.RegionBackendServicesClient(clientOptions),
    forwardingRules: () => new compute.ForwardingRulesClient(clientOptions),
    routers: () => new compute.RoutersClient(clientOptions),
  };
  const built = new Map<string, { close(): Promise<void> }>();
  const clients = {
    close: async () => {
      await Promise.allSettled([...built.values()].map((client) => client.close()));
      built.clear();
    },
  } as ComputeClients;
  for (const [key, make] of Object.entries(factories)) {
    Object.defineProperty(clients, key, {
      enumerable: true,
      get: () => {
        let client = built.get(key);
        if (client === undefined) {
          client = make();
          built.set(key, client);
        }
        return client;
      },
    });
  }
  return clients;
}
