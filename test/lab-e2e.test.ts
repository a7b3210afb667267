// End to end: the real provisioner against the lab's Compute API; what it creates is real network state.
import t from 'tap';
import { LabCloud, LAB_PROJECT, LAB_REGION } from '../lab/gce.js';
import { addWorkloads, natgwCli, PROVISION_FLAGS, whoami } from '../lab/demo.js';
import { Lab } from '../lab/lab.js';

t.test('provision → boot → agent → traffic → status → destroy, in the lab', async (t) => {
  const cloud = await LabCloud.start();
  let closed = false;
  t.teardown(async () => {
    if (!closed) await cloud.close();
  });
  const workloads = await addWorkloads(cloud);
  t.equal(await whoami(cloud, workloads.tagged, 2), undefined, 'before natgw, a VM without an external IP has no way out');

  const provision = await natgwCli(cloud, 'provision', PROVISION_FLAGS);
  t.equal(provision.exitCode, 0, provision.stderr);
  await cloud.settled();
  const address = cloud.store.list(LAB_PROJECT, `regions/${LAB_REGION}`, 'addresses')[0];
  const natIp = String(address?.address);
  t.match(natIp, /^203\.0\.113\.\d+$/, 'a static IP was reserved');
  t.match(cloud.store.serialOutputOf(LAB_PROJECT, `${LAB_REGION}-a`, `natgw-${LAB_REGION}`), /sha256 [0-9a-f]{64} verified/, "the real startup script ran at boot and its output is the VM's serial output");

  await t.test('the tagged VM reaches the internet through the NAT IP; the untagged one cannot', async (t) => {
    t.equal(await whoami(cloud, workloads.tagged), natIp);
    t.equal(await whoami(cloud, workloads.untagged, 2), undefined);
  });

  await t.test('natgw status against the lab reports healthy', async (t) => {
    const status = await natgwCli(cloud, 'status');
    t.equal(status.exitCode, 0, status.stderr);
    t.match(status.stdout, /serving/);
    t.match(status.stdout, /agent\s+health\s+ok/);
  });

  await t.test('a second provision is read-only and says up to date', async (t) => {
    const before = cloud.api.mutations().length;
    const again = await natgwCli(cloud, 'provision', PROVISION_FLAGS);
    t.equal(again.exitCode, 0, again.stderr);
    t.match(again.stdout, /up to date/i);
    t.equal(cloud.api.mutations().length, before, 'no mutating call');
  });

  await t.test('natgw destroy removes the route and the tagged VM loses internet access again', async (t) => {
    const destroy = await natgwCli(cloud, 'destroy', ['--yes']);
    t.equal(destroy.exitCode, 0, destroy.stderr);
    await cloud.settled();
    t.same(cloud.store.list(LAB_PROJECT, 'global', 'routes'), [], 'no route left');
    t.equal(await whoami(cloud, workloads.tagged, 2), undefined);
    t.notOk(cloud.lab.vms.has(`natgw-${LAB_REGION}`), 'the NAT VM is gone');
    t.ok(cloud.lab.vms.has(workloads.tagged), "the user's VMs are untouched");
  });

  const id = cloud.lab.id;
  await cloud.close();
  closed = true;
  t.same(Lab.namespaces().filter((namespace) => namespace.includes(id)), [], 'nothing of the lab is left after down');
});
