// Golden tests of the rendered data plane: a diff here is a change to what every NAT VM runs.
import t from 'tap';
import { validateAgentConfig } from '../agent/config.js';
import { renderRemovalInput, renderRestoreInput, renderRuleset, renderSetStagingInput } from '../agent/ruleset.js';
import { conntrackHashsize, conntrackMaxForMemory, globalSysctls, namespaceSysctls, renderSysctlConf } from '../agent/sysctl.js';

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
};

for (const [name, input] of Object.entries(typical)) {
  t.test(name, async (t) => {
    const config = validateAgentConfig(input, 'test');
    const ruleset = renderRuleset(config, config.egressInterface ?? 'ens4');
    t.matchSnapshot(renderRestoreInput(ruleset), 'iptables-restore input');
    t.matchSnapshot(renderSetStagingInput(ruleset), 'ipset restore input');
    t.matchSnapshot(renderSysctlConf([...namespaceSysctls(config, config.egressInterface ?? 'ens4'), ...globalSysctls(config, 2 * 1024 ** 3)]), 'sysctl.d file');
  });
}

t.test('rendering is a pure function of the config', async (t) => {
  const config = validateAgentConfig({ sourceRanges: ['10.0.0.0/8', '192.168.0.0/16'] }, 'test');
  t.equal(renderRestoreInput(renderRuleset(config, 'ens4')), renderRestoreInput(renderRuleset(config, 'ens4')));
  const reordered = validateAgentConfig({ sourceRanges: ['192.168.0.0/16', '10.0.0.0/8', '10.0.0.0/8'] }, 'test');
  t.same(renderRuleset(reordered, 'ens4').sourceSet, ['10.0.0.0/8', '192.168.0.0/16'], 'set members are sorted and unique');
});

t.test('1,000 ranges cost one rule: the ranges live in a set, the rules do not grow', async (t) => {
  const ranges = Array.from({ length: 1000 }, (_, index) => `10.${Math.floor(index / 250)}.${index % 250}.0/24`);
  const one = renderRuleset(validateAgentConfig({ sourceRanges: ['10.0.0.0/8'] }, 'test'), 'ens4');
  const many = renderRuleset(validateAgentConfig({ sourceRanges: ranges }, 'test'), 'ens4');
  t.same(many.chains, one.chains);
  t.equal(many.sourceSet.length, 1000);
});

t.test('removal input deletes only the chains it is given', async (t) => {
  t.matchSnapshot(renderRemovalInput({ filter: ['NATGW-FORWARD', 'NATGW-EGRESS'], nat: ['NATGW-POSTROUTING'], mangle: [] }));
  t.equal(renderRemovalInput({ filter: [], nat: [], mangle: [] }), '');
});

t.test('conntrack table sizing follows memory', async (t) => {
  t.equal(conntrackMaxForMemory(1 * 1024 ** 3), 131_072, 'e2-micro/e2-small class');
  t.equal(conntrackMaxForMemory(2 * 1024 ** 3), 262_144);
  t.equal(conntrackMaxForMemory(16 * 1024 ** 3), 2_097_152);
  t.equal(conntrackMaxForMemory(512 * 1024 ** 3), 4_194_304, 'capped');
  t.equal(conntrackMaxForMemory(0), 65_536, 'floor');
  t.equal(conntrackHashsize(262_144), 65_536);
});
