// provision --fallback cloud-nat against the fake Compute API with the real client: golden output of provision,
// status and destroy in the three modes; a reused router keeps everything that is not natgw's; a changed setting
// patches only natgw's NAT config; a bad --fallback changes nothing; the client route the fallback watcher demotes
// and restores is exactly the one provision wants.
import t from 'tap';
import { connectCompute } from '../provision/gcp/client.js';
import type { Json } from '../lab/compute-api/index.js';
import { fresh, golden, GW, MODES, type Gcp } from './fixtures/provision/golden.js';
import { baseArgs, PROJECT, REGION, run } from './fixtures/provision/helpers.js';
import { realClock } from '../common/clock.js';
import { failBack, fallBack, readGatewayRoutes } from '../fallback/routes.js';
import type { CallContext } from '../provision/gcp/call.js';
import { desiredFromRoute } from '../provision/kinds/route.js';

const FALLBACK = ['--fallback', 'cloud-nat'];
const SCOPE = `regions/${REGION}`;
const NETWORK = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;
const subnet = (name: string) => `https://www.googleapis.com/compute/v1/projects/${PROJECT}/${SCOPE}/subnetworks/${name}`;

const routers = (gcp: Gcp) => gcp.fake.store.list(PROJECT, SCOPE, 'routers');
const natNames = (router: Json | undefined) => ((router?.nats as Json[] | undefined) ?? []).map((nat) => nat.name);

for (const { mode, flags } of MODES) {
  t.test(`${mode}: provision --fallback cloud-nat, a second run, status, destroy (text and --json)`, async (t) => {
    const gcp = await fresh(t, mode);
    const steps: [string, 'provision' | 'status' | 'destroy', string[]][] = [
      ['provision --fallback cloud-nat --dry-run', 'provision', [...flags, ...FALLBACK, '--dry-run']],
      ['provision --fallback cloud-nat', 'provision', [...flags, ...FALLBACK]],
      ['provision --fallback cloud-nat again', 'provision', [...flags, ...FALLBACK]],
      ['provision --fallback cloud-nat again --json', 'provision', [...flags, ...FALLBACK, '--json']],
      ['status', 'status', []],
      ['status --json', 'status', ['--json']],
      ['destroy --dry-run', 'destroy', ['--dry-run']],
      ['destroy --yes', 'destroy', ['--yes']],
      ['status after destroy', 'status', []],
    ];
    for (const [label, command, args] of steps) {
      const result = await run(command, baseArgs(gcp.fake, args));
      t.matchSnapshot(golden(result, gcp), label);
    }
    t.same(routers(gcp), [], 'no router left');
    t.equal(gcp.fake.store.get(PROJECT, 'global', 'routes', `${GW}-probe`), undefined, 'no probe route left');
  });
}

t.test('the router and NAT config are in GCE shape with the seed settings; the probe route has the client route next hop', async (t) => {
  const gcp = await fresh(t, 'ha');
  t.equal((await run('provision', baseArgs(gcp.fake, ['--ha', ...FALLBACK, '--subnets', 'apps:ALL,db']))).code, 0);
  const [router] = routers(gcp);
  t.match(router, { name: `${GW}-router`, network: NETWORK, description: /^natgw-gateway=natgw-us-central1;/ });
  t.match((router?.nats as Json[] | undefined)?.[0], {
    name: `${GW}-fallback`,
    natIpAllocateOption: 'AUTO_ONLY',
    sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
    subnetworks: [
      { name: subnet('apps'), sourceIpRangesToNat: ['ALL_IP_RANGES'] },
      { name: subnet('db'), sourceIpRangesToNat: ['PRIMARY_IP_RANGE'] },
    ],
    minPortsPerVm: 64,
    udpIdleTimeoutSec: 30,
    tcpEstablishedIdleTimeoutSec: 1200,
    tcpTransitoryIdleTimeoutSec: 30,
    logConfig: { enable: true, filter: 'ALL' },
  });
  const client = gcp.fake.store.get(PROJECT, 'global', 'routes', `${GW}-default`)!;
  const probe = gcp.fake.store.get(PROJECT, 'global', 'routes', `${GW}-probe`)!;
  t.match(probe, { tags: [`${GW}-probe`], nextHopIlb: client.nextHopIlb, priority: client.priority, destRange: '0.0.0.0/0' });
});

t.test(
  'a reused router keeps what is not natgw’s; a changed setting patches only natgw’s NAT config; destroy takes only it away',
  async (t) => {
    const gcp = await fresh(t, 'single');
    const theirs = {
      name: 'theirs',
      natIpAllocateOption: 'AUTO_ONLY',
      sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
      subnetworks: [{ name: subnet('db'), sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
      minPortsPerVm: 128,
      udpIdleTimeoutSec: 30,
      icmpIdleTimeoutSec: 30,
      tcpEstablishedIdleTimeoutSec: 1200,
      tcpTransitoryIdleTimeoutSec: 30,
      tcpTimeWaitTimeoutSec: 120,
      enableDynamicPortAllocation: false,
      logConfig: { enable: false, filter: 'ALL' },
      // As GCE fills them in: a NAT config read back and written again by natgw must come out the same.
      natIps: [],
      enableEndpointIndependentMapping: false,
      type: 'PUBLIC',
      endpointTypes: ['ENDPOINT_TYPE_VM'],
      autoNetworkTier: 'PREMIUM',
    };
    gcp.fake.store.put(PROJECT, SCOPE, 'routers', {
      name: 'corp-router',
      network: NETWORK,
      description: 'the VPN router',
      bgp: { asn: 64512 },
      bgpPeers: [{ name: 'onprem', peerIpAddress: '169.254.0.2', peerAsn: 65001 }],
      nats: [theirs],
    });
    const before = structuredClone(routers(gcp)[0]!);
    const args = ['--subnets', 'apps:ALL', ...FALLBACK];
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...args, '--dry-run'])), gcp), 'reused router: provision --dry-run');
    const first = await run('provision', baseArgs(gcp.fake, args));
    t.equal(first.code, 0, first.stderr);
    t.match(first.stdout, /= router\s+corp-router\s+keep\s+\(the network's Cloud Router in this region, not natgw's/);
    t.equal(routers(gcp).length, 1, 'no router of its own');
    const reused = routers(gcp)[0]!;
    t.same(natNames(reused), ['theirs', `${GW}-fallback`]);
    t.same((reused.nats as Json[])[0], theirs, 'their NAT config as it was');
    for (const field of ['description', 'bgp', 'bgpPeers', 'network', 'id', 'selfLink']) t.same(reused[field], before[field], field);

    gcp.fake.api.requests.length = 0;
    t.matchSnapshot(
      golden(await run('provision', baseArgs(gcp.fake, [...args, '--udp-timeout', '60s', '--dry-run'])), gcp),
      'reused router: a changed setting --dry-run',
    );
    gcp.fake.api.requests.length = 0;
    const changed = await run('provision', baseArgs(gcp.fake, [...args, '--udp-timeout', '60s']));
    t.equal(changed.code, 0, changed.stderr);
    t.match(changed.stdout, /~ routerNat\s+corp-router\/natgw-us-central1-fallback\s+update\n\s+udpIdleTimeoutSec: 30 → 60/);
    t.same(
      gcp.fake.api.mutations().map((request) => request.method),
      ['compute.instances.setMetadata', 'compute.routers.patch'],
      'the agent config and natgw’s NAT config, nothing else',
    );
    t.same((routers(gcp)[0]!.nats as Json[])[0], theirs, 'theirs untouched by the patch');
    t.equal((routers(gcp)[0]!.nats as Json[])[1]!.udpIdleTimeoutSec, 60);

    gcp.fake.api.requests.length = 0;
    const again = await run('provision', baseArgs(gcp.fake, [...args, '--udp-timeout', '60s']));
    t.match(again.stdout, /Up to date: nothing to do/);
    t.same(gcp.fake.api.mutations(), [], 're-running is a no-op');

    t.matchSnapshot(golden(await run('status', baseArgs(gcp.fake)), gcp), 'reused router: status');
    t.matchSnapshot(golden(await run('destroy', baseArgs(gcp.fake, ['--dry-run'])), gcp), 'reused router: destroy --dry-run');
    const destroyed = await run('destroy', baseArgs(gcp.fake, ['--yes']));
    t.equal(destroyed.code, 0, destroyed.stderr);
    t.match(destroyed.stdout, /- routerNat\s+corp-router\/natgw-us-central1-fallback\s+delete/);
    t.match(destroyed.stdout, /= router\s+corp-router\s+keep\s+\(not created by natgw: only its NAT config is removed\)/);
    const left = routers(gcp)[0]!;
    t.same(natNames(left), ['theirs'], 'their NAT config stays');
    for (const field of ['description', 'bgp', 'bgpPeers', 'network', 'id']) t.same(left[field], before[field], field);
  },
);

t.test('destroy empties a reused router that held only natgw’s NAT config (update, as a patch cannot), and keeps the router', async (t) => {
  const gcp = await fresh(t, 'single');
  gcp.fake.store.put(PROJECT, SCOPE, 'routers', { name: 'plain-router', network: NETWORK, nats: [] });
  t.equal((await run('provision', baseArgs(gcp.fake, FALLBACK))).code, 0);
  t.same(natNames(routers(gcp)[0]), [`${GW}-fallback`]);
  gcp.fake.api.requests.length = 0;
  t.equal((await run('destroy', baseArgs(gcp.fake, ['--yes']))).code, 0);
  t.ok(gcp.fake.api.methods().includes('compute.routers.update'));
  t.same(
    routers(gcp).map((router) => [router.name, natNames(router)]),
    [['plain-router', []]],
  );
});

t.test('natgw’s own router is kept when someone else put a NAT config on it; only natgw’s NAT config goes', async (t) => {
  const gcp = await fresh(t, 'single');
  t.equal((await run('provision', baseArgs(gcp.fake, ['--subnets', 'apps:ALL', ...FALLBACK]))).code, 0);
  const router = routers(gcp)[0]!;
  gcp.fake.store.update(PROJECT, SCOPE, 'routers', String(router.name), (resource) => {
    resource.nats = [
      ...(resource.nats as Json[]),
      {
        name: 'added-by-hand',
        natIpAllocateOption: 'AUTO_ONLY',
        sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
        subnetworks: [{ name: subnet('db'), sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
      },
    ];
  });
  const destroyed = await run('destroy', baseArgs(gcp.fake, ['--yes']));
  t.equal(destroyed.code, 0, destroyed.stderr);
  t.match(destroyed.stdout, /created by natgw, but it now holds NAT configs or BGP sessions natgw did not create: left in place/);
  t.same(natNames(routers(gcp)[0]), ['added-by-hand']);
});

t.test('a Cloud NAT that already translates these subnets is a conflict: nothing is changed', async (t) => {
  const gcp = await fresh(t, 'single');
  gcp.fake.store.put(PROJECT, SCOPE, 'routers', {
    name: 'corp-router',
    network: NETWORK,
    nats: [{ name: 'everything', natIpAllocateOption: 'AUTO_ONLY', sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES' }],
  });
  gcp.fake.api.requests.length = 0;
  const result = await run('provision', baseArgs(gcp.fake, FALLBACK));
  t.equal(result.code, 1);
  t.match(result.stderr, /routerNat corp-router\/everything: Cloud NAT everything on router corp-router already translates subnets/);
  t.same(gcp.fake.api.mutations(), []);
});

t.test('--fallback other than cloud-nat: an error naming the flag, exit 2, not one API call', async (t) => {
  const gcp = await fresh(t, 'single');
  gcp.fake.api.requests.length = 0;
  const result = await run('provision', baseArgs(gcp.fake, ['--fallback', 'nat-vm']));
  t.equal(result.code, 2);
  t.match(result.stderr, /--fallback: 'nat-vm' is not a fallback natgw provides; the one there is: cloud-nat/);
  t.same(gcp.fake.api.requests, []);
  const status = await run('status', baseArgs(gcp.fake, FALLBACK));
  t.match(status.stderr, /--fallback: only 'natgw provision' takes this flag/);
});

t.test('the client route the fallback watcher demotes and restores is the one provision wants, in every mode', async (t) => {
  for (const { mode, flags } of MODES) {
    const gcp = await fresh(t, mode);
    const args = [...flags, ...FALLBACK, '--client-tag', 'egress', '--route-priority', '700'];
    t.equal((await run('provision', baseArgs(gcp.fake, args))).code, 0);
    const clients = await connectCompute({ host: '127.0.0.1', port: gcp.fake.port, protocol: 'http' }, { requestTimeoutMs: 10_000 });
    t.teardown(() => clients.close());
    const ctx: CallContext = { clients, clock: realClock, project: PROJECT, retryBaseMs: 1, maxAttempts: 2, operationTimeoutMs: 5000 };
    await fallBack(ctx, GW, await readGatewayRoutes(ctx, GW), new Date());
    t.equal(gcp.fake.store.get(PROJECT, 'global', 'routes', `${GW}-default`), undefined, `${mode}: natgw's route demoted`);
    await failBack(ctx, GW, await readGatewayRoutes(ctx, GW));
    gcp.fake.api.requests.length = 0;
    const again = await run('provision', baseArgs(gcp.fake, args));
    t.match(again.stdout, /Up to date: nothing to do/, `${mode}: provision sees no difference`);
    t.same(gcp.fake.api.mutations(), []);
  }
  t.throws(
    () =>
      desiredFromRoute(
        { name: 'x', nextHopGateway: 'global/gateways/default-internet-gateway' },
        { name: 'y', priority: 1, description: '' },
      ),
    /route x has neither an internal load balancer nor an instance as next hop/,
  );
});
