// The fake's Cloud Routers and Cloud NAT configs, through the real @google-cloud/compute RoutersClient (REST): the
// stored shape the lab programs Cloud NAT from, GCE's defaults, its validation (naming the field), the JSON merge
// patch of `nats`, NAT IPs held IN_USE, the per-network limit, asynchronous operations.
import t, { type Test } from 'tap';
import type * as compute from '@google-cloud/compute';
import { computeClientClass } from '../provision/gcp/client.js';
import { clientOptionsFor } from './helpers/compute-client.js';
import { startFakeCompute, type Timing } from '../lab/compute-api/index.js';
import { ROUTERS_PER_NETWORK_PER_REGION } from '../lab/compute-api/apis/routers.js';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const BASE = 'https://www.googleapis.com/compute/v1/';
const SUBNETS = [
  { name: 'apps', ipCidrRange: '10.10.0.0/20', secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.20.0.0/16' }] },
  { name: 'data', ipCidrRange: '10.30.0.0/20' },
];

type Nat = compute.protos.google.cloud.compute.v1.IRouterNat;
type Router = compute.protos.google.cloud.compute.v1.IRouter;

async function fixture(t: Test, timing?: Timing) {
  const fake = await startFakeCompute({ seed: { subnets: SUBNETS }, ...(timing === undefined ? {} : { timing }) });
  const options = clientOptionsFor(fake);
  const routers = new (computeClientClass('RoutersClient'))(options);
  const addresses = new (computeClientClass('AddressesClient'))(options);
  const ops = new (computeClientClass('RegionOperationsClient'))(options);
  t.teardown(async () => {
    await Promise.all([routers.close(), addresses.close(), ops.close()]);
    await fake.close();
  });
  /** Runs a mutation to DONE as natgw does (looping wait); returns the operation's error codes, [] on success. */
  const done = async (call: Promise<[{ latestResponse: unknown }, ...unknown[]]>) => {
    const [lro] = await call;
    let op = lro.latestResponse as { name: string; status: unknown; error?: { errors?: { code?: string | null }[] | null } | null };
    for (let attempt = 0; attempt < 50 && op.status !== 'DONE'; attempt++)
      [op] = (await ops.wait({ project: PROJECT, region: REGION, operation: op.name })) as unknown as [typeof op];
    return (op.error?.errors ?? []).map((error) => String(error.code));
  };
  const insert = (router: Router) => done(routers.insert({ project: PROJECT, region: REGION, routerResource: router }) as never);
  const patch = (name: string, router: Router) =>
    done(routers.patch({ project: PROJECT, region: REGION, router: name, routerResource: router }) as never);
  const get = async (name: string) => (await routers.get({ project: PROJECT, region: REGION, router: name }))[0];
  return { fake, routers, addresses, insert, patch, get, done };
}

const autoNat = (extra: Nat = {}): Nat => ({
  name: 'fallback',
  natIpAllocateOption: 'AUTO_ONLY',
  sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
  ...extra,
});

/** The HTTP error the real client threw: status, reason, message. */
async function refusal(t: Test, call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const body = JSON.parse((error as Error).message) as { error: { code: number; message: string; errors: { reason: string }[] } };
    return { status: body.error.code, reason: body.error.errors[0]?.reason, message: body.error.message };
  }
  t.fail('the call was accepted');
  return { status: 0, reason: '', message: '' };
}

t.test('a router with a NAT config is stored in GCE REST shape, with the defaults GCE fills in', async (t) => {
  const { fake, insert, get, routers } = await fixture(t);
  t.same(await insert({ name: 'r1', network: 'global/networks/default', nats: [autoNat()] }), []);
  const router = await get('r1');
  t.equal(router.selfLink, `${BASE}projects/${PROJECT}/regions/${REGION}/routers/r1`);
  t.equal(router.network, `${BASE}projects/${PROJECT}/global/networks/default`);
  t.equal(router.region, `${BASE}projects/${PROJECT}/regions/${REGION}`);
  const [nat] = router.nats ?? [];
  t.match(nat, {
    name: 'fallback',
    natIpAllocateOption: 'AUTO_ONLY',
    sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
    minPortsPerVm: 64,
    enableDynamicPortAllocation: false,
    udpIdleTimeoutSec: 30,
    icmpIdleTimeoutSec: 30,
    tcpEstablishedIdleTimeoutSec: 1200,
    tcpTransitoryIdleTimeoutSec: 30,
    tcpTimeWaitTimeoutSec: 120,
    logConfig: { enable: false, filter: 'ALL' },
  });
  // What the lab reads to program Cloud NAT's data path.
  const [stored] = fake.store.list(PROJECT, `regions/${REGION}`, 'routers');
  t.equal(stored?.kind, 'compute#router');
  t.equal((stored?.nats as { name: string }[] | undefined)?.[0]?.name, 'fallback');
  const [listed] = await routers.list({ project: PROJECT, region: REGION });
  t.same(
    listed.map((item) => item.name),
    ['r1'],
  );
  t.match(
    await refusal(
      t,
      routers.insert({ project: PROJECT, region: REGION, routerResource: { name: 'r1', network: 'global/networks/default' } }),
    ),
    {
      status: 409,
      reason: 'alreadyExists',
    },
  );
});

t.test('router mutations are asynchronous operations with the fake timing', async (t) => {
  let clock = 1_000_000;
  const { routers, patch } = await fixture(t, { operationMs: 300, waitCapMs: 50, now: () => (clock += 100) });
  const [lro] = await routers.insert({
    project: PROJECT,
    region: REGION,
    routerResource: { name: 'r1', network: 'global/networks/default' },
  });
  t.equal((lro.latestResponse as unknown as { status: unknown }).status, 'PENDING', 'accepted, not done');
  t.same(await patch('r1', { nats: [autoNat()] }), [], 'a patch is an operation that ends DONE');
});

t.test('bad routers and NAT configs are refused with 400 naming the field; nothing is stored', async (t) => {
  const { fake, routers, addresses, done } = await fixture(t);
  await done(addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'nat-ip' } }) as never);
  const cases: [string, Router, RegExp][] = [
    ['router name', { name: 'Bad_Name', network: 'global/networks/default' }, /'resource.name'/],
    ['NAT name', { name: 'r', network: 'global/networks/default', nats: [autoNat({ name: '-x' })] }, /'resource.nats\[0\].name'/],
    [
      'duplicate NAT names',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [
          autoNat({
            sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
            subnetworks: [{ name: 'apps', sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
          }),
          autoNat({
            sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
            subnetworks: [{ name: 'data', sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
          }),
        ],
      },
      /'resource.nats\[1\].name'.*unique/,
    ],
    [
      'no allocate option',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [{ name: 'n', sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES' }],
      },
      /natIpAllocateOption/,
    ],
    [
      'natIps with AUTO_ONLY',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ natIps: [`regions/${REGION}/addresses/nat-ip`] })] },
      /'resource.nats\[0\].natIps'.*MANUAL_ONLY/,
    ],
    [
      'MANUAL_ONLY without IPs',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ natIpAllocateOption: 'MANUAL_ONLY' })] },
      /'resource.nats\[0\].natIps'/,
    ],
    [
      'MANUAL_ONLY with an unreserved address',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [autoNat({ natIpAllocateOption: 'MANUAL_ONLY', natIps: [`regions/${REGION}/addresses/nope`] })],
      },
      /'resource.nats\[0\].natIps\[0\]'.*reserved external address/,
    ],
    [
      'no subnet mode',
      { name: 'r', network: 'global/networks/default', nats: [{ name: 'n', natIpAllocateOption: 'AUTO_ONLY' }] },
      /sourceSubnetworkIpRangesToNat/,
    ],
    [
      'subnets without LIST_OF_SUBNETWORKS',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [autoNat({ subnetworks: [{ name: 'apps', sourceIpRangesToNat: ['ALL_IP_RANGES'] }] })],
      },
      /'resource.nats\[0\].subnetworks'/,
    ],
    [
      'an unknown subnet',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [
          autoNat({
            sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
            subnetworks: [{ name: 'nope', sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
          }),
        ],
      },
      /'resource.nats\[0\].subnetworks\[0\].name'/,
    ],
    [
      'an unknown secondary range',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [
          autoNat({
            sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
            subnetworks: [{ name: 'apps', sourceIpRangesToNat: ['LIST_OF_SECONDARY_IP_RANGES'], secondaryIpRangeNames: ['svc'] }],
          }),
        ],
      },
      /secondaryIpRangeNames'.*'svc'/,
    ],
    [
      'min ports not a power of two (dynamic)',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ enableDynamicPortAllocation: true, minPortsPerVm: 48 })] },
      /'resource.nats\[0\].minPortsPerVm'.*power of 2/,
    ],
    [
      'min ports below 32 (dynamic)',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ enableDynamicPortAllocation: true, minPortsPerVm: 16 })] },
      /minPortsPerVm/,
    ],
    [
      'max ports without dynamic allocation',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ maxPortsPerVm: 1024 })] },
      /'resource.nats\[0\].maxPortsPerVm'.*dynamic/,
    ],
    [
      'max below min',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [autoNat({ enableDynamicPortAllocation: true, minPortsPerVm: 1024, maxPortsPerVm: 512 })],
      },
      /'resource.nats\[0\].maxPortsPerVm'/,
    ],
    [
      'a zero timeout',
      { name: 'r', network: 'global/networks/default', nats: [autoNat({ udpIdleTimeoutSec: 0 })] },
      /'resource.nats\[0\].udpIdleTimeoutSec'/,
    ],
    [
      'EIM with dynamic allocation',
      {
        name: 'r',
        network: 'global/networks/default',
        nats: [autoNat({ enableDynamicPortAllocation: true, enableEndpointIndependentMapping: true })],
      },
      /enableEndpointIndependentMapping/,
    ],
  ];
  for (const [what, router, message] of cases) {
    const answer = await refusal(t, routers.insert({ project: PROJECT, region: REGION, routerResource: router }));
    t.equal(answer.status, 400, `${what}: 400`);
    t.match(answer.message, message, `${what}: names the field`);
  }
  t.match(
    await refusal(t, routers.insert({ project: PROJECT, region: REGION, routerResource: { name: 'r', network: 'global/networks/nope' } })),
    {
      status: 404,
      reason: 'notFound',
    },
  );
  t.same(fake.store.list(PROJECT, `regions/${REGION}`, 'routers'), [], 'nothing stored');
});

t.test('an unknown log filter or enum is refused before the handler (strict body)', async (t) => {
  const { fake } = await fixture(t);
  const response = await fetch(`${fake.url}/compute/v1/projects/${PROJECT}/regions/${REGION}/routers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'r',
      network: 'global/networks/default',
      nats: [{ ...autoNat(), logConfig: { enable: true, filter: 'SOME' } }],
    }),
  });
  t.equal(response.status, 400);
  t.match(await response.text(), /filter/);
});

t.test('patch is a JSON merge patch: nats replaces the whole list, the rest of the router stays', async (t) => {
  const { fake, insert, patch, get } = await fixture(t);
  await insert({
    name: 'r1',
    network: 'global/networks/default',
    description: 'theirs',
    bgp: { asn: 64512 },
    nats: [
      autoNat({
        name: 'theirs',
        sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
        subnetworks: [{ name: 'data', sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
      }),
    ],
  });
  const theirs = (await get('r1')).nats?.[0];
  const ours = autoNat({
    name: 'ours',
    sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
    subnetworks: [{ name: 'apps', sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
    logConfig: { enable: true, filter: 'ERRORS_ONLY' },
  });
  t.same(await patch('r1', { nats: [theirs!, ours] }), []);
  const after = await get('r1');
  t.same(
    after.nats?.map((nat) => nat.name),
    ['theirs', 'ours'],
  );
  t.equal(after.description, 'theirs');
  t.equal(Number(after.bgp?.asn), 64512);
  t.match(after.nats?.[1]?.logConfig, { enable: true, filter: 'ERRORS_ONLY' });
  t.same(await patch('r1', { nats: [theirs!] }), []);
  t.same(
    (await get('r1')).nats?.map((nat) => nat.name),
    ['theirs'],
    'a shorter list removes the rest',
  );
  t.match(
    fake.api.requests
      .filter((request) => request.method === 'compute.routers.patch')
      .map((request) => Object.keys(request.body as object).sort()),
    [['nats'], ['nats']],
    'the client sends only the fields given (a merge patch leaves the others alone)',
  );
  t.notOk(
    'fingerprint' in fake.store.get(PROJECT, `regions/${REGION}`, 'routers', 'r1')!,
    "GCE's Router has no fingerprint, patched or not",
  );
});

t.test('a subnet range is translated by one NAT config at most, across the routers of a network', async (t) => {
  const { routers, insert } = await fixture(t);
  t.same(await insert({ name: 'r1', network: 'global/networks/default', nats: [autoNat()] }), []);
  const answer = await refusal(
    t,
    routers.insert({
      project: PROJECT,
      region: REGION,
      routerResource: {
        name: 'r2',
        network: 'global/networks/default',
        nats: [
          autoNat({
            name: 'n2',
            sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
            subnetworks: [{ name: 'data', sourceIpRangesToNat: ['PRIMARY_IP_RANGE'] }],
          }),
        ],
      },
    }),
  );
  t.equal(answer.status, 400);
  t.match(answer.message, /data primary is already translated by NAT 'fallback' of router 'r1'/);
});

t.test('MANUAL_ONLY NAT IPs are IN_USE by the router until the NAT config or the router goes', async (t) => {
  const { addresses, insert, patch, done, routers } = await fixture(t);
  await done(addresses.insert({ project: PROJECT, region: REGION, addressResource: { name: 'nat-ip' } }) as never);
  await insert({
    name: 'r1',
    network: 'global/networks/default',
    nats: [autoNat({ natIpAllocateOption: 'MANUAL_ONLY', natIps: [`regions/${REGION}/addresses/nat-ip`] })],
  });
  const address = async () => (await addresses.get({ project: PROJECT, region: REGION, address: 'nat-ip' }))[0];
  t.equal((await address()).status, 'IN_USE');
  t.match((await address()).users, [/\/routers\/r1$/]);
  t.match(await refusal(t, addresses.delete({ project: PROJECT, region: REGION, address: 'nat-ip' })), {
    status: 400,
    reason: 'resourceInUseByAnotherResource',
  });
  t.match(
    await refusal(t, routers.patch({ project: PROJECT, region: REGION, router: 'r1', routerResource: { nats: [] } })),
    {
      status: 400,
      message: /Required field/,
    },
    'an empty nats list vanishes from a patch body: the client sends ""',
  );
  const [router] = await routers.get({ project: PROJECT, region: REGION, router: 'r1' });
  t.same(
    await done(routers.update({ project: PROJECT, region: REGION, router: 'r1', routerResource: { ...router, nats: [] } }) as never),
    [],
  );
  t.same((await routers.get({ project: PROJECT, region: REGION, router: 'r1' }))[0].nats, [], 'update (PUT) empties it');
  t.equal((await address()).status, 'RESERVED');
  await patch('r1', { nats: [autoNat({ natIpAllocateOption: 'MANUAL_ONLY', natIps: [`regions/${REGION}/addresses/nat-ip`] })] });
  t.same(await done(routers.delete({ project: PROJECT, region: REGION, router: 'r1' }) as never), []);
  t.equal((await address()).status, 'RESERVED', 'released with its router');
});

t.test('deleting a router that does not exist is 404; a deleted router is gone', async (t) => {
  const { routers, insert, done } = await fixture(t);
  t.match(await refusal(t, routers.delete({ project: PROJECT, region: REGION, router: 'nope' })), { status: 404, reason: 'notFound' });
  await insert({ name: 'r1', network: 'global/networks/default' });
  t.same(await done(routers.delete({ project: PROJECT, region: REGION, router: 'r1' }) as never), []);
  t.match(await refusal(t, routers.get({ project: PROJECT, region: REGION, router: 'r1' })), { status: 404 });
});

t.test(
  `at most ${ROUTERS_PER_NETWORK_PER_REGION} routers per network in a region: the next insert's operation fails QUOTA_EXCEEDED`,
  async (t) => {
    const { fake, insert } = await fixture(t);
    for (let index = 0; index < ROUTERS_PER_NETWORK_PER_REGION; index++)
      t.same(await insert({ name: `r${index}`, network: 'global/networks/default' }), []);
    t.same(await insert({ name: 'one-too-many', network: 'global/networks/default' }), ['QUOTA_EXCEEDED']);
    t.equal(fake.store.list(PROJECT, `regions/${REGION}`, 'routers').length, ROUTERS_PER_NETWORK_PER_REGION, 'nothing created');
  },
);
