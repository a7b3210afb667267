// natgw --ha against a fake that behaves like a real project (issue 11): MIG actions that are DONE when accepted, VMs
// that appear later or never (stockout, quota), scale-down that waits for the VM before releasing its address.
import t from 'tap';
import type { FakeCompute, Json } from '../lab/compute-api/index.js';
import {
  baseArgs,
  EMPTY_HA_INVENTORY,
  haInventory,
  PROJECT,
  REGION,
  run,
  simulateAgent,
  startSeededFake,
} from './fixtures/provision/helpers.js';

const GW = 'natgw-us-central1';
const TIMING = { operationMs: 50, migActionMs: 100, waitCapMs: 20 };

async function realistic(t: { teardown: (fn: () => unknown) => void }, timing = TIMING, defaultFirewalls = false): Promise<FakeCompute> {
  const fake = await startSeededFake({ timing, defaultFirewalls });
  t.teardown(() => fake.close());
  return fake;
}

const HA = ['--ha', '--health-timeout', '10m'];

t.test('HA: a stockout while the group creates its VMs fails fast with the cause', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.store.failMigCreates(PROJECT, REGION, `${GW}-mig`, {
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    message: "The zone 'projects/test-project/zones/us-central1-a' does not have enough resources available to fulfill the request.",
  });
  // Would take the 10 min health timeout (and time the test out) if the cause were not followed.
  const failed = await run('provision', baseArgs(fake, HA));
  t.equal(failed.code, 1);
  t.match(
    failed.stderr,
    /the managed instance group natgw-us-central1-mig could not create natgw-us-central1-[a-z0-9]{4}, natgw-us-central1-[a-z0-9]{4}: ZONE_RESOURCE_POOL_EXHAUSTED: The zone .* does not have enough resources.*a stockout\): provision with other --zones or another --machine-type/,
  );
  t.same(haInventory(fake).routes, [], 'no route to a gateway without VMs');
});

t.test("HA: a quota refusal of the group's creates fails fast, rolls back this run, and a re-run converges", async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.store.failMigCreates(
    PROJECT,
    REGION,
    `${GW}-mig`,
    { code: 'QUOTA_EXCEEDED', message: "Quota 'CPUS' exceeded. Limit: 2.0 in region us-central1." },
    2,
  );
  const failed = await run('provision', baseArgs(fake, HA));
  t.equal(failed.code, 1);
  t.match(
    failed.stderr,
    /could not create .*QUOTA_EXCEEDED: Quota 'CPUS' exceeded\. Limit: 2\.0 in region us-central1\. Quota CPUS is exhausted: raise it/,
  );
  t.match(
    failed.stderr,
    /Rolled back what this run created: NAT VMs .*managed instance group natgw-us-central1-mig.*address natgw-us-central1-ip-1/,
  );
  const left = haInventory(fake);
  t.same({ ...left, instances: [] }, EMPTY_HA_INVENTORY, 'nothing of this run is left');
  const rerun = await run('provision', baseArgs(fake, HA));
  t.equal(rerun.code, 0, rerun.stderr);
  t.equal(haInventory(fake).routes!.length, 1);
});

t.test('HA scale-down: an address is released only once its VM is gone', async (t) => {
  // The VM goes well after deleteInstances is DONE: longer than the rest of the run takes.
  const fake = await realistic(t, { ...TIMING, migActionMs: 1500 });
  simulateAgent(fake);
  t.equal((await run('provision', baseArgs(fake, ['--ha', '--size', '3']))).code, 0);
  const releasedWhileHeld: string[] = [];
  fake.store.on('delete', (event: { collection: string; name: string; resource: Json }) => {
    if (event.collection !== 'addresses') return;
    const holders = fake.store
      .all('instances')
      .filter((entry) => JSON.stringify(entry.resource.networkInterfaces).includes(String(event.resource.address)));
    if (holders.length > 0) releasedWhileHeld.push(`${event.name} held by ${holders.map((holder) => holder.name).join(',')}`);
  });
  const down = await run('provision', baseArgs(fake, ['--ha', '--size', '2', '--yes']));
  t.equal(down.code, 0, down.stderr);
  t.match(down.stderr, /waiting until natgw-us-central1-[a-z0-9]{4} is gone/);
  t.same(releasedWhileHeld, [], 'no address released while a VM still held it');
  t.same(haInventory(fake).addresses, [`${GW}-ip-1`, `${GW}-ip-2`]);
});

t.test('HA: an org policy against external IPs is named, and nothing of the run is left', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmExternalIpAccess');
  const failed = await run('provision', baseArgs(fake, HA));
  t.equal(failed.code, 1);
  t.match(
    failed.stderr,
    /Refused by the organization policy constraints\/compute\.vmExternalIpAccess: natgw needs an external IP on the NAT VM/,
  );
  t.match(failed.stderr, /Rolled back what this run created: /);
  const left = haInventory(fake);
  t.same(left, EMPTY_HA_INVENTORY);
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmExternalIpAccess', false);
  const rerun = await run('provision', baseArgs(fake, HA));
  t.equal(rerun.code, 0, rerun.stderr);
  t.equal(haInventory(fake).instances!.length, 2);
});

t.test('HA: default-allow-ssh is warned about by provision and status; route warnings are in status', async (t) => {
  const fake = await realistic(t, TIMING, true);
  simulateAgent(fake);
  const provisioned = await run('provision', baseArgs(fake, ['--ha']));
  t.equal(provisioned.code, 0, provisioned.stderr);
  t.match(provisioned.stderr, /warning: firewall rule default-allow-ssh lets the internet \(0\.0\.0\.0\/0\) reach the NAT VM on tcp:22/);
  const status = await run('status', baseArgs(fake));
  t.equal(status.code, 0, status.stderr);
  t.match(status.stderr, /warning: firewall rule default-allow-ssh/);
  t.match(JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout), {
    mode: 'ha',
    warnings: [/default-allow-ssh/],
    route: { warnings: [] },
  });
});
