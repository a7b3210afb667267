// Managed instance groups in the fake, through the real client: actions are DONE when accepted, VMs appear and go
// later; failed creates show only in listManagedInstances (currentAction, lastAttempt) and listErrors.
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { computeClientClass } from '../provision/gcp/client.js';
import { clientOptionsFor } from './helpers/compute-client.js';
import { startFakeCompute, type Timing } from '../lab/compute-api/index.js';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const MIG = 'nat-mig';

async function fixture(t: Test, timing: Timing) {
  const fake = await startFakeCompute({ timing });
  const options = clientOptionsFor(fake);
  const c = {
    templates: new (computeClientClass('InstanceTemplatesClient'))(options),
    migs: new (computeClientClass('RegionInstanceGroupManagersClient'))(options),
    addresses: new (computeClientClass('AddressesClient'))(options),
    regionOps: new (computeClientClass('RegionOperationsClient'))(options),
    globalOps: new (computeClientClass('GlobalOperationsClient'))(options),
  };
  t.teardown(async () => {
    await Promise.all(Object.values(c).map((client) => client.close()));
    await fake.close();
  });
  const [template] = await c.templates.insert({
    project: PROJECT,
    instanceTemplateResource: {
      name: 'nat-template',
      properties: {
        machineType: 'e2-small',
        canIpForward: true,
        disks: [
          {
            boot: true,
            autoDelete: true,
            initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-13', diskType: 'pd-balanced' },
          },
        ],
        networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
      },
    },
  });
  await waitOp(c, template.latestResponse as unknown as { name: string; status: string }, 'global');
  return { fake, c };
}

type Clients = Awaited<ReturnType<typeof fixture>>['c'];

async function waitOp(c: Clients, op: { name: string; status: string }, scope: 'global' | 'region') {
  let current = op as { name?: string | null; status?: unknown; error?: unknown };
  for (let attempt = 0; attempt < 50 && current.status !== 'DONE'; attempt++) {
    current =
      scope === 'global'
        ? (await c.globalOps.wait({ project: PROJECT, operation: op.name }))[0]
        : (await c.regionOps.wait({ project: PROJECT, region: REGION, operation: op.name }))[0];
  }
  return current;
}

/**
 * How long the fake takes to carry out a MIG action in the tests that look at the group while it works: their reads
 * between the request and the action must all land inside it, on a box that may be loaded (400 ms once was not).
 */
const MIG_ACTION_MS = 2000;

/** Polls (bounded) until the condition holds; returns its last value. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

const insertMig = (c: Clients, targetSize: number) =>
  c.migs.insert({
    project: PROJECT,
    region: REGION,
    instanceGroupManagerResource: {
      name: MIG,
      baseInstanceName: 'nat',
      instanceTemplate: 'global/instanceTemplates/nat-template',
      targetSize,
      distributionPolicy: { zones: [{ zone: `zones/${REGION}-a` }, { zone: `zones/${REGION}-b` }] },
    },
  });

const managed = async (c: Clients) =>
  (await c.migs.listManagedInstances({ project: PROJECT, region: REGION, instanceGroupManager: MIG }))[0];
const errors = async (c: Clients) => (await c.migs.listErrors({ project: PROJECT, region: REGION, instanceGroupManager: MIG }))[0];

t.test('insert and createInstances: DONE when accepted, the VMs are CREATING without a status until migActionMs later', async (t) => {
  const { fake, c } = await fixture(t, { operationMs: 0, migActionMs: MIG_ACTION_MS });
  const [lro] = await insertMig(c, 1);
  t.equal((await waitOp(c, lro.latestResponse as unknown as { name: string; status: string }, 'region')).status, 'DONE');
  const during = await managed(c);
  t.equal(during.length, 1);
  t.match(during[0], { currentAction: 'CREATING' });
  t.notOk(during[0]?.instanceStatus, 'no instanceStatus while creating');
  t.equal(fake.store.all('instances').length, 0, 'no VM yet');
  const [mig] = await c.migs.get({ project: PROJECT, region: REGION, instanceGroupManager: MIG });
  t.equal(mig.status?.isStable, false, 'the group is not stable while it works');
  t.equal(mig.currentActions?.creating, 1);
  const after = await until(
    'VM created',
    () => managed(c),
    (list) => list.length === 1 && list[0]?.currentAction === 'NONE',
  );
  t.equal(after[0]?.instanceStatus, 'RUNNING');
  t.equal(fake.store.all('instances').length, 1);

  await c.migs.createInstances({
    project: PROJECT,
    region: REGION,
    instanceGroupManager: MIG,
    regionInstanceGroupManagersCreateInstancesRequestResource: { instances: [{ name: 'nat-x' }] },
  });
  t.match(
    (await managed(c)).find((vm) => vm.name === 'nat-x'),
    { currentAction: 'CREATING' },
  );
  await until(
    'nat-x created',
    () => managed(c),
    (list) => list.some((vm) => vm.name === 'nat-x' && vm.instanceStatus === 'RUNNING'),
  );
});

t.test('deleteInstances and resize down: DELETING while the VM still holds its address, released only once it is gone', async (t) => {
  const { fake, c } = await fixture(t, { operationMs: 0, migActionMs: MIG_ACTION_MS });
  await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'ip-a' } });
  const ip = String(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip-a')?.address);
  await insertMig(c, 0);
  await c.migs.createInstances({
    project: PROJECT,
    region: REGION,
    instanceGroupManager: MIG,
    regionInstanceGroupManagersCreateInstancesRequestResource: {
      instances: [
        {
          name: 'nat-a',
          preservedState: { externalIPs: { nic0: { autoDelete: 'NEVER', ipAddress: { address: `regions/${REGION}/addresses/ip-a` } } } },
        },
      ],
    },
  });
  await until(
    'nat-a running',
    () => managed(c),
    (list) => list[0]?.instanceStatus === 'RUNNING',
  );
  t.equal(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip-a')?.status, 'IN_USE');
  const vm = (await managed(c))[0]!;
  const [lro] = await c.migs.deleteInstances({
    project: PROJECT,
    region: REGION,
    instanceGroupManager: MIG,
    regionInstanceGroupManagersDeleteInstancesRequestResource: { instances: [String(vm.instance)] },
  });
  t.equal((await waitOp(c, lro.latestResponse as unknown as { name: string; status: string }, 'region')).status, 'DONE');
  t.match((await managed(c))[0], { currentAction: 'DELETING', instanceStatus: 'STOPPING' });
  t.equal(
    fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip-a')?.status,
    'IN_USE',
    'the address is still in use right after DONE',
  );
  await t.rejects(c.addresses.delete({ project: PROJECT, region: REGION, address: 'ip-a' }), { code: 400 }, 'so releasing it now fails');
  await until(
    'nat-a gone',
    () => managed(c),
    (list) => list.length === 0,
  );
  t.equal(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip-a')?.status, 'RESERVED');
  t.equal(ip, String(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip-a')?.address));

  await c.migs.resize({ project: PROJECT, region: REGION, instanceGroupManager: MIG, size: 2 });
  await until(
    'two VMs',
    () => managed(c),
    (list) => list.length === 2 && list.every((member) => member.instanceStatus === 'RUNNING'),
  );
  await c.migs.resize({ project: PROJECT, region: REGION, instanceGroupManager: MIG, size: 1 });
  t.equal((await managed(c)).filter((member) => member.currentAction === 'DELETING').length, 1);
  await until(
    'one VM',
    () => managed(c),
    (list) => list.length === 1,
  );
});

t.test('failMigCreates: CREATING with lastAttempt.errors, listErrors items, no VM; GCE-style retries succeed once it clears', async (t) => {
  const { fake, c } = await fixture(t, { operationMs: 0, migActionMs: 200 });
  fake.store.failMigCreates(
    PROJECT,
    REGION,
    MIG,
    {
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      message: "The zone 'projects/test-project/zones/us-central1-a' does not have enough resources available to fulfill the request.",
    },
    2,
  );
  await insertMig(c, 1);
  // The VMs are counted in the same read that sees the first failure: the third attempt (the one that succeeds) comes
  // 2 × 500 ms later, which a loaded box can let pass before a separate read.
  const { list: failing, instances } = await until(
    'a failed attempt',
    async () => {
      const list = await managed(c);
      return { list, instances: fake.store.all('instances').length };
    },
    ({ list }) => list[0]?.lastAttempt?.errors?.errors?.length === 1,
  );
  t.match(failing[0], {
    currentAction: 'CREATING',
    lastAttempt: { errors: { errors: [{ code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: /does not have enough resources/ }] } },
  });
  t.notOk(failing[0]?.instanceStatus);
  const [first] = await errors(c);
  t.match(first, {
    error: { code: 'ZONE_RESOURCE_POOL_EXHAUSTED' },
    instanceActionDetails: { action: 'CREATING', instance: /\/instances\/nat-/ },
  });
  t.ok(first?.timestamp);
  t.equal(instances, 0, 'no instance appears');
  await until(
    'created after two failures',
    () => managed(c),
    (list) => list[0]?.instanceStatus === 'RUNNING',
    15_000,
  );
  t.equal((await errors(c)).length, 2, 'each failed attempt is listed');
});

t.test('quota and org policy at VM creation surface as MIG errors, not as a failed operation', async (t) => {
  const { fake, c } = await fixture(t, { operationMs: 0, migActionMs: 0 });
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmCanIpForward');
  const [lro] = await insertMig(c, 1);
  const op = (await waitOp(c, lro.latestResponse as unknown as { name: string; status: string }, 'region')) as {
    error?: unknown;
    status?: unknown;
  };
  t.equal(op.status, 'DONE');
  t.notOk(op.error, 'the insert itself succeeded');
  t.match((await errors(c))[0], {
    error: { code: 'CONDITION_NOT_MET', message: /Constraint constraints\/compute\.vmCanIpForward violated/ },
  });
  t.match((await managed(c))[0], { currentAction: 'CREATING' });
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmCanIpForward', false);
  fake.store.setQuota(PROJECT, REGION, 'E2_CPUS', 1);
  await until(
    'a quota error',
    () => errors(c),
    (items) => items.some((item) => item.error?.code === 'QUOTA_EXCEEDED'),
  );
  fake.store.setQuota(PROJECT, REGION, 'E2_CPUS', 24);
  await until(
    'created',
    () => managed(c),
    (list) => list[0]?.instanceStatus === 'RUNNING',
  );
});

t.test(
  'applyUpdatesToInstances REPLACE: RECREATING (PROVISIONING) until migActionMs later, then the same name with a new id',
  async (t) => {
    const { c } = await fixture(t, { operationMs: 0, migActionMs: MIG_ACTION_MS });
    await insertMig(c, 1);
    const [before] = await until(
      'one VM',
      () => managed(c),
      (list) => list[0]?.instanceStatus === 'RUNNING',
    );
    await c.migs.applyUpdatesToInstances({
      project: PROJECT,
      region: REGION,
      instanceGroupManager: MIG,
      regionInstanceGroupManagersApplyUpdatesRequestResource: { instances: [String(before!.instance)], minimalAction: 'REPLACE' },
    });
    t.match((await managed(c))[0], { name: before!.name, currentAction: 'RECREATING', instanceStatus: 'PROVISIONING' });
    const [after] = await until(
      'recreated',
      () => managed(c),
      (list) => list[0]?.currentAction === 'NONE',
    );
    t.equal(after!.name, before!.name, 'same name');
    t.not(String(after!.id), String(before!.id), 'a new VM');
    t.equal(after!.instanceStatus, 'RUNNING');
  },
);
