// Dataplane.inspect/apply/cleanup against an in-memory netfilter, without root: transitions between configs in random
// order, and what must never happen (a second apply, a stale object kept, a half-applied transaction, a foreign table
// touched).
import t, { type Test } from 'tap';
import { validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';

function setup(t: Test) {
  const netfilter = new FakeNetfilter();
  const warnings: string[] = [];
  const make = () => new Dataplane({ run: netfilter.run, sysctlFs: sysctls, root: root, warn: (message) => warnings.push(message) });
  const sysctls = new MemorySysctls();
  const root = t.testdir();
  const dataplane = make();
  /** What the agent does on a config change or a reconcile. */
  const converge = async (plane: Dataplane, input: AgentConfigInput) => {
    const desired = await plane.desiredState(validateAgentConfig(input, 'test'), 'ens4');
    const before = await plane.inspect(desired);
    if (!before.inSync) await plane.apply(desired);
    const after = await plane.inspect(desired);
    return { desired, before, after };
  };
  return { netfilter, dataplane, warnings, converge, restart: make };
}

const CONFIGS: AgentConfigInput[] = [
  { sourceRanges: ['10.10.0.0/25'] },
  { sourceRanges: ['10.10.0.0/25', '10.10.0.192/26'], maxConnectionsPerVm: 64 },
  { sourceRanges: ['10.10.0.0/24'], mssClamp: 1380, timeouts: { udp: 40 } },
  { sourceRanges: ['10.10.0.11/32', '172.16.0.0/12'], maxConnectionsPerVm: 8, natPortAllocation: 'random', logging: 'none' },
];

t.test('walking between configs in random order: every step lands in sync, a second apply issues nothing', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  let seed = 20261130;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let step = 0; step < 12; step++) {
    const index = Math.floor(random() * CONFIGS.length);
    const { after } = await converge(dataplane, CONFIGS[index]!);
    t.same(after.differences, [], `step ${step} (config ${index}) is in sync`);
    netfilter.commands = [];
    const again = await converge(dataplane, CONFIGS[index]!);
    t.ok(again.before.inSync, `step ${step}: already in sync the second time`);
    t.same(
      netfilter.commands.filter((line) => !line.startsWith('nft -j list') && !line.startsWith('ip -j -4 addr show')),
      [],
      `step ${step}: the second time only reads`,
    );
  }
  t.equal(netfilter.tables.length, 1, 'one table, whatever the path');
});

t.test('the MSS clamp follows the NIC: its MTU less 40, a changed MTU re-applied, the kernel asked when unknown', async (t) => {
  const { netfilter, dataplane, converge, warnings } = setup(t);
  const clamp = () => {
    const rule = netfilter
      .table('ip', 'natgw')
      ?.chains.flatMap((chain) => chain.rules)
      .find((candidate) => candidate.comment === 'mss-clamp');
    return /maxseg size set (rt mtu|\d+)/.exec(rule?.text ?? '')?.[1];
  };
  await converge(dataplane, CONFIGS[0]!);
  t.equal(clamp(), '1420', "GCE's default MTU, 1460");
  netfilter.egressMtu = 8896;
  const changed = await converge(dataplane, CONFIGS[0]!);
  t.notOk(changed.before.inSync, 'a VPC whose MTU changed is a change to the table');
  t.equal(clamp(), '8856', 'applied with the new MTU');
  netfilter.failNext(/^ip -j -4 addr show/);
  const unknown = await converge(dataplane, CONFIGS[0]!);
  t.same(unknown.after.differences, [], 'an interface whose MTU cannot be read (ip fails) still converges');
  t.equal(clamp(), 'rt mtu', "the kernel's per-SYN route lookup instead");
  netfilter.egressMtu = undefined;
  await converge(dataplane, CONFIGS[0]!);
  t.equal(clamp(), 'rt mtu', 'the same when ip answers without an MTU');
  const said = warnings.filter((message) => message.includes('MSS clamp'));
  t.equal(said.length, 1, `said once, not at every reconcile: ${said.join(' | ')}`);
  t.ok(
    [...dataplane.warnings].some((message) => message.includes('MSS clamp')),
    'and standing on /healthz',
  );
  netfilter.egressMtu = 1460;
  await converge(dataplane, CONFIGS[0]!);
  t.equal(clamp(), '1420', 'back to the number once the MTU can be read');
  t.notOk(
    [...dataplane.warnings].some((message) => message.includes('MSS clamp')),
    'and the warning is gone',
  );
});

t.test('a restarted agent finds its table in place and applies nothing', async (t) => {
  const { netfilter, dataplane, converge, restart } = setup(t);
  await converge(dataplane, CONFIGS[1]!);
  netfilter.commands = [];
  const { before } = await converge(restart(), CONFIGS[1]!);
  t.ok(before.inSync, before.differences.join('; '));
  t.notOk(
    netfilter.commands.some((line) => line === 'nft -f -'),
    'no transaction',
  );
  const changed = await converge(restart(), CONFIGS[2]!);
  t.same(
    changed.before.differences.filter((line) => line.startsWith('table')),
    ['table ip natgw was not built from this config'],
    'a new config is noticed after a restart',
  );
});

t.test('drift is named in words and repaired: a deleted rule, a stale chain of ours, a missing set element', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  await converge(dataplane, CONFIGS[1]!);
  const ours = netfilter.table('ip', 'natgw')!;
  const postrouting = ours.chains.find((chain) => chain.name === 'postrouting')!;
  postrouting.rules = [];
  ours.chains.push({ name: 'leftover', rules: [{ text: 'counter accept', comment: 'old', handle: 999 }] });
  ours.sets.find((set) => set.name === 'sources')!.elements.pop();
  const { before, after } = await converge(dataplane, CONFIGS[1]!);
  t.same(before.differences, [
    'chain postrouting: missing rule masquerade',
    'unexpected chain leftover',
    'set sources lacks 10.10.0.192/26',
  ]);
  t.ok(after.inSync, 'repaired');
  t.notOk(
    netfilter.table('ip', 'natgw')!.chains.some((chain) => chain.name === 'leftover'),
    'the stale chain is gone',
  );
});

t.test('traffic through the counting rules is not drift: their anonymous counters move, the table stays in sync', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  await converge(dataplane, CONFIGS[0]!);
  for (const comment of ['established-ingress', 'established-egress', 'unreplied', 'admit-new'])
    Object.assign(netfilter.ruleCounter(comment), { packets: 1234, bytes: 56789 });
  netfilter.commands = [];
  const { before } = await converge(dataplane, CONFIGS[0]!);
  t.same(before.differences, []);
  t.notOk(netfilter.commands.includes('nft -f -'), 'nothing applied, so nothing reset');
});

t.test('a failed transaction leaves the live state untouched', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  await converge(dataplane, CONFIGS[0]!);
  const live = netfilter.snapshot();
  netfilter.failNext(/^nft -f -$/);
  const desired = await dataplane.desiredState(validateAgentConfig(CONFIGS[3]!, 'test'), 'ens4');
  await t.rejects(dataplane.apply(desired), /replace the nft table failed/);
  t.equal(netfilter.snapshot(), live, 'tables, iptables and ipsets as they were');
  t.same(netfilter.conntrackDeleted, [], 'no flow was cut for a config that did not apply');
  t.ok(
    (await dataplane.inspect(await dataplane.desiredState(validateAgentConfig(CONFIGS[0]!, 'test'), 'ens4'))).inSync,
    'the previous config is still in effect',
  );
});

t.test('ranges that leave the config get their flows cut; ranges that stay do not', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  await converge(dataplane, { sourceRanges: ['10.10.0.0/24', '192.168.0.0/16'] });
  await converge(dataplane, { sourceRanges: ['10.10.0.0/25', '192.168.0.0/16'] });
  t.same(netfilter.conntrackDeleted, ['10.10.0.128/25'], 'only the half that went');
  netfilter.conntrackDeleted = [];
  await converge(dataplane, { sourceRanges: ['10.0.0.0/8'] });
  t.same(netfilter.conntrackDeleted, ['192.168.0.0/16'], 'a wider range keeps 10.10.0.0/25');
});

t.test(
  "an older agent's iptables chains and ipsets go after the new table is in place; cleanup leaves foreign objects alone",
  async (t) => {
    const { netfilter, dataplane, converge, warnings } = setup(t);
    netfilter.iptablesSave = [
      '*mangle',
      ':FORWARD ACCEPT [0:0]',
      ':NATGW-MSS - [0:0]',
      '-A FORWARD -j NATGW-MSS',
      'COMMIT',
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      ':NATGW-FORWARD - [0:0]',
      ':DOCKER-USER - [0:0]',
      '-A FORWARD -j NATGW-FORWARD',
      '-A FORWARD -j DOCKER-USER',
      '-A DOCKER-USER -j RETURN',
      'COMMIT',
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      ':NATGW-POSTROUTING - [0:0]',
      '-A POSTROUTING -j NATGW-POSTROUTING',
      'COMMIT',
    ].join('\n');
    netfilter.ipsets = ['natgw-src', 'foreign-set'];
    netfilter.tables.push({
      family: 'inet',
      name: 'foreign',
      chains: [{ name: 'input', base: { type: 'filter', hook: 'input', prio: 0, policy: 'accept' }, rules: [] }],
      sets: [],
      counters: [],
      flowtables: [],
    });
    const foreign = JSON.stringify(netfilter.table('inet', 'foreign'));
    await converge(dataplane, CONFIGS[0]!);
    const order = netfilter.commands.filter((line) => /^(nft -f|iptables|ipset destroy)/.test(line));
    t.equal(order[0], 'nft -f -', 'the new table first');
    t.ok(
      order.indexOf('iptables-restore --noflush') > order.indexOf('iptables -t filter -D FORWARD -j NATGW-FORWARD'),
      'then the jumps, then the chains',
    );
    t.notMatch(netfilter.iptablesSave, /NATGW/, 'no old chain or jump remains');
    t.match(netfilter.iptablesSave, /-A FORWARD -j DOCKER-USER/, 'foreign iptables rules stay');
    t.same(netfilter.ipsets, ['foreign-set']);
    t.match(warnings.join('\n'), /removed the iptables data plane of an older agent/);

    const removed = await dataplane.cleanup();
    t.same(removed, ['nft table ip natgw']);
    t.equal(netfilter.table('ip', 'natgw'), undefined);
    t.equal(JSON.stringify(netfilter.table('inet', 'foreign')), foreign, 'the foreign table is untouched');
    t.same(await dataplane.cleanup(), [], 'nothing left the second time');
  },
);

t.test('without iptables or ipset installed there is nothing to migrate, and nothing fails', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  netfilter.iptablesInstalled = false;
  const { after } = await converge(dataplane, CONFIGS[0]!);
  t.ok(after.inSync);
});

t.test('flowtableOffload: used where the kernel has flowtables; elsewhere said once and left out', async (t) => {
  const without = setup(t);
  const config = { sourceRanges: ['10.10.0.0/25'], flowtableOffload: true };
  const first = await without.converge(without.dataplane, config);
  await without.converge(without.dataplane, config);
  t.ok(first.after.inSync);
  t.notMatch(first.desired.ruleset.text, /flowtable/);
  t.equal(without.warnings.filter((message) => message.includes('no flowtables')).length, 1, 'one warning');
  t.same(
    [...without.dataplane.warnings],
    ['flowtableOffload is on, but this kernel has no flowtables (nf_flow_table): running without offload'],
  );

  const able = setup(t);
  able.netfilter.flowtablesSupported = true;
  const offloaded = await able.converge(able.dataplane, config);
  t.ok(offloaded.after.inSync, offloaded.after.differences.join('; '));
  t.equal(able.netfilter.table('ip', 'natgw')!.flowtables[0]?.name, 'fastpath');
  t.same([...able.dataplane.warnings], []);
});

t.test('forward path: connections admitted but never translated name the chain that drops them', async (t) => {
  const { netfilter, dataplane, converge } = setup(t);
  await converge(dataplane, CONFIGS[0]!);
  netfilter.tables.push({
    family: 'ip',
    name: 'filter',
    chains: [
      {
        name: 'FORWARD',
        base: { type: 'filter', hook: 'forward', prio: 0, policy: 'drop' },
        rules: [{ text: 'ip saddr 10.99.0.0/16 drop', handle: 7 }],
      },
    ],
    sets: [],
    counters: [],
    flowtables: [],
  });
  const counter = (name: string) => netfilter.table('ip', 'natgw')!.counters.find((entry) => entry.name === name)!;
  t.same(await dataplane.checkForwardPath(), {
    ok: true,
    detail: 'admitted connections are translated',
    warnings: [
      "table ip filter chain FORWARD (hook forward, priority 0): policy drop: clients' traffic passes only where its rules accept it",
    ],
  });
  netfilter.ruleCounter('admit-new').packets += 1;
  t.ok((await dataplane.checkForwardPath()).ok, 'one connection is too few to judge');
  netfilter.ruleCounter('admit-new').packets += 1;
  const blocked = await dataplane.checkForwardPath();
  t.notOk(blocked.ok);
  t.match(
    blocked.detail,
    /^2 connections admitted by natgw since the last check were dropped by another firewall .*table ip filter chain FORWARD \(hook forward, priority 0\): policy drop; drop\/reject rule handle 7$/,
  );
  t.notOk((await dataplane.checkForwardPath()).ok, 'the verdict stays while nothing is translated');
  netfilter.ruleCounter('admit-new').packets += 1;
  counter('translated').packets += 1;
  t.ok((await dataplane.checkForwardPath()).ok, 'a translated connection clears it');
});
