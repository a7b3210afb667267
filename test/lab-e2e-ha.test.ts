// natgw-test: long — about 80 s, the longest shared file: started first, it does not run alone at the end.
// HA end to end: `natgw provision --ha` against the lab's Compute API. The MIG's VMs boot with the real startup script,
// the lab health-checks them as the backend service says and routes tagged VMs over the healthy ones.
import t from 'tap';
import { waitUntil } from '../common/wait.js';
import { LabCloud, LAB_PROJECT, LAB_REGION } from '../lab/gce.js';
import { addWorkloads, natgwCli, PROVISION_FLAGS, whoami } from '../lab/demo.js';

t.test('provision --ha → two NAT VMs behind the load balancer → one dies → traffic moves → destroy', async (t) => {
  const cloud = await LabCloud.start();
  t.teardown(() => cloud.close());
  const workloads = await addWorkloads(cloud);

  const provision = await natgwCli(cloud, 'provision', [...PROVISION_FLAGS, '--ha', '--size', '2']);
  t.equal(provision.exitCode, 0, provision.stdout + provision.stderr);
  await cloud.settled();
  const natIps = cloud.store
    .list(LAB_PROJECT, `regions/${LAB_REGION}`, 'addresses')
    .map((address) => String(address.address))
    .sort();
  t.equal(natIps.length, 2, 'one reserved address per NAT VM');

  const seen = new Set<string>();
  for (let attempt = 0; attempt < 12; attempt++) seen.add((await whoami(cloud, workloads.tagged)) ?? 'nothing');
  t.ok(
    [...seen].every((ip) => natIps.includes(ip)),
    `the tagged VM goes out through the NAT IPs (${[...seen].join(', ')})`,
  );
  t.equal(await whoami(cloud, workloads.untagged, 2), undefined, 'the untagged VM has no way out');

  const status = await natgwCli(cloud, 'status');
  t.equal(status.exitCode, 0, status.stdout + status.stderr);
  t.equal((status.stdout.match(/HEALTHY/g) ?? []).length >= 2, true, 'status shows both backends healthy');

  await t.test("Google's guest agent in each NAT VM holds the forwarding rule's IP as a local route", async (t) => {
    const ruleIp = String(cloud.store.all('forwardingRules')[0]?.resource.IPAddress);
    for (const vm of [...cloud.lab.guests.keys()]) {
      const local = async () =>
        (await cloud.lab.exec(vm, ['ip', 'route', 'show', 'table', 'local', 'proto', '66'])).stdout.includes(`local ${ruleIp} dev ens4`);
      // Bounded: the agent watches forwarded-ips with wait_for_change and acts at once.
      const deadline = Date.now() + 20_000;
      while (!(await local()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      t.ok(await local(), `${vm}: local ${ruleIp} dev ens4 proto 66`);
      const journal = (await cloud.lab.exec(vm, ['journalctl', '--unit=google-guest-agent.service', '--output=cat', '--no-pager'])).stdout;
      t.match(journal, new RegExp(`Changing forwarded IPs for 42:01:[0-9a-f:]+ from \\[\\] to \\["${ruleIp.replace(/\./g, '\\.')}"\\]`));
    }
  });

  const backends = cloud.store.ilbBackends(String(cloud.store.list(LAB_PROJECT, 'global', 'routes')[0]?.nextHopIlb));
  const victim = backends[0]!;
  const until = (what: string, check: () => boolean, timeoutMs: number) => waitUntil(what, check, { timeoutMs, everyMs: 250 });
  const autohealGroup = `autoheal:natgw-${LAB_REGION}-mig`;
  // Autohealing acts on a change to unhealthy, so both VMs must first have passed its (slower) check.
  await until('the autohealing check sees both VMs healthy', () => cloud.lab.healthyBackendsOf(autohealGroup).length === 2, 60_000);
  const killedAt = Date.now();
  await cloud.lab.removeVm(victim.name);
  let streak = 0;
  let recoveredAfter: number | undefined;
  while (Date.now() - killedAt < 30_000) {
    const ip = await whoami(cloud, workloads.tagged, 1);
    streak = ip === undefined ? 0 : streak + 1;
    if (streak === 1) recoveredAfter = Date.now() - killedAt;
    if (streak >= 10) break;
  }
  t.equal(streak, 10, 'ten new connections in a row work after a NAT VM died');
  t.comment(`new connections work again ${recoveredAfter} ms after the NAT VM died (traffic health check every 2 s, unhealthy after 2)`);

  await until(
    'autohealing recreated the dead VM and the load balancer uses it again',
    () => cloud.lab.vms.has(victim.name) && cloud.lab.healthyBackendsOf(`natgw-${LAB_REGION}-fr`).includes(victim.networkIP),
    120_000,
  );
  t.pass(
    `autohealing recreated ${victim.name}; it booted with the startup script and is a healthy backend again (${Math.round((Date.now() - killedAt) / 1000)} s after it died)`,
  );
  t.match(
    cloud.store.serialOutputOf(LAB_PROJECT, victim.zone, victim.name),
    /autohealing recreated/,
    'the recreation shows in its serial output',
  );

  const destroy = await natgwCli(cloud, 'destroy', ['--yes']);
  t.equal(destroy.exitCode, 0, destroy.stdout + destroy.stderr);
  await cloud.settled();
  t.same(cloud.store.list(LAB_PROJECT, 'global', 'routes'), [], 'the route is gone');
  t.equal(await whoami(cloud, workloads.tagged, 2), undefined, 'the tagged VM has no way out again');
});
