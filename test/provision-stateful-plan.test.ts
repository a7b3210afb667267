// The stateful HA planner as a pure function: a (desired, observed) pair read from a gateway provisioned against the
// fake, then one change per kind of action on one side, checking the one change it must cause and that nothing else moves.
import t from 'tap';
import { connectCompute } from '../provision/gcp/client.js';
import { discover } from '../provision/gateway.js';
import { observeHa, planDestroyHa, type ObservedHa } from '../provision/ha/gateway.js';
import { desiredStateful, knownIps, observeStateful, planStateful, syncStateOf, type DesiredStateful } from '../provision/ha/stateful.js';
import { parseOptions } from '../provision/options.js';
import { agentPayload } from '../provision/pipeline.js';
import type { Change } from '../provision/plan.js';
import { AGENT_BUNDLE, baseArgs, run, startSeededFake } from './fixtures/provision/helpers.js';
import { simulateStatefulAgent } from './fixtures/provision/stateful.js';
import { find, moves } from './fixtures/provision/plan.js';
import { testCallContext } from './helpers/call-context.js';

const GW = 'natgw-us-central1';

const fake = await startSeededFake();
simulateStatefulAgent(fake);
t.teardown(() => fake.close());
const provisioned = await run('provision', baseArgs(fake, ['--ha', '--stateful']));
if (provisioned.code !== 0) throw new Error(provisioned.stderr);
const options = parseOptions('provision', baseArgs(fake, ['--ha', '--stateful', '--agent-bundle', AGENT_BUNDLE]), {});
const clients = await connectCompute(options.endpoint, { requestTimeoutMs: 10_000 });
t.teardown(() => clients.close());
const ctx = testCallContext(clients, options.project);
const discovery = await discover(ctx, options);
const payload = await agentPayload(options);
const observedText = JSON.stringify({
  ...(await observeHa(ctx, GW, options.region, discovery.zones)),
  stateful: await observeStateful(ctx, GW, options.region),
});

/** A fresh copy of the recorded pair: each test changes its own. */
function pair(change: { options?: Partial<typeof options> } = {}): { desired: DesiredStateful; observed: ObservedHa } {
  const observed = JSON.parse(observedText) as ObservedHa;
  const { desired } = desiredStateful({
    options: { ...options, ...change.options },
    discovery,
    zones: ['us-central1-a', 'us-central1-b'],
    payload,
    ips: knownIps(GW, observed),
  });
  return { desired, observed };
}

t.test('the pair read back is up to date', async (t) => {
  const { desired, observed } = pair();
  const result = planStateful(desired, observed);
  t.same(moves(result), []);
  t.equal(result.upToDate, true);
  t.equal(
    result.changes.length,
    19,
    'three addresses, four firewall rules, two checks, a template, two groups and VMs, two services and rules, a route',
  );
});

t.test('create: nothing observed — everything, addresses first, the route last', async (t) => {
  const { desired } = pair();
  const empty: ObservedHa = { addresses: [], firewalls: {}, healthChecks: {}, templates: [], configs: [], vms: [] };
  const result = planStateful(desired, empty);
  t.ok(result.changes.every((change) => change.action === 'create'));
  t.same(
    result.changes.slice(0, 3).map((change) => change.name),
    [`${GW}-nat-ip`, `${GW}-sync-a`, `${GW}-sync-b`],
  );
  t.equal(result.changes.at(-1)?.kind, 'route');
  t.match(find(result, 'vm', desired.members[1].vm), { note: /failover in us-central1-b, IP from natgw-us-central1-sync-b/ });
});

t.test('update: a health-check field, a lost failover flag, a persistence setting — patched in place', async (t) => {
  const { desired, observed } = pair();
  observed.healthChecks[`${GW}-hc-lb`]!.unhealthyThreshold = 2;
  observed.backendService!.backends = observed.backendService!.backends!.map((backend) => ({ ...backend, failover: false }));
  observed.stateful!.nlb!.connectionTrackingPolicy = { connectionPersistenceOnUnhealthyBackends: 'DEFAULT_FOR_PROTOCOL' };
  const result = planStateful(desired, observed);
  t.same(moves(result), [`healthCheck ${GW}-hc-lb update`, `backendService ${GW}-ilb update`, `backendService ${GW}-nlb update`]);
  t.same(find(result, 'healthCheck', `${GW}-hc-lb`)?.diffs, [{ field: 'unhealthyThreshold', have: '2', want: '1' }]);
  t.match(find(result, 'backendService', `${GW}-ilb`)?.diffs, [{ field: 'backends', want: /mig-b \(failover\)/ }]);
  t.same(find(result, 'backendService', `${GW}-nlb`)?.diffs, [
    {
      field: 'connectionTrackingPolicy.connectionPersistenceOnUnhealthyBackends',
      have: 'DEFAULT_FOR_PROTOCOL',
      want: 'NEVER_PERSIST',
    },
  ]);
});

t.test('replace: a new template replaces both VMs (b first); a moved NAT IP replaces its forwarding rule', async (t) => {
  const { desired, observed } = pair({ options: { machineType: 'e2-medium' } });
  const result = planStateful(desired, observed);
  t.same(
    moves(result).map((move) => move.replace(/natgw-us-central1-[a-z0-9]{4} /, 'VM ').replace(/tmpl-[0-9a-f]{6}/, 'tmpl-x')),
    [
      `template ${GW}-tmpl-x create`,
      `mig ${GW}-mig-a update`,
      'vm VM replace',
      `mig ${GW}-mig-b update`,
      'vm VM replace',
      `template ${GW}-tmpl-x delete`,
    ],
  );
  t.match(find(result, 'vm', desired.members[0].vm), { note: /standby \(b\) first, then a/ });

  const moved = pair();
  moved.observed.stateful!.natForwardingRule!.IPAddress = '198.51.100.9';
  const rule = planStateful(moved.desired, moved.observed);
  t.same(moves(rule), [`forwardingRule ${GW}-nat-fr replace`]);
  t.match(find(rule, 'forwardingRule', `${GW}-nat-fr`), { note: /replies to the NAT IP are lost meanwhile/ });
});

t.test('delete: a stale rule of ours (--iap-ssh dropped); destroy of all of it in dependency order', async (t) => {
  const { desired, observed } = pair();
  observed.firewalls[`${GW}-iap-ssh`] = {
    ...observed.firewalls[`${GW}-health`]!,
    name: `${GW}-iap-ssh`,
    sourceRanges: ['35.235.240.0/20'],
  };
  t.same(moves(planStateful(desired, observed)), [`firewall ${GW}-iap-ssh delete`]);
  const destroy = planDestroyHa(GW, observed);
  const order = destroy.changes.map((change) => change.kind);
  const at = (kind: Change['kind']) => [order.indexOf(kind), order.lastIndexOf(kind)];
  t.ok(at('forwardingRule')[1]! < at('backendService')[0]!, 'rules before services');
  t.ok(at('backendService')[1]! < at('mig')[0]!, 'services before groups');
  t.ok(at('mig')[1]! < at('healthCheck')[0]!, 'groups before health checks');
  t.equal(order.slice(-3).join(','), 'address,address,address', 'addresses last');
  t.equal(destroy.changes.length, 18);
});

t.test('conflict: a backend service not ours, a group in another zone, plain HA of the same name', async (t) => {
  const { desired, observed } = pair();
  observed.stateful!.nlb!.description = 'the web team';
  observed.stateful!.members.b.mig!.distributionPolicy = { zones: [{ zone: 'projects/test-project/zones/us-central1-c' }] };
  observed.mig = { name: `${GW}-mig`, description: `natgw-gateway=${GW}; NAT VMs of HA gateway ${GW}` };
  const result = planStateful(desired, observed);
  t.match(result.conflicts, [
    { kind: 'mig', name: `${GW}-mig`, note: /runs in HA mode without --stateful/ },
    { kind: 'mig', name: `${GW}-mig-b`, note: /its zones are us-central1-c and GCE cannot change/ },
    { kind: 'backendService', name: `${GW}-nlb`, note: /not marked as this gateway's/ },
  ]);
  t.equal(result.upToDate, false);
});

t.test('the sync state: guest attribute natgw/sync first, else a JSON natgw/health with sync', async (t) => {
  t.same(syncStateOf('{"peerUp":true,"resynced":false,"role":"active"}', 'ok'), { peerUp: true, resynced: false, role: 'active' });
  t.same(syncStateOf(undefined, '{"status":"ok","sync":{"peerUp":false,"resynced":true}}'), { peerUp: false, resynced: true });
  t.equal(syncStateOf(undefined, 'ok'), undefined, 'a plain health value has no sync state');
  t.equal(syncStateOf('not json', 'ok'), undefined);
});

t.test("the agent's own schema checks the stateful section once the IPs are known", async (t) => {
  const observed = JSON.parse(observedText) as ObservedHa;
  const ips = knownIps(GW, observed);
  const build = (natIp: string) =>
    desiredStateful({ options, discovery, zones: ['us-central1-a', 'us-central1-b'], payload, ips: { ...ips, natIp } });
  t.doesNotThrow(() => build(ips.natIp!));
  t.throws(() => build(ips.members.a!), /the reserved addresses do not make a valid stateful agent config:\n {2}- stateful\.natIp: /);
  t.doesNotThrow(
    () => desiredStateful({ options, discovery, zones: ['us-central1-a', 'us-central1-b'], payload, ips: { members: {} } }),
    'a dry run before the addresses exist is not checked (their IPs are unknown)',
  );
});
