// natgw-test: long — about 2 minutes, mostly waiting out the watcher's timers (fail-after, hold-down, 4 flap toggles of 10 s): it runs beside the other lab files, whose load the bounds it asserts (fallback within 90 s, failback within 120 s; 18-19 s measured alone) leave room for. One NAT VM goes down and up twice here (4 toggles, each as long as fail-after), not the CLI's 6 times: the third cycle repeats the first two at 20 s of CI time.
// The Cloud NAT fallback end to end (`natgw lab fallback`): HA natgw with its Cloud NAT, the fallback watcher probing
// through natgw from a VM with the probe tag. Every NAT VM fails: within 90 s a tagged VM's new connections leave from
// Cloud NAT's IP; natgw heals: within 120 s they leave from natgw's again; one NAT VM going down and up every 10 s moves
// nothing; while natgw is healthy Cloud NAT carries no packet; a killed watcher changes nothing.
import t from 'tap';
import { waitFor } from '../common/wait.js';
import { buildFallbackLab, LAB_FALLBACK_TIMERS, runFallbackMeasurement } from '../lab/fallback.js';
import { LAB_PROJECT } from '../lab/gce.js';
import { Lab } from '../lab/lab.js';

t.test('natgw lab fallback: falls back within 90 s, fails back within 120 s, never flaps, Cloud NAT idle while natgw serves', async (t) => {
  const lines: string[] = [];
  const lab = await buildFallbackLab((line) => lines.push(line));
  t.teardown(() => lab.close());
  const report = await runFallbackMeasurement(lab, { say: (line) => lines.push(line), flapToggles: 4 });
  t.comment(JSON.stringify(report));
  const context = `\n${lines.slice(-40).join('\n')}`;
  t.ok(report.fallbackAfterMs !== null && report.fallbackAfterMs <= 90_000, `fallback after ${report.fallbackAfterMs} ms${context}`);
  t.ok(report.failbackAfterMs !== null && report.failbackAfterMs <= 120_000, `failback after ${report.failbackAfterMs} ms${context}`);
  t.equal(report.fallbackIp, lab.cloudNatIp(), "the internet saw Cloud NAT's IP on the fallback");
  t.ok(report.natgwIp !== null && lab.natgwIps().includes(report.natgwIp), `and a NAT VM's IP (${report.natgwIp}) after it`);
  t.equal(report.flaps, 0, `no path change beyond the two expected${context}`);
  t.same(report.transitions, { fallback: 1, failback: 1 }, 'the watcher moved the route exactly twice');
  // What VMs send, not the internet's last segments of a connection begun during the fallback (lab/cloud-nat.ts).
  t.equal(
    report.cloudNatSentWhileHealthy,
    0,
    `with natgw healthy (one NAT VM flapping included), no VM sent a packet through Cloud NAT${report.cloudNatEvidence === undefined ? '' : `\n${report.cloudNatEvidence.join('\n')}`}`,
  );

  // The watcher killed while natgw is healthy: nothing it manages changes, and egress goes on through natgw.
  const routes = () =>
    JSON.stringify(
      lab.cloud.store
        .list(LAB_PROJECT, 'global', 'routes')
        .map((route) => [route.name, route.priority])
        .sort(),
    );
  const before = { routes: routes(), mutations: lab.cloud.api.mutations().length, sent: (await lab.cloud.cloudNatCounters()).sentPackets };
  await lab.watcher.stop();
  const seen: (string | undefined)[] = [];
  await waitFor(
    async () => {
      seen.push(await lab.seenAs(lab.client));
      return seen.length >= 10;
    },
    { timeoutMs: 60_000, everyMs: 250 },
  );
  t.ok(
    seen.every((ip) => ip !== undefined && lab.natgwIps().includes(ip)),
    `every connection left through natgw: ${seen.join(', ')}`,
  );
  t.equal(routes(), before.routes, 'the routes are as they were');
  t.equal(lab.cloud.api.mutations().length, before.mutations, 'no API change after the watcher stopped');
  t.equal((await lab.cloud.cloudNatCounters()).sentPackets, before.sent, 'no VM sent anything new through Cloud NAT');

  // With the watcher down, nothing moves even when natgw fails: for longer than a running watcher would wait before
  // falling back (fail-after plus a few checks: a running one moved the route 12 s after the failure), the route stays, and tagged VMs stay off Cloud NAT.
  await lab.failNatVms();
  const window = LAB_FALLBACK_TIMERS.failAfterMs + 4 * LAB_FALLBACK_TIMERS.intervalMs;
  const failedAt = Date.now();
  const whileDown: (string | undefined)[] = [];
  await waitFor(
    async () => {
      whileDown.push(await lab.seenAs(lab.client));
      return Date.now() - failedAt >= window;
    },
    { timeoutMs: window + 30_000, everyMs: 1000 },
  );
  t.notOk(
    whileDown.includes(lab.cloudNatIp()),
    `no connection left through Cloud NAT in the ${window} ms after natgw failed with the watcher down: ${whileDown.join(', ')}`,
  );
  t.equal(routes(), before.routes, 'the routes are still as they were');
  t.equal(lab.cloud.api.mutations().length, before.mutations, 'still no API change');
  await lab.close();
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
