// One place that loads @google-cloud/compute (its client modules cost ~0.3 s of CPU, the first client ~0.5 s more)
// and builds every client the provisioner uses, so the rest of natgw never pays for it and each client is created
// once per run.
import { createRequire } from 'node:module';
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

type ClientName = { [K in keyof typeof ComputeModule]: K extends `${string}Client` ? K : never }[keyof typeof ComputeModule];

const require = createRequire(import.meta.url);

/**
 * One v1 client class, from its own module. The package's index loads every API version and 30 MB of generated
 * protobuf code that REST clients never run (~1.5 s of CPU per process); a client module alone loads only the JSON
 * protos it uses. The class is the one the index exports (`compute.AddressesClient === compute.v1.AddressesClient`).
 */
export function computeClientClass<Name extends ClientName>(name: Name): (typeof ComputeModule)[Name] {
  const file = name
    .replace(/Client$/, '')
    .replace(/(?<!^)([A-Z])/g, '_$1')
    .toLowerCase();
  const module = require(`@google-cloud/compute/build/src/v1/${file}_client.js`) as Record<string, unknown>;
  const client = module[name];
  if (typeof client !== 'function') throw new Error(`@google-cloud/compute has no v1 client ${name} in ${file}_client.js`);
  return client as (typeof ComputeModule)[Name];
}

export async function connectCompute(endpoint: Endpoint | undefined, options: { requestTimeoutMs: number }): Promise<ComputeClients> {
  type ClientOptions = NonNullable<ConstructorParameters<typeof ComputeModule.AddressesClient>[0]>;
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
    addresses: () => new (computeClientClass('AddressesClient'))(clientOptions),
    firewalls: () => new (computeClientClass('FirewallsClient'))(clientOptions),
    instances: () => new (computeClientClass('InstancesClient'))(clientOptions),
    routes: () => new (computeClientClass('RoutesClient'))(clientOptions),
    networks: () => new (computeClientClass('NetworksClient'))(clientOptions),
    subnetworks: () => new (computeClientClass('SubnetworksClient'))(clientOptions),
    images: () => new (computeClientClass('ImagesClient'))(clientOptions),
    regions: () => new (computeClientClass('RegionsClient'))(clientOptions),
    machineTypes: () => new (computeClientClass('MachineTypesClient'))(clientOptions),
    diskTypes: () => new (computeClientClass('DiskTypesClient'))(clientOptions),
    globalOperations: () => new (computeClientClass('GlobalOperationsClient'))(clientOptions),
    regionOperations: () => new (computeClientClass('RegionOperationsClient'))(clientOptions),
    zoneOperations: () => new (computeClientClass('ZoneOperationsClient'))(clientOptions),
    instanceTemplates: () => new (computeClientClass('InstanceTemplatesClient'))(clientOptions),
    regionHealthChecks: () => new (computeClientClass('RegionHealthChecksClient'))(clientOptions),
    regionInstanceGroupManagers: () => new (computeClientClass('RegionInstanceGroupManagersClient'))(clientOptions),
    regionBackendServices: () => new (computeClientClass('RegionBackendServicesClient'))(clientOptions),
    forwardingRules: () => new (computeClientClass('ForwardingRulesClient'))(clientOptions),
    routers: () => new (computeClientClass('RoutersClient'))(clientOptions),
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
