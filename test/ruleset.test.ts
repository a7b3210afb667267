// Golden tests of the rendered data plane: a diff here is a change to what every NAT VM runs.
import { statefulPair } from './helpers/stateful-pair.js';
import t from 'tap';
import { validateAgentConfig } from '../agent/config.js';
import { parseLegacyIptables, renderLegacyChainRemoval } from '../agent/legacy-iptables.js';
import {
  COUNTING_RULES,
  cidrToInterval,
  mssClampValue,
  foldSourceRanges,
  intervalToCidrs,
  renderPortBlockElements,
  renderRuleset,
  subtractIntervals,
  TABLE_REMOVAL,
} from '../agent/ruleset.js';
import { conntrackHashsize, conntrackMaxForMemory, globalSysctls, namespaceSysctls, renderSysctlConf } from '../agent/sysctl.js';

/** The agent reads its NIC's MTU for the MSS clamp; GCE's default VPC MTU. */
const GCE_MTU = 1460;

const typical = {
  'one subnet, defaults': { sourceRanges: ['10.146.0.0/20'] },
  'GKE subnet with secondary ranges, per-VM cap, fixed MSS, random NAT ports': {
    sourceRanges: ['10.146.0.0/20', '10.4.0.0/14', '10.8.0.0/20', '10.146.0.5/32'],
    maxConnectionsPerVm: 4096,
    natPortAllocation: 'random',
    mssClamp: 1380,
    egressInterface: 'ens5',
    timeouts: { tcpEstablished: 600, tcpTimeWait: 30 },
  },
  'no logging, flowtable offload on a kernel that has it': {
    sourceRanges: ['10.146.0.0/20', '10.146.16.5/32'],
    logging: 'none',
    flowtableOffload: true,
  },
  'static port blocks of 64': { sourceRanges: ['10.146.0.0/20'], portAllocation: { mode: 'static', portsPerVm: 64 } },
  'dynamic port blocks of 64 to 1024, no logging': {
    sourceRanges: ['10.146.0.0/20'],
    logging: 'none',
    portAllocation: { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 1024 },
  },
};

t.test('stateful: SNAT to the shared IP from this VM’s half, NAT-IP guard, sync and role counters, tcp_loose=0', async (t) => {
  const config = validateAgentConfig(
    {
      sourceRanges: ['10.146.0.0/20'],
      deploymentMode: 'ha',
      stateful: statefulPair('10.146.0'),
    },
    'test',
    () => ['10.146.0.3'],
  );
  const stateful = { natIp: '203.0.113.100', syncPort: 3780, selfIp: '10.146.0.3', peerIp: '10.146.0.2', ports: '33280-65535' };
  t.matchSnapshot(renderRuleset(config, 'ens4', { stateful, egressMtu: GCE_MTU }).text, 'nft -f input');
  t.matchSnapshot(renderSysctlConf(namespaceSysctls(config, 'ens4')), 'sysctl.d file');
  t.throws(() => renderRuleset(config, 'ens4'), /needs its roles/, 'never rendered without knowing which member it is');
});

t.test('the MSS clamp: "pmtu" is the NIC\'s MTU less 40 when the agent knows it, the per-SYN route lookup otherwise', async (t) => {
  const pmtu = validateAgentConfig({ sourceRanges: ['10.146.0.0/20'] }, 'test');
  t.equal(mssClampValue(pmtu, 1460), '1420', "GCE's default VPC MTU");
  t.equal(mssClampValue(pmtu, 8896), '8856', "GCE's largest VPC MTU");
  t.equal(mssClampValue(pmtu, 1300), '1260', "GCE's smallest VPC MTU");
  t.equal(mssClampValue(pmtu, undefined), 'rt mtu', 'an MTU the agent could not read');
  t.equal(mssClampValue(pmtu, 500), 'rt mtu', 'an MTU below what TCP can use (MSS < 536)');
  t.equal(mssClampValue(pmtu, 70_000), 'rt mtu', 'an MTU no interface has');
  const fixed = validateAgentConfig({ sourceRanges: ['10.146.0.0/20'], mssClamp: 1380 }, 'test');
  t.equal(mssClampValue(fixed, 1460), '1380', "a fixed MSS is the config's, whatever the MTU");
  t.match(renderRuleset(pmtu, 'ens4', { egressMtu: 8896 }).text, /tcp option maxseg size set 8856 comment "mss-clamp"/);
  t.match(renderRuleset(pmtu, 'ens4').text, /tcp option maxseg size set rt mtu comment "mss-clamp"/);
});

for (const [name, input] of Object.entries(typical)) {
  t.test(name, async (t) => {
    const config = validateAgentConfig(input, 'test');
    const ruleset = renderRuleset(config, config.egressInterface ?? 'ens4', { flowtable: config.flowtableOffload, egressMtu: GCE_MTU });
    t.matchSnapshot(ruleset.text, 'nft -f input');
    t.matchSnapshot(
      renderSysctlConf([...namespaceSysctls(config, config.egressInterface ?? 'ens4'), ...globalSysctls(config, 2 * 1024 ** 3)]),
      'sysctl.d file',
    );
  });
}

t.test('rendering is a pure function of the config', async (t) => {
  const config = validateAgentConfig({ sourceRanges: ['10.0.0.0/8', '192.168.0.0/16'] }, 'test');
  const reordered = validateAgentConfig({ sourceRanges: ['192.168.0.0/16', '10.0.0.0/8', '10.0.0.0/8'] }, 'test');
  t.equal(renderRuleset(reordered, 'ens4').text, renderRuleset(config, 'ens4').text, 'order and duplicates of sourceRanges do not matter');
  t.not(renderRuleset(config, 'ens5').text, renderRuleset(config, 'ens4').text, 'the interface does');
  t.same(renderRuleset(reordered, 'ens4').sourceRanges, ['10.0.0.0/8', '192.168.0.0/16'], 'set members are sorted and unique');
  t.notMatch(renderRuleset(config, 'ens4', { flowtable: false }).text, /flowtable|flow add/, 'no flowtable unless the kernel has one');
});

t.test('1,000 ranges cost no rule: the ranges live in one interval set', async (t) => {
  const ranges = Array.from({ length: 1000 }, (_, index) => `10.${Math.floor(index / 250)}.${index % 250}.0/24`);
  const one = renderRuleset(validateAgentConfig({ sourceRanges: ['10.0.0.0/8'] }, 'test'), 'ens4');
  const many = renderRuleset(validateAgentConfig({ sourceRanges: ranges }, 'test'), 'ens4');
  const withoutElements = (text: string) => text.replace(/elements = \{[^}]*\}/, '');
  t.equal(withoutElements(many.text), withoutElements(one.text));
  t.equal(many.sourceRanges.length, 1000);
});

t.test('nested ranges fold into the range that holds them (an interval set refuses overlaps)', async (t) => {
  t.same(foldSourceRanges(['10.146.0.5/32', '10.146.0.0/20', '10.0.0.0/8', '192.168.1.0/24']), ['10.0.0.0/8', '192.168.1.0/24']);
  t.same(foldSourceRanges(['10.0.1.0/24', '10.0.0.0/24']), ['10.0.0.0/24', '10.0.1.0/24'], 'adjacent ranges stay as written');
});

t.test('interval arithmetic behind cutting the flows of a removed range', async (t) => {
  t.same(cidrToInterval('10.0.0.0/30'), [167772160, 167772163]);
  t.same(intervalToCidrs(cidrToInterval('10.0.0.0/8')), ['10.0.0.0/8']);
  t.same(intervalToCidrs([cidrToInterval('10.0.0.5/32')[0], cidrToInterval('10.0.0.9/32')[0]]), ['10.0.0.5', '10.0.0.6/31', '10.0.0.8/31']);
  const cut = subtractIntervals([cidrToInterval('10.0.0.0/22')], [cidrToInterval('10.0.1.0/24')]).flatMap(intervalToCidrs);
  t.same(cut, ['10.0.0.0/24', '10.0.2.0/23'], 'a range that shrinks loses only what it no longer covers');
  t.same(subtractIntervals([cidrToInterval('10.0.0.0/24')], [cidrToInterval('10.0.0.0/8')]), [], 'nothing to cut when a wider range stays');
});

t.test('removing our table is one transaction that only names our table', async (t) => {
  t.equal(TABLE_REMOVAL, 'table ip natgw\ndelete table ip natgw\n');
});

t.test('the iptables data plane of an older agent is found and removed chain by chain', async (t) => {
  const saved = [
    '*mangle',
    ':FORWARD ACCEPT [0:0]',
    ':NATGW-MSS - [0:0]',
    '-A FORWARD -j NATGW-MSS',
    '-A NATGW-MSS -o ens4 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    'COMMIT',
    '*filter',
    ':FORWARD ACCEPT [0:0]',
    ':NATGW-FORWARD - [0:0]',
    ':NATGW-DROP-SOURCE - [0:0]',
    ':DOCKER-USER - [0:0]',
    '[3:180] -A FORWARD -j NATGW-FORWARD',
    '-A FORWARD -j DOCKER-USER',
    '-A NATGW-FORWARD -j NATGW-DROP-SOURCE',
    'COMMIT',
    '',
  ].join('\n');
  const legacy = parseLegacyIptables(saved);
  t.same(
    legacy.jumps,
    [
      { table: 'mangle', chain: 'FORWARD', target: 'NATGW-MSS' },
      { table: 'filter', chain: 'FORWARD', target: 'NATGW-FORWARD' },
    ],
    'jumps from built-in chains only, counters ignored',
  );
  t.same(
    legacy.chains.map((entry) => entry.chain),
    ['NATGW-MSS', 'NATGW-FORWARD', 'NATGW-DROP-SOURCE'],
    'DOCKER-USER is not ours',
  );
  t.matchSnapshot(renderLegacyChainRemoval(legacy.chains), 'iptables-restore input removing the old chains');
  t.equal(renderLegacyChainRemoval([]), '');
});

t.test('conntrack table sizing follows memory', async (t) => {
  t.equal(conntrackMaxForMemory(1 * 1024 ** 3), 131_072, 'e2-micro/e2-small class');
  t.equal(conntrackMaxForMemory(2 * 1024 ** 3), 262_144);
  t.equal(conntrackMaxForMemory(16 * 1024 ** 3), 2_097_152);
  t.equal(conntrackMaxForMemory(512 * 1024 ** 3), 4_194_304, 'capped');
  t.equal(conntrackMaxForMemory(0), 65_536, 'floor');
  t.equal(conntrackHashsize(262_144), 65_536);
});

t.test('port-block elements change in one transaction of their own, never the whole table', async (t) => {
  const text = renderPortBlockElements(
    [
      { vm: '10.146.0.7', natAddress: '10.146.0.2', first: 1024, last: 1087 },
      { vm: '10.146.0.9', natAddress: '10.146.0.2', first: 1088, last: 1151 },
    ],
    ['10.146.0.5'],
  );
  t.matchSnapshot(text, 'nft -f input');
  t.notMatch(text, /delete table|^table /m, 'the table and its counters are left as they are');
  t.equal(renderPortBlockElements([], []), '', 'nothing to change is no transaction');
});

t.test('dynamic blocks: a VM leaves the block-size map only if the live map holds it, and enters it with its size', async (t) => {
  const grown = { vm: '10.146.0.7', natAddress: '10.146.0.2', first: 1152, last: 1279, size: 128 };
  const text = renderPortBlockElements([grown], ['10.146.0.7', '10.146.0.5'], new Set(['10.146.0.7', '10.146.0.8']));
  t.match(text, /^delete element ip natgw port_block_class \{ 10\.146\.0\.7 \}$/m, 'only the present keys are deleted');
  t.match(text, /^add element ip natgw port_block_class \{ 10\.146\.0\.7 : jump port_block_128 \}$/m);
  t.ok(
    text.indexOf('delete element ip natgw port_block_class') < text.indexOf('add element ip natgw port_block_class'),
    'deleted before it is added again with another size',
  );
  const repaired = renderPortBlockElements([grown], [], new Set(['10.146.0.7']));
  t.match(
    repaired,
    /^delete element ip natgw port_block_class \{ 10\.146\.0\.7 \}$/m,
    'a re-added VM whose old size is still there loses it first',
  );
  t.notMatch(
    renderPortBlockElements([grown], ['10.146.0.7'], new Set()),
    /delete element ip natgw port_block_class/,
    'a key the map lacks is not deleted',
  );
});

t.test('a new connection is judged once: the NAT rules read the forward chain’s verdict from the conntrack mark', async (t) => {
  for (const [name, input] of Object.entries(typical)) {
    const config = validateAgentConfig(input, 'test');
    const text = renderRuleset(config, config.egressInterface ?? 'ens4', { flowtable: config.flowtableOffload }).text;
    const chain = (chainName: string) => /\n {2}chain ([a-z_]+) \{\n([\s\S]*?)\n {2}\}/g;
    const chains = new Map([...text.matchAll(chain('any'))].map((match) => [match[1], match[2] ?? '']));
    const postrouting = chains.get('postrouting') ?? '';
    t.notMatch(postrouting, /fib |@sources/, `${name}: no FIB or allow-list lookup on the NAT path`);
    const translations = postrouting.split('\n').filter((line) => /masquerade|snat/.test(line));
    t.ok(translations.length > 0, `${name}: there are translation rules`);
    // Dynamic blocks' overflow rule also takes the admitted connections that did not fit their block (0x4e53…).
    for (const rule of translations)
      t.match(
        rule,
        /ct mark & 0xffff0000 (== 0x4e410000|\{ 0x4e410000, 0x4e530000 \})/,
        `${name}: only admitted connections: ${rule.trim()}`,
      );
    const forward = (chains.get('forward') ?? '')
      .split('\n')
      .map((rule) => rule.trim())
      .filter((rule) => rule !== '' && !rule.startsWith('type '));
    const unreplied = forward.findIndex((rule) => rule.endsWith('comment "unreplied"'));
    const firstLookup = forward.findIndex((rule) => /ip [sd]addr (!= )?@|ct count/.test(rule));
    t.match(forward[unreplied] ?? '', /^ct status confirmed counter accept /, `${name}: a confirmed connection is accepted`);
    t.ok(
      unreplied > 0 && firstLookup > unreplied,
      `${name}: a confirmed connection's later packets meet no set lookup and no connection count (rules ${unreplied}, ${firstLookup})`,
    );
    t.match(
      forward.at(-1) ?? '',
      /^ct mark set ct mark and 0x0000ffff or 0x4e410000 counter accept comment "admit-new"$/,
      `${name}: the last rule admits and counts a new connection: only first packets reach it`,
    );
    t.equal(text.match(/or 0x4e410000/g)?.length, 1, `${name}: the forward chain's admission is the only place the mark is set`);
    // An established packet (nearly all of them) is accepted and counted by one of two rules, replies first, after
    // the VPC NIC test and the MSS clamp (SYN-ACKs are clamped too).
    const established = ['ingress', 'egress'].map((direction) =>
      forward.findIndex((rule) => rule.endsWith(`comment "established-${direction}"`)),
    );
    t.same(
      established.map((at) => forward[at]?.replace(/ comment .*/, '')),
      ['ct state established,related ct direction reply counter accept', 'ct state established,related counter accept'],
      `${name}: replies, then the rest of the established packets, each counted`,
    );
    t.equal(established[1], (established[0] ?? 0) + 1, `${name}: one after the other`);
    t.equal(forward.filter((rule) => /ct state established/.test(rule) && / accept /.test(rule)).length, 2, `${name}: only those`);
    // What the agent adds up by comment must be one anonymous counter per rule: a named one there is what they replace.
    const counting = text
      .split('\n')
      .filter((line) => Object.keys(COUNTING_RULES).some((comment) => line.endsWith(`comment "${comment}"`)));
    t.ok(counting.length >= 4, `${name}: the counting rules are there (${counting.length})`);
    for (const rule of counting)
      t.ok(
        rule.match(/\bcounter\b(?! name)/g)?.length === 1 && !rule.includes('counter name'),
        `${name}: one anonymous counter and no named one: ${rule.trim()}`,
      );
    t.ok(
      Math.min(...established) > forward.findIndex((rule) => rule.endsWith('comment "mss-clamp"')) &&
        Math.min(...established) > forward.findIndex((rule) => rule.endsWith('comment "not-from-vpc"')),
      `${name}: after the VPC NIC test and the MSS clamp, which SYN-ACKs need too`,
    );
  }
});
