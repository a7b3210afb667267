// natgw provision --ha --stateful / status / destroy against the fake Compute API, with the real @google-cloud/compute
// client: exactly the resources of the issue-14 contract, the dry run, status roles, destroy, the rolling replacement.
import t from 'tap';
import type { FakeCompute, Json, ResourceEvent } from '../lab/compute-api/index.js';
import { baseArgs, EMPTY_HA_INVENTORY, haInventory, PROJECT, REGION, run, startSeededFake } from './fixtures/provision/helpers.js';
import { simulateStatefulAgent, STATEFUL_INVENTORY } from './fixtures/provision/stateful.js';

const GW = 'natgw-us-central1';
const R = `regions/${REGION}`;
const STATEFUL = ['--ha', '--stateful'];

async function fresh(t: { teardown: (fn: () => unknown) => void }, timing?: { okAfterMs?: number; resyncAfterMs?: number }) {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  const agent = simulateStatefulAgent(fake, timing);
  return { fake, agent };
}

const metadataOf = (resource: Json) =>
  Object.fromEntries((((resource.metadata as Json).items as { key: string; value: string }[]) ?? []).map((item) => [item.key, item.value]));
const nic0 = (instance: Json) => (instance.networkInterfaces as Json[])[0] as Json;
const vmsOf = (fake: FakeCompute, mig: string) =>
  fake.store
    .all('instances')
    .map((entry) => entry.resource)
    .filter((instance) => String(metadataOf(instance)['created-by']).endsWith(`/instanceGroupManagers/${mig}`));
const last = (link: unknown) => String(link).split('/').pop();

t.test('provision --ha --stateful creates exactly the contract resources with their fields', async (t) => {
  const { fake } = await fresh(t);
  const result = await run('provision', baseArgs(fake, STATEFUL));
  t.equal(result.code, 0, result.stderr);
  const s = fake.store;
  const inventory = haInventory(fake);
  t.same(
    { ...inventory, instances: inventory.instances!.length, instanceTemplates: inventory.instanceTemplates!.length },
    {
      ...STATEFUL_INVENTORY,
      instances: 2,
      instanceTemplates: 1,
    },
  );

  // addresses: one EXTERNAL NAT IP, two INTERNAL GCE_ENDPOINT addresses in the VMs' subnet
  const natIp = s.get(PROJECT, R, 'addresses', `${GW}-nat-ip`)!;
  t.match(natIp, { addressType: 'EXTERNAL', status: 'IN_USE', labels: { 'natgw-gateway': GW } });
  t.match(natIp.users, [new RegExp(`/forwardingRules/${GW}-nat-fr$`)], 'held by the external forwarding rule');
  const sync = (['a', 'b'] as const).map((member) => s.get(PROJECT, R, 'addresses', `${GW}-sync-${member}`)!);
  for (const address of sync)
    t.match(address, { addressType: 'INTERNAL', purpose: 'GCE_ENDPOINT', status: 'IN_USE', subnetwork: /subnetworks\/apps$/ });

  // health checks: the traffic check at GCE's minimums
  t.match(s.get(PROJECT, R, 'healthChecks', `${GW}-hc-lb`), {
    checkIntervalSec: 1,
    timeoutSec: 1,
    healthyThreshold: 2,
    unhealthyThreshold: 1,
    httpHealthCheck: { port: 9731, requestPath: '/healthz/hold/850' },
  });

  // template: one, shared; ephemeral external IP; the agent config's stateful section in a/b order
  const template = s.get(PROJECT, 'global', 'instanceTemplates', inventory.instanceTemplates![0]!)!;
  const props = template.properties as Json;
  t.same(nic0(props).accessConfigs, [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }]);
  const config = JSON.parse(metadataOf(props)['natgw-config']!) as Json;
  t.equal(config.deploymentMode, 'ha');
  t.equal(config.drainSeconds, 4, 'unhealthyThreshold 1 × 1 s + 1 s timeout + 2 s');
  t.same(config.stateful, {
    natIp: natIp.address,
    members: [
      { ip: sync[0]!.address, ports: '1024-33279' },
      { ip: sync[1]!.address, ports: '33280-65535' },
    ],
    syncPort: 3780,
  });

  // groups: one zone each, two different zones, one VM each whose nic0 is its reserved internal address
  const zones: string[] = [];
  for (const [index, member] of (['a', 'b'] as const).entries()) {
    const mig = s.get(PROJECT, R, 'instanceGroupManagers', `${GW}-mig-${member}`)!;
    const migZones = ((mig.distributionPolicy as Json).zones as Json[]).map((zone) => last(zone.zone));
    t.equal(migZones.length, 1);
    zones.push(migZones[0]!);
    t.equal(mig.targetSize, 1);
    t.match(mig.autoHealingPolicies, [{ healthCheck: new RegExp(`/healthChecks/${GW}-hc-heal$`) }]);
    t.same(((mig.statefulPolicy as Json).preservedState as Json).internalIPs, { nic0: { autoDelete: 'NEVER' } });
    const [vm, ...others] = vmsOf(fake, `${GW}-mig-${member}`);
    t.same(others, []);
    t.equal(nic0(vm!).networkIP, sync[index]!.address, `${member}'s VM has ${GW}-sync-${member}'s IP`);
    t.equal(last(vm!.zone), migZones[0]);
    t.not((nic0(vm!).accessConfigs as Json[])[0]!.natIP, natIp.address, 'its own ephemeral external IP');
    const configs = [...(s.perInstanceConfigs.get(String(mig.selfLink).replace(/^.*compute\/v1\//, ''))?.values() ?? [])];
    t.match(configs, [
      {
        name: vm!.name,
        preservedState: {
          internalIPs: { nic0: { autoDelete: 'NEVER', ipAddress: { address: new RegExp(`/addresses/${GW}-sync-${member}$`) } } },
        },
      },
    ]);
  }
  t.not(zones[0], zones[1], 'two different zones');
  t.match(result.stdout, new RegExp(`a \\(primary\\) in ${zones[0]}, b \\(failover\\) in ${zones[1]}`));

  // load balancers: same backends, a primary and b failover, failover policy and NEVER_PERSIST on both
  for (const [name, scheme, protocol] of [
    [`${GW}-ilb`, 'INTERNAL', 'TCP'],
    [`${GW}-nlb`, 'EXTERNAL', 'UNSPECIFIED'],
  ] as const) {
    const service = s.get(PROJECT, R, 'backendServices', name)!;
    t.match(service, {
      loadBalancingScheme: scheme,
      protocol,
      healthChecks: [new RegExp(`/healthChecks/${GW}-hc-lb$`)],
      failoverPolicy: { failoverRatio: 0, dropTrafficIfUnhealthy: false, disableConnectionDrainOnFailover: true },
      connectionTrackingPolicy: { connectionPersistenceOnUnhealthyBackends: 'NEVER_PERSIST' },
    });
    const backends = service.backends as Json[];
    t.equal(backends.length, 2);
    t.match(backends[0], { group: new RegExp(`/instanceGroups/${GW}-mig-a$`) });
    t.not(backends[0]!.failover, true);
    t.match(backends[1], { group: new RegExp(`/instanceGroups/${GW}-mig-b$`), failover: true });
  }
  t.match(s.get(PROJECT, R, 'forwardingRules', `${GW}-nat-fr`), {
    loadBalancingScheme: 'EXTERNAL',
    IPProtocol: 'L3_DEFAULT',
    allPorts: true,
    IPAddress: natIp.address,
    backendService: new RegExp(`/backendServices/${GW}-nlb$`),
  });
  t.match(s.get(PROJECT, R, 'forwardingRules', `${GW}-fr`), { loadBalancingScheme: 'INTERNAL', IPProtocol: 'TCP', allPorts: true });
  t.match(s.get(PROJECT, 'global', 'routes', `${GW}-default`), { nextHopIlb: new RegExp(`/forwardingRules/${GW}-fr$`) });

  // firewalls: sync between the NAT VMs only; returns to the NAT IP only
  t.match(s.get(PROJECT, 'global', 'firewalls', `${GW}-sync`), {
    sourceTags: [GW],
    targetTags: [GW],
    allowed: [
      { IPProtocol: 'udp', ports: ['3780'] },
      { IPProtocol: 'tcp', ports: ['9731'] },
    ],
  });
  t.same(s.get(PROJECT, 'global', 'firewalls', `${GW}-sync`)!.sourceRanges ?? [], [], 'no source range: from the tag only');
  t.match(s.get(PROJECT, 'global', 'firewalls', `${GW}-return`), {
    sourceRanges: ['0.0.0.0/0'],
    destinationRanges: [`${String(natIp.address)}/32`],
    targetTags: [GW],
    allowed: [{ IPProtocol: 'tcp' }, { IPProtocol: 'udp' }, { IPProtocol: 'icmp' }],
  });

  t.match(result.stdout, new RegExp(`Done\\. NAT IP \\(allow-list it\\): ${String(natIp.address).replaceAll('.', '\\.')}`));
  t.match(result.stdout, /curl -s --interface 203\.0\.113\.\d+ https:\/\/checkip\.amazonaws\.com' must print 203\.0\.113\.\d+/);

  fake.api.requests.length = 0;
  const again = await run('provision', baseArgs(fake, STATEFUL));
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /Up to date: nothing to do\. NAT IP 203\.0\.113\.\d+/);
  t.same(fake.api.mutations(), [], 'a second run only reads');
});

t.test('--dry-run lists every resource with its gcloud equivalent and the undocumented behaviour; changes nothing', async (t) => {
  const { fake } = await fresh(t);
  const dry = await run('provision', baseArgs(fake, [...STATEFUL, '--dry-run']));
  t.equal(dry.code, 0, dry.stderr);
  t.same(fake.api.mutations(), []);
  t.same(haInventory(fake), EMPTY_HA_INVENTORY);
  for (const [kind, name] of [
    ['address', 'nat-ip'],
    ['address', 'sync-a'],
    ['address', 'sync-b'],
    ['firewall', 'sync'],
    ['firewall', 'return'],
    ['healthCheck', 'hc-lb'],
    ['mig', 'mig-a'],
    ['mig', 'mig-b'],
    ['backendService', 'ilb'],
    ['backendService', 'nlb'],
    ['forwardingRule', 'fr'],
    ['forwardingRule', 'nat-fr'],
    ['route', 'default'],
  ])
    t.match(dry.stdout, new RegExp(`\\+ ${kind}\\s+${GW}-${name}\\s+create`), `${kind} ${name} in the plan`);
  const gcloud = [
    /gcloud compute addresses create natgw-us-central1-nat-ip .*--network-tier PREMIUM/,
    /gcloud compute addresses create natgw-us-central1-sync-a .*--subnet apps --purpose GCE_ENDPOINT/,
    /gcloud compute firewall-rules create natgw-us-central1-sync .*--rules udp:3780,tcp:9731 --source-tags natgw-us-central1 --target-tags natgw-us-central1/,
    /gcloud compute firewall-rules create natgw-us-central1-return .*--rules tcp:1024-9730,tcp:9732-65535,udp:1024-3779,udp:3781-65535,icmp --source-ranges 0\.0\.0\.0\/0 --destination-ranges \$\(gcloud compute addresses describe natgw-us-central1-nat-ip .*\)\/32/,
    /gcloud compute health-checks create http natgw-us-central1-hc-lb .*--check-interval 1s --timeout 1s --healthy-threshold 2 --unhealthy-threshold 1/,
    /gcloud compute instance-groups managed create natgw-us-central1-mig-a .*--zones us-central1-a .*--stateful-internal-ip interface-name=nic0,auto-delete=never/,
    /gcloud compute instance-groups managed create natgw-us-central1-mig-b .*--zones us-central1-b /,
    /gcloud compute instance-groups managed create-instance natgw-us-central1-mig-a .*--stateful-internal-ip interface-name=nic0,address=projects\/test-project\/regions\/us-central1\/addresses\/natgw-us-central1-sync-a,auto-delete=never/,
    /gcloud compute backend-services create natgw-us-central1-ilb .*--load-balancing-scheme internal .*--failover-ratio=0 --no-drop-traffic-if-unhealthy --no-connection-drain-on-failover --connection-persistence-on-unhealthy-backends=NEVER_PERSIST/,
    /gcloud compute backend-services create natgw-us-central1-nlb .*--load-balancing-scheme external --protocol UNSPECIFIED .*--failover-ratio=0 .*--connection-persistence-on-unhealthy-backends=NEVER_PERSIST/,
    /gcloud compute backend-services add-backend natgw-us-central1-nlb .*--instance-group natgw-us-central1-mig-a .*--balancing-mode connection\n/,
    /gcloud compute backend-services add-backend natgw-us-central1-nlb .*--instance-group natgw-us-central1-mig-b .*--balancing-mode connection --failover\n/,
    /gcloud compute forwarding-rules create natgw-us-central1-nat-fr .*--load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL --address natgw-us-central1-nat-ip --backend-service natgw-us-central1-nlb/,
    /gcloud compute forwarding-rules create natgw-us-central1-fr .*--load-balancing-scheme internal --ip-protocol TCP --ports ALL/,
    /gcloud compute routes create natgw-us-central1-default .*--next-hop-ilb natgw-us-central1-fr/,
  ];
  for (const line of gcloud) t.match(dry.stdout, line);
  t.match(
    dry.stdout,
    /does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP \(the NAT IP\) as their source/,
  );
  t.match(dry.stdout, /curl -s --interface NAT_IP https:\/\/checkip\.amazonaws\.com' must print NAT_IP/);
  t.match(dry.stdout, /docs\/stateful-ha\.md/);
  const json = JSON.parse((await run('provision', baseArgs(fake, [...STATEFUL, '--dry-run', '--json']))).stdout);
  t.match(json, { mode: 'stateful', zones: ['us-central1-a', 'us-central1-b'], drainSeconds: 4, docs: 'docs/stateful-ha.md', natIp: null });
  t.match(json.members, [
    { member: 'a', role: 'primary', zone: 'us-central1-a', ports: '1024-33279' },
    { member: 'b', role: 'failover', zone: 'us-central1-b', ports: '33280-65535' },
  ]);
  t.same(fake.api.mutations(), []);
});

t.test('bad flags fail before any API call, naming --stateful', async (t) => {
  const { fake } = await fresh(t);
  const cases: [string[], RegExp][] = [
    [['--stateful'], /--stateful: only with --ha/],
    [[...STATEFUL, '--ports-per-vm', '1024'], /--stateful: not supported together with port blocks/],
    [[...STATEFUL, '--min-ports-per-vm', '64', '--max-ports-per-vm', '1024'], /--stateful: not supported together with port blocks/],
    [[...STATEFUL, '--size', '3'], /--stateful: runs exactly 2 NAT VMs/],
    [[...STATEFUL, '--zones', 'us-central1-a'], /--zones: --stateful puts its two NAT VMs in two different zones/],
  ];
  for (const [extra, message] of cases) {
    const result = await run('provision', baseArgs(fake, extra));
    t.equal(result.code, 2, extra.join(' '));
    t.match(result.stderr, message);
  }
  t.match((await run('status', baseArgs(fake, ['--stateful']))).stderr, /--stateful: only 'natgw provision' takes this flag/);
  t.same(fake.api.requests, [], 'no API call at all');
});

t.test('status: roles from the failover policy, health per load balancer, sync state; exit 3 when not serving or sync down', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, STATEFUL))).code, 0);
  const [a] = vmsOf(fake, `${GW}-mig-a`);
  const [b] = vmsOf(fake, `${GW}-mig-b`);
  fake.api.requests.length = 0;
  const ok = await run('status', baseArgs(fake));
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /\(HA, stateful; .*\): serving \(2\/2 NAT VMs healthy, state synced\)/);
  t.match(ok.stdout, new RegExp(`vm a\\s+${String(a!.name)}\\s+ACTIVE — ilb HEALTHY, nlb HEALTHY .*sync peer up, resynced`));
  t.match(ok.stdout, new RegExp(`vm b\\s+${String(b!.name)}\\s+STANDBY — ilb HEALTHY, nlb HEALTHY`));
  t.match(ok.stdout, /lb\s+natgw-us-central1-nat-fr\s+203\.0\.113\.\d+ L3_DEFAULT → natgw-us-central1-nlb/);
  const healthCalls = fake.api.requests
    .filter((request) => request.method === 'compute.regionBackendServices.getHealth')
    .map((request) => String(request.url).split('?')[0]!.split('/').slice(-2, -1)[0]);
  t.same(new Set(healthCalls), new Set([`${GW}-ilb`, `${GW}-nlb`]), 'getHealth asked of both load balancers');

  // a fails its checks: b takes over in both load balancers
  fake.store.backendHealth = (link) => (link === a!.selfLink ? 'UNHEALTHY' : undefined);
  const failed = JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout);
  t.match(failed, { mode: 'stateful', serving: true, active: { ilb: 'b', nlb: 'b' } });
  t.match(failed.backends, [
    { member: 'a', role: 'standby', ilb: 'UNHEALTHY' },
    { member: 'b', role: 'active', nlb: 'HEALTHY' },
  ]);

  // the sync peer is down on b: still serving, but the exit code says a failure now loses every connection
  fake.store.setGuestAttribute(
    PROJECT,
    last(b!.zone)!,
    String(b!.name),
    'natgw/sync',
    JSON.stringify({ peerUp: false, resynced: true, role: 'active' }),
  );
  const syncDown = await run('status', baseArgs(fake));
  t.equal(syncDown.code, 3);
  t.match(syncDown.stdout, /SYNC PEER DOWN on /);
  t.match(syncDown.stdout, /sync peer DOWN/);

  fake.store.backendHealth = () => 'UNHEALTHY';
  const down = await run('status', baseArgs(fake));
  t.equal(down.code, 3);
  t.match(down.stdout, /NOT serving/);
  t.same(fake.api.mutations(), [], 'status only reads');
});

t.test('destroy removes everything in dependency order, addresses last, and is idempotent', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, STATEFUL))).code, 0);
  fake.api.requests.length = 0;
  const dry = await run('destroy', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0);
  t.match(dry.stdout, /gcloud compute forwarding-rules delete natgw-us-central1-nat-fr/);
  t.same(fake.api.mutations(), []);
  const done = await run('destroy', baseArgs(fake, ['--yes']));
  t.equal(done.code, 0, done.stderr);
  t.same(haInventory(fake), EMPTY_HA_INVENTORY);
  const deletes = fake.api
    .mutations()
    .map((request) => `${request.method.replace('compute.', '')} ${String(request.url).split('?')[0]!.split('/').pop()}`);
  t.same(deletes, [
    `routes.delete ${GW}-default`,
    `forwardingRules.delete ${GW}-nat-fr`,
    `forwardingRules.delete ${GW}-fr`,
    `regionBackendServices.delete ${GW}-nlb`,
    `regionBackendServices.delete ${GW}-ilb`,
    `regionInstanceGroupManagers.delete ${GW}-mig-a`,
    `regionInstanceGroupManagers.delete ${GW}-mig-b`,
    `regionHealthChecks.delete ${GW}-hc-lb`,
    `regionHealthChecks.delete ${GW}-hc-heal`,
    deletes[9]!,
    `firewalls.delete ${GW}-clients`,
    `firewalls.delete ${GW}-health`,
    `firewalls.delete ${GW}-sync`,
    `firewalls.delete ${GW}-return`,
    `addresses.delete ${GW}-sync-a`,
    `addresses.delete ${GW}-sync-b`,
    `addresses.delete ${GW}-nat-ip`,
  ]);
  t.match(deletes[9], /^instanceTemplates\.delete natgw-us-central1-tmpl-/);
  t.match((await run('destroy', baseArgs(fake, ['--yes']))).stdout, /Nothing to destroy/);
});

t.test('a resource with a contract name that is not ours stops the run with a clear error; nothing changes', async (t) => {
  const { fake } = await fresh(t);
  fake.store.put(PROJECT, R, 'addresses', {
    name: `${GW}-nat-ip`,
    address: '198.51.100.7',
    addressType: 'EXTERNAL',
    status: 'RESERVED',
    labels: { team: 'web' },
  });
  fake.store.put(PROJECT, 'global', 'firewalls', {
    name: `${GW}-sync`,
    network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default',
    description: 'the web team',
    sourceRanges: ['10.0.0.0/8'],
    allowed: [{ IPProtocol: 'udp' }],
  });
  fake.api.requests.length = 0;
  const result = await run('provision', baseArgs(fake, STATEFUL));
  t.equal(result.code, 1);
  t.match(result.stderr, /cannot proceed, nothing was changed:/);
  t.match(result.stderr, /address natgw-us-central1-nat-ip: an address with this name exists but is not labelled as this gateway/);
  t.match(result.stderr, /firewall natgw-us-central1-sync: a firewall rule with this name exists but is not marked as this gateway's/);
  t.same(fake.api.mutations(), []);
  // destroy leaves them alone
  t.match((await run('destroy', baseArgs(fake, ['--yes']))).stdout, /Nothing to destroy/);
  t.ok(fake.store.get(PROJECT, R, 'addresses', `${GW}-nat-ip`));
});

t.test('a new template replaces the standby (b) first, healthy and resynced, then a; never both at once', async (t) => {
  const { fake, agent } = await fresh(t, { okAfterMs: 20, resyncAfterMs: 150 });
  t.equal((await run('provision', baseArgs(fake, STATEFUL))).code, 0);
  const [a] = vmsOf(fake, `${GW}-mig-a`);
  const [b] = vmsOf(fake, `${GW}-mig-b`);
  const events: { at: number; what: string }[] = [];
  fake.store.on(
    'insert',
    (event: ResourceEvent) => event.collection === 'instances' && events.push({ at: performance.now(), what: `insert ${event.name}` }),
  );
  fake.store.on(
    'delete',
    (event: ResourceEvent) => event.collection === 'instances' && events.push({ at: performance.now(), what: `delete ${event.name}` }),
  );
  const dry = await run('provision', baseArgs(fake, [...STATEFUL, '--machine-type', 'e2-medium', '--dry-run']));
  t.match(dry.stdout, /± vm\s+\S+\s+replace\s+\(standby \(b\) first, then a/);
  t.match(
    dry.stdout,
    /# first the standby \(b\)[^\n]*\n\s+gcloud compute instance-groups managed update-instances natgw-us-central1-mig-b[\s\S]*# then the primary \(a\)[^\n]*\n\s+gcloud compute instance-groups managed update-instances natgw-us-central1-mig-a/,
  );
  const result = await run('provision', baseArgs(fake, [...STATEFUL, '--machine-type', 'e2-medium']));
  t.equal(result.code, 0, result.stderr);
  t.same(
    events.map((event) => event.what),
    [`delete ${String(b!.name)}`, `insert ${String(b!.name)}`, `delete ${String(a!.name)}`, `insert ${String(a!.name)}`],
    'b recreated first, then a, one at a time',
  );
  const bResynced = agent.writes.find((write) => write.vm === b!.name && write.at > events[1]!.at && write.value.resynced === true);
  t.ok(bResynced, 'b reported resynced after its recreation');
  t.ok(events[2]!.at >= bResynced!.at, 'a was only touched after b had resynced');
  t.match(
    result.stderr,
    /rolling replacement, step 1 of 2: standby .*\(b\)[\s\S]*waiting for \S+ to resync its connection state[\s\S]*rolling replacement, step 2 of 2: primary .*\(a\)/,
  );
  for (const vm of [...vmsOf(fake, `${GW}-mig-a`), ...vmsOf(fake, `${GW}-mig-b`)]) t.match(vm.machineType, /e2-medium$/);
  t.equal(nic0(vmsOf(fake, `${GW}-mig-a`)[0]!).networkIP, nic0(a!).networkIP, 'a keeps its internal IP');
  t.equal(haInventory(fake).instanceTemplates!.length, 1, 'the superseded template is gone');
});

t.test('plain --ha and --stateful do not switch into each other in place', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake, STATEFUL))).code, 0);
  fake.api.requests.length = 0;
  const toHa = await run('provision', baseArgs(fake, ['--ha']));
  t.equal(toHa.code, 1);
  t.match(toHa.stderr, /runs in stateful HA mode .*switching to HA without --stateful is not done in place/);
  const toSingle = await run('provision', baseArgs(fake));
  t.equal(toSingle.code, 1);
  t.match(
    toSingle.stderr,
    /runs in HA mode \(managed instance group natgw-us-central1-mig-a\); switching to single mode is not done in place/,
  );
  t.same(fake.api.mutations(), []);
});
