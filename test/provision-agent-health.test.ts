// The agent's side of the provisioner's health wait: natgw/health is written on change and rewritten periodically
// (GCE may drop a guest-attribute write silently), at most about once a minute while unchanged.
import { mock } from 'node:test';
import t from 'tap';
import { Agent, HEALTH_REFRESH_MS } from '../agent/agent.js';
import type { AgentDeps } from '../agent/agent.js';

t.test('natgw/health: written on change, rewritten every HEALTH_REFRESH_MS while unchanged, not more often', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.teardown(() => mock.timers.reset());
  const writes: { at: number; value: string }[] = [];
  const quiet = () => undefined;
  const deps = {
    dataplane: { warnings: new Set<string>() },
    log: { info: quiet, warn: quiet, error: quiet },
    metrics: { healthy: { set: quiet } },
    guestAttributes: {
      putGuestAttribute: async (key: string, value: string) => void writes.push({ at: Date.now(), value: `${key}=${value}` }),
    },
  } as unknown as AgentDeps;
  const agent = new Agent(deps);
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  agent.setWaiting('no metadata yet');
  await settle();
  t.same(
    writes.map((write) => write.value),
    ['natgw/health=unhealthy: config'],
  );
  agent.setWaiting('still no metadata');
  await settle();
  t.equal(writes.length, 1, 'the same value is not rewritten at once (GCE advises ≤ 10 writes a minute)');

  t.ok(HEALTH_REFRESH_MS >= 45_000 && HEALTH_REFRESH_MS <= 60_000, 'the refresh period is under a minute and not much less');
  for (let minute = 0; minute < 3; minute++) {
    mock.timers.tick(HEALTH_REFRESH_MS);
    await settle();
  }
  t.equal(writes.length, 4, 'rewritten once per period while unchanged');
  t.same(
    writes.slice(1).map((write, index) => write.at - writes[index]!.at),
    [HEALTH_REFRESH_MS, HEALTH_REFRESH_MS, HEALTH_REFRESH_MS],
  );

  agent.stop();
  mock.timers.tick(HEALTH_REFRESH_MS * 2);
  await settle();
  t.equal(writes.length, 4, 'a stopped agent stops rewriting');
});
