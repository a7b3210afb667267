// The planners of both modes as pure functions: one (desired, observed) fixture per kind of action. The pairs were
// recorded from a provision against the fake (test/fixtures/provision/record-plan-fixtures.ts); each test changes one
// side and checks the one change it must cause, and that nothing else moves.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { type DesiredHa, type ObservedHa, planDestroyHa, planHa } from '../provision/ha/gateway.js';
import type { Desired, Observed } from '../provision/model.js';
import { plan, planDestroy } from '../provision/single/plan.js';
import { find, moves } from './fixtures/provision/plan.js';

const GW = 'natgw-us-central1';
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/provision/${name}`, import.meta.url), 'utf8')) as T;
const single = () => load<{ desired: Desired; observed: Observed }>('plan-single.json');
const ha = () => load<{ desired: DesiredHa; observed: ObservedHa }>('plan-ha.json');

t.test('single: the recorded pair is up to date (unchanged everywhere)', async (t) => {
  const { desired, observed } = single();
  const result = plan(desired, observed);
  t.equal(result.upToDate, true);
  t.same(moves(result), []);
  t.same(result.changes.map((change) => `${change.kind} ${change.name}`).sort(), [
    `address ${GW}-ip`,
    `firewall ${GW}-clients`,
    `firewall ${GW}-health`,
    `instance ${GW}`,
    `route ${GW}-default`,
  ]);
});

t.test('single: create — nothing observed', async (t) => {
  const { desired } = single();
  const result = plan(desired, { firewalls: {} });
  t.same(moves(result), [
    `address ${GW}-ip create`,
    `firewall ${GW}-clients create`,
    `firewall ${GW}-health create`,
    `instance ${GW} create`,
    `route ${GW}-default create`,
  ]);
  t.equal(result.upToDate, false);
  t.equal(result.changes.at(-1)?.kind, 'route', 'the route comes last');
});

t.test('single: update field by field, in place', async (t) => {
  const { desired, observed } = single();
  observed.firewalls[`${GW}-clients`]!.sourceRanges = ['10.10.0.0/20'];
  observed.instance!.tags = [];
  observed.instance!.labels = { ...observed.instance!.labels, 'natgw-gateway': GW, team: 'net' };
  observed.instance!.metadata = { ...observed.instance!.metadata, 'natgw-stale': 'x', 'user-key': 'kept' };
  observed.address!.labels = { ...observed.address!.labels, extra: 'a label of the operator' };
  desired.address.labels = { ...desired.address.labels, owner: 'ops' };
  const result = plan(desired, observed);
  t.same(moves(result), [`address ${GW}-ip update`, `firewall ${GW}-clients update`, `instance ${GW} update`]);
  t.same(find(result, 'address', `${GW}-ip`)?.diffs, [{ field: 'labels.owner', have: '(none)', want: 'ops' }]);
  t.same(find(result, 'firewall', `${GW}-clients`)?.diffs, [
    { field: 'sourceRanges', have: '10.10.0.0/20', want: '10.10.0.0/20,10.20.0.0/16,10.30.0.0/20,10.40.0.0/24' },
  ]);
  t.same(
    find(result, 'instance', GW)?.diffs,
    [
      { field: 'tags', have: '', want: GW },
      { field: 'metadata.natgw-stale', have: 'x', want: '(none)' },
    ],
    'a label or metadata key natgw does not own (team, user-key) is left alone; a stale natgw- key is removed',
  );
});

t.test('single: replace — a field that cannot change in place', async (t) => {
  const { desired, observed } = single();
  observed.instance!.machineType = 'e2-medium';
  const result = plan(desired, observed);
  t.same(moves(result), [`instance ${GW} replace`, `route ${GW}-default replace`]);
  t.match(find(result, 'instance', GW), { diffs: [{ field: 'machineType', have: 'e2-medium', want: 'e2-small' }], note: /need a new VM/ });
  t.match(find(result, 'route', `${GW}-default`), { diffs: [], note: 'it points at the VM being replaced' });

  const { desired: wantRoute, observed: haveRoute } = single();
  haveRoute.route!.priority = 900;
  t.same(moves(plan(wantRoute, haveRoute)), [`route ${GW}-default replace`], 'a route is replaced, never updated');

  const { desired: wantFirewall, observed: haveFirewall } = single();
  haveFirewall.firewalls[`${GW}-health`]!.network = 'projects/test-project/global/networks/other';
  t.same(moves(plan(wantFirewall, haveFirewall)), [`firewall ${GW}-health replace`], "a firewall rule's network cannot change in place");
});

t.test('single: delete — a stale rule of ours (--iap-ssh dropped), and destroy of everything', async (t) => {
  const { desired, observed } = single();
  observed.firewalls[`${GW}-iap-ssh`] = {
    ...observed.firewalls[`${GW}-health`]!,
    name: `${GW}-iap-ssh`,
    sourceRanges: ['35.235.240.0/20'],
  };
  const result = plan(desired, observed);
  t.same(moves(result), [`firewall ${GW}-iap-ssh delete`]);
  t.equal(find(result, 'firewall', `${GW}-iap-ssh`)?.note, 'no longer wanted');

  const destroy = planDestroy(GW, observed, {
    address: `${GW}-ip`,
    firewalls: [`${GW}-clients`, `${GW}-health`, `${GW}-iap-ssh`],
    instance: GW,
    route: `${GW}-default`,
  });
  t.equal(destroy.changes[0]?.kind, 'route', 'the route goes first');
  t.same(
    destroy.changes.map((change) => change.action),
    destroy.changes.map(() => 'delete'),
  );
  t.equal(destroy.changes.length, 6);
});

t.test('single: conflict — a same-named resource that is not ours', async (t) => {
  const { desired, observed } = single();
  observed.instance!.labels = { team: 'someone-else' };
  observed.route!.description = 'made by hand';
  observed.firewalls[`${GW}-clients`]!.description = 'made by hand';
  const result = plan(desired, observed);
  t.same(
    result.conflicts.map((change) => `${change.kind} ${change.name}`),
    [`firewall ${GW}-clients`, `instance ${GW}`, `route ${GW}-default`],
  );
  t.equal(result.upToDate, false);
  t.notOk(
    result.changes.some((change) => change.name === GW || change.name === `${GW}-default`),
    'no action on what is not ours',
  );
  const destroy = planDestroy(GW, observed, {
    address: `${GW}-ip`,
    firewalls: [`${GW}-clients`, `${GW}-health`],
    instance: GW,
    route: `${GW}-default`,
  });
  t.notOk(
    destroy.changes.some((change) => change.action === 'delete' && [GW, `${GW}-default`, `${GW}-clients`].includes(change.name)),
    'destroy leaves them',
  );
});

t.test('HA: the recorded pair is up to date (unchanged everywhere)', async (t) => {
  const { desired, observed } = ha();
  const result = planHa(desired, observed);
  t.equal(result.upToDate, true);
  t.same(moves(result), []);
});

t.test('HA: create — nothing observed', async (t) => {
  const { desired } = ha();
  const result = planHa(desired, { addresses: [], firewalls: {}, healthChecks: {}, templates: [], configs: [], vms: [] });
  const kinds = result.changes.map((change) => `${change.kind} ${change.action}`);
  t.same(
    [...new Set(kinds)],
    [
      'address create',
      'firewall create',
      'healthCheck create',
      'template create',
      'mig create',
      'vm create',
      'backendService create',
      'forwardingRule create',
      'route create',
    ],
  );
  t.equal(result.changes.filter((change) => change.kind === 'vm').length, 2, 'one VM per address');
  t.equal(result.changes.at(-1)?.kind, 'route', 'the route comes last');
});

t.test('HA: update field by field, in place', async (t) => {
  const { desired, observed } = ha();
  const lb = observed.healthChecks[`${GW}-hc-lb`]!;
  lb.checkIntervalSec = 5;
  observed.backendService!.sessionAffinity = 'CLIENT_IP';
  const result = planHa(desired, observed);
  t.same(moves(result), [`healthCheck ${GW}-hc-lb update`, `backendService ${GW}-ilb update`]);
  t.match(find(result, 'healthCheck', `${GW}-hc-lb`)?.diffs, [{ field: 'checkIntervalSec', have: '5', want: '2' }]);
  t.match(find(result, 'backendService', `${GW}-ilb`)?.diffs, [{ field: 'sessionAffinity', have: 'CLIENT_IP', want: 'NONE' }]);
});

t.test('HA: replace — a new template rolls the VMs; a forwarding rule cannot change in place', async (t) => {
  const { desired, observed } = ha();
  const old = desired.template.name;
  desired.template = { ...desired.template, name: `${GW}-tmpl-000000` };
  desired.mig = {
    ...desired.mig,
    versions: [
      { ...desired.mig.versions![0], instanceTemplate: desired.mig.versions![0]!.instanceTemplate!.replace(old, desired.template.name) },
    ],
  };
  const result = planHa(desired, observed);
  t.same(moves(result), [
    `template ${GW}-tmpl-000000 create`,
    `mig ${GW}-mig update`,
    ...observed.vms.map((vm) => `vm ${vm.name} replace`),
    `template ${old} delete`,
  ]);
  t.match(find(result, 'mig', `${GW}-mig`), {
    diffs: [{ field: 'instanceTemplate', have: old, want: `${GW}-tmpl-000000` }],
    note: /one at a time/,
  });

  const { desired: wantRule, observed: haveRule } = ha();
  haveRule.forwardingRule!.IPProtocol = 'UDP';
  t.same(moves(planHa(wantRule, haveRule)), [`forwardingRule ${GW}-fr replace`, `route ${GW}-default replace`]);
});

t.test('HA: delete — scaling down removes a VM and then its address', async (t) => {
  const { desired, observed } = ha();
  desired.size = 1;
  desired.addresses = desired.addresses.slice(0, 1);
  const result = planHa(desired, observed);
  const gone = observed.vms.find((vm) => vm.name !== desired.addresses[0]!.vm)!;
  t.same(moves(result), [`vm ${gone.name} delete`, `address ${GW}-ip-2 delete`]);
  t.ok(
    result.changes.findIndex((change) => change.kind === 'vm' && change.action === 'delete') <
      result.changes.findIndex((change) => change.kind === 'address' && change.action === 'delete'),
    'the VM goes before its address',
  );
  const destroy = planDestroyHa(GW, observed);
  t.equal(destroy.changes[0]?.kind, 'route', 'destroy: the route first');
  t.ok(destroy.changes.every((change) => change.action === 'delete'));
});

t.test('HA: conflict — a same-named resource that is not ours, and single-mode leftovers', async (t) => {
  const { desired, observed } = ha();
  observed.forwardingRule!.description = 'made by hand';
  const result = planHa(desired, observed);
  t.same(
    result.conflicts.map((change) => `${change.kind} ${change.name}`),
    [`forwardingRule ${GW}-fr`],
  );
  t.equal(result.upToDate, false);

  const { desired: wantHa, observed: withSingle } = ha();
  withSingle.singleInstance = { name: GW, zone: 'zones/us-central1-a', labels: { 'managed-by': 'natgw', 'natgw-gateway': GW } };
  t.match(planHa(wantHa, withSingle).conflicts, [{ kind: 'instance', action: 'conflict' }], 'a single-mode VM of this gateway blocks HA');
});
