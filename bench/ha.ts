// HA failover in the lab: two NAT VMs behind the emulated internal load balancer (health check every 1 s, unhealthy
// after 2 failures, as provisioned for HA), a client opening a new connection every 100 ms; one NAT VM's namespace is
// deleted and we time how long until every new connection works again.
import { buildHaLab, connectionLoop, LAB_TRAFFIC_CHECK, outageAfter } from '../lab/ha.js';
import { median, sleep, valueRow, type Bench } from './lib.js';

const EVERY_MS = 100;

async function oneFailover(): Promise<{ recoveredMs: number; detectedMs: number; failed: number }> {
  const haLab = await buildHaLab(2);
  try {
    const victim = haLab.backends[0]!;
    const loop = connectionLoop(haLab, 12, EVERY_MS);
    await sleep(3000);
    const killedAt = Date.now();
    await haLab.lab.removeVm(victim.name);
    const attempts = await loop.done;
    const outage = outageAfter(attempts, killedAt, EVERY_MS);
    const detected = haLab.lab.healthEvents.find((event) => event.ip === victim.ip && !event.healthy && event.at >= killedAt);
    return {
      recoveredMs: outage.recoveredAfterMs ?? NaN,
      detectedMs: detected === undefined ? NaN : detected.at - killedAt,
      failed: outage.failedAttempts,
    };
  } finally {
    await haLab.lab.destroy();
  }
}

export const ha: Bench = async ({ quick }) => {
  const runs = quick ? 1 : 3;
  const results = [];
  for (let run = 0; run < runs; run++) {
    const result = await oneFailover();
    console.log(
      `  failover ${run + 1}: unhealthy after ${result.detectedMs} ms, all new connections work after ${result.recoveredMs} ms (${result.failed} failed)`,
    );
    results.push(result);
  }
  const check = `health check every ${LAB_TRAFFIC_CHECK.intervalSeconds} s, timeout ${LAB_TRAFFIC_CHECK.timeoutSeconds} s, unhealthy after ${LAB_TRAFFIC_CHECK.unhealthyThreshold}`;
  return [
    valueRow(
      'ha',
      'HA failover: until every new connection works again',
      'ms',
      median(results.map((result) => result.recoveredMs)),
      '<= 10000',
      `median of ${runs}; 2 NAT VMs, one deleted; ${check}; a new connection every ${EVERY_MS} ms`,
      results.map((result) => result.recoveredMs),
    ),
    valueRow(
      'ha',
      'HA failover: until the load balancer marks the VM unhealthy',
      'ms',
      median(results.map((result) => result.detectedMs)),
      undefined,
      'GCE does the same with its own probes; the lab reprograms the routes as soon as the state changes, so recovery follows detection closely',
    ),
  ];
};
