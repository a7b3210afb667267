// The --fallback planner, pure: one fixture per kind of change (create, reuse, unchanged, update, replace, conflict,
// destroy), and how natgw's --subnets read in Cloud NAT's terms.
import t from 'tap';
import {
  desiredFallback,
  planDestroyFallback,
  planFallback,
  withFallbackPlan,
  type DesiredFallback,
  type ObservedFallback,
} from '../provision/fallback.js';
import type { Discovery } from '../provision/gateway.js';
import type { Router } from '../provision/gcp/routers.js';
import { routeBody, type DesiredRouteOf } from '../provision/kinds/route.js';
import { parseOptions } from '../provision/options.js';
import type { Plan } from '../provision/plan.js';

const GW = 'gw';
const BASE = 'https://www.googleapis.com/compute/v1/projects/p/';
const NETWORK = `${BASE}global/networks/default`;
const discovery = {
  network: { name: 'default', selfLink: NETWORK },
  zones: ['us-central1-a'],
  subnets: [
    {
      name: 'apps',
      selfLink: `${BASE}regions/us-central1/subnetworks/apps`,
      network: NETWORK,
      ipCidrRange: '10.10.0.0/20',
      secondaryIpRanges: [{ rangeName: 'pods', ipCidrRange: '10.20.0.0/16' }],
    },
    { name: 'db', selfLink: `${BASE}regions/us-central1/subnetworks/db`, network: NETWORK, ipCidrRange: '10.40.0.0/24' },
  ],
} as Discovery;
const clientRoute: DesiredRouteOf = {
  name: 'gw-default',
  network: 'projects/p/global/networks/default',
  destRange: '0.0.0.0/0',
  priority: 800,
  tags: ['gw-client'],
  nextHopInstance: 'zones/us-central1-a/instances/gw',
  description: 'natgw-gateway=gw; client route',
};

const want = (...flags: string[]): DesiredFallback => wantFor(clientRoute, ...flags);
const wantFor = (route: DesiredRouteOf, ...flags: string[]): DesiredFallback =>
  desiredFallback(
    parseOptions('provision', ['--project', 'proj-1', '--region', 'us-central1', '--name', GW, '--fallback', 'cloud-nat', ...flags]),
    discovery,
    route,
  );

/** What GCE holds after natgw provisioned `desired`: its router with its NAT config, and the probe route. */
function provisioned(desired: DesiredFallback, routerName = 'gw-router', description = 'natgw-gateway=gw; router'): ObservedFallback {
  const body = routeBody('p', desired.probeRoute);
  return {
    routers: [{ name: routerName, network: NETWORK, description, nats: [desired.nat] }],
    probeRoute: { ...body, network: NETWORK, nextHopInstance: `${BASE}${desired.probeRoute.nextHopInstance}` },
  };
}

const rows = (plan: Plan) => [...plan.conflicts, ...plan.changes].map((change) => `${change.kind} ${change.name} ${change.action}`);

t.test('nothing there: a router of its own with the NAT config, and the probe route', async (t) => {
  const plan = planFallback(GW, want(), { routers: [] }, 'create');
  t.same(rows(plan), ['router gw-router create', 'routerNat gw-router/gw-fallback create', 'route gw-probe create']);
  t.notOk(plan.upToDate);
});

t.test('a router of the network exists: reused (kept), only the NAT config is created', async (t) => {
  const theirs: Router = { name: 'corp', network: NETWORK, description: 'vpn', nats: [] };
  const elsewhere: Router = { name: 'aaa-other', network: `${BASE}global/networks/other`, nats: [] };
  const plan = planFallback(GW, want(), { routers: [elsewhere, theirs] }, 'create');
  t.same(rows(plan), ['router corp keep', 'routerNat corp/gw-fallback create', 'route gw-probe create']);
});

t.test('natgw’s router is preferred over another router of the network', async (t) => {
  const desired = want();
  const ours = provisioned(desired);
  const plan = planFallback(GW, desired, { ...ours, routers: [{ name: 'aaa', network: NETWORK, nats: [] }, ...ours.routers] }, 'unchanged');
  t.same(rows(plan), ['router gw-router unchanged', 'routerNat gw-router/gw-fallback unchanged', 'route gw-probe unchanged']);
  t.ok(plan.upToDate);
});

t.test('a changed setting: the NAT config is updated, with each field’s difference', async (t) => {
  const plan = planFallback(GW, want('--udp-timeout', '60s', '--subnets', 'primary'), provisioned(want()), 'unchanged');
  const nat = plan.changes.find((change) => change.kind === 'routerNat')!;
  t.equal(nat.action, 'update');
  t.same(nat.diffs, [
    { field: 'sourceSubnetworkIpRangesToNat', have: 'ALL_SUBNETWORKS_ALL_IP_RANGES', want: 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES' },
    { field: 'udpIdleTimeoutSec', have: '30', want: '60' },
  ]);
});

t.test('the probe route: replaced when it differs, and when the client route it shares a next hop with is', async (t) => {
  const observed = provisioned(want());
  const moved = planFallback(GW, wantFor({ ...clientRoute, priority: 700 }), observed, 'replace');
  t.match(
    moved.changes.find((change) => change.name === 'gw-probe'),
    { action: 'replace', diffs: [{ field: 'priority', have: '800', want: '700' }] },
  );
  const sameButReplaced = planFallback(GW, want(), observed, 'replace');
  t.match(
    sameButReplaced.changes.find((change) => change.name === 'gw-probe'),
    { action: 'replace', diffs: [], note: /next hop/ },
  );
});

t.test('conflicts: a probe route not natgw’s, a router name on another network, a Cloud NAT already there', async (t) => {
  const notOurs = planFallback(GW, want(), { routers: [], probeRoute: { name: 'gw-probe', description: 'someone else' } }, 'create');
  t.same(
    notOurs.conflicts.map((change) => `${change.kind} ${change.name}`),
    ['route gw-probe'],
  );
  const otherNetwork = planFallback(GW, want(), { routers: [{ name: 'gw-router', network: `${BASE}global/networks/other` }] }, 'create');
  t.match(otherNetwork.conflicts, [{ kind: 'router', name: 'gw-router', note: /exists on network other/ }]);
  const covered: Router = {
    name: 'corp',
    network: NETWORK,
    nats: [
      {
        name: 'db-nat',
        sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
        subnetworks: [{ name: `${BASE}regions/us-central1/subnetworks/db` }],
      },
    ],
  };
  t.match(planFallback(GW, want(), { routers: [covered] }, 'create').conflicts, [{ kind: 'routerNat', name: 'corp/db-nat' }]);
  t.same(planFallback(GW, want('--subnets', 'apps:ALL'), { routers: [covered] }, 'create').conflicts, [], 'disjoint subnets: no conflict');
});

t.test('--subnets in Cloud NAT’s terms; client ranges outside the subnets are named as not covered', async (t) => {
  t.equal(want().nat.sourceSubnetworkIpRangesToNat, 'ALL_SUBNETWORKS_ALL_IP_RANGES');
  t.equal(want('--subnets', 'primary').nat.sourceSubnetworkIpRangesToNat, 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES');
  t.same(want('--subnets', 'apps,apps:pods,db:ALL').nat.subnetworks, [
    {
      name: `${BASE}regions/us-central1/subnetworks/apps`,
      sourceIpRangesToNat: ['PRIMARY_IP_RANGE', 'LIST_OF_SECONDARY_IP_RANGES'],
      secondaryIpRangeNames: ['pods'],
    },
    { name: `${BASE}regions/us-central1/subnetworks/db`, sourceIpRangesToNat: ['ALL_IP_RANGES'] },
  ]);
  const extra = want('--extra-source-ranges', '10.99.0.0/16');
  t.same(extra.uncovered, ['10.99.0.0/16']);
  t.match(
    planFallback(GW, extra, { routers: [] }, 'create').changes.find((change) => change.kind === 'routerNat')?.note,
    /10\.99\.0\.0\/16/,
  );
});

t.test('destroy: natgw’s router goes whole; from another router only the NAT config; what is not natgw’s stays', async (t) => {
  const ours = provisioned(want());
  t.same(rows(planDestroyFallback(GW, ours)), ['route gw-probe delete', 'router gw-router delete']);
  const reused = provisioned(want(), 'corp', 'vpn');
  t.same(rows(planDestroyFallback(GW, reused)), ['route gw-probe delete', 'routerNat corp/gw-fallback delete', 'router corp keep']);
  const shared = provisioned(want());
  shared.routers[0]!.bgpPeers = [{ name: 'peer' }];
  t.same(rows(planDestroyFallback(GW, shared)), [
    'route gw-probe delete',
    'routerNat gw-router/gw-fallback delete',
    'router gw-router keep',
  ]);
  const foreignProbe: ObservedFallback = {
    routers: [{ name: 'x', network: NETWORK, nats: [{ name: 'other' }] }],
    probeRoute: { name: 'gw-probe' },
  };
  t.same(rows(planDestroyFallback(GW, foreignProbe)), ['route gw-probe keep']);
  t.ok(planDestroyFallback(GW, { routers: [] }).upToDate, 'nothing: nothing to do');
});

t.test('merged into a mode’s plan: the probe route’s delete first, the rest after', async (t) => {
  const mode: Plan = { changes: [{ kind: 'route', name: 'gw-default', action: 'delete', diffs: [] }], conflicts: [], upToDate: false };
  t.same(rows(withFallbackPlan(mode, planDestroyFallback(GW, provisioned(want())))), [
    'route gw-probe delete',
    'route gw-default delete',
    'router gw-router delete',
  ]);
});
