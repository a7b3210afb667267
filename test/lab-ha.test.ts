// natgw-test: exclusive — failed connections are bounded by one health-check cycle.
// HA in the lab: NAT VMs behind the emulated internal load balancer (health-checked, L4-hashed multipath routes).
// Failover times are reported, not asserted: the ≤ 10 s goal is tracked by the benchmark.
import t from 'tap';
import { buildHaLab, connectionLoop, outageAfter, LAB_TRAFFIC_CHECK } from '../lab/ha.js';

const EVERY_MS = 100;

t.test('a NAT VM dies: new connections work again once the load balancer marks it unhealthy', async (t) => {
  const haLab = await buildHaLab(2);
  t.teardown(() => haLab.lab.destroy());
  const [a, b] = haLab.backends;
  const loop = connectionLoop(haLab, 12, EVERY_MS);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const killedAt = Date.now();
  await haLab.lab.removeVm(a!.name);
  const attempts = await loop.done;
  const before = attempts.filter((attempt) => attempt.at < killedAt);
  t.ok(before.length > 20 && before.every((attempt) => attempt.ok), `all ${before.length} connections before the failure worked`);
  t.same(
    [...new Set(before.map((attempt) => attempt.seenAs))].sort(),
    [a!.externalIp, b!.externalIp],
    'connections were spread over both NAT VMs',
  );
  const outage = outageAfter(attempts, killedAt, EVERY_MS);
  t.not(outage.recoveredAfterMs, undefined, 'new connections recovered');
  const after = attempts.filter((attempt) => attempt.at >= killedAt + (outage.recoveredAfterMs ?? 0));
  t.ok(
    after.length > 30 && after.every((attempt) => attempt.ok && attempt.seenAs === b!.externalIp),
    `after recovery all ${after.length} new connections go out through the survivor`,
  );
  const detected = haLab.lab.healthEvents.find((event) => event.ip === a!.ip && !event.healthy && event.at >= killedAt);
  t.ok(detected !== undefined, 'the health checker marked the dead VM unhealthy');
  t.comment(
    `failover: unhealthy after ${detected === undefined ? '?' : detected.at - killedAt} ms, every new connection works again after ${outage.recoveredAfterMs} ms; ${outage.failedAttempts} of ${attempts.length - before.length} attempts failed (health check every ${LAB_TRAFFIC_CHECK.intervalSeconds} s, unhealthy after ${LAB_TRAFFIC_CHECK.unhealthyThreshold})`,
  );
});

t.test('rolling replacement of every NAT VM, one by one, with the agent draining first', async (t) => {
  const haLab = await buildHaLab(2);
  t.teardown(() => haLab.lab.destroy());
  const loop = connectionLoop(haLab, 45, EVERY_MS);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (const backend of haLab.backends) {
    const agent = haLab.agents.get(backend.name)!;
    agent.child.kill('SIGTERM');
    t.equal(await agent.exited, 0, `${backend.name}: the agent drained and exited`);
    await haLab.lab.removeVm(backend.name);
    await haLab.startBackend(backend);
    await haLab.waitForHealthy([backend.name], 25_000);
    t.pass(`${backend.name} replaced and healthy again`);
  }
  const attempts = await loop.done;
  const outage = outageAfter(attempts, attempts[0]?.at ?? 0, EVERY_MS);
  const cycleMs = (LAB_TRAFFIC_CHECK.intervalSeconds + LAB_TRAFFIC_CHECK.timeoutSeconds) * 1000;
  t.ok(attempts.length > 100, `${attempts.length} connection attempts during the update`);
  t.ok(
    outage.longestFailureRunMs <= cycleMs,
    `longest run of failed new connections ${outage.longestFailureRunMs} ms ≤ one health-check cycle (${cycleMs} ms); ${outage.failedAttempts} failed in all`,
  );
});
