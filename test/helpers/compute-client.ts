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
type ProtoLoader = { protobufFromJSON(json: object, ignoreCache?: boolean): unknown };
const { GrpcClient } = (createRequire(import.meta.url)('google-gax') as { fallback: { GrpcClient: ProtoLoader } }).fallback;
const parseProtos = GrpcClient.protobufFromJSON.bind(GrpcClient);
const parsedProtos = new WeakMap<object, unknown>();
GrpcClient.protobufFromJSON = (json, ignoreCache = false) => {
  if (ignoreCache) return parseProtos(json, true);
  if (!parsedProtos.has(json)) parsedProtos.set(json, parseProtos(json));
  return parsedProtos.get(json);
};

export type ClientOptions = ConstructorParameters<typeof compute.AddressesClient>[0];

export function clientOptionsFor(fake: FakeCompute): ClientOptions {
  const authClient = new OAuth2Client({ transporterOptions: { timeout: 10_000 } } as ConstructorParameters<typeof OAuth2Client>[0]);
  authClient.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3_600_000 });
  return { apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http', authClient } as unknown as ClientOptions;
}
