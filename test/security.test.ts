// Who reaches what on a NAT VM (docs/security.md), without root: the agent's input chain as rendered, the HTTP
// surface's own rules through inject() (endpoints for the VM itself, holds, the per-source rate limit, the health
// cache), the ranges and holds the agent and the provisioner must agree on, and a bad metricsSourceRanges refused.
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { statefulPair } from './helpers/stateful-pair.js';
import t, { type Test } from 'tap';
import { Agent, HEALTH_CACHE_MS } from '../agent/agent.js';
import { agentApp, REQUESTS_PER_SOURCE_PER_SECOND } from '../agent/app.js';
import { type ConfigError, validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { runAgentCli } from '../agent/main.js';
import { createAgentMetrics } from '../agent/metrics.js';
import { KeyedRateLimiter } from '../agent/rate-limit.js';
import { SysctlFs } from '../agent/sysctl.js';
import { renderRuleset } from '../agent/ruleset.js';
import { realClock } from '../common/clock.js';
import { HEALTH_CHECK_SOURCE_RANGES, NLB_HEALTH_CHECK_SOURCE_RANGES, PROBE_HOLDS_MS } from '../common/protocol.js';
import { STATEFUL_TRAFFIC_CHECK, TRAFFIC_CHECK } from '../provision/ha/checks.js';
import { NLB_HEALTH_CHECK_RANGES } from '../provision/ha/stateful.js';
import { HEALTH_CHECK_RANGES } from '../provision/model.js';
import { parseOptions } from '../provision/options.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';

const BASE = { sourceRanges: ['10.10.0.0/24'] };
const CLIENT = '10.10.0.5';
const PROBER = '35.191.3.4';
/** Prometheus, named in metricsSourceRanges by the apps below. */
const SCRAPER = '10.128.0.9';
const WITH_METRICS = { ...BASE, metricsSourceRanges: ['10.128.0.0/24'] };

const chain = (text: string, name: string) => {
  const start = text.indexOf(`  chain ${name} {`);
  return start < 0 ? '' : text.slice(start, text.indexOf('\n  }', start));
};

t.test('the agent and the provisioner agree on the probe ranges and on the hold a load-balancer check asks for', async (t) => {
  t.same([...HEALTH_CHECK_SOURCE_RANGES], HEALTH_CHECK_RANGES, 'NAME-health opens what the input chain admits');
  t.same([...NLB_HEALTH_CHECK_SOURCE_RANGES], NLB_HEALTH_CHECK_RANGES, "the external load balancer's extra ranges too");
  const holds = [TRAFFIC_CHECK, STATEFUL_TRAFFIC_CHECK].flatMap((check) => {
    const hold = /^\/healthz\/hold\/(\d+)$/.exec(check.requestPath);
    return hold === null ? [] : [Number(hold[1])];
  });
  // The stateful check holds (docs/stateful-ha.md): without a hold to compare, this test would assert nothing.
  t.ok(holds.length > 0, `a load-balancer check asks for a hold (${STATEFUL_TRAFFIC_CHECK.requestPath})`);
  for (const hold of holds) t.ok(PROBE_HOLDS_MS.includes(hold), `/healthz/hold/${hold} is answered to the probers`);
});

t.test("the input chain: the agent's port for this VM, Google's probers and the metrics ranges; everyone else dropped", async (t) => {
  const config = validateAgentConfig({ ...BASE, metricsSourceRanges: ['10.128.0.50/32', '10.128.0.0/24', '192.168.7.0/24'] }, 'test');
  const text = renderRuleset(config, 'ens4').text;
  t.equal(
    chain(text, 'input'),
    [
      '  chain input {',
      '    type filter hook input priority filter - 10; policy accept;',
      '    tcp dport 9731 jump agent_port comment "agent-port"',
    ].join('\n'),
  );
  t.equal(
    chain(text, 'agent_port'),
    [
      '  chain agent_port {',
      '    iifname "lo" accept comment "this-vm"',
      '    ip saddr { 35.191.0.0/16, 130.211.0.0/22 } accept comment "health-checks"',
      '    ip saddr { 10.128.0.0/24, 192.168.7.0/24 } accept comment "metrics"',
      '    counter name "agent_port_refused" drop comment "refused"',
    ].join('\n'),
    'nested metrics ranges folded; the last rule drops (a client VM, whatever the clients’ firewall rule lets in)',
  );
  t.notMatch(
    chain(renderRuleset(validateAgentConfig(BASE, 'test'), 'ens4').text, 'agent_port'),
    /metrics/,
    'no metrics rule without ranges',
  );
  t.match(
    renderRuleset(validateAgentConfig({ ...BASE, listen: '0.0.0.0:9100' }, 'test'), 'ens4').text,
    'tcp dport 9100 jump agent_port',
    "the config's listen port",
  );
  t.match(renderRuleset(config, 'ens4', { agentPort: 9200 }).text, 'tcp dport 9200 jump agent_port', '--listen wins over the config');
});

t.test(
  'stateful: the peer and the external load balancer’s probers reach the agent, probes to the NAT IP pass and are not traffic',
  async (t) => {
    const config = validateAgentConfig(
      {
        ...BASE,
        deploymentMode: 'ha',
        stateful: statefulPair('10.10.0'),
      },
      'test',
      () => ['10.10.0.3'],
    );
    const text = renderRuleset(config, 'ens4', {
      stateful: { natIp: '203.0.113.100', syncPort: 3780, selfIp: '10.10.0.3', peerIp: '10.10.0.2', ports: '33280-65535' },
    }).text;
    t.match(chain(text, 'agent_port'), 'ip saddr { 35.191.0.0/16, 130.211.0.0/22, 209.85.152.0/22, 209.85.204.0/22 } accept');
    t.match(chain(text, 'agent_port'), 'ip saddr 10.10.0.2 accept comment "sync-peer"');
    t.match(chain(text, 'prerouting'), /^\s*ip daddr 203\.0\.113\.100 jump nat_ip comment "nat-ip"$/m, 'what is for the NAT IP');
    const natIp = chain(text, 'nat_ip').split('\n');
    const probes = natIp.findIndex((line) => line.includes('"nat-ip-health-checks"'));
    t.ok(probes >= 0 && probes < natIp.findIndex((line) => line.includes('"nat-ip-in"')), 'before the role counter');
    t.match(natIp[probes], /^\s*tcp dport 9731 ip saddr \{[^}]+\} accept/, 'only to the agent port');
  },
);

t.test('metricsSourceRanges: a bad entry is refused with its field named', async (t) => {
  const problems = (input: AgentConfigInput) => {
    try {
      validateAgentConfig(input, 'test');
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };
  t.same(problems({ ...BASE, metricsSourceRanges: ['10.128.0.50/24'] }), [
    'metricsSourceRanges[0]: "10.128.0.50/24" has host bits set; the network is 10.128.0.0/24',
  ]);
  t.same(problems({ ...BASE, metricsSourceRanges: ['10.0.0.0/8', 'prometheus'] }), [
    'metricsSourceRanges[1]: "prometheus" is not an IPv4 CIDR (a.b.c.d/n)',
  ]);
  t.match(problems({ ...BASE, metricsSourceRanges: ['0.0.0.0/0'] }), [
    /^metricsSourceRanges\[0\]: "0.0.0.0\/0" would open the agent's port to the whole internet/,
  ]);
  t.match(problems({ ...BASE, metricsSourceRanges: '10.0.0.0/8' as unknown as string[] }), [
    /^metricsSourceRanges: expected array, got string/,
  ]);
  t.same(validateAgentConfig(BASE, 'test').metricsSourceRanges, [], 'none by default');
});

t.test('natgw agent with a bad metricsSourceRanges: exit 2, the field named, no command run', async (t) => {
  const dir = t.testdir();
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const record = path.join(dir, 'ran');
  for (const command of ['nft', 'conntrack', 'conntrackd', 'tcpdump', 'ip', 'iptables', 'iptables-save', 'ipset']) {
    writeFileSync(path.join(bin, command), `#!/bin/sh\necho "${command} $*" >> '${record}'\n`);
    chmodSync(path.join(bin, command), 0o755);
  }
  const file = path.join(dir, 'natgw.json');
  writeFileSync(file, JSON.stringify({ ...BASE, metricsSourceRanges: ['10.128.0.0/33'] }));
  const savedPath = process.env.PATH;
  const writes: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.env.PATH = `${bin}:${savedPath ?? ''}`;
  process.stderr.write = ((chunk: string) => writes.push(String(chunk)) > 0) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runAgentCli(['--config', file, '--root', dir, '--listen', '127.0.0.1:0']);
  } finally {
    process.env.PATH = savedPath;
    process.stderr.write = write;
  }
  t.equal(code, 2);
  t.match(writes.join(''), /metricsSourceRanges\[0\]: "10\.128\.0\.0\/33" is not an IPv4 CIDR/);
  t.notOk(existsSync(record), 'no nft, conntrack or ip command ran');
  t.notOk(existsSync(path.join(dir, 'run')), 'no file written');
});

t.test('natgw provision --agent-config: metricsSourceRanges reach the agent, a bad one is refused before any API call', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'agent.json');
  const options = (ranges: unknown) => {
    writeFileSync(file, JSON.stringify({ metricsSourceRanges: ranges }));
    return parseOptions('provision', ['--project', 'my-project', '--region', 'us-central1', '--agent-config', file], {});
  };
  t.match(JSON.stringify(options(['10.128.0.50/32'])), /"metricsSourceRanges":\["10\.128\.0\.50\/32"\]/);
  t.throws(() => options(['10.128.0.50/24']), /agent settings: metricsSourceRanges\[0\]: "10\.128\.0\.50\/24" has host bits set/);
});

/** `null`: an agent that has no config yet (the metadata server not reached). */
async function startApp(t: Test, config: AgentConfigInput | null = WITH_METRICS) {
  const netfilter = new FakeNetfilter();
  const dataplane = new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root: t.testdir() });
  const metrics = createAgentMetrics({ run: netfilter.run, version: '0.0.0-test' });
  // Time stands still unless a test moves it: the rate limit and the health cache are then exact.
  const start = Date.now();
  let skew = 0;
  const clock = { now: () => start + skew, sleep: realClock.sleep };
  const agent = new Agent({ dataplane, log: pino({ level: 'silent' }), metrics, clock });
  t.teardown(() => agent.stop());
  if (config !== null)
    await agent.setConfig(
      validateAgentConfig(config, 'test', () => ['10.10.0.3']),
      'test',
    );
  const held: number[] = [];
  const app = Fastify();
  await app.register(agentApp, {
    agent,
    metrics,
    now: clock.now,
    hold: async (ms) => {
      held.push(ms);
    },
  });
  t.teardown(() => app.close());
  const get = (url: string, from = CLIENT) => app.inject({ method: 'GET', url, remoteAddress: from });
  return {
    netfilter,
    agent,
    get,
    held,
    advance: (ms: number) => {
      skew += ms;
    },
  };
}

t.test('/port-blocks and holds other than the probes’ answer the VM itself only', async (t) => {
  const { get, held } = await startApp(t);
  const refused = await get('/port-blocks', SCRAPER);
  t.equal(refused.statusCode, 403, 'the metrics range asking for the attribution records');
  t.match(refused.json().error, /served to the NAT VM itself only: curl http:\/\/127\.0\.0\.1:9731\/port-blocks/);
  t.equal((await get('/port-blocks', '127.0.0.1')).statusCode, 404, 'on the VM: answered (404: this agent has no port blocks)');
  t.equal((await get('/port-blocks', '::ffff:127.0.0.1')).statusCode, 404, 'IPv4-mapped loopback too');

  const probe = await get('/healthz/hold/850', '35.191.3.4');
  t.equal(probe.statusCode, 200, "the stateful check's hold, from a prober");
  t.same(held, [850], 'held as asked');
  const other = await get('/healthz/hold/100', '35.191.3.4');
  t.equal(other.statusCode, 403, 'any other hold, from elsewhere');
  t.match(other.json().error, /only \/healthz\/hold\/850 is answered to other hosts/);
  t.equal((await get('/healthz/hold/100', '127.0.0.1')).statusCode, 200, 'on the VM itself');
  t.same(held, [850, 100]);
  t.equal((await get('/healthz/hold/901', '35.191.3.4')).statusCode, 400, 'a bad MS is still a 400');
  for (const url of ['/healthz', '/livez', '/metrics']) t.equal((await get(url, '35.191.3.4')).statusCode, 200, `${url} from a prober`);
  t.equal((await get('/sync/summary', PROBER)).statusCode, 404, '/sync/summary is open (404 here: not stateful)');
  t.equal((await get('/metrics', SCRAPER)).statusCode, 200, '/metrics from the metrics range');
});

t.test('a source the input chain drops is refused by the agent too, for the moments before its table is in place', async (t) => {
  const { get } = await startApp(t);
  for (const url of ['/healthz', '/livez', '/metrics', '/sync/summary', '/port-blocks']) {
    const refused = await get(url, CLIENT);
    t.equal(refused.statusCode, 403, `${url} from a client VM`);
    t.match(refused.json().error, /^10\.10\.0\.5 may not reach the agent/);
  }
  t.equal((await get('/healthz', '::ffff:35.191.3.4')).statusCode, 200, 'an IPv4-mapped prober address is a prober');

  const early = await startApp(t, null);
  t.equal((await early.get('/healthz', PROBER)).statusCode, 503, 'no config yet: the probers get their (unhealthy) answer');
  t.equal((await early.get('/healthz', '209.85.152.7')).statusCode, 503, "the external load balancer's probers too");
  t.equal((await early.get('/metrics', SCRAPER)).statusCode, 403, 'metrics ranges are not known yet');
  t.equal((await early.get('/healthz', CLIENT)).statusCode, 403);

  const stateful = await startApp(t, {
    ...BASE,
    deploymentMode: 'ha',
    stateful: statefulPair('10.10.0'),
  });
  // Admitted is all that is asked here: this agent has no state sync to summarise, nor a member address of its own.
  t.equal((await stateful.get('/sync/summary', '10.10.0.2')).statusCode, 404, 'the stateful peer is admitted');
  t.equal((await stateful.get('/healthz', '209.85.204.9')).statusCode, 503, "the external load balancer's probers are admitted");
  t.equal((await stateful.get('/healthz', CLIENT)).statusCode, 403);
});

t.test('a flooding source is limited on its own; probers, other sources and the VM itself are not', async (t) => {
  const { get, advance, netfilter } = await startApp(t);
  const looks = () => netfilter.commands.length;
  const before = looks();
  const flood = [];
  for (let i = 0; i < 200; i++) flood.push((await get('/healthz', SCRAPER)).statusCode);
  t.equal(flood.filter((code) => code === 200).length, REQUESTS_PER_SOURCE_PER_SECOND, 'one second’s worth answered');
  t.equal(flood.filter((code) => code === 429).length, 200 - REQUESTS_PER_SOURCE_PER_SECOND, 'the rest refused, cheaply');
  t.ok(looks() - before <= 5, `200 requests cost ${looks() - before} kernel commands (one look at most, cached)`);
  const limited = await get('/healthz', SCRAPER);
  t.equal(limited.headers['retry-after'], '1');
  t.match(limited.json().error, /too many requests from 10\.128\.0\.9: at most 20 a second/);
  t.equal((await get('/healthz', '35.191.3.4')).statusCode, 200, 'a prober still gets its answer');
  for (let i = 0; i < 100; i++) t.equal((await get('/healthz', '127.0.0.1')).statusCode, 200, 'the VM itself is never limited');
  const refused = [];
  for (let i = 0; i < 50; i++) refused.push((await get('/healthz', CLIENT)).statusCode);
  t.same([...new Set(refused)], [403], 'a source that may not come in is refused as such, never rate-limited (it gets no bucket)');
  advance(1000);
  t.equal((await get('/healthz', SCRAPER)).statusCode, 200, 'a second later the source is answered again');
});

t.test('the health answer is reused for HEALTH_CACHE_MS, and dropped at once when the agent starts draining', async (t) => {
  const { get, advance, agent, netfilter } = await startApp(t);
  advance(HEALTH_CACHE_MS);
  t.equal((await get('/healthz', '35.191.3.4')).statusCode, 200);
  netfilter.table('ip', 'natgw')!.chains.find((entry) => entry.name === 'postrouting')!.rules = [];
  t.equal((await get('/healthz', '35.191.3.5')).statusCode, 200, 'within the cache time: the answer of a moment ago');
  advance(HEALTH_CACHE_MS);
  t.equal((await get('/healthz', '35.191.3.5')).statusCode, 503, 'after it: the kernel is looked at again');
  const drained = await startApp(t);
  drained.advance(HEALTH_CACHE_MS);
  t.equal((await drained.get('/healthz', '35.191.3.4')).statusCode, 200);
  drained.agent.startDraining();
  t.equal((await drained.get('/healthz', '35.191.3.4')).statusCode, 503, 'a drain is seen by the very next probe');
  t.ok(agent !== drained.agent);
});

t.test('the per-source limiter forgets refilled sources first, and never holds more than its bound', async (t) => {
  const limiter = new KeyedRateLimiter(2, 100);
  for (let i = 0; i < 1000; i++) limiter.take(`10.0.${Math.floor(i / 250)}.${i % 250}`, 0);
  t.ok(limiter.size <= 100, `${limiter.size} buckets after 1,000 sources`);
  t.ok(limiter.take('10.9.9.9', 0) && limiter.take('10.9.9.9', 0), 'a burst of its rate');
  t.notOk(limiter.take('10.9.9.9', 0), 'then refused');
  t.ok(limiter.take('10.9.9.9', 500), 'refilled at its rate');
});

t.test('the initial network namespace is recognised without root (PID 1’s namespace link is root’s to read)', async (t) => {
  const proc = (links: [string, string] | undefined, maxMode: number | undefined) => {
    const root = t.testdir();
    if (links !== undefined)
      for (const [pid, target] of [
        ['self', links[0]],
        ['1', links[1]],
      ] as const) {
        mkdirSync(path.join(root, pid, 'ns'), { recursive: true });
        symlinkSync(target, path.join(root, pid, 'ns', 'net'));
      }
    if (maxMode !== undefined) {
      const dir = path.join(root, 'sys/net/netfilter');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'nf_conntrack_max'), '262144\n');
      chmodSync(path.join(dir, 'nf_conntrack_max'), maxMode);
    }
    return new SysctlFs(root).inInitialNetworkNamespace();
  };
  t.equal(await proc(['net:[4026531840]', 'net:[4026531840]'], undefined), true, 'as root: the same namespace as PID 1');
  t.equal(await proc(['net:[4026532001]', 'net:[4026531840]'], 0o644), false, 'as root: another namespace');
  t.equal(await proc(undefined, 0o644), true, 'unprivileged: the global limit is writable, so this is the initial namespace');
  t.equal(await proc(undefined, 0o444), false, 'unprivileged: read-only in a child namespace');
  t.equal(await proc(undefined, undefined), false, 'no conntrack at all: not claimed');
});
