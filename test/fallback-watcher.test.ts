// The fallback watcher's decisions (fallback/state.ts) and its loop (fallback/watch.ts) against fakes: when it moves
// natgw's route, when it must not, and random walks that check the safety rules on every step.
import t from 'tap';
import type { Route } from '../provision/gcp/routes.js';
import { FallbackMetrics } from '../fallback/metrics.js';
import type { GatewayRoutes } from '../fallback/routes.js';
import { initialWatchState, step, type ObservedRoutes, type WatchState } from '../fallback/state.js';
import { checkOnce, type FallbackCloud, type ProbeResult } from '../fallback/watch.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';

const timers = { failAfterMs: 30_000, holdDownMs: 60_000 };
const onNatgw: ObservedRoutes = { normal: true, demoted: false };
const onFallback: ObservedRoutes = { normal: false, demoted: true };

/** Feeds observations every `everyMs` from `start`, applying each action to the routes as the cloud would. */
function run(healthy: (boolean | undefined)[], routes: ObservedRoutes, everyMs = 5000) {
  let state: WatchState = initialWatchState;
  const actions: { at: number; action: string }[] = [];
  let current = routes;
  healthy.forEach((value, index) => {
    const at = index * everyMs;
    const decision = step(state, { at, healthy: value, routes: current }, timers);
    state = decision.state;
    if (decision.action === 'fallback') current = { normal: false, demoted: true };
    if (decision.action === 'failback') current = { normal: true, demoted: false };
    if (decision.action !== undefined) actions.push({ at, action: decision.action });
  });
  return { actions, routes: current };
}

t.test('falls back once natgw has been unhealthy for fail-after without a break, not before', async (t) => {
  t.same(
    run([true, false, false, false, false, false, false, false], onNatgw).actions,
    [{ at: 35_000, action: 'fallback' }],
    'first failure at 5 s',
  );
  t.same(run([false, false, false, false, false, false], onNatgw).actions, [], '25 s of failure is not 30');
  t.same(
    run([false, false, false, true, false, false, false, false, false, false], onNatgw).actions,
    [],
    'one good check restarts the count',
  );
});

t.test('fails back only after hold-down of unbroken health, and a flapping natgw stays on the fallback', async (t) => {
  const healthy = Array.from({ length: 14 }, () => true);
  t.same(run([false, ...healthy], onFallback).actions, [{ at: 65_000, action: 'failback' }]);
  const flapping = Array.from({ length: 60 }, (_, index) => Math.floor(index / 2) % 2 === 0);
  t.same(run(flapping, onFallback).actions, [], 'up 10 s, down 10 s: never 60 s of health');
  t.same(run(flapping, onNatgw).actions, [], 'and never 30 s of failure either');
});

t.test('an unknown observation neither starts nor breaks a failure, and breaks a healthy run', async (t) => {
  t.same(run([undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined], onNatgw).actions, []);
  t.same(run([false, undefined, false, undefined, false, undefined, false], onNatgw).actions, [{ at: 30_000, action: 'fallback' }]);
  const almost = [...Array.from({ length: 12 }, () => true), undefined, true];
  t.same(run([false, ...almost], onFallback).actions, [], 'an API error at 60 s: the hold-down starts again');
});

t.test('no natgw route at all: nothing to move; both routes (a transition cut short): finished by the health', async (t) => {
  t.same(run([false, false, false, false, false, false, false, false], { normal: false, demoted: false }).actions, []);
  t.same(run([true], { normal: true, demoted: true }).actions, [{ at: 0, action: 'failback' }]);
  const both = run([false, false, false, false, false, false, false], { normal: true, demoted: true });
  t.same(both.actions, [{ at: 30_000, action: 'fallback' }]);
  t.same(both.routes, onFallback);
});

t.test('random walks: every transition is earned, the routes never both vanish, and a steady state stays put', async (t) => {
  let seed = 26;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  let routesLost = 0;
  for (let walk = 0; walk < 300; walk++) {
    let state: WatchState = initialWatchState;
    let routes: ObservedRoutes = random() < 0.5 ? onNatgw : random() < 0.5 ? onFallback : { normal: true, demoted: true };
    const history: { at: number; healthy: boolean | undefined }[] = [];
    let at = 0;
    for (let check = 0; check < 200; check++) {
      at += 1000 + Math.floor(random() * 9000);
      // Sticky health: long runs of one value, as outages and recoveries are.
      const last = history.at(-1)?.healthy;
      const roll = random();
      const healthy = roll < 0.05 ? undefined : roll < 0.15 ? !(last ?? true) : (last ?? true);
      history.push({ at, healthy });
      const before = routes;
      const decision = step(state, { at, healthy, routes }, timers);
      state = decision.state;
      if (decision.action === 'fallback') {
        const window = history.filter((entry) => entry.at >= at - timers.failAfterMs);
        const since = [...history].reverse().find((entry) => entry.healthy === true)?.at ?? Number.NEGATIVE_INFINITY;
        t.ok(
          at - since > timers.failAfterMs,
          `walk ${walk}: fell back at ${at} with no healthy check in the last ${timers.failAfterMs} ms`,
        );
        t.ok(
          window.some((entry) => entry.healthy === false),
          `walk ${walk}: and some failure was seen`,
        );
        t.ok(before.normal, `walk ${walk}: only natgw's route is demoted`);
        routes = onFallback;
      } else if (decision.action === 'failback') {
        if (!(before.normal && before.demoted)) {
          const window = history.filter((entry) => entry.at >= at - timers.holdDownMs);
          t.ok(
            window.every((entry) => entry.healthy === true) && history.length > 1 && history[0]!.at <= at - timers.holdDownMs,
            `walk ${walk}: failed back at ${at} after ${timers.holdDownMs} ms of unbroken health`,
          );
        }
        routes = onNatgw;
      }
      if (!routes.normal && !routes.demoted) routesLost++;
    }
  }
  t.equal(routesLost, 0, 'one of the two routes always exists');
  t.same(
    run(
      Array.from({ length: 100 }, () => true),
      onNatgw,
    ).actions,
    [],
    'healthy natgw: never moved',
  );
  t.same(
    run(
      Array.from({ length: 100 }, () => false),
      onFallback,
    ).actions,
    [],
    'dead natgw on the fallback: stays',
  );
});

// ---- the loop against a fake cloud ----

const natgwRoute: Route = { name: 'gw-default', priority: 800, tags: ['client'], nextHopIlb: 'regions/r/forwardingRules/gw-fr' };

class FakeCloud implements FallbackCloud {
  routes: GatewayRoutes = { normal: natgwRoute, demoted: undefined };
  vmsHealthy: boolean | Error = true;
  failWrites = false;
  writes: string[] = [];
  async readRoutes() {
    return this.routes;
  }
  async someNatVmHealthy() {
    if (this.vmsHealthy instanceof Error) throw this.vmsHealthy;
    return this.vmsHealthy;
  }
  async fallBack(_: GatewayRoutes, at: Date) {
    if (this.failWrites) throw new Error('HTTP 503');
    this.writes.push('fallback');
    this.routes = {
      normal: undefined,
      demoted: {
        ...natgwRoute,
        name: 'gw-default-demoted',
        priority: 65535,
        description: `natgw fallback since ${at.toISOString()}; was priority 800; x`,
      },
    };
  }
  async failBack() {
    if (this.failWrites) throw new Error('HTTP 503');
    this.writes.push('failback');
    this.routes = { normal: natgwRoute, demoted: undefined };
  }
}

async function loop(cloud: FakeCloud, probe: () => ProbeResult, checks: number, clock: FakeClock, metrics = new FallbackMetrics()) {
  const options = { cloud, probe: async () => probe(), timers, intervalMs: 5000, clock, metrics, log: () => undefined };
  let state = initialWatchState;
  for (let check = 0; check < checks; check++) {
    state = await checkOnce(options, state);
    await clock.sleep(5000);
  }
  return { state, metrics };
}

const ok = () => ({ ok: true, durationMs: 12, detail: 'answered 204' });
const failing = () => ({ ok: false, durationMs: 5000, detail: 'timeout' });

t.test('the loop: a failing probe with healthy VMs falls back; healthy again, it fails back; metrics follow', async (t) => {
  const clock = new FakeClock();
  const cloud = new FakeCloud();
  const { metrics } = await loop(cloud, failing, 8, clock);
  t.same(cloud.writes, ['fallback'], 'the probe through natgw failing is enough');
  const text = await metrics.registry.metrics();
  t.match(text, /^natgw_fallback_active 1$/m);
  t.match(text, /^natgw_fallback_transitions_total\{direction="fallback"\} 1$/m);
  t.match(text, /^natgw_fallback_probe_success 0$/m);
  t.match(text, new RegExp(`^natgw_fallback_since_timestamp_seconds ${(clock.now() - 10_000) / 1000}$`, 'm'));
  await loop(cloud, ok, 14, clock, metrics);
  t.same(cloud.writes, ['fallback', 'failback']);
  const after = await metrics.registry.metrics();
  t.match(after, /^natgw_fallback_active 0$/m);
  t.match(after, /^natgw_fallback_since_timestamp_seconds 0$/m);
  t.match(after, /^natgw_fallback_transitions_total\{direction="failback"\} 1$/m);
});

t.test('the loop: every NAT VM unhealthy falls back even while the probe answers (the probe may have other ways out)', async (t) => {
  const cloud = new FakeCloud();
  cloud.vmsHealthy = false;
  await loop(cloud, ok, 8, new FakeClock());
  t.same(cloud.writes, ['fallback']);
});

t.test('the loop: an API that cannot tell VM health and a probe that answers change nothing, in either state', async (t) => {
  const cloud = new FakeCloud();
  cloud.vmsHealthy = new Error('HTTP 500');
  await loop(cloud, ok, 20, new FakeClock());
  t.same(cloud.writes, []);
  await cloud.fallBack(cloud.routes, new Date(0));
  cloud.writes = [];
  await loop(cloud, ok, 20, new FakeClock());
  t.same(cloud.writes, [], 'no failback without proof that the NAT VMs are healthy');
});

t.test('the loop: a failed route change is counted, retried at the next check, and succeeds then', async (t) => {
  const clock = new FakeClock();
  const cloud = new FakeCloud();
  cloud.failWrites = true;
  const { metrics, state } = await loop(cloud, failing, 8, clock);
  t.same(cloud.writes, []);
  t.match(await metrics.registry.metrics(), /^natgw_fallback_transition_errors_total\{direction="fallback"\} [12]$/m);
  cloud.failWrites = false;
  await checkOnce({ cloud, probe: async () => failing(), timers, intervalMs: 5000, clock, metrics, log: () => undefined }, state);
  t.same(cloud.writes, ['fallback']);
});
