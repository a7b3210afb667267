// common/wait.ts, the one way code and tests wait for a condition: bounded, and says what it waited for.
import t from 'tap';
import { WaitTimeoutError, waitFor, waitUntil } from '../common/wait.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';

t.test('resolves with the first value that is not false, undefined or null, looking every everyMs', async (t) => {
  const clock = new FakeClock();
  const answers = [false, undefined, null, 0, 7];
  const value = await waitUntil('a value', () => answers.shift(), { timeoutMs: 10_000, everyMs: 250, clock });
  t.equal(value, 0, '0 is a value');
  t.same(clock.sleeps, [250, 250, 250]);
});

t.test('times out at the deadline, naming what it waited for and what it saw', async (t) => {
  const clock = new FakeClock();
  let looks = 0;
  const error = await waitUntil(
    'the sky is green',
    () => {
      looks++;
      return false;
    },
    { timeoutMs: 1000, everyMs: 300, clock, detail: () => 'blue' },
  ).catch((caught: unknown) => caught);
  t.type(error, WaitTimeoutError);
  t.equal((error as Error).message, 'timed out after 1000 ms waiting until the sky is green (blue)');
  t.equal(clock.elapsedMs, 1000, 'the last sleep ends at the deadline, not past it');
  t.equal(looks, 5, 'looked at 0, 300, 600, 900 and at the deadline');
});

t.test('looks at least once, even with no time to wait', async (t) => {
  t.equal(await waitUntil('now', () => 'yes', { timeoutMs: 0, clock: new FakeClock() }), 'yes');
});

t.test('waitFor answers false on timeout; other errors still throw', async (t) => {
  t.equal(await waitFor(() => false, { timeoutMs: 500, clock: new FakeClock() }), false);
  t.equal(await waitFor(async () => true, { timeoutMs: 500, clock: new FakeClock() }), true);
  await t.rejects(
    waitFor(
      () => {
        throw new Error('broken check');
      },
      { timeoutMs: 500, clock: new FakeClock() },
    ),
    /broken check/,
  );
});

t.test('an abort ends the wait', async (t) => {
  const abort = new AbortController();
  abort.abort();
  await t.rejects(waitUntil('never', () => false, { timeoutMs: 10_000, clock: new FakeClock(), signal: abort.signal }));
});
