// The real @google-cloud/compute client pointed at a fake, as production would talk to GCE (a real OAuth2Client, so
// errors come back production-shaped; see shared notes compute-client.md).
import { createRequire } from 'node:module';
import type * as compute from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import type { FakeCompute } from '../../lab/compute-api/index.js';

// google-gax finds the protos it already parsed by hashing all of protos.json (JSON.stringify + object-hash, ~20 ms)
// each time a client is built: with new clients for each new fake, that was most of a test's time (compute-api.test.ts
// builds 150). Same answer, remembered per JSON object (gax's own cache is global too, and its roots are never
// mutated). Every test that builds clients imports this module, directly or through fixtures/provision/helpers.ts.
type ProtoRoot = { lookupService(name: string): unknown };
type ProtoLoader = { protobufFromJSON(json: object, ignoreCache?: boolean): ProtoRoot };
type Json = Record<string, unknown>;
const gax = createRequire(import.meta.url)('google-gax') as {
  fallback: { GrpcClient: ProtoLoader };
  protobuf: { Root: { fromJSON(json: object): ProtoRoot } };
};
const { GrpcClient } = gax.fallback;
const parseProtos = GrpcClient.protobufFromJSON.bind(GrpcClient);
const parsedProtos = new WeakMap<object, ProtoRoot>();

// protos.json holds all of compute v1, v1beta and v1small: building it costs each test process ~0.6 s of CPU, more
// than the test itself for most files. The services natgw uses, with every message they reach, are a small part of
// it; their root is built from that part alone. Types are the same definitions, so requests and responses encode
// and decode alike; a client of any other service, or any other use of the root, gets the whole parse.
const NATGW_SERVICES = [
  'Addresses',
  'DiskTypes',
  'Firewalls',
  'ForwardingRules',
  'GlobalOperations',
  'Images',
  'InstanceTemplates',
  'Instances',
  'MachineTypes',
  'Networks',
  'RegionBackendServices',
  'RegionHealthChecks',
  'RegionInstanceGroupManagers',
  'RegionOperations',
  'Regions',
  'Routers',
  'Routes',
  'Subnetworks',
  'ZoneOperations',
];
const V1 = 'google.cloud.compute.v1';

/** protos.json with compute v1 cut down to NATGW_SERVICES and what they reach, and without v1beta and v1small. */
function natgwProtos(json: Json): Json | undefined {
  const nested = (node: unknown): Record<string, unknown> | undefined => (node as { nested?: Record<string, unknown> })?.nested;
  const cloud = nested(nested(nested(json)?.google)?.cloud);
  const v1 = nested(nested(cloud?.compute)?.v1);
  if (cloud === undefined || v1 === undefined || NATGW_SERVICES.some((service) => v1[service] === undefined)) return undefined;
  const kept = new Set<string>();
  const visit = (name: string) => {
    // References inside v1 are plain names ("Address", "Operation") or paths into a kept definition ("Foo.Bar").
    const top = name.split('.')[0]!;
    if (kept.has(top) || v1[top] === undefined) return;
    kept.add(top);
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === 'string' && ['type', 'keyType', 'requestType', 'responseType'].includes(key)) visit(value);
        else walk(value);
      }
    };
    walk(v1[top]);
  };
  for (const service of NATGW_SERVICES) visit(service);
  const v1Json = (cloud.compute as Json & { nested: Record<string, Json> }).nested.v1!;
  const compute = {
    ...(cloud.compute as Json),
    nested: { v1: { ...v1Json, nested: Object.fromEntries([...kept].map((name) => [name, v1[name]])) } },
  };
  const google = nested(json)!.google as Json;
  return {
    ...json,
    nested: {
      ...nested(json),
      google: { ...google, nested: { ...nested(google), cloud: { ...(nested(google)!.cloud as Json), nested: { ...cloud, compute } } } },
    },
  };
}

/** A root that answers natgw's services from the small parse and everything else from the whole one, parsed when asked. */
function lazyRoot(json: object): ProtoRoot {
  const small = natgwProtos(json as Json);
  if (small === undefined) return parseProtos(json);
  let whole: ProtoRoot | undefined;
  let natgw: ProtoRoot | undefined;
  const wholeRoot = () => {
    whole ??= parseProtos(json);
    return whole;
  };
  const natgwRoot = () => {
    natgw ??= gax.protobuf.Root.fromJSON(small);
    return natgw;
  };
  const natgwServices = new Set(NATGW_SERVICES.map((service) => `${V1}.${service}`));
  return new Proxy({} as ProtoRoot, {
    get: (_target, property) => {
      if (property === 'lookupService') return (name: string) => (natgwServices.has(name) ? natgwRoot() : wholeRoot()).lookupService(name);
      const value = Reflect.get(wholeRoot() as object, property);
      return typeof value === 'function' ? value.bind(wholeRoot()) : value;
    },
  });
}

GrpcClient.protobufFromJSON = (json, ignoreCache = false) => {
  if (ignoreCache) return parseProtos(json, true);
  if (!parsedProtos.has(json)) parsedProtos.set(json, lazyRoot(json));
  return parsedProtos.get(json)!;
};

export type ClientOptions = ConstructorParameters<typeof compute.AddressesClient>[0];

export function clientOptionsFor(fake: FakeCompute): ClientOptions {
  const authClient = new OAuth2Client({ transporterOptions: { timeout: 10_000 } } as ConstructorParameters<typeof OAuth2Client>[0]);
  authClient.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3_600_000 });
  return { apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http', authClient } as unknown as ClientOptions;
}
