// natgw-test: exclusive — failed connections are bounded by one health-check cycle.
// HA in the lab: NAT VMs behind the emulated internal load balancer (health-checked, L4-hashed multipath routes).
// Failover times are reported, not asserted: the ≤ 10 s goal is tracked by the benchmark.
import t from 'tap';
import { buildHaLab, connectionLoop, LAB_TRAFFIC_CHECK, outageAfter, trailingSuccesses, worked } from '../lab/ha.js';

const EVERY_MS = 100;
/** The loop's own bound; each test stops it once it has seen what it waits for. */
const LOOP_MAX_SECONDS = 240;

t.test('a NAT VM dies: new connections work again once the load balancer marks it unhealthy', async (t) => {
  const haLab = await buildHaLab(2);
  t.teardown(() => haLab.lab.destroy());
  const [a, b] = haLab.backends;
  const loop = connectionLoop(haLab, LOOP_MAX_SECONDS, EVERY_MS);
  t.teardown(() => loop.stop());
  await loop.until(
    '10 connections went out through each NAT VM',
    (attempts) => worked(attempts, a!.externalIp).length >= 10 && worked(attempts, b!.externalIp).length >= 10,
    60_000,
  );
  const killedAt = Date.now();
  await haLab.lab.removeVm(a!.name);
  const removedAt = Date.now();
  await loop.until(
    '30 new connections in a row went out through the survivor after the failure',
    (attempts) =>
      trailingSuccesses(
        attempts.filter((attempt) => attempt.at >= killedAt),
        b!.externalIp,
      ) >= 30,
    60_000,
  );
  const attempts = await loop.stop();
  const before = attempts.filter((attempt) => attempt.at < killedAt);
  t.ok(before.length >= 20 && before.every((attempt) => attempt.ok), `all ${before.length} connections before the failure worked`);
  t.same(
    [...new Set(before.map((attempt) => attempt.seenAs))].sort(),
    [a!.externalIp, b!.externalIp],
    'connections were spread over both NAT VMs',
  );
  const outage = outageAfter(attempts, killedAt, EVERY_MS);
  t.not(outage.recoveredAfterMs, undefined, 'new connections recovered');
  // Removal is graceful: the dying VM keeps forwarding while its agent drains, so connections it served during
  // removeVm are not a failure. What it may never do is serve one once it is gone.
  const lastThroughDying = worked(attempts, a!.externalIp).at(-1)?.at ?? 0;
  t.ok(lastThroughDying < removedAt, 'no connection went out through the removed VM after it was gone');
  const recoveredAt = Math.max(killedAt + (outage.recoveredAfterMs ?? 0), lastThroughDying + 1);
  const after = attempts.filter((attempt) => attempt.at >= recoveredAt);
  t.ok(
    after.length >= 30 && after.every((attempt) => attempt.ok && attempt.seenAs === b!.externalIp),
    `after recovery all ${after.length} new connections go out through the survivor`,
  );
  const detected = haLab.lab.healthEvents.find((event) => event.ip === a!.ip && !event.healthy && event.at >= killedAt);
  t.ok(detected !== undefined, 'the health checker marked the dead VM unhealthy');
  t.same(haLab.lab.programmingErrors.map(String), [], 'every health change was programmed');
  t.comment(
    `failover: unhealthy after ${detected === undefined ? '?' : detected.at - killedAt} ms, every new connection works again after ${outage.recoveredAfterMs} ms; ${outage.failedAttempts} of ${attempts.length - before.length} attempts failed (health check every ${LAB_TRAFFIC_CHECK.intervalSeconds} s, unhealthy after ${LAB_TRAFFIC_CHECK.unhealthyThreshold})`,
  );
});

// What draining guarantees is an order of events, not a duration: SIGTERM fails /healthz, the load balancer takes the
// VM out of rotation, and only then does the agent exit and the VM go away. Times are reported.
t.test('rolling replacement of every NAT VM, one by one, with the agent draining first', async (t) => {
  const haLab = await buildHaLab(2);
  t.teardown(() => haLab.lab.destroy());
  const loop = connectionLoop(haLab, LOOP_MAX_SECONDS, EVERY_MS);
  t.teardown(() => loop.stop());
  const [a, b] = haLab.backends;
  await loop.until(
    '10 connections went out through each NAT VM',
    (attempts) => worked(attempts, a!.externalIp).length >= 10 && worked(attempts, b!.externalIp).length >= 10,
    60_000,
  );
  const startedAt = Date.now();
  const timings: string[] = [];
  for (const backend of haLab.backends) {
    const other = haLab.backends.find((candidate) => candidate !== backend)!;
    const agent = haLab.agents.get(backend.name)!;
    const stoppedAt = Date.now();
    agent.child.kill('SIGTERM');
    t.equal(await agent.exited, 0, `${backend.name}: the agent drained and exited`);
    const exitedAt = Date.now();
    const outOfRotation = haLab.lab.loadBalancerEvents.find(
      (event) => event.lb === 'natgw-ilb' && event.at >= stoppedAt && !event.active.includes(backend.ip),
    );
    t.ok(
      outOfRotation !== undefined && outOfRotation.at <= exitedAt,
      `${backend.name}: the load balancer stopped sending new connections to it before its agent exited`,
    );
    await haLab.lab.removeVm(backend.name);
    const removedAt = Date.now();
    await loop.until(
      `new connections went out through ${other.name} while ${backend.name} was away`,
      (attempts) =>
        worked(
          attempts.filter((attempt) => attempt.at >= removedAt),
          other.externalIp,
        ).length >= 5,
      30_000,
    );
    await haLab.startBackend(backend);
    await haLab.waitForHealthy([backend.name], 60_000);
    const healthyAt = Date.now();
    t.pass(`${backend.name} replaced and healthy again`);
    timings.push(
      `${backend.name}: out of rotation ${outOfRotation === undefined ? '?' : outOfRotation.at - stoppedAt} ms after SIGTERM, exited after ${exitedAt - stoppedAt} ms, healthy again ${healthyAt - removedAt} ms after removal`,
    );
  }
  await loop.until(
    '10 new connections went out through each replaced NAT VM',
    (attempts) => {
      const since = attempts.filter((attempt) => attempt.at >= startedAt);
      return haLab.backends.every((backend) => worked(since, backend.externalIp).length >= 10);
    },
    60_000,
  );
  const attempts = await loop.stop();
  t.ok(
    attempts.filter((attempt) => attempt.at < startedAt).every((attempt) => attempt.ok),
    'every connection before the update worked',
  );
  t.same(haLab.lab.programmingErrors.map(String), [], 'every health change was programmed');
  const outage = outageAfter(attempts, startedAt, EVERY_MS);
  const cycleMs = (LAB_TRAFFIC_CHECK.intervalSeconds + LAB_TRAFFIC_CHECK.timeoutSeconds) * 1000;
  t.comment(
    `rolling update: ${timings.join('; ')}; ${outage.failedAttempts} of ${attempts.filter((attempt) => attempt.at >= startedAt).length} new connections failed, the longest run ${outage.longestFailureRunMs} ms (one health-check cycle: ${cycleMs} ms)`,
  );
});
