// What the fake Compute API enforces for stateful HA, as GCE does, through the real client: failover only on passthrough
// backend services, an EXTERNAL L3_DEFAULT rule only on an UNSPECIFIED EXTERNAL service and a free EXTERNAL address of
// its region, addresses held by a rule or a VM not deletable, per-instance internal IPs in the subnet and unused.
import t from 'tap';
import { realClock } from '../common/clock.js';
import { deleteAddress, insertAddress } from '../provision/gcp/addresses.js';
import type { CallContext } from '../provision/gcp/call.js';
import { connectCompute } from '../provision/gcp/client.js';
import { insertHealthCheck } from '../provision/gcp/health-checks.js';
import { createMigInstances, insertMig } from '../provision/gcp/instance-groups.js';
import { getBackendHealth, insertBackendService, insertForwardingRule } from '../provision/gcp/load-balancing.js';
import { baseArgs, PROJECT, REGION, run, startSeededFake } from './fixtures/provision/helpers.js';
import { simulateStatefulAgent } from './fixtures/provision/stateful.js';

const GW = 'natgw-us-central1';
const R = `regions/${REGION}`;
const regional = (collection: string, name: string) => `projects/${PROJECT}/regions/${REGION}/${collection}/${name}`;

const fake = await startSeededFake();
simulateStatefulAgent(fake);
t.teardown(() => fake.close());
const provisioned = await run('provision', baseArgs(fake, ['--ha', '--stateful']));
if (provisioned.code !== 0) throw new Error(provisioned.stderr);
const clients = await connectCompute({ host: '127.0.0.1', port: fake.port, protocol: 'http' }, { requestTimeoutMs: 10_000 });
t.teardown(() => clients.close());
const ctx: CallContext = { clients, clock: realClock, project: PROJECT, retryBaseMs: 1, maxAttempts: 2, operationTimeoutMs: 5000 };
const group = (member: 'a' | 'b') => regional('instanceGroups', `${GW}-mig-${member}`);
const check = [regional('healthChecks', `${GW}-hc-lb`)];

t.test('backend services: failover and connection tracking only on passthrough schemes; one primary at least', async (t) => {
  await t.rejects(
    insertBackendService(ctx, REGION, {
      name: 'managed',
      loadBalancingScheme: 'INTERNAL_MANAGED',
      protocol: 'HTTP',
      healthChecks: check,
      backends: [{ group: group('a'), failover: true }],
    }),
    /backends\[0\]\.failover': failover backends are only supported by passthrough/,
  );
  await t.rejects(
    insertBackendService(ctx, REGION, {
      name: 'managed',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      protocol: 'HTTP',
      healthChecks: check,
      failoverPolicy: { failoverRatio: 0.5 },
    }),
    /failoverPolicy': failover policies are only supported by passthrough/,
  );
  await t.rejects(
    insertBackendService(ctx, REGION, {
      name: 'all-failover',
      loadBalancingScheme: 'EXTERNAL',
      protocol: 'UNSPECIFIED',
      healthChecks: check,
      backends: [{ group: group('a'), failover: true }],
    }),
    /at least one backend must be a primary/,
  );
  await t.rejects(
    insertBackendService(ctx, REGION, {
      name: 'ratio',
      loadBalancingScheme: 'INTERNAL',
      protocol: 'TCP',
      healthChecks: check,
      failoverPolicy: { failoverRatio: 2 },
    }),
    /failoverRatio': '2'. Must be between 0 and 1/,
  );
  const stored = fake.store.get(PROJECT, R, 'backendServices', `${GW}-nlb`)!;
  t.match(stored, {
    loadBalancingScheme: 'EXTERNAL',
    protocol: 'UNSPECIFIED',
    failoverPolicy: { failoverRatio: 0, dropTrafficIfUnhealthy: false, disableConnectionDrainOnFailover: true },
    connectionTrackingPolicy: { connectionPersistenceOnUnhealthyBackends: 'NEVER_PERSIST' },
    backends: [{ group: /mig-a$/ }, { group: /mig-b$/, failover: true }],
  });
});

t.test('EXTERNAL forwarding rules: L3_DEFAULT needs an UNSPECIFIED EXTERNAL service and a free EXTERNAL address', async (t) => {
  await insertBackendService(ctx, REGION, { name: 'tcp-nlb', loadBalancingScheme: 'EXTERNAL', protocol: 'TCP', healthChecks: check });
  await insertAddress(ctx, REGION, { name: 'spare-ip', addressType: 'EXTERNAL' });
  const spare = String(fake.store.get(PROJECT, R, 'addresses', 'spare-ip')!.address);
  const rule = (extra: Record<string, unknown>) => ({
    name: 'test-fr',
    loadBalancingScheme: 'EXTERNAL',
    IPProtocol: 'L3_DEFAULT',
    allPorts: true,
    backendService: regional('backendServices', `${GW}-nlb`),
    ...extra,
  });
  await t.rejects(
    insertForwardingRule(ctx, REGION, rule({ IPAddress: spare, backendService: regional('backendServices', 'tcp-nlb') })),
    /L3_DEFAULT needs UNSPECIFIED/,
  );
  await t.rejects(
    insertForwardingRule(ctx, REGION, rule({ IPAddress: spare, backendService: regional('backendServices', `${GW}-ilb`) })),
    /an EXTERNAL forwarding rule needs an EXTERNAL one/,
  );
  await t.rejects(
    insertForwardingRule(ctx, REGION, rule({ IPAddress: '198.51.100.50' })),
    /not found among the reserved EXTERNAL addresses/,
  );
  const syncA = String(fake.store.get(PROJECT, R, 'addresses', `${GW}-sync-a`)!.address);
  await t.rejects(insertForwardingRule(ctx, REGION, rule({ IPAddress: syncA })), /not found among the reserved EXTERNAL addresses/);
  const natIp = String(fake.store.get(PROJECT, R, 'addresses', `${GW}-nat-ip`)!.address);
  await t.rejects(insertForwardingRule(ctx, REGION, rule({ IPAddress: natIp })), /is already being used by/);
  await t.rejects(
    insertForwardingRule(ctx, REGION, rule({ IPAddress: spare, allPorts: false, ports: ['80'] })),
    /L3_DEFAULT requires allPorts/,
  );
  await t.rejects(
    insertForwardingRule(ctx, REGION, rule({ IPAddress: `projects/${PROJECT}/regions/europe-west1/addresses/spare-ip` })),
    /was not found/,
  );
  await t.rejects(
    deleteAddress(ctx, REGION, `${GW}-nat-ip`),
    /resourceInUseByAnotherResource|already being used by .*forwardingRules\/natgw-us-central1-nat-fr/,
  );
  await t.rejects(deleteAddress(ctx, REGION, `${GW}-sync-a`), /already being used by .*instances\//);
});

t.test('per-instance internal IPs: the reserved address must be INTERNAL, in the template subnet, and unused', async (t) => {
  const mig = fake.store.get(PROJECT, R, 'instanceGroupManagers', `${GW}-mig-a`)!;
  await insertMig(ctx, REGION, {
    name: 'spare-mig',
    baseInstanceName: 'spare',
    instanceTemplate: String(mig.instanceTemplate),
    targetSize: 0,
    distributionPolicy: { zones: [{ zone: `projects/${PROJECT}/zones/us-central1-c` }] },
    statefulPolicy: { preservedState: { internalIPs: { nic0: { autoDelete: 'NEVER' } } } },
    updatePolicy: {
      type: 'OPPORTUNISTIC',
      replacementMethod: 'RECREATE',
      maxSurge: { fixed: 0 },
      maxUnavailable: { fixed: 1 },
      instanceRedistributionType: 'NONE',
    },
  });
  await insertAddress(ctx, REGION, {
    name: 'db-ip',
    addressType: 'INTERNAL',
    purpose: 'GCE_ENDPOINT',
    subnetwork: regional('subnetworks', 'db'),
  });
  const pin = (name: string, address: string) => [
    { name, preservedState: { internalIPs: { nic0: { autoDelete: 'NEVER', ipAddress: { address: regional('addresses', address) } } } } },
  ];
  await t.rejects(createMigInstances(ctx, REGION, 'spare-mig', pin('spare-1', `${GW}-sync-b`)), /is already being used by .*instances\//);
  await t.rejects(
    createMigInstances(ctx, REGION, 'spare-mig', pin('spare-1', 'db-ip')),
    /The address is in subnetwork db, the instance template's network interface in apps/,
  );
  await t.rejects(createMigInstances(ctx, REGION, 'spare-mig', pin('spare-1', `${GW}-nat-ip`)), /must be an INTERNAL address/);
  await insertAddress(ctx, REGION, {
    name: 'apps-ip',
    addressType: 'INTERNAL',
    purpose: 'GCE_ENDPOINT',
    subnetwork: regional('subnetworks', 'apps'),
  });
  await createMigInstances(ctx, REGION, 'spare-mig', pin('spare-1', 'apps-ip'));
  const vm = fake.store.get(PROJECT, 'zones/us-central1-c', 'instances', 'spare-1')!;
  const apps = fake.store.get(PROJECT, R, 'addresses', 'apps-ip')!;
  t.equal(
    ((vm.networkInterfaces as Record<string, unknown>[])[0] as Record<string, unknown>).networkIP,
    apps.address,
    "the VM's networkIP is the reserved address",
  );
  t.match(apps, { status: 'IN_USE', users: [String(vm.selfLink)] });
});

t.test('getHealth answers for the external backend service too', async (t) => {
  const health = await getBackendHealth(ctx, REGION, `${GW}-nlb`, group('b'));
  t.equal(health.length, 1);
  t.match(health[0], {
    healthState: 'HEALTHY',
    forwardingRuleIp: String(fake.store.get(PROJECT, R, 'addresses', `${GW}-nat-ip`)!.address),
  });
});

t.test('health checks: requestPath is a path, without query parameters, as the API documents', async (t) => {
  const base = { type: 'HTTP', checkIntervalSec: 1, timeoutSec: 1, healthyThreshold: 2, unhealthyThreshold: 1 };
  await t.rejects(
    insertHealthCheck(ctx, REGION, { ...base, name: 'with-query', httpHealthCheck: { port: 9731, requestPath: '/healthz?hold=850' } }),
    /httpHealthCheck\.requestPath': '\/healthz\?hold=850'\. Must be a path starting with '\/', without query parameters/,
  );
  const provisionedCheck = fake.store.get(PROJECT, R, 'healthChecks', `${GW}-hc-lb`);
  t.equal(
    (provisionedCheck?.httpHealthCheck as { requestPath?: string } | undefined)?.requestPath,
    '/healthz/hold/850',
    'what provision sets is one',
  );
});
