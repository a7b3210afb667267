// The real @google-cloud/compute client pointed at a fake, as production would talk to GCE (a real OAuth2Client, so
// errors come back production-shaped; see shared notes compute-client.md).
import type * as compute from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import type { FakeCompute } from '../../lab/compute-api/index.js';

export type ClientOptions = ConstructorParameters<typeof compute.AddressesClient>[0];

export function clientOptionsFor(fake: FakeCompute): ClientOptions {
  const authClient = new OAuth2Client({ transporterOptions: { timeout: 10_000 } } as ConstructorParameters<typeof OAuth2Client>[0]);
  authClient.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3_600_000 });
  return { apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http', authClient } as unknown as ClientOptions;
}
