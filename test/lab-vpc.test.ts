// The lab's GCE emulation itself: canIpForward, tagged routes, ingress firewall rules.
import t from 'tap';
import { VPC } from '../lab/lab.js';
import { NAT_EXTERNAL_IP, NAT_IP, baseConfig, createNatLab, startHealthyAgent } from './helpers/nat-lab.js';

t.test('GCE behaviours the lab emulates', async (t) => {
  const natLab = await createNatLab(t, { withOutsider: false });
  const { lab } = natLab;
  await lab.addVm({ name: 'tagged', ip: '10.10.0.21', tags: ['no-ip'] });
  await lab.addVm({ name: 'untagged', ip: '10.10.0.22' });
  const agent = await startHealthyAgent(natLab, baseConfig({ sourceRanges: ['10.10.0.0/24'] }));
  t.teardown(() => agent.stop());

  await t.test('a tagged route sends only tagged VMs (and VMs created later) through the NAT', async (t) => {
    t.equal(await natLab.whoami('tagged', 2), undefined, 'no route yet: the fabric drops a VM without an external IP');
    await lab.setRoutes([{ name: 'natgw-route', priority: 800, tags: ['no-ip'], nextHopIp: NAT_IP }]);
    t.equal(await natLab.whoami('tagged'), NAT_EXTERNAL_IP, 'tagged VM goes through the NAT');
    t.equal(await natLab.whoami('untagged', 2), undefined, 'untagged VM keeps the default route and has no way out');
    await lab.addVm({ name: 'late', ip: '10.10.0.23', tags: ['no-ip'] });
    t.equal(await natLab.whoami('late'), NAT_EXTERNAL_IP, 'a VM created after the route gets it too');
    const { stdout } = await lab.exec('nat', ['ip', 'route', 'show', 'default']);
    t.match(stdout, `via ${VPC.gateway}`, 'the NAT VM itself is not routed into itself');
  });

  await t.test('ingress firewall rules: implied deny, allow by source range, stateful', async (t) => {
    await lab.setFirewalls([]);
    t.equal(await natLab.whoami('tagged', 2), undefined, 'no rule: the NAT VM refuses forwarded traffic');
    t.equal(await natLab.whoami('nat'), NAT_EXTERNAL_IP, "the NAT VM's own connections still get their replies");
    await lab.setFirewalls([
      {
        name: 'natgw-allow-clients',
        priority: 1000,
        sourceRanges: ['10.10.0.0/24'],
        targetTags: ['natgw'],
        allowed: [{ protocol: 'all', ports: [] }],
      },
    ]);
    t.equal(await natLab.whoami('tagged', 2), undefined, 'a rule for another target tag does not apply');
    lab.vm('nat').tags = ['natgw'];
    await lab.setFirewalls([
      {
        name: 'natgw-allow-clients',
        priority: 1000,
        sourceRanges: ['10.10.0.0/24'],
        targetTags: ['natgw'],
        allowed: [{ protocol: 'all', ports: [] }],
      },
    ]);
    t.equal(await natLab.whoami('tagged'), NAT_EXTERNAL_IP, 'allowed from the clients range');
    t.equal((await natLab.healthz()).status, 200, 'our nft table does not disturb the agent (iptables-save never shows it)');
  });

  await t.test('without canIpForward the fabric drops what the NAT VM forwards', async (t) => {
    lab.vm('nat').canIpForward = false;
    await lab.setFirewalls([
      {
        name: 'natgw-allow-clients',
        priority: 1000,
        sourceRanges: ['10.10.0.0/24'],
        targetTags: [],
        allowed: [{ protocol: 'all', ports: [] }],
      },
    ]);
    await lab.refreshFabric();
    t.equal(await natLab.whoami('tagged', 2), undefined, 'packets for other addresses never reach the NAT VM');
    t.equal(await natLab.whoami('nat'), NAT_EXTERNAL_IP, 'its own traffic is unaffected');
    lab.vm('nat').canIpForward = true;
    await lab.refreshFabric();
    t.equal(await natLab.whoami('tagged'), NAT_EXTERNAL_IP);
  });

  await t.test('deleting the route restores the default route', async (t) => {
    await lab.setRoutes([]);
    t.equal(await natLab.whoami('tagged', 2), undefined);
  });
});
