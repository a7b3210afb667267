// The provisioner's waits with production timing (1 s backoff base, 10 s health polls, a 10-minute health timeout) on a
// fake clock: what the schedule is, without waiting for it.
import t from 'tap';
import { FakeClock } from './fixtures/provision/fake-clock.js';
import { baseArgs, inventory, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';

const PRODUCTION = { NATGW_RETRY_BASE_MS: '1000', NATGW_POLL_INTERVAL: '10s' };

t.test('retries back off exponentially from 1 s, with jitter, on the run clock', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake);
  fake.api.inject({ method: 'compute.addresses.insert', status: 503, times: 3 });
  const clock = new FakeClock();
  const result = await run('provision', baseArgs(fake), { env: PRODUCTION, clock });
  t.equal(result.code, 0, result.stderr);
  t.same(inventory(fake).addresses, ['natgw-us-central1-ip']);
  const retries = [...result.stderr.matchAll(/create address natgw-us-central1-ip: HTTP 503.*, retrying in ([\d.]+)s \(attempt (\d)\)/g)];
  t.same(
    retries.map((match) => match[2]),
    ['2', '3', '4'],
  );
  // Before the address insert nothing waits: the first three sleeps are its backoff, printed rounded to 0.1 s.
  const delays = clock.sleeps.slice(0, 3);
  t.same(
    delays.map((delay) => (delay / 1000).toFixed(1)),
    retries.map((match) => match[1]),
    'the backoff printed is the one slept on the run clock',
  );
  for (const [index, delay] of delays.entries()) {
    const base = 1000 * 2 ** index;
    t.ok(delay >= base * 0.75 && delay <= base * 1.25, `retry ${index + 1} waited ${delay} ms, within 25% of ${base} ms`);
  }
});

t.test('an agent that never turns healthy: 10-second polls for the whole 10-minute timeout, then the serial tail', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake, { healthy: false });
  const clock = new FakeClock();
  const result = await run('provision', baseArgs(fake, ['--health-timeout', '10m']), { env: PRODUCTION, clock });
  t.equal(result.code, 1);
  t.match(result.stderr, /the agent on natgw-us-central1 did not report healthy within 600s \(last health: unhealthy: starting\)/);
  t.same(inventory(fake).routes, [], 'no route');
  const reads = fake.api.requests.filter((request) => request.method === 'compute.instances.getGuestAttributes').length;
  // One read at the start and one per 10 s until the deadline: GCE advises at most 10 reads a minute per VM.
  t.ok(reads >= 60 && reads <= 62, `${reads} health reads over 10 minutes`);
  t.ok(clock.elapsedMs >= 600_000, 'the whole timeout elapsed on the run clock');
  t.ok(
    clock.sleeps.every((slept) => slept <= 10_000),
    'no wait longer than the poll interval',
  );
});
