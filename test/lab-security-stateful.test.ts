// `natgw provision --ha --stateful` on real guests, for what the unprivileged unit and the agent's port rules must not
// break: both NAT VMs healthy to the load balancers' probers (from Google's range), conntrackd run by the agent as the
// natgw user and syncing, NAT through the shared IP; no client VM and nothing on the internet reaches the agent's port.
import t from 'tap';
import { whoami } from '../lab/demo.js';
import { INTERNET } from '../lab/lab.js';
import { agentMetric, buildProvisionedPair } from '../lab/stateful/provisioned-pair.js';
import { waitUntil } from '../common/wait.js';
import { AGENT_PORT } from '../common/protocol.js';

t.test('a stateful pair runs unprivileged, and its agents answer only their probers, their peer and themselves', async (t) => {
  const pair = await buildProvisionedPair({ sync: true, say: (line) => t.comment(line) });
  t.teardown(() => pair.close());
  const { cloud, natIp } = pair;
  const vms = pair.natVms();
  t.equal(vms.length, 2, 'both NAT VMs healthy to both load balancers: the probers reach the agents');
  const inGuest = async (vm: string, args: string[]) => (await cloud.lab.exec(vm, args, { okExitCodes: [1] })).stdout.trim();

  await t.test('the agent and the conntrackd it runs are the natgw user, with CAP_NET_ADMIN alone', async (t) => {
    for (const vm of vms) {
      const pid = await inGuest(vm.name, ['systemctl', 'show', '--property=MainPID', '--value', 'natgw-agent.service']);
      t.equal(await inGuest(vm.name, ['ps', '-o', 'user=', '-p', pid]), 'natgw', `${vm.name}: the agent`);
      t.match(await inGuest(vm.name, ['cat', `/proc/${pid}/status`]), /^CapEff:\s+0000000000001000$/m, `${vm.name}: CAP_NET_ADMIN only`);
      const conntrackd = await inGuest(vm.name, ['ps', '-o', 'user=', '-C', 'conntrackd']);
      t.equal(conntrackd, 'natgw', `${vm.name}: conntrackd`);
    }
  });

  await t.test('state sync works unprivileged: each agent sees its peer and has resynced from it', async (t) => {
    for (const vm of vms) {
      await waitUntil(
        `${vm.name} sees its peer`,
        async () =>
          (await agentMetric(cloud, vm, 'natgw_sync_peer_up')) === 1 && (await agentMetric(cloud, vm, 'natgw_sync_resynced')) === 1,
        { timeoutMs: 30_000, everyMs: 500 },
      );
      t.pass(`${vm.name}: natgw_sync_peer_up 1, natgw_sync_resynced 1`);
    }
    t.equal(await whoami(cloud, pair.client, 5), natIp, 'a client leaves through the shared NAT IP');
  });

  await t.test("nobody else reaches the agent's port: not a client VM, not the internet through the NAT IP", async (t) => {
    const code = async (namespace: string, url: string) =>
      (
        await cloud.lab.run('reach an agent', namespace, ['curl', '-sS', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', url], {
          okExitCodes: [7, 28],
        })
      ).stdout.trim();
    const client = cloud.lab.vm(pair.client).namespace;
    for (const vm of vms) t.equal(await code(client, `http://${vm.ip}:${AGENT_PORT}/metrics`), '000', `client → ${vm.name}`);
    t.equal(await code(client, `http://${natIp}:${AGENT_PORT}/healthz`), '000', 'client → the NAT IP');
    t.equal(
      await code(cloud.lab.internet, `http://${natIp}:${AGENT_PORT}/healthz`),
      '000',
      `the internet (${INTERNET.server}) → the NAT IP`,
    );
    const refused = await Promise.all(vms.map((vm) => agentMetric(cloud, vm, 'natgw_agent_port_refused_packets_total')));
    t.ok(
      refused.some((count) => (count ?? 0) > 0),
      `refused and counted (${refused.join(', ')})`,
    );
  });
});
