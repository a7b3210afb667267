// The agent's collectors without root, against a fixture procfs and the in-memory netfilter: what each exports with
// every feature on (port blocks, the background collectors), a kernel without conntrack, a source that fails, and
// promtool's lint of the whole scrape.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { Agent } from '../agent/agent.js';
import { validateAgentConfig } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { createAgentMetrics } from '../agent/metrics.js';
import { Observability } from '../agent/observability.js';
import { PortBlockManager } from '../agent/port-block-manager.js';
import type { CommandRunner, LineSpawner } from '../agent/runner.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';
import { hasPromtool } from './helpers/promtool.js';

const CONNTRACK_STATS = `entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
0000002a  00000000 00000000 00000000 00000005 00000000 00000000 00000000 00000000 00000002 00000001 00000000 00000000  00000000 00000000 00000000 00000000
0000002a  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000001 00000000 00000003 00000000  00000000 00000000 00000000 00000000
`;

/** A procfs with conntrack loaded (its statistics and fill level), or without it (an empty directory). */
function fixtureProc(t: Test, conntrack: boolean): string {
  const proc = t.testdir();
  if (!conntrack) return proc;
  mkdirSync(path.join(proc, 'net/stat'), { recursive: true });
  mkdirSync(path.join(proc, 'sys/net/netfilter'), { recursive: true });
  writeFileSync(path.join(proc, 'net/stat/nf_conntrack'), CONNTRACK_STATS);
  writeFileSync(path.join(proc, 'sys/net/netfilter/nf_conntrack_count'), '42\n');
  writeFileSync(path.join(proc, 'sys/net/netfilter/nf_conntrack_max'), '262144\n');
  return proc;
}

const CONFIG = {
  sourceRanges: ['10.10.0.0/24'],
  egressInterface: 'ens4',
  logging: 'all',
  maxConnectionsPerVm: 100,
  portAllocation: { mode: 'static', portsPerVm: 64 },
} as const;

/** Readers that start and never print: the background collectors are up, with nothing seen yet. */
const quietSpawn: LineSpawner = () => ({ done: new Promise<number | undefined>(() => undefined), stop: () => undefined });

async function scrapeOf(t: Test, options: { conntrack?: boolean; failing?: RegExp } = {}) {
  const netfilter = new FakeNetfilter();
  const run: CommandRunner = async (purpose, file, args, runOptions) => {
    if (options.failing?.test(`${file} ${args.join(' ')}`) === true) throw new Error(`${file} ${args.join(' ')} failed`);
    return netfilter.run(purpose, file, args, runOptions);
  };
  const log = pino({ level: 'silent' });
  const root = t.testdir();
  const dataplane = new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root });
  const observability = new Observability({ spawn: quietSpawn, log });
  const portBlocks = new PortBlockManager({ run: netfilter.run, dataplane, spawn: quietSpawn, log, root });
  const metrics = createAgentMetrics({
    run,
    procRoot: fixtureProc(t, options.conntrack ?? true),
    version: '0.0.0-test',
    observability,
    portBlocks,
  });
  const agent = new Agent({ dataplane, log, metrics, observability, portBlocks });
  t.teardown(() => agent.stop());
  await agent.setConfig(validateAgentConfig(CONFIG, 'test'), 'test');
  const counter = (name: string) => netfilter.table('ip', 'natgw')!.counters.find((entry) => entry.name === name)!;
  Object.assign(netfilter.ruleCounter('established-egress'), { packets: 120, bytes: 9000 });
  Object.assign(counter('drop_port_block_full'), { packets: 3, bytes: 180 });
  return metrics.registry.metrics();
}

/** The natgw_* lines that do not change from run to run, sorted: the exposition's order is not part of the contract. */
const stableLines = (scrape: string) =>
  scrape
    .split('\n')
    .filter((line) => /^(# (HELP|TYPE) )?natgw_/.test(line) && !/natgw_collector_duration_seconds\{/.test(line))
    .sort();

t.test('every collector with every feature on: names, labels, HELP and values', async (t) => {
  const lines = stableLines(await scrapeOf(t));
  t.matchSnapshot(lines.join('\n'), 'natgw_* lines, sorted');
  for (const collector of ['rules', 'conntrack_stats', 'port_block_learn', 'port_block_overflow', 'conntrack_events', 'drop_log'])
    t.ok(lines.includes(`natgw_collector_success{collector="${collector}"} 1`), `${collector} succeeded`);
});

t.test('a kernel without conntrack: no kernel drop reasons, and the collector still succeeds', async (t) => {
  const lines = stableLines(await scrapeOf(t, { conntrack: false }));
  t.ok(lines.includes('natgw_collector_success{collector="conntrack_stats"} 1'), 'no data is not a failure');
  t.notOk(
    lines.some((line) => /reason="(conntrack_table_full|nat_allocation_failed)"/.test(line)),
    'no kernel drop reason without its statistics',
  );
  t.ok(lines.includes('natgw_forwarded_bytes_total{direction="egress"} 9000'), 'the rule counters are still served');
});

t.test('a source that fails: its collector reports 0, its series are absent, the others are served', async (t) => {
  const lines = stableLines(await scrapeOf(t, { failing: /^nft -j -t list table ip natgw/ }));
  t.ok(lines.includes('natgw_collector_success{collector="rules"} 0'), 'the rule counters failed');
  t.ok(lines.includes('natgw_collector_success{collector="conntrack_stats"} 1'));
  t.notOk(
    lines.some((line) => /^natgw_forwarded_(bytes|packets)_total\{/.test(line)),
    'no forwarded series from a failed read',
  );
  t.ok(lines.includes('natgw_conntrack_entries 42'), 'conntrack statistics still served');
  t.ok(lines.includes('natgw_port_blocks 0'), 'port blocks still served');
});

t.test(
  'promtool check metrics accepts the whole scrape',
  { skip: hasPromtool ? false : 'promtool is not installed (apt-get install prometheus)' },
  async (t) => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: await scrapeOf(t), encoding: 'utf8' });
    t.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
  },
);
