// The fake Compute API itself, through the real @google-cloud/compute client: asynchronous operations, injected faults
// (method, path, status, delay), quotas, machine and disk types, Arm images, org policies, route warnings, stop/start.
import t, { type Test } from 'tap';
import { computeClientClass } from '../provision/gcp/client.js';
import { clientOptionsFor } from './helpers/compute-client.js';
import { orgPolicyError, startFakeCompute, type FakeCompute, type Timing } from '../lab/compute-api/index.js';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const ZONE = 'us-central1-a';

async function connect(fake: FakeCompute) {
  const options = clientOptionsFor(fake);
  return {
    addresses: new (computeClientClass('AddressesClient'))(options),
    instances: new (computeClientClass('InstancesClient'))(options),
    routes: new (computeClientClass('RoutesClient'))(options),
    regions: new (computeClientClass('RegionsClient'))(options),
    machineTypes: new (computeClientClass('MachineTypesClient'))(options),
    diskTypes: new (computeClientClass('DiskTypesClient'))(options),
    images: new (computeClientClass('ImagesClient'))(options),
    regionOps: new (computeClientClass('RegionOperationsClient'))(options),
    zoneOps: new (computeClientClass('ZoneOperationsClient'))(options),
    globalOps: new (computeClientClass('GlobalOperationsClient'))(options),
  };
}

type Clients = Awaited<ReturnType<typeof connect>>;

async function fixture(t: Test, options: { timing?: Timing } = {}): Promise<{ fake: FakeCompute; c: Clients }> {
  const fake = await startFakeCompute(options);
  const c = await connect(fake);
  t.teardown(async () => {
    await Promise.all(Object.values(c).map((client) => client.close()));
    await fake.close();
  });
  return { fake, c };
}

/** What an operation looks like when the caller loops `wait` as it must; returns every status seen. */
async function waitDone(wait: (name: string) => Promise<unknown>, op: { name?: string | null; status?: unknown }) {
  const seen = [String(op.status)];
  let current = op as {
    name?: string | null;
    status?: unknown;
    error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
  };
  for (let attempt = 0; attempt < 50 && current.status !== 'DONE'; attempt++) {
    current = ((await wait(String(op.name))) as [typeof current])[0];
    seen.push(String(current.status));
  }
  return { op: current, seen };
}

const instanceBody = (name: string, extra: Record<string, unknown> = {}, boot: Record<string, unknown> = {}) => ({
  name,
  machineType: `zones/${ZONE}/machineTypes/e2-small`,
  disks: [
    {
      boot: true,
      autoDelete: true,
      initializeParams: {
        sourceImage: 'projects/debian-cloud/global/images/family/debian-13',
        diskType: `zones/${ZONE}/diskTypes/pd-balanced`,
        ...boot,
      },
    },
  ],
  networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
  ...extra,
});

t.test('operations go PENDING → RUNNING → DONE over operationMs; wait returns early at the cap, callers loop', async (t) => {
  // The operations' clock moves 150 ms per wait call, whatever the box's speed: the phases follow from it alone.
  let clock = 1_000_000;
  const { fake, c } = await fixture(t, { timing: { operationMs: 400, waitCapMs: 100, now: () => clock } });
  const [lro] = await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'ip1' } });
  const first = lro.latestResponse as unknown as { name: string; status: unknown };
  t.equal(first.status, 'PENDING', 'a fresh operation is PENDING');
  const { op, seen } = await waitDone((name) => {
    clock += 150;
    return c.regionOps.wait({ project: PROJECT, region: REGION, operation: name });
  }, first);
  t.equal(op.status, 'DONE');
  t.ok(seen.includes('RUNNING'), `RUNNING seen on the way: ${seen.join(' → ')}`);
  t.ok(seen.length >= 3, 'the 100 ms wait cap made the caller loop');
  t.equal(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip1')?.status, 'RESERVED');
});

t.test('default timing stays instant: the first wait reports DONE', async (t) => {
  const { c } = await fixture(t);
  const [lro] = await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'ip1' } });
  const [op] = await c.regionOps.wait({
    project: PROJECT,
    region: REGION,
    operation: String((lro.latestResponse as { name: string }).name),
  });
  t.equal(op.status, 'DONE');
});

t.test('faults: on method and path, any number of times, 500/502/503/504/429/403, late answers', async (t) => {
  const { fake, c } = await fixture(t);
  fake.api.inject({ path: /\/addresses\/ip-b$/, status: 500, reason: 'backendError', times: 2 });
  for (const attempt of [1, 2])
    await t.rejects(c.addresses.get({ project: PROJECT, region: REGION, address: 'ip-b' }), { code: 500 }, `path fault ${attempt}`);
  await t.rejects(c.addresses.get({ project: PROJECT, region: REGION, address: 'ip-b' }), { code: 404 }, 'then the call goes through');
  await t.rejects(c.addresses.get({ project: PROJECT, region: REGION, address: 'ip-a' }), { code: 404 }, 'another path is untouched');
  for (const [status, reason] of [
    [502, 'badGateway'],
    [503, 'backendError'],
    [504, 'deadlineExceeded'],
    [429, 'rateLimitExceeded'],
    [403, 'rateLimitExceeded'],
  ] as const) {
    fake.api.inject({ method: 'compute.regions.get', status, reason });
    const error = await c.regions.get({ project: PROJECT, region: REGION }).then(
      () => undefined,
      (caught: unknown) => caught as { code: number; message: string },
    );
    t.equal(error?.code, status, `HTTP ${status}`);
    t.match(error?.message, reason);
  }
  fake.api.inject({ method: 'compute.regions.get', path: `/compute/v1/projects/${PROJECT}/regions/${REGION}`, delayMs: 300 });
  const started = Date.now();
  const [region] = await c.regions.get({ project: PROJECT, region: REGION });
  t.equal(region.name, REGION, 'a delay alone answers normally');
  t.ok(Date.now() - started >= 300, 'and late');
  fake.api.inject({ method: 'compute.instances.insert', ...orgPolicyError('constraints/compute.vmExternalIpAccess') });
  await t.rejects(c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody('vm1') }), {
    code: 412,
    message: /Constraint constraints\/compute\.vmExternalIpAccess violated for project test-project/,
  });
});

t.test(
  'quotas: regions.get reports live usage; an insert over a quota finishes DONE with QUOTA_EXCEEDED and creates nothing',
  async (t) => {
    const { fake, c } = await fixture(t);
    const quota = async (metric: string) =>
      (await c.regions.get({ project: PROJECT, region: REGION }))[0].quotas?.find((q) => q.metric === metric);
    t.match(await quota('STATIC_ADDRESSES'), { limit: 8, usage: 0 });
    t.match(await quota('CPUS'), { limit: 24, usage: 0 });
    fake.store.setQuota(PROJECT, REGION, 'STATIC_ADDRESSES', 1);
    const insert = async (name: string) => {
      const [lro] = await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name } });
      return (
        await waitDone(
          (op) => c.regionOps.wait({ project: PROJECT, region: REGION, operation: op }),
          lro.latestResponse as unknown as { name: string; status: unknown },
        )
      ).op;
    };
    t.notOk((await insert('ip1')).error, 'the first address fits');
    t.match(await quota('STATIC_ADDRESSES'), { limit: 1, usage: 1 });
    const failed = await insert('ip2');
    t.equal(failed.status, 'DONE');
    t.same(
      failed.error?.errors?.map((e) => ({ code: e.code, message: e.message })),
      [{ code: 'QUOTA_EXCEEDED', message: "Quota 'STATIC_ADDRESSES' exceeded. Limit: 1.0 in region us-central1." }],
    );
    t.equal(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip2'), undefined, 'nothing created');

    fake.store.setQuota(PROJECT, REGION, 'E2_CPUS', 4, 3);
    t.match(await quota('E2_CPUS'), { limit: 4, usage: 3 }, 'given usage is added to the live count');
    const [lro] = await c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody('vm1') });
    const { op } = await waitDone(
      (name) => c.zoneOps.wait({ project: PROJECT, zone: ZONE, operation: name }),
      lro.latestResponse as unknown as { name: string; status: unknown },
    );
    t.match(op.error?.errors?.[0], { code: 'QUOTA_EXCEEDED', message: /'E2_CPUS' exceeded\. Limit: 4\.0/ });
    t.equal(fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', 'vm1'), undefined);
  },
);

t.test('machine types, disk types and images: Arm needs an arm64 image, C4/N4/C4A Hyperdisk, T2A no Hyperdisk', async (t) => {
  const { fake, c } = await fixture(t);
  const [t2a] = await c.machineTypes.get({ project: PROJECT, zone: ZONE, machineType: 't2a-standard-1' });
  t.match(t2a, { name: 't2a-standard-1', guestCpus: 1, architecture: 'ARM64' });
  const [types] = await c.machineTypes.list({ project: PROJECT, zone: ZONE });
  t.same(types.map((type) => type.name).sort(), [
    'c3-standard-4',
    'c4-standard-2',
    'c4a-standard-1',
    'e2-medium',
    'e2-micro',
    'e2-small',
    'e2-standard-2',
    'n2d-standard-2',
    'n4-standard-2',
    't2a-standard-1',
  ]);
  await t.rejects(c.machineTypes.get({ project: PROJECT, zone: ZONE, machineType: 'x9-huge' }), { code: 404 });
  const [disks] = await c.diskTypes.list({ project: PROJECT, zone: ZONE });
  t.same(disks.map((disk) => disk.name).sort(), ['hyperdisk-balanced', 'pd-balanced', 'pd-ssd', 'pd-standard']);
  const [arm] = await c.images.getFromFamily({ project: 'debian-cloud', family: 'debian-13-arm64' });
  t.equal(arm.architecture, 'ARM64');

  const refused = async (body: Record<string, unknown>, pattern: RegExp) => {
    const error = await c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: body }).then(
      () => undefined,
      (caught: unknown) => caught as { code: number; message: string },
    );
    t.equal(error?.code, 400);
    t.match(error?.message, pattern);
  };
  await refused(
    instanceBody('a1', { machineType: `zones/${ZONE}/machineTypes/t2a-standard-1` }),
    /initializeParams\.sourceImage.*X86_64 is not compatible with machine type t2a-standard-1 \(ARM64\)/,
  );
  await refused(
    instanceBody('a2', { machineType: `zones/${ZONE}/machineTypes/c4-standard-2` }),
    /initializeParams\.diskType.*c4-standard-2 does not support disk type pd-balanced/,
  );
  await refused(
    instanceBody(
      'a3',
      { machineType: `zones/${ZONE}/machineTypes/t2a-standard-1` },
      { sourceImage: 'projects/debian-cloud/global/images/family/debian-13-arm64', diskType: `zones/${ZONE}/diskTypes/hyperdisk-balanced` },
    ),
    /t2a-standard-1 does not support disk type hyperdisk-balanced/,
  );
  await refused(
    instanceBody('a4', { machineType: `zones/${ZONE}/machineTypes/x9-huge` }),
    /'resource\.machineType'.*'x9-huge' does not exist in zone/,
  );
  t.equal(fake.store.all('instances').length, 0, 'nothing created');
  await c.instances.insert({
    project: PROJECT,
    zone: ZONE,
    instanceResource: instanceBody(
      'arm',
      { machineType: `zones/${ZONE}/machineTypes/c4a-standard-1` },
      { sourceImage: 'projects/debian-cloud/global/images/family/debian-13-arm64', diskType: `zones/${ZONE}/diskTypes/hyperdisk-balanced` },
    ),
  });
  t.ok(fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', 'arm'), 'an Arm VM with the arm64 image on Hyperdisk is created');
});

t.test('org policies refuse at insert with 412 naming the constraint, nothing created; lifting the policy lets it through', async (t) => {
  const { fake, c } = await fixture(t);
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmExternalIpAccess');
  const [lro] = await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'ip1' } });
  t.ok(lro, 'addresses are not affected');
  const ip = String(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip1')?.address);
  await t.rejects(
    c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody('vm1', {
        networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ natIP: ip }] }],
      }),
    }),
    {
      code: 412,
      message: /Constraint constraints\/compute\.vmExternalIpAccess violated for project test-project.*conditionNotMet/,
    },
  );
  t.equal(fake.store.get(PROJECT, `regions/${REGION}`, 'addresses', 'ip1')?.status, 'RESERVED', 'the address was not bound');
  await c.instances.insert({
    project: PROJECT,
    zone: ZONE,
    instanceResource: instanceBody('internal-only', { networkInterfaces: [{ network: 'global/networks/default' }] }),
  });
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmCanIpForward');
  await t.rejects(
    c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody('fwd', { canIpForward: true, networkInterfaces: [{ network: 'global/networks/default' }] }),
    }),
    {
      code: 412,
      message: /constraints\/compute\.vmCanIpForward/,
    },
  );
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmExternalIpAccess', false);
  fake.store.setOrgPolicy(PROJECT, 'constraints/compute.vmCanIpForward', false);
  await c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody('vm1', { canIpForward: true }) });
  t.same(
    fake.store
      .all('instances')
      .map((entry) => entry.name)
      .sort(),
    ['internal-only', 'vm1'],
  );
});

t.test('stop/start and route warnings: NEXT_HOP_NOT_RUNNING while stopped, NEXT_HOP_INSTANCE_NOT_FOUND once deleted', async (t) => {
  const { fake, c } = await fixture(t);
  await c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody('nat') });
  const nics = fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', 'nat')!.networkInterfaces as { accessConfigs: { natIP?: string }[] }[];
  const ephemeral = nics[0]!.accessConfigs[0]!.natIP;
  await c.routes.insert({
    project: PROJECT,
    routeResource: {
      name: 'r',
      network: 'global/networks/default',
      destRange: '0.0.0.0/0',
      nextHopInstance: `zones/${ZONE}/instances/nat`,
      priority: 800,
    },
  });
  const warnings = async () => ((await c.routes.get({ project: PROJECT, route: 'r' }))[0].warnings ?? []).map((warning) => warning.code);
  t.same(await warnings(), [], 'no warning while the VM runs');
  await c.instances.stop({ project: PROJECT, zone: ZONE, instance: 'nat' });
  const [stopped] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'nat' });
  t.equal(stopped.status, 'TERMINATED');
  t.equal(stopped.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? undefined, undefined, 'a stopped VM gives its ephemeral IP back');
  t.same(await warnings(), ['NEXT_HOP_NOT_RUNNING']);
  const [listed] = await c.routes.list({ project: PROJECT });
  t.same(
    listed[0]?.warnings?.map((warning) => warning.code),
    ['NEXT_HOP_NOT_RUNNING'],
    'list shows it too',
  );
  await c.instances.start({ project: PROJECT, zone: ZONE, instance: 'nat' });
  const [started] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'nat' });
  t.equal(started.status, 'RUNNING');
  t.ok(started.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP, 'a new ephemeral IP on start');
  t.not(started.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP, ephemeral);
  t.same(await warnings(), []);
  await c.instances.delete({ project: PROJECT, zone: ZONE, instance: 'nat' });
  t.same(await warnings(), ['NEXT_HOP_INSTANCE_NOT_FOUND']);
});

t.test('seed.defaultFirewalls adds default-allow-ssh; without it the network has no rules', async (t) => {
  const plain = await startFakeCompute();
  t.teardown(() => plain.close());
  t.same(plain.store.all('firewalls'), []);
  const real = await startFakeCompute({ seed: { defaultFirewalls: true } });
  t.teardown(() => real.close());
  t.match(real.store.get(PROJECT, 'global', 'firewalls', 'default-allow-ssh'), {
    sourceRanges: ['0.0.0.0/0'],
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    direction: 'INGRESS',
  });
  t.equal(real.store.get(PROJECT, 'global', 'firewalls', 'default-allow-ssh')?.targetTags, undefined, 'applies to all instances');
});

t.test('guest attributes: writes above 3/s or 10/min are dropped silently when limits are on; unwritten keys are 404', async (t) => {
  const { fake, c } = await fixture(t);
  await c.instances.insert({
    project: PROJECT,
    zone: ZONE,
    instanceResource: instanceBody('vm', { metadata: { items: [{ key: 'enable-guest-attributes', value: 'TRUE' }] } }),
  });
  const read = async (key: string) =>
    (await c.instances.getGuestAttributes({ project: PROJECT, zone: ZONE, instance: 'vm', variableKey: key }))[0].variableValue;
  await t.rejects(read('natgw/health'), { code: 404 }, 'unwritten → 404');
  t.equal(fake.store.setGuestAttribute(PROJECT, ZONE, 'vm', 'natgw/health', 'a'), true, 'limits are off by default in unit tests');

  const limited = await startFakeCompute({ guestAttributeLimits: true });
  t.teardown(() => limited.close());
  limited.store.put(PROJECT, `zones/${ZONE}`, 'instances', { name: 'vm', status: 'RUNNING' });
  const write = (value: string, at: number) => limited.store.setGuestAttribute(PROJECT, ZONE, 'vm', 'natgw/health', value, at);
  const start = 1_000_000;
  t.same(
    [write('1', start), write('2', start + 100), write('3', start + 200), write('4', start + 300)],
    [true, true, true, false],
    'the 4th write within a second is dropped',
  );
  t.equal(limited.store.guestAttributesOf(PROJECT, ZONE, 'vm').get('natgw/health'), '3', 'the value before the dropped write stays');
  const landed = Array.from({ length: 8 }, (_, index) => write(`m${index}`, start + 2000 + index * 2000));
  t.same(landed, [true, true, true, true, true, true, false, false], 'at most 10 writes (dropped ones counted) per minute');
  t.equal(write('later', start + 70_000), true, 'a minute later writes land again');
});

t.test('a VM deleted and created again under the same name starts with no guest attributes and a fresh write rate', async (t) => {
  const limited = await startFakeCompute({ guestAttributeLimits: true });
  const c = await connect(limited);
  t.teardown(async () => {
    await Promise.all(Object.values(c).map((client) => client.close()));
    await limited.close();
  });
  const insert = () =>
    c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody('vm', { metadata: { items: [{ key: 'enable-guest-attributes', value: 'TRUE' }] } }),
    });
  await insert();
  const write = (value: string) => limited.store.setGuestAttribute(PROJECT, ZONE, 'vm', 'natgw/sync', value);
  const first = [write('1'), write('2'), write('3'), write('4')];
  t.same(first, [true, true, true, false], 'the old VM used up its rate');
  await c.instances.delete({ project: PROJECT, zone: ZONE, instance: 'vm' });
  await insert();
  t.equal(limited.store.guestAttributesOf(PROJECT, ZONE, 'vm').get('natgw/sync'), undefined, "the old VM's value went with it");
  t.equal(write('new'), true, "the new VM's first write lands: the old VM's writes do not count against it");
});
