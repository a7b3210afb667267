// natgw provision --ha / status / destroy against the fake Compute API, with the real @google-cloud/compute client.
import t from 'tap';
import { parseAgentConfig } from '../agent/config.js';
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
import type { Fault, FakeCompute, Json } from '../lab/compute-api/index.js';

const GW = 'natgw-us-central1';
const R = `regions/${REGION}`;
const HA = ['--ha'];

async function fresh(t: { teardown: (fn: () => unknown) => void }, healthy = true) {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  const agent = simulateAgent(fake, { healthy });
  return { fake, agent };
}

const metadataOf = (resource: Json) =>
  Object.fromEntries((((resource.metadata as Json).items as { key: string; value: string }[]) ?? []).map((item) => [item.key, item.value]));
const migVms = (fake: FakeCompute) =>
  fake.store
    .all('instances')
    .map((entry) => entry.resource)
    .filter((instance) => metadataOf(instance)['created-by'] !== undefined);
const natIpOf = (instance: Json) => String((((instance.networkInterfaces as Json[])[0] as Json).accessConfigs as Json[])[0]!.natIP);
const EMPTY = EMPTY_HA_INVENTORY;

t.test('provision --ha creates exactly the HA gateway with the expected fields; the route comes after a healthy backend', async (t) => {
  const { fake } = await fresh(t);
  const result = await run('provision', baseArgs(fake, [...HA, '--size', '3']));
  t.equal(result.code, 0, result.stderr);
  const inventory = haInventory(fake);
  const template = inventory.instanceTemplates![0]!;
  t.match(template, new RegExp(`^${GW}-tmpl-[0-9a-f]{6}$`));
  t.same(
    { ...inventory, instances: inventory.instances!.length },
    {
      addresses: [`${GW}-ip-1`, `${GW}-ip-2`, `${GW}-ip-3`],
      firewalls: [`${GW}-clients`, `${GW}-health`],
      instances: 3,
      routes: [`${GW}-default`],
      instanceTemplates: [template],
      healthChecks: [`${GW}-hc-heal`, `${GW}-hc-lb`],
      instanceGroupManagers: [`${GW}-mig`],
      backendServices: [`${GW}-ilb`],
      forwardingRules: [`${GW}-fr`],
    },
  );
  const s = fake.store;

  // template: the single-mode VM shape, ephemeral access config (the stateful config pins the IP), HA agent config
  const props = s.get(PROJECT, 'global', 'instanceTemplates', template)!.properties as Json;
  t.match(props, {
    machineType: 'e2-small',
    canIpForward: true,
    tags: { items: [GW] },
    labels: { 'managed-by': 'natgw', 'natgw-gateway': GW },
  });
  t.same(props.shieldedInstanceConfig, { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
  t.match((props.disks as Json[])[0], {
    boot: true,
    autoDelete: true,
    initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-13', diskSizeGb: '10' },
  });
  const nic = (props.networkInterfaces as Json[])[0]!;
  t.match(nic.subnetwork, /subnetworks\/apps$/);
  t.same(nic.accessConfigs, [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }]);
  const config = parseAgentConfig(metadataOf(props)['natgw-config']!, 'template');
  t.equal(config.deploymentMode, 'ha');
  t.equal(config.drainSeconds, 8, 'covers the traffic check: 2 × 2 s + 2 s timeout + 2 s');
  t.equal(metadataOf(props)['enable-guest-attributes'], 'TRUE');

  // health checks
  t.match(s.get(PROJECT, R, 'healthChecks', `${GW}-hc-lb`), {
    type: 'HTTP',
    checkIntervalSec: 2,
    timeoutSec: 2,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    httpHealthCheck: { port: 9731, requestPath: '/healthz' },
  });
  t.match(s.get(PROJECT, R, 'healthChecks', `${GW}-hc-heal`), {
    type: 'HTTP',
    checkIntervalSec: 10,
    timeoutSec: 5,
    unhealthyThreshold: 3,
    httpHealthCheck: { port: 9731, requestPath: '/livez' },
  });

  // MIG
  const mig = s.get(PROJECT, R, 'instanceGroupManagers', `${GW}-mig`)!;
  t.same(
    ((mig.distributionPolicy as Json).zones as Json[]).map((zone) => String(zone.zone).split('/').pop()),
    ['us-central1-a', 'us-central1-b', 'us-central1-c'],
  );
  t.equal(mig.targetSize, 3);
  t.match(mig.versions, [{ instanceTemplate: new RegExp(`/global/instanceTemplates/${template}$`) }]);
  t.match(mig.autoHealingPolicies, [{ healthCheck: new RegExp(`/regions/us-central1/healthChecks/${GW}-hc-heal$`), initialDelaySec: 300 }]);
  t.same(
    ((mig.statefulPolicy as Json).preservedState as Json).externalIPs,
    { nic0: { autoDelete: 'NEVER' } },
    'external IPs preserved (the client also sends empty disks/internalIPs maps)',
  );
  t.match(mig.updatePolicy, {
    type: 'OPPORTUNISTIC',
    replacementMethod: 'RECREATE',
    maxSurge: { fixed: 0 },
    maxUnavailable: { fixed: 3 },
    instanceRedistributionType: 'NONE',
    minimalAction: 'REPLACE',
  });

  // VMs: NAME-xxxx, one per zone, each with one of the reserved IPs, from the template
  const vms = migVms(fake);
  t.equal(vms.length, 3);
  t.same(vms.map((vm) => String(vm.zone).split('/').pop()).sort(), ['us-central1-a', 'us-central1-b', 'us-central1-c']);
  for (const vm of vms) t.match(vm.name, new RegExp(`^${GW}-[a-z0-9]{4}$`));
  const reserved = [1, 2, 3].map((index) => s.get(PROJECT, R, 'addresses', `${GW}-ip-${index}`)!);
  t.same(vms.map(natIpOf).sort(), reserved.map((address) => String(address.address)).sort(), 'each VM has one reserved address');
  for (const address of reserved) t.match(address, { status: 'IN_USE', labels: { 'natgw-gateway': GW } });
  for (const vm of vms) t.equal(vm.canIpForward, true);

  // load balancer
  t.match(s.get(PROJECT, R, 'backendServices', `${GW}-ilb`), {
    loadBalancingScheme: 'INTERNAL',
    protocol: 'TCP',
    healthChecks: [new RegExp(`/healthChecks/${GW}-hc-lb$`)],
    backends: [{ group: new RegExp(`/regions/us-central1/instanceGroups/${GW}-mig$`), balancingMode: 'CONNECTION' }],
    connectionDraining: { drainingTimeoutSec: 8 },
  });
  const rule = s.get(PROJECT, R, 'forwardingRules', `${GW}-fr`)!;
  t.match(rule, {
    loadBalancingScheme: 'INTERNAL',
    IPProtocol: 'TCP',
    allPorts: true,
    backendService: new RegExp(`/backendServices/${GW}-ilb$`),
  });
  t.not(rule.IPProtocol, 'L3_DEFAULT');

  // route
  const route = s.get(PROJECT, 'global', 'routes', `${GW}-default`)!;
  t.match(route, { destRange: '0.0.0.0/0', priority: 800, tags: [`${GW}-client`], nextHopIlb: rule.selfLink });
  t.equal(route.nextHopInstance, undefined);
  t.match(route.description, /^natgw-gateway=natgw-us-central1;/);

  // firewall for Google's health-check ranges to the agent port
  t.match(s.get(PROJECT, 'global', 'firewalls', `${GW}-health`), {
    sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'],
    allowed: [{ IPProtocol: 'tcp', ports: ['9731'] }],
    targetTags: [GW],
  });

  // order: the route after getHealth said HEALTHY; the lab can resolve the route to healthy backends
  const methods = fake.api.methods();
  const routeAt = methods.indexOf('compute.routes.insert');
  t.ok(
    methods.lastIndexOf('compute.regionBackendServices.getHealth', routeAt) >
      methods.indexOf('compute.regionInstanceGroupManagers.createInstances'),
    'health polled after the VMs exist, before the route',
  );
  t.ok(methods.indexOf('compute.forwardingRules.insert') < routeAt);
  t.ok(
    fake.api
      .mutations()
      .filter((request) => !/(applyUpdates|deletePerInstance)/.test(request.method))
      .every((request) => /requestId=/.test(request.url)),
    'every mutation that takes one carries a requestId',
  );
  t.same(
    s.ilbBackends(route).map((backend) => backend.healthState),
    ['HEALTHY', 'HEALTHY', 'HEALTHY'],
  );
  t.match(result.stdout, /Done\. NAT IPs \(allow-list all of them\): 203\.0\.113\.\d+, 203\.0\.113\.\d+, 203\.0\.113\.\d+/);
  t.match(result.stderr, /if every NAT VM is unhealthy, GCE still sends client traffic to them/);
});

t.test('a second run only reads and says up to date; --dry-run makes no mutating call', async (t) => {
  const { fake } = await fresh(t);
  const dry = await run('provision', baseArgs(fake, [...HA, '--dry-run']));
  t.equal(dry.code, 0, dry.stderr);
  t.same(fake.api.mutations(), [], 'dry run: no mutating call');
  t.same(haInventory(fake), EMPTY);
  t.match(dry.stdout, /\+ mig\s+natgw-us-central1-mig\s+create/);
  t.match(
    dry.stdout,
    /gcloud compute instance-groups managed create natgw-us-central1-mig .*--zones us-central1-a,us-central1-b,us-central1-c .*--stateful-external-ip interface-name=nic0,auto-delete=never/,
  );
  t.match(
    dry.stdout,
    /gcloud compute instance-groups managed create-instance natgw-us-central1-mig .*--instance natgw-us-central1-[a-z0-9]{4} --stateful-external-ip interface-name=nic0,address=projects\/test-project\/regions\/us-central1\/addresses\/natgw-us-central1-ip-1,auto-delete=never/,
  );
  t.match(
    dry.stdout,
    /gcloud compute health-checks create http natgw-us-central1-hc-lb .*--request-path \/healthz --check-interval 2s --timeout 2s --healthy-threshold 2 --unhealthy-threshold 2/,
  );
  t.match(
    dry.stdout,
    /gcloud compute forwarding-rules create natgw-us-central1-fr .*--load-balancing-scheme internal --ip-protocol TCP --ports ALL/,
  );
  t.match(
    dry.stdout,
    /gcloud compute routes create natgw-us-central1-default .*--next-hop-ilb natgw-us-central1-fr --next-hop-ilb-region us-central1/,
  );
  const json = JSON.parse((await run('provision', baseArgs(fake, [...HA, '--dry-run', '--json']))).stdout);
  t.equal(json.mode, 'ha');
  t.same(json.zones, ['us-central1-a', 'us-central1-b', 'us-central1-c']);
  t.match(json.healthChecks, {
    traffic: { checkIntervalSec: 2, requestPath: '/healthz' },
    autoheal: { requestPath: '/livez', initialDelaySec: 300 },
  });
  const planned = json.changes.map((change: { kind: string; name: string }) => change.name);

  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const vmNames = migVms(fake)
    .map((vm) => String(vm.name))
    .sort();
  t.same(
    planned.filter((name: string) => /^natgw-us-central1-[a-z0-9]{4}$/.test(name)).sort(),
    vmNames,
    'the dry run named the VMs that were created',
  );
  fake.api.requests.length = 0;
  const again = await run('provision', baseArgs(fake, HA));
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /Up to date: nothing to do\. NAT IPs 203\.0\.113\.\d+, 203\.0\.113\.\d+/);
  t.same(fake.api.mutations(), [], 'only reads');
  t.ok(
    fake.api.requests.every(
      (request) => request.httpMethod === 'GET' || /\.(listManagedInstances|listPerInstanceConfigs)$/.test(request.method),
    ),
    'GETs and read-only list POSTs',
  );
});

t.test('the route waits for a healthy backend: timeout gives a clear error with serial tails; a re-run adds only the route', async (t) => {
  const { fake, agent } = await fresh(t, false);
  const failed = await run('provision', baseArgs(fake, [...HA, '--health-timeout', '300ms']));
  t.equal(failed.code, 1);
  t.match(
    failed.stderr,
    /no NAT VM of the gateway turned healthy within 0s \(load balancer says: natgw-us-central1-[a-z0-9]{4}: UNHEALTHY, natgw-us-central1-[a-z0-9]{4}: UNHEALTHY\)/,
  );
  t.match(failed.stderr, /The route was not created/);
  t.match(failed.stderr, /last lines of its serial console:\n[\s\S]*egress probe to 1\.1\.1\.1:443 failed/);
  t.match(
    failed.stderr,
    /its agent reports natgw\/health unhealthy: starting; natgw\/sync not reported; last lines/,
    "each VM's own report beside the load balancer's",
  );
  t.notMatch(failed.stderr, /\n\s+at /, 'no stack trace');
  t.same(haInventory(fake).routes, []);
  agent.set(true);
  for (const vm of migVms(fake))
    fake.store.setGuestAttribute(PROJECT, String(vm.zone).split('/').pop()!, String(vm.name), 'natgw/health', 'ok');
  fake.api.requests.length = 0;
  const rerun = await run('provision', baseArgs(fake, HA));
  t.equal(rerun.code, 0, rerun.stderr);
  t.same(
    fake.api.mutations().map((request) => request.method),
    ['compute.routes.insert'],
  );
});

t.test("status shows each backend's health as the load balancer sees it", async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const [first, second] = migVms(fake);
  fake.api.requests.length = 0;
  const ok = await run('status', baseArgs(fake));
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /Gateway natgw-us-central1 \(HA; .*\): serving \(2\/2 backends healthy\)/);
  t.match(
    ok.stdout,
    new RegExp(`backend\\s+${String(first!.name)}\\s+HEALTHY \\(RUNNING in us-central1-., NAT IP 203\\.0\\.113\\.\\d+, agent: ok\\)`),
  );
  t.match(ok.stdout, /check\s+natgw-us-central1-hc-lb\s+\/healthz every 2s, timeout 2s, unhealthy after 2/);
  t.match(ok.stdout, /route\s+natgw-us-central1-default\s+0\.0\.0\.0\/0 → regions\/us-central1\/forwardingRules\/natgw-us-central1-fr/);
  t.ok(fake.api.methods().includes('compute.regionBackendServices.getHealth'));

  // The lab's hook overrides the guest-attribute default.
  fake.store.backendHealth = (link) => (link === first!.selfLink ? 'UNHEALTHY' : undefined);
  const degraded = JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout);
  t.equal(degraded.serving, true);
  t.equal(degraded.healthyBackends, 1);
  t.match(
    degraded.backends,
    [
      { name: first!.name, loadBalancer: 'UNHEALTHY' },
      { name: second!.name, loadBalancer: 'HEALTHY' },
    ].sort((a, b) => String(a.name).localeCompare(String(b.name))),
  );
  fake.store.backendHealth = () => 'UNHEALTHY';
  const down = await run('status', baseArgs(fake));
  t.equal(down.code, 3);
  t.match(down.stdout, /NOT serving/);

  // A load balancer status cannot read is reported as such, not as unhealthy, and does not fail the command.
  fake.api.inject({ method: 'compute.regionBackendServices.getHealth', status: 403, message: 'no getHealth for you', times: Infinity });
  const unreadable = JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout);
  t.match(unreadable.healthError, /no getHealth for you/);
  t.same(
    unreadable.backends.map((backend: { loadBalancer: string }) => backend.loadBalancer),
    ['UNREADABLE', 'UNREADABLE'],
  );
  t.match((await run('status', baseArgs(fake))).stdout, /backend\s+health unreadable: .*no getHealth for you/);
  fake.api.clearFaults();
  t.same(fake.api.mutations(), []);
});

t.test('destroy removes all of it in dependency order and leaves foreign resources', async (t) => {
  const { fake } = await fresh(t);
  const network = 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default';
  fake.store.put(PROJECT, 'global', 'firewalls', {
    name: 'allow-ssh',
    network,
    sourceRanges: ['0.0.0.0/0'],
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
  });
  fake.store.put(PROJECT, R, 'addresses', { name: 'web-ip', address: '198.51.100.7', status: 'RESERVED', labels: { team: 'web' } });
  fake.store.put(PROJECT, 'global', 'instanceTemplates', { name: 'web-template', properties: { machineType: 'e2-small' } });
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  fake.api.requests.length = 0;
  const dry = await run('destroy', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0);
  t.match(dry.stdout, /gcloud compute forwarding-rules delete natgw-us-central1-fr/);
  t.match(dry.stdout, /- mig\s+natgw-us-central1-mig\s+delete\s+\(with its VMs/);
  t.same(fake.api.mutations(), []);
  fake.api.requests.length = 0;
  const done = await run('destroy', baseArgs(fake, ['--yes']));
  t.equal(done.code, 0, done.stderr);
  t.same(haInventory(fake), { ...EMPTY, addresses: ['web-ip'], firewalls: ['allow-ssh'], instanceTemplates: ['web-template'] });
  const deletes = fake.api.mutations().map((request) => request.method.replace('compute.', ''));
  t.same(deletes, [
    'routes.delete',
    'forwardingRules.delete',
    'regionBackendServices.delete',
    'regionInstanceGroupManagers.delete',
    'regionHealthChecks.delete',
    'regionHealthChecks.delete',
    'instanceTemplates.delete',
    'firewalls.delete',
    'firewalls.delete',
    'addresses.delete',
    'addresses.delete',
  ]);
  t.match((await run('destroy', baseArgs(fake, ['--yes']))).stdout, /Nothing to destroy/);
});

t.test('a new template rolls one VM at a time: same names and IPs, each healthy before the next', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const before = new Map(migVms(fake).map((vm) => [String(vm.name), natIpOf(vm)]));
  const oldTemplate = haInventory(fake).instanceTemplates![0];
  const events: string[] = [];
  fake.store.on('insert', (event) => event.collection === 'instances' && events.push(`insert ${event.name}`));
  fake.store.on('delete', (event) => event.collection === 'instances' && events.push(`delete ${event.name}`));
  const dry = await run('provision', baseArgs(fake, [...HA, '--machine-type', 'e2-medium', '--dry-run']));
  t.match(dry.stdout, /~ mig\s+natgw-us-central1-mig\s+update\s+\(new template: VMs are replaced one at a time/);
  t.match(dry.stdout, /± vm\s+natgw-us-central1-[a-z0-9]{4}\s+replace/);
  fake.api.requests.length = 0;
  const result = await run('provision', baseArgs(fake, [...HA, '--machine-type', 'e2-medium']));
  t.equal(result.code, 0, result.stderr);
  const methods = fake.api.mutations().map((request) => request.method.replace('compute.', ''));
  t.same(methods, [
    'instanceTemplates.insert',
    'regionInstanceGroupManagers.patch',
    'regionInstanceGroupManagers.applyUpdatesToInstances',
    'regionInstanceGroupManagers.applyUpdatesToInstances',
    'instanceTemplates.delete',
  ]);
  const [first, second] = events.filter((event) => event.startsWith('delete ')).map((event) => event.slice('delete '.length));
  t.same(new Set([first, second]), new Set(before.keys()));
  t.same(
    events,
    [`delete ${first}`, `insert ${first}`, `delete ${second}`, `insert ${second}`],
    'a recreate is delete + insert of the same name, one VM at a time',
  );
  const all = fake.api.methods();
  const secondReplace = all.lastIndexOf('compute.regionInstanceGroupManagers.applyUpdatesToInstances');
  const between = all.slice(all.indexOf('compute.regionInstanceGroupManagers.applyUpdatesToInstances'), secondReplace);
  t.ok(
    between.includes('compute.regionInstanceGroupManagers.listManagedInstances') &&
      between.includes('compute.regionBackendServices.getHealth'),
    'recreated and healthy checked between the two',
  );
  t.same(new Map(migVms(fake).map((vm) => [String(vm.name), natIpOf(vm)])), before, 'names and NAT IPs kept');
  for (const vm of migVms(fake)) t.match(vm.machineType, /e2-medium$/);
  t.not(haInventory(fake).instanceTemplates![0], oldTemplate);
  t.equal(haInventory(fake).instanceTemplates!.length, 1, 'the superseded template is gone');
  t.same(fake.store.get(PROJECT, 'global', 'routes', `${GW}-default`)?.name, `${GW}-default`, 'the route stayed');
});

t.test('--size grows the group with a new reserved IP, and shrinks it with --yes', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const grown = await run('provision', baseArgs(fake, [...HA, '--size', '3']));
  t.equal(grown.code, 0, grown.stderr);
  t.equal(migVms(fake).length, 3);
  t.same(haInventory(fake).addresses, [`${GW}-ip-1`, `${GW}-ip-2`, `${GW}-ip-3`]);
  const refused = await run('provision', baseArgs(fake, [...HA, '--size', '2']));
  t.equal(refused.code, 2);
  t.match(refused.stderr, /removes NAT VMs .*re-run with --yes/);
  const shrunk = await run('provision', baseArgs(fake, [...HA, '--size', '2', '--yes']));
  t.equal(shrunk.code, 0, shrunk.stderr);
  t.equal(migVms(fake).length, 2);
  t.same(haInventory(fake).addresses, [`${GW}-ip-1`, `${GW}-ip-2`]);
  t.match((await run('provision', baseArgs(fake, HA))).stdout, /Up to date/);
});

t.test('switching between single and HA is refused with a clear message', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  fake.api.requests.length = 0;
  const toHa = await run('provision', baseArgs(fake, HA));
  t.equal(toHa.code, 1);
  t.match(
    toHa.stderr,
    /gateway natgw-us-central1 runs in single mode \(instance natgw-us-central1 in us-central1-a, address natgw-us-central1-ip .*\); switching to HA is not done in place: run 'natgw destroy'/,
  );
  t.same(fake.api.mutations(), []);
  t.equal((await run('destroy', baseArgs(fake, ['--yes']))).code, 0);
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const toSingle = await run('provision', baseArgs(fake));
  t.equal(toSingle.code, 1);
  t.match(
    toSingle.stderr,
    /gateway natgw-us-central1 runs in HA mode \(managed instance group natgw-us-central1-mig\); switching to single mode is not done in place/,
  );
});

t.test('bad flags fail before any API call', async (t) => {
  const { fake } = await fresh(t);
  const cases: [string[], RegExp][] = [
    [baseArgs(fake, [...HA, '--size', '1']), /--size: HA needs at least 2 NAT VMs/],
    [baseArgs(fake, [...HA, '--size', 'two']), /--size: 'two' is not a whole number/],
    [baseArgs(fake, [...HA, '--size', '17']), /--size: at most 16 NAT VMs/],
    [baseArgs(fake, [...HA, '--zones', 'us-central1-a,europe-west1-b']), /--zones: 'europe-west1-b' is not a zone of us-central1/],
    [baseArgs(fake, ['--zones', 'us-central1-a']), /--zones: only with --ha/],
    [baseArgs(fake, ['--size', '3']), /--size: only with --ha/],
    [baseArgs(fake, [...HA, '--zone', 'us-central1-a']), /--zone: HA mode spreads its VMs over --zones/],
    [baseArgs(fake, [...HA, '--nat-ip', '198.51.100.9']), /--nat-ip: HA mode reserves one static external IP per VM/],
    [baseArgs(fake, [...HA, '--name', `a${'b'.repeat(51)}`]), /--name: .* is too long for HA mode/],
  ];
  for (const [argv, message] of cases) {
    const result = await run('provision', argv);
    t.equal(result.code, 2, `exit 2 for ${argv.slice(-2).join(' ')}`);
    t.match(result.stderr, message);
  }
  t.match((await run('status', baseArgs(fake, ['--size', '3']))).stderr, /--size: only 'natgw provision' takes this flag/);
  t.same(fake.api.requests, [], 'no API call at all');
  const unknownZone = await run('provision', baseArgs(fake, [...HA, '--zones', 'us-central1-z']));
  t.equal(unknownZone.code, 2);
  t.match(
    unknownZone.stderr,
    /--zones: 'us-central1-z' is not a zone of us-central1 \(zones: us-central1-a, us-central1-b, us-central1-c\)/,
  );
  t.same(fake.api.mutations(), [], 'a zone the region lacks fails before any change');
});

const faults: [string, Fault, RegExp][] = [
  [
    'MIG insert: permission denied',
    {
      method: 'compute.regionInstanceGroupManagers.insert',
      status: 403,
      reason: 'forbidden',
      message:
        "Required 'compute.instanceGroupManagers.create' permission for 'projects/test-project/regions/us-central1/instanceGroupManagers/natgw-us-central1-mig'",
    },
    /create managed instance group natgw-us-central1-mig: permission denied: the caller lacks 'compute.instanceGroupManagers.create'/,
  ],
  [
    'createInstances: zone out of capacity',
    {
      method: 'compute.regionInstanceGroupManagers.createInstances',
      operationError: {
        code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
        message: "The zone 'projects/test-project/zones/us-central1-a' does not have enough resources available to fulfill the request.",
      },
    },
    /create natgw-us-central1-[a-z0-9]{4}, natgw-us-central1-[a-z0-9]{4} in natgw-us-central1-mig failed: ZONE_RESOURCE_POOL_EXHAUSTED/,
  ],
  [
    'forwarding rule insert: quota',
    {
      method: 'compute.forwardingRules.insert',
      operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'INTERNAL_FORWARDING_RULES_PER_NETWORK' exceeded. Limit: 75.0" },
    },
    /create forwarding rule natgw-us-central1-fr failed: QUOTA_EXCEEDED: .*Quota INTERNAL_FORWARDING_RULES_PER_NETWORK is exhausted: raise it/,
  ],
  [
    'getHealth: permission denied',
    {
      method: 'compute.regionBackendServices.getHealth',
      status: 403,
      reason: 'forbidden',
      message:
        "Required 'compute.regionBackendServices.get' permission for 'projects/test-project/regions/us-central1/backendServices/natgw-us-central1-ilb'",
    },
    /read backend health of natgw-us-central1-ilb: permission denied: the caller lacks 'compute.regionBackendServices.get'/,
  ],
  [
    'route insert: failed operation',
    {
      method: 'compute.routes.insert',
      operationError: { code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: 'Operation rate exceeded for resource.' },
    },
    /create route natgw-us-central1-default failed: RESOURCE_OPERATION_RATE_EXCEEDED/,
  ],
];

for (const [label, fault, message] of faults) {
  t.test(`fault: ${label} → one clear error, then a re-run converges and destroy leaves nothing`, async (t) => {
    const { fake } = await fresh(t);
    fake.api.inject(fault);
    const failed = await run('provision', baseArgs(fake, HA));
    t.equal(failed.code, 1);
    t.match(failed.stderr, message);
    t.notMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    t.same(haInventory(fake).routes, [], 'no route to an unfinished gateway');
    const rerun = await run('provision', baseArgs(fake, HA));
    t.equal(rerun.code, 0, rerun.stderr);
    const inventory = haInventory(fake);
    t.equal(inventory.instances!.length, 2, 'two VMs, no duplicates');
    t.same(inventory.routes, [`${GW}-default`]);
    t.same(inventory.addresses, [`${GW}-ip-1`, `${GW}-ip-2`]);
    t.equal((await run('destroy', baseArgs(fake, ['--yes']))).code, 0);
    t.same(haInventory(fake), EMPTY, 'no orphans');
  });
}

t.test('retryable faults on HA calls are absorbed', async (t) => {
  const { fake } = await fresh(t);
  fake.api.inject({ method: 'compute.instanceTemplates.insert', status: 503 });
  fake.api.inject({ method: 'compute.regionInstanceGroupManagers.createInstances', reset: true });
  fake.api.inject({ method: 'compute.regionBackendServices.getHealth', status: 429, reason: 'rateLimitExceeded' });
  const result = await run('provision', baseArgs(fake, HA));
  t.equal(result.code, 0, result.stderr);
  t.equal(migVms(fake).length, 2, 'the retried createInstances (same requestId) created the VMs once');
});

t.test('the fake enforces what GCE enforces for stateful regional MIGs', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, HA))).code, 0);
  const { connectCompute } = await import('../provision/gcp/client.js');
  const { patchMig } = await import('../provision/gcp/instance-groups.js');
  const { realClock } = await import('../common/clock.js');
  const clients = await connectCompute({ host: '127.0.0.1', port: fake.port, protocol: 'http' }, { requestTimeoutMs: 10_000 });
  t.teardown(() => clients.close());
  const ctx = { clients, clock: realClock, project: PROJECT, retryBaseMs: 1, maxAttempts: 2, operationTimeoutMs: 5000 };
  await t.rejects(
    patchMig(ctx, REGION, `${GW}-mig`, { updatePolicy: { maxUnavailable: { fixed: 1 } } }),
    /maxUnavailable.fixed': '1'.*0 or at least the number of zones \(3\)/,
  );
  await t.rejects(
    patchMig(ctx, REGION, `${GW}-mig`, { updatePolicy: { maxSurge: { fixed: 3 } } }),
    /maxSurge must be 0 when replacementMethod is RECREATE/,
  );
  await t.rejects(
    patchMig(ctx, REGION, `${GW}-mig`, { updatePolicy: { replacementMethod: 'SUBSTITUTE' } }),
    /require replacementMethod RECREATE/,
  );
  // The lab's autohealing hook: a recreate keeps the name and the stateful IP.
  const vm = migVms(fake)[0]!;
  const recreated = fake.api.recreateManagedInstance(PROJECT, REGION, `${GW}-mig`, String(vm.name));
  t.equal(natIpOf(recreated), natIpOf(vm));
  t.not(recreated.id, vm.id);
});
