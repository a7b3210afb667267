// The fallback watcher against the fake Compute API with the real @google-cloud/compute client: an HA gateway's
// route demoted and restored (make before break, nothing lost on the way), `natgw status` reading the path from the
// routes, and a stopped watcher changing nothing.
import t from 'tap';
import { realClock } from '../common/clock.js';
import { waitUntil } from '../common/wait.js';
import { DEMOTED_ROUTE_PRIORITY, parseDemoted } from '../fallback/routes.js';
import { demotedRouteName } from '../provision/kinds/route.js';
import { startWatcher, type ProbeResult } from '../fallback/watch.js';
import type { Json } from '../lab/compute-api/index.js';
import { parseEndpoint } from '../provision/gcp/client.js';
import { baseArgs, PROJECT, REGION, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';
import { simulateStatefulAgent } from './fixtures/provision/stateful.js';

const GW = 'natgw-us-central1';
type Fake = Awaited<ReturnType<typeof startSeededFake>>;
const routes = (fake: Awaited<ReturnType<typeof startSeededFake>>) =>
  new Map(fake.store.list(PROJECT, 'global', 'routes').map((route) => [String(route.name), route]));
const routeFields = (route: Json | undefined) =>
  route === undefined
    ? undefined
    : {
        destRange: route.destRange,
        tags: route.tags,
        nextHopIlb: route.nextHopIlb,
        network: route.network,
        priority: Number(route.priority),
      };

/** A watcher against the fake, its log kept; the probe is whatever the test says at each call. */
const watcherFor = (
  fake: Awaited<ReturnType<typeof startSeededFake>>,
  timers: { failAfterMs: number; holdDownMs: number },
  intervalMs: number,
  probe: () => Promise<ProbeResult>,
  log: string[],
) =>
  startWatcher({
    endpoint: parseEndpoint('--compute-endpoint', fake.url),
    project: PROJECT,
    region: REGION,
    gateway: GW,
    timers,
    intervalMs,
    probe,
    listen: { host: '127.0.0.1', port: 0 },
    log: (line) => log.push(line),
    clock: new FakeClock(),
  });

t.test('fallback demotes the HA route, status says so, failback restores it exactly; stopped, the watcher changes nothing', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake, { healthy: true });
  const provisioned = await run('provision', baseArgs(fake, ['--ha', '--size', '2']));
  t.equal(provisioned.code, 0, provisioned.stderr);
  const original = routes(fake).get(`${GW}-default`)!;
  t.ok(original, 'provision created the route');

  let probe: ProbeResult = { ok: false, durationMs: 3000, detail: 'timeout' };
  const log: string[] = [];
  const watcher = await watcherFor(fake, { failAfterMs: 3000, holdDownMs: 5000 }, 1000, async () => probe, log);
  let stopped = false;
  t.teardown(() => (stopped ? undefined : watcher.stop()));

  const onFallback = () => !routes(fake).has(`${GW}-default`) && routes(fake).has(demotedRouteName(GW));
  await waitUntil('the route is demoted', onFallback, { timeoutMs: 30_000, clock: realClock, detail: () => log.join('\n') });
  const demoted = routes(fake).get(demotedRouteName(GW))!;
  t.same(routeFields(demoted), { ...routeFields(original), priority: DEMOTED_ROUTE_PRIORITY }, 'same next hop, tags and network');
  const { since, priority } = parseDemoted(demoted);
  t.equal(priority, Number(original.priority), 'the original priority travels in the description');
  t.ok(since !== undefined && Math.abs(since.getTime() - Date.now()) < 24 * 3600_000, `since ${since?.toISOString()}`);
  const inserted = fake.api.mutations().map((request) => `${request.method}`);
  t.ok(
    inserted.lastIndexOf('compute.routes.insert') < inserted.lastIndexOf('compute.routes.delete'),
    'the demoted route was created before the route was deleted',
  );

  const text = await run('status', baseArgs(fake, ['--ha']));
  t.equal(text.code, 3, 'natgw is not serving');
  t.match(text.stdout, new RegExp(`path +serving clients +Cloud NAT fallback since ${since!.toISOString()}`));
  const json = JSON.parse((await run('status', baseArgs(fake, ['--ha', '--json']))).stdout);
  t.same(json.servingPath, { path: 'fallback', since: since!.toISOString() });
  const metrics = await (await fetch(watcher.metricsUrl)).text();
  t.match(metrics, /^natgw_fallback_active 1$/m);
  t.match(metrics, new RegExp(`^natgw_fallback_since_timestamp_seconds ${since!.getTime() / 1000}$`, 'm'));

  probe = { ok: true, durationMs: 20, detail: '204' };
  await waitUntil('the route is restored', () => routes(fake).has(`${GW}-default`) && !routes(fake).has(demotedRouteName(GW)), {
    timeoutMs: 30_000,
    clock: realClock,
    detail: () => log.join('\n'),
  });
  const restored = routes(fake).get(`${GW}-default`)!;
  t.same(routeFields(restored), routeFields(original));
  t.equal(restored.description, original.description, "the description is natgw's again (provision sees no drift)");
  const serving = await run('status', baseArgs(fake, ['--ha']));
  t.equal(serving.code, 0, serving.stdout);
  t.match(serving.stdout, /path +serving clients +natgw$/m);
  const rerun = await run('provision', baseArgs(fake, ['--ha', '--size', '2', '--dry-run']));
  t.match(rerun.stdout + rerun.stderr, /up to date|no changes/i, 'a re-run of provision finds nothing to change');

  await watcher.stop();
  stopped = true;
  const before = fake.api.requests.length;
  probe = { ok: false, durationMs: 3000, detail: 'timeout' };
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(fake.api.requests.length, before, 'a stopped watcher makes no calls: the routes stay as they are');
  t.ok(routes(fake).has(`${GW}-default`));
});

t.test(
  'single mode: a stopped NAT VM is unhealthy even while the probe answers; the demoted route keeps its instance next hop',
  async (t) => {
    const fake = await startSeededFake();
    t.teardown(() => fake.close());
    simulateAgent(fake, { healthy: true });
    const provisioned = await run('provision', baseArgs(fake));
    t.equal(provisioned.code, 0, provisioned.stderr);
    const original = routes(fake).get(`${GW}-default`)!;
    const log: string[] = [];
    const watcher = await watcherFor(
      fake,
      { failAfterMs: 3000, holdDownMs: 5000 },
      1000,
      async () => ({ ok: true, durationMs: 5, detail: '204' }),
      log,
    );
    t.teardown(() => watcher.stop());
    await waitUntil('the watcher saw natgw healthy', () => log.some((line) => line.startsWith('natgw healthy')), {
      timeoutMs: 30_000,
      clock: realClock,
    });
    t.ok(routes(fake).has(`${GW}-default`), 'healthy: nothing moved');
    const instance = fake.store.all('instances').find((entry) => entry.name === GW)!;
    fake.store.update(PROJECT, instance.scope, 'instances', GW, (resource) => {
      resource.status = 'TERMINATED';
    });
    await waitUntil('the route is demoted', () => routes(fake).has(demotedRouteName(GW)) && !routes(fake).has(`${GW}-default`), {
      timeoutMs: 30_000,
      clock: realClock,
      detail: () => log.join('\n'),
    });
    t.match(log.join('\n'), /no NAT VM is healthy/);
    const demoted = routes(fake).get(demotedRouteName(GW))!;
    t.equal(demoted.nextHopInstance, original.nextHopInstance);
    t.same(demoted.tags, original.tags);
  },
);

t.test('destroy while on the fallback removes the demoted route too, before the load balancer it names', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake, { healthy: true });
  const provisioned = await run('provision', baseArgs(fake, ['--ha', '--size', '2', '--fallback', 'cloud-nat']));
  t.equal(provisioned.code, 0, provisioned.stderr);
  const log: string[] = [];
  const watcher = await watcherFor(
    fake,
    { failAfterMs: 1000, holdDownMs: 60_000 },
    500,
    async () => ({ ok: false, durationMs: 3000, detail: 'timeout' }),
    log,
  );
  await waitUntil('the route is demoted', () => routes(fake).has(demotedRouteName(GW)), {
    timeoutMs: 30_000,
    clock: realClock,
    detail: () => log.join('\n'),
  });
  await watcher.stop();

  const dryRun = await run('destroy', baseArgs(fake, ['--ha', '--dry-run']));
  t.match(dryRun.stdout, new RegExp(`gcloud compute routes delete ${demotedRouteName(GW)} `), 'the dry run names it');
  const destroyed = await run('destroy', baseArgs(fake, ['--ha', '--yes']));
  t.equal(destroyed.code, 0, destroyed.stderr);
  t.same(
    [...routes(fake).keys()].filter((name) => name.startsWith(GW)),
    [],
    "no route of natgw's is left",
  );
  const deletes = fake.api.mutations().map((request) => `${request.method} ${request.url}`);
  const demotedDelete = deletes.findIndex((line) => line.startsWith('compute.routes.delete') && line.includes(demotedRouteName(GW)));
  const ruleDelete = deletes.findIndex((line) => line.startsWith('compute.forwardingRules.delete'));
  t.ok(demotedDelete >= 0 && ruleDelete > demotedDelete, 'the demoted route went before the forwarding rule it points at');
});

t.test("status reads natgw's route and its demoted copy once each, in text and --json, in every mode", async (t) => {
  const modes = [
    { provision: [], status: [], agent: (fake: Fake) => simulateAgent(fake, { healthy: true }) },
    { provision: ['--ha', '--size', '2'], status: ['--ha'], agent: (fake: Fake) => simulateAgent(fake, { healthy: true }) },
    { provision: ['--ha', '--stateful'], status: ['--ha'], agent: (fake: Fake) => simulateStatefulAgent(fake) },
  ];
  for (const mode of modes) {
    const fake = await startSeededFake();
    t.teardown(() => fake.close());
    mode.agent(fake);
    const provisioned = await run('provision', baseArgs(fake, mode.provision));
    t.equal(provisioned.code, 0, provisioned.stderr);
    for (const output of [[], ['--json']]) {
      const what = [...mode.provision, ...output].join(' ');
      fake.api.requests.length = 0;
      const status = await run('status', baseArgs(fake, [...mode.status, ...output]));
      t.match(status.stdout, output.length === 0 ? /path +serving clients +natgw$/m : /"servingPath": \{\s+"path": "natgw"/, what);
      const reads = (route: string) =>
        fake.api.requests.filter(
          (request) => request.method === 'compute.routes.get' && new URL(request.url, 'http://x').pathname.endsWith(`/routes/${route}`),
        ).length;
      t.equal(reads(`${GW}-default`), 1, `${what}: natgw's route read once`);
      t.equal(reads(demotedRouteName(GW)), 1, `${what}: its demoted copy read once`);
    }
  }
});
