// The agent's HTTP surface through fastify's inject(), without root: the real Agent and Dataplane on an in-memory
// netfilter, a fake egress probe, and a fixture procfs for a golden /metrics.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { Agent, HEALTH_CACHE_MS, type HealthReport } from '../agent/agent.js';
import { realClock } from '../common/clock.js';
import { agentApp } from '../agent/app.js';
import { validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { createAgentMetrics } from '../agent/metrics.js';
import type { ProbeResult } from '../agent/probe.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';

const CONNTRACK_STATS = `entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
0000002a  00000000 00000000 00000000 00000005 00000000 00000000 00000000 00000000 00000002 00000001 00000000 00000000  00000000 00000000 00000000 00000000
0000002a  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000001 00000000 00000003 00000000  00000000 00000000 00000000 00000000
`;

function fixtureProc(t: Test): string {
  const proc = t.testdir();
  mkdirSync(path.join(proc, 'net/stat'), { recursive: true });
  mkdirSync(path.join(proc, 'sys/net/netfilter'), { recursive: true });
  writeFileSync(path.join(proc, 'net/stat/nf_conntrack'), CONNTRACK_STATS);
  writeFileSync(path.join(proc, 'sys/net/netfilter/nf_conntrack_count'), '42\n');
  writeFileSync(path.join(proc, 'sys/net/netfilter/nf_conntrack_max'), '262144\n');
  return proc;
}

async function startAgent(t: Test, config: AgentConfigInput, probe?: () => Promise<ProbeResult>, hold?: (ms: number) => Promise<unknown>) {
  const netfilter = new FakeNetfilter();
  const dataplane = new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root: t.testdir() });
  const metrics = createAgentMetrics({ run: netfilter.run, procRoot: fixtureProc(t), version: '0.0.0-test' });
  // Health answers are reused for HEALTH_CACHE_MS: a test that changes the kernel moves time past that before it asks
  // again. The clock moves only then: on a loaded CI box the real one passed 250 ms between two probes of one step.
  let skew = 0;
  const frozenAt = Date.now();
  const clock = { now: () => frozenAt + skew, sleep: realClock.sleep };
  const later = () => {
    skew += HEALTH_CACHE_MS;
  };
  const agent = new Agent({ dataplane, log: pino({ level: 'silent' }), metrics, clock, ...(probe === undefined ? {} : { probe }) });
  t.teardown(() => agent.stop());
  await agent.setConfig(validateAgentConfig(config, 'test'), 'test');
  const app = Fastify();
  await app.register(agentApp, { agent, metrics, now: clock.now, ...(hold === undefined ? {} : { hold }) });
  t.teardown(() => app.close());
  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url });
    return {
      status: response.statusCode,
      body:
        url === '/metrics'
          ? response.body
          : (response.json() as {
              status: string;
              failed: string[];
              checks: Record<string, { ok: boolean; detail: string }>;
              warnings: string[];
            }),
    };
  };
  const health = async (url: '/healthz' | '/livez') =>
    (await get(url)) as {
      status: number;
      body: HealthReport;
    };
  return { netfilter, agent, app, health, later, metrics: async () => (await get('/metrics')).body as string };
}

const CONFIG = { sourceRanges: ['10.10.0.0/25'], reconcileIntervalSeconds: 3600 };

t.test('a converged agent: /healthz and /livez pass, every check named', async (t) => {
  const { health } = await startAgent(t, CONFIG);
  const healthz = await health('/healthz');
  t.equal(healthz.status, 200);
  t.same(Object.keys(healthz.body.checks), ['config', 'egress_interface', 'forwarding', 'ruleset', 'forward_path']);
  t.equal(healthz.body.checks.egress_interface?.detail, 'ens4');
  const livez = await health('/livez');
  t.equal(livez.status, 200);
  t.notOk('forward_path' in livez.body.checks, 'liveness leaves the forward path out');
});

t.test('drift fails /healthz and /livez with the difference in words, read from the live state on each request', async (t) => {
  const { netfilter, health } = await startAgent(t, CONFIG);
  netfilter.table('ip', 'natgw')!.chains.find((chain) => chain.name === 'postrouting')!.rules = [];
  for (const url of ['/healthz', '/livez'] as const) {
    const response = await health(url);
    t.equal(response.status, 503, url);
    t.same(response.body.failed, ['ruleset']);
    t.equal(response.body.checks.ruleset?.detail, 'chain postrouting: missing rule masquerade');
  }
});

t.test('draining fails /healthz only', async (t) => {
  const { agent, health } = await startAgent(t, CONFIG);
  t.equal((await health('/healthz')).body.phase, 'serving');
  agent.startDraining('SIGTERM');
  const healthz = await health('/healthz');
  t.equal(healthz.status, 503);
  t.same(healthz.body.failed, ['draining']);
  t.equal(healthz.body.phase, 'draining');
  t.match(healthz.body.checks.draining?.detail, /stopping \(SIGTERM\)/);
  t.equal((await health('/livez')).status, 200, 'draining is not a fault autohealing should act on');
});

t.test('a config that arrives after the stop leaves the kernel alone', async (t) => {
  const { agent, netfilter } = await startAgent(t, CONFIG);
  agent.stop();
  netfilter.table('ip', 'natgw')!.chains.find((chain) => chain.name === 'postrouting')!.rules = [];
  await agent.setConfig(validateAgentConfig(CONFIG, 'test'), 'SIGHUP');
  t.same(netfilter.table('ip', 'natgw')!.chains.find((chain) => chain.name === 'postrouting')!.rules, [], 'not re-applied');
  t.equal(agent.state.phase, 'stopped');
  t.doesNotThrow(() => agent.stop(), 'stopping twice is harmless');
});

t.test('a stale egress probe result fails /healthz, not /livez', async (t) => {
  const probe = { targets: ['198.51.100.10:80'], intervalSeconds: 300, timeoutSeconds: 1 };
  const fresh = await startAgent(t, { ...CONFIG, egressProbe: probe }, async () => ({
    ok: true,
    at: Date.now(),
    detail: 'connected to 198.51.100.10:80',
  }));
  t.equal((await fresh.health('/healthz')).status, 200, 'a fresh passing probe');
  // The probe runs every 300 s: a result an hour old means the probe loop stopped, which must not look healthy.
  const stale = await startAgent(t, { ...CONFIG, egressProbe: probe }, async () => ({
    ok: true,
    at: Date.now() - 3_600_000,
    detail: 'connected to 198.51.100.10:80',
  }));
  const healthz = await stale.health('/healthz');
  t.equal(healthz.status, 503);
  t.same(healthz.body.failed, ['egress_probe']);
  t.match(healthz.body.checks.egress_probe?.detail, /^stale: connected to/);
  t.equal((await stale.health('/livez')).status, 200, "the internet is not this VM's fault");
});

t.test('another firewall dropping what we admit fails /healthz (naming it), not /livez', async (t) => {
  const { netfilter, health, later } = await startAgent(t, CONFIG);
  netfilter.tables.push({
    family: 'ip',
    name: 'filter',
    chains: [{ name: 'FORWARD', base: { type: 'filter', hook: 'forward', prio: 0, policy: 'drop' }, rules: [] }],
    sets: [],
    counters: [],
    flowtables: [],
  });
  await health('/healthz');
  netfilter.ruleCounter('admit-new').packets += 3;
  later();
  const healthz = await health('/healthz');
  t.equal(healthz.status, 503);
  t.same(healthz.body.failed, ['forward_path']);
  t.match(healthz.body.checks.forward_path?.detail, /table ip filter chain FORWARD \(hook forward, priority 0\): policy drop/);
  t.match(healthz.body.warnings.join('\n'), /policy drop: clients' traffic passes only where its rules accept it/);
  t.equal((await health('/livez')).status, 200);
});

t.test("golden /metrics from the rules' counters and a fixture procfs", async (t) => {
  const { netfilter, metrics } = await startAgent(t, { ...CONFIG, maxConnectionsPerVm: 100 });
  const set = (name: string, packets: number, bytes: number) =>
    Object.assign(netfilter.table('ip', 'natgw')!.counters.find((counter) => counter.name === name)!, { packets, bytes });
  const count = (rule: string, packets: number, bytes: number) => Object.assign(netfilter.ruleCounter(rule), { packets, bytes });
  // egress: the established, unreplied and first packets together; new: the first packets.
  count('established-egress', 100, 7000);
  count('unreplied', 13, 1580);
  count('admit-new', 7, 420);
  count('established-ingress', 200, 250_000);
  set('translated', 7, 420);
  set('drop_source_not_allowed', 4, 240);
  set('log_source_not_allowed', 3, 180);
  set('drop_per_vm_cap', 2, 120);
  set('log_per_vm_cap', 2, 120);
  const lines = (await metrics())
    .split('\n')
    // Durations and the process's own figures change from run to run.
    .filter((line) => /^(# (HELP|TYPE) )?natgw_/.test(line) && !/natgw_collector_duration_seconds/.test(line));
  t.matchSnapshot(lines.join('\n'), 'natgw_* series');
  t.ok(lines.includes('natgw_forwarded_bytes_total{direction="ingress"} 250000'));
  t.ok(lines.includes('natgw_forwarded_packets_total{direction="egress"} 120'), 'egress adds up the rules that count it');
  t.ok(lines.includes('natgw_connections_opened_total 7'));
  t.ok(lines.includes('natgw_dropped_packets_total{reason="nat_allocation_failed"} 3'), 'kernel drops summed over CPUs');

  // The table is replaced (a repair): the kernel counters restart, the exported ones do not go back.
  count('established-egress', 0, 0);
  count('unreplied', 0, 0);
  count('admit-new', 5, 300);
  // One scrape's reads are shared until the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  const after = (await metrics()).split('\n');
  t.equal(
    after.find((line) => line.startsWith('natgw_forwarded_packets_total{direction="egress"}')),
    'natgw_forwarded_packets_total{direction="egress"} 125',
    'folded into a base across the reset',
  );
});

t.test('/healthz/hold/MS: a healthy answer waits MS, an unhealthy one comes at once, bad MS is refused', async (t) => {
  const holds: { ms: number; release: () => void }[] = [];
  const hold = (ms: number) => new Promise<void>((release) => holds.push({ ms, release }));
  const { netfilter, app, later } = await startAgent(t, CONFIG, undefined, hold);
  let answered = false;
  const pending = app.inject({ method: 'GET', url: '/healthz/hold/850' }).then((response) => {
    answered = true;
    return response;
  });
  for (let turn = 0; turn < 20 && holds.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
  t.same(
    holds.map((held) => held.ms),
    [850],
    'the probe is held for 850 ms',
  );
  t.notOk(answered, 'and not answered while held');
  holds[0]!.release();
  const response = await pending;
  t.equal(response.statusCode, 200);
  t.equal(response.json().status, 'ok');

  for (const bad of ['901', 'soon', '-1', '1.5']) {
    const refused = await app.inject({ method: 'GET', url: `/healthz/hold/${bad}` });
    t.equal(refused.statusCode, 400, `/healthz/hold/${bad} is refused`);
    t.match(refused.json().error, /MS must be a whole number of milliseconds from 0 to 900/);
  }

  // A hold that is never released: an unhealthy agent must not wait for it.
  netfilter.table('ip', 'natgw')!.chains.find((chain) => chain.name === 'postrouting')!.rules = [];
  later();
  const unhealthy = await app.inject({ method: 'GET', url: '/healthz/hold/900' });
  t.equal(unhealthy.statusCode, 503, 'unhealthy: 503 at once, its hold never released');
});

t.test('probes that arrive together share one look at the kernel; a later one within HEALTH_CACHE_MS reuses it', async (t) => {
  const { netfilter, app, later } = await startAgent(t, CONFIG);
  later();
  const looks = () => netfilter.commands.length;
  let before = looks();
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const perCheck = looks() - before;
  t.ok(perCheck > 0, `one check lists the kernel (${perCheck} commands)`);
  before = looks();
  const answers = await Promise.all([1, 2, 3, 4].map(() => app.inject({ method: 'GET', url: '/healthz' })));
  t.same(
    answers.map((answer) => answer.statusCode),
    [200, 200, 200, 200],
  );
  t.equal(looks() - before, 0, 'four probes at once, within the cache time of the last look: no look at all');
  later();
  before = looks();
  const together = await Promise.all([1, 2, 3, 4].map(() => app.inject({ method: 'GET', url: '/healthz' })));
  t.same(
    together.map((answer) => answer.statusCode),
    [200, 200, 200, 200],
  );
  t.equal(looks() - before, perCheck, 'four probes at once after the cache time: the commands of one check');
  later();
  before = looks();
  await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(looks() - before, perCheck, 'a later probe looks again');
});
