// pollUntil: the one deadline-bounded poll loop every executor's wait uses (agent health, load balancer health,
// MIG creates/deletes/recreates, conntrackd resync).
import t from 'tap';
import { pollUntil } from '../provision/apply-shared.js';
import type { CallContext } from '../provision/gcp/call.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';

const contextWith = (clock: FakeClock) => ({ clock }) as unknown as CallContext;

t.test('returns what look found, without sleeping once it is there', async (t) => {
  const clock = new FakeClock();
  let looks = 0;
  const found = await pollUntil(
    contextWith(clock),
    { healthTimeoutMs: 10_000, pollIntervalMs: 1000 },
    async () => (++looks === 3 ? 'ok' : undefined),
    () => {
      throw new Error('timed out');
    },
  );
  t.equal(found, 'ok');
  t.equal(looks, 3);
  t.same(clock.sleeps, [1000, 1000]);
});

t.test('looks a last time at the deadline, then throws what timedOut says', async (t) => {
  const clock = new FakeClock();
  let looks = 0;
  await t.rejects(
    pollUntil(
      contextWith(clock),
      { healthTimeoutMs: 2500, pollIntervalMs: 1000 },
      async () => {
        looks += 1;
        return undefined;
      },
      async () => {
        throw new Error(`gave up after ${looks} looks`);
      },
    ),
    /gave up after 4 looks/,
  );
  t.same(clock.sleeps, [1000, 1000, 500], 'the last sleep ends on the deadline');
  t.equal(clock.elapsedMs, 2500);
});

t.test('maxIntervalMs caps the interval; an error thrown by look ends the wait at once', async (t) => {
  const clock = new FakeClock();
  let looks = 0;
  await t.rejects(
    pollUntil(
      contextWith(clock),
      { healthTimeoutMs: 60_000, pollIntervalMs: 5000 },
      async () => {
        looks += 1;
        if (looks === 3) throw new Error('the group reported an error');
        return undefined;
      },
      () => {
        throw new Error('timed out');
      },
      3000,
    ),
    /the group reported an error/,
  );
  t.same(clock.sleeps, [3000, 3000]);
});
