// The thin API modules against the fake, with the real client: wire shapes, operations, errors, retries.
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { realClock } from '../common/clock.js';
import { connectCompute } from '../provision/gcp/client.js';
import { ProvisionError, type CallContext } from '../provision/gcp/call.js';
import { getRoute, insertRoute, deleteRoute } from '../provision/gcp/routes.js';
import { getFirewall, insertFirewall } from '../provision/gcp/firewalls.js';
import { startFakeCompute } from '../lab/compute-api/index.js';
import './helpers/compute-client.js';

t.test('real client against the fake: insert, get, 409, 404, retries, failed operations', async (t) => {
  const fake = await startFakeCompute();
  const clients = await connectCompute({ host: '127.0.0.1', port: fake.port, protocol: 'http' }, { requestTimeoutMs: 10_000 });
  t.teardown(async () => {
    await clients.close();
    await fake.close();
  });
  const retries: string[] = [];
  const ctx: CallContext = {
    clients,
    clock: realClock,
    project: 'test-project',
    retryBaseMs: 1,
    maxAttempts: 5,
    operationTimeoutMs: 10_000,
    onRetry: (what, _a, reason) => retries.push(`${what}: ${reason}`),
  };

  t.equal(await getRoute(ctx, 'nope'), undefined, '404 reads as absent');
  const op = await insertFirewall(ctx, {
    name: 'fw1',
    network: 'global/networks/default',
    sourceRanges: ['10.0.0.0/8'],
    allowed: [{ IPProtocol: 'all' }],
    targetTags: ['x'],
  });
  t.equal(op.status, 'DONE');
  const fw = await getFirewall(ctx, 'fw1');
  t.equal(fw?.allowed?.[0]?.IPProtocol, 'all');
  t.match(fw?.network, /\/global\/networks\/default$/);
  await t.rejects(
    insertFirewall(ctx, {
      name: 'fw1',
      network: 'global/networks/default',
      sourceRanges: ['10.0.0.0/8'],
      allowed: [{ IPProtocol: 'all' }],
    }),
    /HTTP 409 alreadyExists/,
  );

  fake.api.inject({ method: 'compute.firewalls.insert', status: 503, times: 2 });
  fake.api.inject({ method: 'compute.globalOperations.wait', reset: true });
  await insertFirewall(ctx, {
    name: 'fw2',
    network: 'global/networks/default',
    sourceRanges: ['10.0.0.0/8'],
    allowed: [{ IPProtocol: 'all' }],
  });
  t.equal(retries.length, 3, `retried twice for 503 and once for a reset: ${retries.join(', ')}`);
  const inserts = fake.api.requests.filter((r) => r.method === 'compute.firewalls.insert' && r.url.includes('fw2') === false);
  t.ok(inserts.length >= 3);
  const ids = new Set(
    fake.api.requests
      .filter((r) => r.method === 'compute.firewalls.insert')
      .slice(-3)
      .map((r) => new URL(r.url, 'http://x').searchParams.get('requestId')),
  );
  t.equal(ids.size, 1, 'one requestId across retries');

  fake.api.inject({
    method: 'compute.firewalls.insert',
    operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'FIREWALLS' exceeded. Limit: 100.0 globally." },
  });
  const failed = insertFirewall(ctx, {
    name: 'fw3',
    network: 'global/networks/default',
    sourceRanges: ['10.0.0.0/8'],
    allowed: [{ IPProtocol: 'all' }],
  });
  await t.rejects(failed, ProvisionError);
  await t.rejects(failed, /create firewall rule fw3 failed: QUOTA_EXCEEDED: Quota 'FIREWALLS' exceeded/);
  t.equal(await getFirewall(ctx, 'fw3'), undefined, 'a failed operation leaves nothing behind');

  fake.api.inject({
    method: 'compute.routes.insert',
    status: 403,
    reason: 'forbidden',
    message: "Required 'compute.routes.create' permission for 'projects/test-project/global/routes/r1'",
  });
  await t.rejects(
    insertRoute(ctx, {
      name: 'r1',
      network: 'global/networks/default',
      destRange: '0.0.0.0/0',
      nextHopGateway: 'global/gateways/default-internet-gateway',
    }),
    /lacks 'compute.routes.create'/,
  );

  fake.api.inject({ method: 'compute.routes.get', status: 429, reason: 'rateLimitExceeded' });
  t.equal(await getRoute(ctx, 'r1'), undefined);
  await t.rejects(
    insertRoute(ctx, {
      name: 'r1',
      network: 'global/networks/nope',
      destRange: '0.0.0.0/0',
      nextHopGateway: 'global/gateways/default-internet-gateway',
    }),
    /404 notFound: The resource 'projects\/test-project\/global\/networks\/nope' was not found/,
  );
  await insertRoute(ctx, {
    name: 'r1',
    network: 'global/networks/default',
    destRange: '0.0.0.0/0',
    nextHopGateway: 'global/gateways/default-internet-gateway',
    priority: 800,
    tags: ['a'],
  });
  t.equal((await getRoute(ctx, 'r1'))?.priority, 800);
  await deleteRoute(ctx, 'r1');
  t.equal(await getRoute(ctx, 'r1'), undefined);
});

// After the test above: it must have built its clients without the package index (whose generated protobuf code costs
// every provisioning process ~1.5 s of CPU); only then is the index loaded, to compare classes.
t.test('every client natgw builds is the class @google-cloud/compute exports, loaded without the package index', async (t) => {
  const fake = await startFakeCompute();
  const clients = await connectCompute({ host: '127.0.0.1', port: fake.port, protocol: 'http' }, { requestTimeoutMs: 10_000 });
  t.teardown(async () => {
    await clients.close();
    await fake.close();
  });
  const built = Object.keys(clients)
    .filter((key) => key !== 'close')
    .map((key) => (clients as unknown as Record<string, object>)[key]!.constructor as (...args: never) => unknown);
  t.equal(built.length, 19, 'one class per client kind (routers: the fallback)');
  const require = createRequire(import.meta.url);
  const index = require.resolve('@google-cloud/compute');
  t.notOk(index in require.cache, 'the package index is not loaded');
  t.notOk(path.join(path.dirname(index), '..', 'protos', 'protos.js') in require.cache, 'nor its generated protobuf code');
  const compute = require('@google-cloud/compute') as Record<string, unknown>;
  for (const client of built) t.equal(compute[client.name], client, `${client.name} is the package's own`);
});
