// A fault at each step of provision and destroy: one clear message, exit ≠ 0, and a re-run converges with no
// duplicates and no orphans. Retryable faults (429, 503, connection resets) are absorbed.
import t from 'tap';
import { baseArgs, inventory, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';
import type { Fault } from '../lab/compute-api/index.js';

const GW = 'natgw-us-central1';
const FULL = { addresses: [`${GW}-ip`], firewalls: [`${GW}-clients`, `${GW}-health`], instances: [GW], routes: [`${GW}-default`] };
const EMPTY = { addresses: [], firewalls: [], instances: [], routes: [] };

const fatal: [string, Fault, RegExp][] = [
  [
    'address insert: permission denied',
    {
      method: 'compute.addresses.insert',
      status: 403,
      reason: 'forbidden',
      message:
        "Required 'compute.addresses.create' permission for 'projects/test-project/regions/us-central1/addresses/natgw-us-central1-ip'",
    },
    /create address natgw-us-central1-ip: permission denied: the caller lacks 'compute.addresses.create'/,
  ],
  [
    'address insert: quota (failed operation)',
    {
      method: 'compute.addresses.insert',
      operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'STATIC_ADDRESSES' exceeded. Limit: 8.0 in region us-central1." },
    },
    /create address natgw-us-central1-ip failed: QUOTA_EXCEEDED: Quota 'STATIC_ADDRESSES' exceeded\. Limit: 8\.0 in region us-central1\. Quota STATIC_ADDRESSES is exhausted: raise it/,
  ],
  [
    'firewall insert: quota as HTTP 403',
    {
      method: 'compute.firewalls.insert',
      status: 403,
      reason: 'quotaExceeded',
      message: "Quota 'FIREWALLS' exceeded.  Limit: 200.0 globally.",
    },
    /create firewall rule natgw-us-central1-clients: Quota 'FIREWALLS' exceeded\. {2}Limit: 200\.0 globally\. Quota FIREWALLS is exhausted: raise it/,
  ],
  [
    'instance insert: zone out of capacity',
    {
      method: 'compute.instances.insert',
      operationError: {
        code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
        message: "The zone 'projects/test-project/zones/us-central1-a' does not have enough resources available to fulfill the request.",
      },
    },
    /create instance natgw-us-central1 failed: ZONE_RESOURCE_POOL_EXHAUSTED/,
  ],
  [
    'image lookup: not found',
    {
      method: 'compute.images.getFromFamily',
      status: 404,
      reason: 'notFound',
      message: "The resource 'projects/debian-cloud/global/images/family/debian-13' was not found",
    },
    /image family debian-cloud\/debian-13 not found/,
  ],
  [
    'guest attributes: permission denied',
    {
      method: 'compute.instances.getGuestAttributes',
      status: 403,
      reason: 'forbidden',
      message:
        "Required 'compute.instances.getGuestAttributes' permission for 'projects/test-project/zones/us-central1-a/instances/natgw-us-central1'",
    },
    /lacks 'compute.instances.getGuestAttributes'/,
  ],
  [
    'route insert: permission denied',
    {
      method: 'compute.routes.insert',
      status: 403,
      reason: 'forbidden',
      message: "Required 'compute.routes.create' permission for 'projects/test-project/global/routes/natgw-us-central1-default'",
    },
    /create route natgw-us-central1-default: permission denied: the caller lacks 'compute.routes.create'/,
  ],
  [
    'route insert: failed operation',
    {
      method: 'compute.routes.insert',
      operationError: { code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: 'Operation rate exceeded for resource.' },
    },
    /create route natgw-us-central1-default failed: RESOURCE_OPERATION_RATE_EXCEEDED/,
  ],
  [
    'operation wait: the operation is gone',
    {
      method: 'compute.globalOperations.wait',
      status: 404,
      reason: 'notFound',
      message: "The resource 'projects/test-project/global/operations/operation-1' was not found",
    },
    /create firewall rule natgw-us-central1-clients \(waiting for operation-[^)]+\): HTTP 404 notFound: The resource/,
  ],
];

for (const [label, fault, message] of fatal) {
  t.test(`fault: ${label} → one clear error, then a re-run converges`, async (t) => {
    const fake = await startSeededFake();
    t.teardown(() => fake.close());
    simulateAgent(fake);
    fake.api.inject(fault);
    const failed = await run('provision', baseArgs(fake));
    t.equal(failed.code, 1);
    t.match(failed.stderr, message);
    t.notMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    t.same(inventory(fake).routes, [], 'no route to a NAT that is not finished');
    const rerun = await run('provision', baseArgs(fake));
    t.equal(rerun.code, 0, rerun.stderr);
    t.same(inventory(fake), FULL, 'converged: nothing duplicated, nothing missing');
    t.equal((await run('destroy', baseArgs(fake, ['--yes']))).code, 0);
    t.same(inventory(fake), EMPTY, 'no orphans');
  });
}

t.test(
  'retryable faults are absorbed: 429, 500, 502, 503, 504, rate-limit 403s and connection resets, with one requestId per mutation',
  async (t) => {
    const fake = await startSeededFake();
    t.teardown(() => fake.close());
    simulateAgent(fake);
    fake.api.inject({ method: 'compute.addresses.insert', status: 429, reason: 'rateLimitExceeded', times: 2 });
    fake.api.inject({ method: 'compute.firewalls.insert', status: 503, reason: 'backendError' });
    fake.api.inject({ method: 'compute.instances.insert', reset: true });
    fake.api.inject({ method: 'compute.zoneOperations.wait', reset: true });
    fake.api.inject({ method: 'compute.instances.getGuestAttributes', status: 503 });
    fake.api.inject({ method: 'compute.routes.get', reset: true });
    fake.api.inject({
      method: 'compute.globalOperations.wait',
      status: 500,
      reason: 'backendError',
      message: 'Internal error. Please try again or contact Google Support.',
    });
    fake.api.inject({ method: 'compute.regions.get', status: 502, message: 'Bad Gateway' });
    fake.api.inject({ method: 'compute.networks.get', status: 504, message: 'Gateway Timeout' });
    fake.api.inject({ method: 'compute.subnetworks.list', status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' });
    fake.api.inject({ method: 'compute.routes.insert', status: 403, reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' });
    const result = await run('provision', baseArgs(fake));
    t.equal(result.code, 0, result.stderr);
    t.same(inventory(fake), FULL);
    t.match(result.stderr, /create address natgw-us-central1-ip: HTTP 429 rateLimitExceeded, retrying in/);
    t.match(result.stderr, /list subnetworks: HTTP 403 rateLimitExceeded, retrying in/);
    t.match(result.stderr, /create route natgw-us-central1-default: HTTP 403 userRateLimitExceeded, retrying in/);
    t.match(result.stderr, /\(waiting\): HTTP 500 backendError, retrying in/);
    t.match(result.stderr, /read region us-central1: HTTP 502.*retrying in/);
    t.match(result.stderr, /read network default: HTTP 504.*retrying in/);
    const routeInserts = fake.api.requests.filter((request) => request.method === 'compute.routes.insert');
    t.equal(
      new Set(routeInserts.map((request) => new URL(request.url, 'http://x').searchParams.get('requestId'))).size,
      1,
      'the rate-limited route insert was retried with its requestId',
    );
    const inserts = fake.api.requests.filter((request) => request.method === 'compute.addresses.insert');
    t.equal(inserts.length, 3);
    t.equal(new Set(inserts.map((request) => new URL(request.url, 'http://x').searchParams.get('requestId'))).size, 1);
  },
);

t.test('destroy interrupted half-way: a re-run finishes, foreign resources untouched', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  fake.api.inject({
    method: 'compute.instances.delete',
    operationError: { code: 'RESOURCE_NOT_READY', message: 'The resource is not ready' },
  });
  const failed = await run('destroy', baseArgs(fake, ['--yes']));
  t.equal(failed.code, 1);
  t.match(failed.stderr, /delete instance natgw-us-central1 failed: RESOURCE_NOT_READY/);
  t.same(inventory(fake).routes, [], 'the route went first');
  t.equal((await run('destroy', baseArgs(fake, ['--yes']))).code, 0);
  t.same(inventory(fake), EMPTY);
});
