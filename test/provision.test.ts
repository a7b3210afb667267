// natgw provision / status / destroy against the fake Compute API, with the real @google-cloud/compute client.
import t from 'tap';
import { parseAgentConfig } from '../agent/config.js';
import { baseArgs, inventory, PROJECT, REGION, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';
import type { FakeCompute, Json } from '../lab/compute-api/index.js';

const GW = 'natgw-us-central1';
const ZONE = 'us-central1-a';

async function fresh(t: { teardown: (fn: () => unknown) => void }, healthy = true) {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  const agent = simulateAgent(fake, { healthy });
  return { fake, agent };
}

const metadataOf = (instance: Json) =>
  Object.fromEntries(((instance.metadata as Json).items as { key: string; value: string }[]).map((item) => [item.key, item.value]));

t.test('provision creates exactly the gateway, route last and only once the agent is healthy', async (t) => {
  const { fake } = await fresh(t);
  const result = await run('provision', baseArgs(fake, ['--iap-ssh']));
  t.equal(result.code, 0, result.stderr);
  t.same(inventory(fake), {
    addresses: [`${GW}-ip`],
    firewalls: [`${GW}-clients`, `${GW}-health`, `${GW}-iap-ssh`],
    instances: [GW],
    routes: [`${GW}-default`],
  });
  const s = fake.store;
  const address = s.get(PROJECT, 'regions/us-central1', 'addresses', `${GW}-ip`)!;
  t.match(address, { status: 'IN_USE', labels: { 'managed-by': 'natgw', 'natgw-gateway': GW }, networkTier: 'PREMIUM' });

  const clients = s.get(PROJECT, 'global', 'firewalls', `${GW}-clients`)!;
  t.same(
    clients.sourceRanges,
    ['10.10.0.0/20', '10.20.0.0/16', '10.30.0.0/20', '10.40.0.0/24'],
    'all primary and secondary ranges by default',
  );
  t.same(clients.allowed, [{ IPProtocol: 'all' }]);
  t.same(clients.targetTags, [GW]);
  t.match(clients.description, /^natgw-gateway=natgw-us-central1;/);
  const health = s.get(PROJECT, 'global', 'firewalls', `${GW}-health`)!;
  t.same(health.sourceRanges, ['35.191.0.0/16', '130.211.0.0/22']);
  t.same(health.allowed, [{ IPProtocol: 'tcp', ports: ['9731'] }]);
  t.same(s.get(PROJECT, 'global', 'firewalls', `${GW}-iap-ssh`)!.sourceRanges, ['35.235.240.0/20']);

  const instance = s.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!;
  t.equal(instance.canIpForward, true);
  t.same((instance.tags as Json).items, [GW], 'its own tag, never the client tag');
  t.match(instance.machineType, /machineTypes\/e2-small$/);
  t.same(instance.shieldedInstanceConfig, { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
  t.match((instance.disks as Json[])[0], { boot: true, autoDelete: true });
  const nic = (instance.networkInterfaces as Json[])[0]!;
  t.equal(((nic.accessConfigs as Json[])[0] as Json).natIP, address.address, 'the static IP');
  t.match(nic.subnetwork, /subnetworks\/apps$/);
  const insert = fake.api.requests.find((request) => request.method === 'compute.instances.insert')!;
  t.match(
    ((insert.body as Json).disks as Json[])[0],
    { initializeParams: { sourceImage: /projects\/debian-cloud\/global\/images\/debian-13-/ } },
    'stock Debian 13 from the family',
  );
  const metadata = metadataOf(instance);
  t.equal(metadata['enable-guest-attributes'], 'TRUE');
  t.match(metadata['startup-script'], /^#!\/bin\/bash/);
  t.ok(metadata['natgw-agent-0'] && metadata['natgw-agent-sha256'] && metadata['natgw-agent-version']);
  const config = parseAgentConfig(metadata['natgw-config']!, 'metadata');
  t.same(config.sourceRanges, ['10.10.0.0/20', '10.20.0.0/16', '10.30.0.0/20', '10.40.0.0/24']);

  const route = s.get(PROJECT, 'global', 'routes', `${GW}-default`)!;
  t.match(route, {
    destRange: '0.0.0.0/0',
    priority: 800,
    tags: [`${GW}-client`],
    nextHopInstance: new RegExp(`zones/${ZONE}/instances/${GW}$`),
  });
  t.match(route.description, /^natgw-gateway=natgw-us-central1;/);

  const methods = fake.api.methods();
  const lastHealthRead = methods.lastIndexOf('compute.instances.getGuestAttributes');
  t.ok(lastHealthRead > 0 && lastHealthRead < methods.indexOf('compute.routes.insert'), 'the route comes after the agent reported healthy');
  t.ok(
    fake.api.mutations().every((request) => /requestId=/.test(request.url)),
    'every mutation carries a requestId',
  );
  t.match(result.stderr, /single-instance mode: one NAT VM is not highly available/);
  t.match(result.stdout, /Done\. NAT IP 203\.0\.113\.\d+/);
  t.match(result.stderr, /waiting for the agent on natgw-us-central1 to report healthy …/, 'plain progress lines when not a terminal');
});

t.test('a second run only reads and says up to date', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  fake.api.requests.length = 0;
  const again = await run('provision', baseArgs(fake));
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /Up to date: nothing to do/);
  t.same(
    fake.api.requests.filter((request) => request.httpMethod !== 'GET'),
    [],
    'only GETs',
  );
  t.ok(fake.api.requests.length > 0);
});

t.test('a new agent bundle: live on VMs whose startup script can update the agent, at next boot on older ones', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { AGENT_BUNDLE } = await import('./fixtures/provision/helpers.js');
  const next = join(mkdtempSync(join(tmpdir(), 'natgw-bundle-')), 'next.mjs');
  writeFileSync(next, `${readFileSync(AGENT_BUNDLE, 'utf8')}\n// next release\n`);
  const live = await run('provision', baseArgs(fake, ['--dry-run', '--agent-bundle', next]));
  t.match(live.stdout, /restarts into the new bundle within seconds/);
  const instance = fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!;
  const script = ((instance.metadata as Json).items as { key: string; value: string }[]).find((item) => item.key === 'startup-script')!;
  script.value = '#!/bin/bash\n# a startup script from an older natgw\n';
  const older = await run('provision', baseArgs(fake, ['--dry-run', '--agent-bundle', next]));
  t.match(older.stdout, /installed at its next boot/);
});

t.test('--dry-run prints the plan and gcloud commands and changes nothing; --json is machine-readable', async (t) => {
  const { fake } = await fresh(t);
  const dry = await run('provision', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0, dry.stderr);
  t.same(
    fake.api.requests.filter((request) => request.httpMethod !== 'GET'),
    [],
    'no mutating call',
  );
  t.match(dry.stdout, /\+ address\s+natgw-us-central1-ip\s+create/);
  t.match(dry.stdout, /\+ route\s+natgw-us-central1-default\s+create/);
  t.match(
    dry.stdout,
    /gcloud compute instances create natgw-us-central1 --project test-project --zone us-central1-a --machine-type e2-small/,
  );
  t.match(
    dry.stdout,
    /gcloud compute routes create natgw-us-central1-default .*--next-hop-instance natgw-us-central1 --next-hop-instance-zone us-central1-a --tags natgw-us-central1-client --priority 800/,
  );
  t.same(inventory(fake), { addresses: [], firewalls: [], instances: [], routes: [] });

  const json = await run('provision', baseArgs(fake, ['--dry-run', '--json']));
  const parsed = JSON.parse(json.stdout);
  t.equal(parsed.dryRun, true);
  t.same(
    parsed.changes.map((change: { kind: string; action: string }) => `${change.kind}:${change.action}`),
    ['address:create', 'firewall:create', 'firewall:create', 'instance:create', 'route:create'],
  );
  t.ok(parsed.gcloud.length >= 5);
  t.match(parsed.warnings[0], /single-instance/);
});

t.test('drift is shown and converged', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  fake.store.update(PROJECT, 'global', 'firewalls', `${GW}-clients`, (firewall) => {
    firewall.sourceRanges = ['0.0.0.0/0'];
  });
  fake.store.update(PROJECT, `zones/${ZONE}`, 'instances', GW, (instance) => {
    // Someone tagged the NAT VM as a client: it would route into itself.
    instance.tags = { items: [GW, `${GW}-client`], fingerprint: 'drifted' };
    instance.labels = { ...(instance.labels as Json), team: 'netops' };
  });
  const dry = await run('provision', baseArgs(fake, ['--dry-run', '--udp-timeout', '60s']));
  t.match(dry.stdout, /~ firewall\s+natgw-us-central1-clients\s+update\n\s+sourceRanges: 0\.0\.0\.0\/0 → 10\.10\.0\.0\/20,/);
  t.match(
    dry.stdout,
    /~ instance\s+natgw-us-central1\s+update\n\s+tags: natgw-us-central1,natgw-us-central1-client → natgw-us-central1\n\s+metadata\.natgw-config:/,
  );
  t.match(dry.stdout, /= route\s+natgw-us-central1-default\s+unchanged/);
  const result = await run('provision', baseArgs(fake, ['--udp-timeout', '60s']));
  t.equal(result.code, 0, result.stderr);
  t.same(fake.store.get(PROJECT, 'global', 'firewalls', `${GW}-clients`)!.sourceRanges, [
    '10.10.0.0/20',
    '10.20.0.0/16',
    '10.30.0.0/20',
    '10.40.0.0/24',
  ]);
  t.equal(parseAgentConfig(metadataOf(fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!)['natgw-config']!, 'm').timeouts.udp, 60);
  const instance = fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!;
  t.same((instance.tags as Json).items, [GW]);
  t.same(instance.labels, { 'managed-by': 'natgw', 'natgw-gateway': GW, team: 'netops' }, "the user's own label stays");
  fake.api.requests.length = 0;
  t.match((await run('provision', baseArgs(fake, ['--udp-timeout', '60s']))).stdout, /Up to date/);
  t.same(fake.api.mutations(), []);
});

t.test('--subnets picks ranges like Cloud NAT; unknown subnet or range fails before any change', async (t) => {
  const { fake } = await fresh(t);
  const primary = JSON.parse((await run('provision', baseArgs(fake, ['--subnets', 'primary', '--dry-run', '--json']))).stdout);
  t.same(primary.sourceRanges, ['10.10.0.0/20', '10.40.0.0/24']);
  const list = JSON.parse((await run('provision', baseArgs(fake, ['--subnets', 'apps:pods,db', '--dry-run', '--json']))).stdout);
  t.same(list.sourceRanges, ['10.20.0.0/16', '10.40.0.0/24']);
  const all = JSON.parse(
    (await run('provision', baseArgs(fake, ['--subnets', 'apps:ALL', '--extra-source-ranges', '192.168.0.0/16', '--dry-run', '--json'])))
      .stdout,
  );
  t.same(all.sourceRanges, ['10.10.0.0/20', '10.20.0.0/16', '10.30.0.0/20', '192.168.0.0/16']);

  const unknown = await run('provision', baseArgs(fake, ['--subnets', 'nope']));
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /--subnets: subnet 'nope' not found in network 'default' in us-central1 \(subnets there: apps, db\)/);
  const badRange = await run('provision', baseArgs(fake, ['--subnets', 'apps:nodes']));
  t.match(badRange.stderr, /subnet 'apps' has no secondary range 'nodes' \(it has: pods, services\)/);
  t.same(fake.api.mutations(), [], 'nothing was changed');
});

t.test('bad flags fail before any API call, naming the flag', async (t) => {
  const { fake } = await fresh(t);
  const cases: [string[], RegExp][] = [
    [['--region', 'us-central1', '--compute-endpoint', fake.url], /--project: required/],
    [baseArgs(fake, ['--extra-source-ranges', '10.0.0.0/8,banana']), /--extra-source-ranges: 'banana' is not an IPv4 CIDR/],
    [
      baseArgs(fake, ['--extra-source-ranges', '10.0.0.1/8']),
      /--extra-source-ranges: '10.0.0.1\/8' has host bits set; did you mean 10.0.0.0\/8\?/,
    ],
    [baseArgs(fake, ['--route-priority', '70000']), /--route-priority: must be between 0 and 65535, got 70000/],
    [baseArgs(fake, ['--route-priority', 'high']), /--route-priority: 'high' is not a whole number/],
    [baseArgs(fake, ['--subnets', 'apps:ALL:x']), /--subnets: 'apps:ALL:x' is not SUBNET, SUBNET:ALL or SUBNET:RANGE_NAME/],
    [baseArgs(fake, ['--zone', 'europe-west1-b']), /--zone: 'europe-west1-b' is not a zone of us-central1/],
    [baseArgs(fake, ['--client-tag', GW]), /--client-tag: 'natgw-us-central1' is the NAT VM's own tag/],
    [baseArgs(fake, ['--udp-timeout', 'soon']), /--udp-timeout: 'soon' is not a duration/],
    [baseArgs(fake, ['--bogus']), /Unknown option '--bogus'/],
    [baseArgs(fake, ['--nat-ip', 'not_an_ip!']), /--nat-ip:/],
    [
      ['--project', PROJECT, '--region', REGION, '--compute-endpoint', 'http://10.1.2.3:80'],
      /--compute-endpoint: plain http is only allowed to a loopback address/,
    ],
    [baseArgs(fake, ['--mss-clamp', '100']), /--mss-clamp: must be between 536 and 9000/],
  ];
  for (const [argv, message] of cases) {
    const result = await run('provision', argv);
    t.equal(result.code, 2, `exit 2 for ${argv.slice(-2).join(' ')}`);
    t.match(result.stderr, message);
  }
  const statusFlag = await run('status', baseArgs(fake, ['--machine-type', 'e2-micro']));
  t.match(statusFlag.stderr, /--machine-type: only 'natgw provision' takes this flag/);
  t.same(fake.api.requests, [], 'no API call at all');
});

t.test('status shows every resource, health, NAT IP and route', async (t) => {
  const { fake } = await fresh(t);
  const before = await run('status', baseArgs(fake));
  t.equal(before.code, 3);
  t.match(before.stdout, /not provisioned/);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  fake.api.requests.length = 0;
  const after = await run('status', baseArgs(fake));
  t.equal(after.code, 0, after.stderr);
  t.match(after.stdout, /Gateway natgw-us-central1 .*: serving/);
  t.match(after.stdout, /address\s+natgw-us-central1-ip\s+203\.0\.113\.\d+ \(IN_USE\)/);
  t.match(after.stdout, /agent\s+health\s+ok/);
  t.match(
    after.stdout,
    /route\s+natgw-us-central1-default\s+0\.0\.0\.0\/0 → zones\/us-central1-a\/instances\/natgw-us-central1, tags natgw-us-central1-client, priority 800/,
  );
  t.match(after.stdout, /firewall\s+natgw-us-central1-iap-ssh\s+absent/);
  fake.store.setGuestAttribute(PROJECT, ZONE, GW, 'natgw/health', 'unhealthy: egress-probe');
  const json = await run('status', baseArgs(fake, ['--json']));
  t.equal(json.code, 3);
  const report = JSON.parse(json.stdout);
  t.equal(report.health, 'unhealthy: egress-probe');
  t.equal(report.serving, false);
  t.match(report.natIp, /^203\.0\.113\./);
  t.same(fake.api.mutations(), []);
});

function seedForeign(fake: FakeCompute) {
  const s = fake.store;
  s.put(PROJECT, 'global', 'firewalls', {
    name: 'allow-ssh',
    network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default',
    sourceRanges: ['0.0.0.0/0'],
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
  });
  s.put(PROJECT, 'global', 'routes', {
    name: 'vpn-route',
    network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default',
    destRange: '192.168.0.0/16',
    priority: 1000,
    nextHopIp: '10.10.0.5',
  });
  s.put(PROJECT, 'regions/us-central1', 'addresses', {
    name: 'web-ip',
    address: '198.51.100.7',
    status: 'RESERVED',
    labels: { team: 'web' },
  });
  // Same names as ours but no ownership marker: natgw must not touch them.
  s.put(PROJECT, 'global', 'firewalls', {
    name: `${GW}-iap-ssh`,
    network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default',
    sourceRanges: ['35.235.240.0/20'],
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    description: 'hand-made',
  });
}

t.test('destroy removes only what natgw labelled, route first, and needs --yes without a terminal', async (t) => {
  const { fake } = await fresh(t);
  seedForeign(fake);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  const before = inventory(fake);

  const dry = await run('destroy', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0);
  t.match(dry.stdout, /gcloud compute routes delete natgw-us-central1-default/);
  t.match(dry.stdout, /= firewall\s+natgw-us-central1-iap-ssh\s+keep\s+\(not created by natgw/);
  t.same(inventory(fake), before);

  const refused = await run('destroy', baseArgs(fake));
  t.equal(refused.code, 2);
  t.match(refused.stderr, /refusing to destroy without confirmation: there is no terminal to ask on; re-run with --yes/);
  t.same(inventory(fake), before);

  fake.api.requests.length = 0;
  const done = await run('destroy', baseArgs(fake, ['--yes']));
  t.equal(done.code, 0, done.stderr);
  t.same(inventory(fake), { addresses: ['web-ip'], firewalls: ['allow-ssh', `${GW}-iap-ssh`], instances: [], routes: ['vpn-route'] });
  const deletes = fake.api.methods().filter((method) => method.endsWith('.delete'));
  t.same(
    deletes,
    [
      'compute.routes.delete',
      'compute.instances.delete',
      'compute.firewalls.delete',
      'compute.firewalls.delete',
      'compute.addresses.delete',
    ],
    'route first, address last',
  );
  const again = await run('destroy', baseArgs(fake, ['--yes']));
  t.match(again.stdout, /Nothing to destroy/);
});

t.test('provision refuses to adopt a same-named resource it does not own', async (t) => {
  const { fake } = await fresh(t);
  seedForeign(fake);
  const result = await run('provision', baseArgs(fake, ['--iap-ssh']));
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    /cannot proceed, nothing was changed:\n\s+firewall natgw-us-central1-iap-ssh: a firewall rule with this name exists but is not marked/,
  );
  t.same(fake.api.mutations(), []);
});

t.test('--nat-ip uses an existing reserved address and destroy leaves it', async (t) => {
  const { fake } = await fresh(t);
  fake.store.put(PROJECT, 'regions/us-central1', 'addresses', {
    name: 'allow-listed',
    address: '198.51.100.9',
    status: 'RESERVED',
    labels: {},
  });
  const result = await run('provision', baseArgs(fake, ['--nat-ip', '198.51.100.9']));
  t.equal(result.code, 0, result.stderr);
  t.same(inventory(fake).addresses, ['allow-listed'], 'no address reserved');
  const nic = (fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!.networkInterfaces as Json[])[0]!;
  t.equal(((nic.accessConfigs as Json[])[0] as Json).natIP, '198.51.100.9');
  t.match((await run('provision', baseArgs(fake, ['--nat-ip', 'allow-listed']))).stdout, /Up to date/);
  t.equal((await run('destroy', baseArgs(fake, ['--yes']))).code, 0);
  t.match(fake.store.get(PROJECT, 'regions/us-central1', 'addresses', 'allow-listed'), { status: 'RESERVED' });
});

t.test('an agent that never turns healthy: clear error with the serial tail, no route; a re-run finishes', async (t) => {
  const { fake, agent } = await fresh(t, false);
  const result = await run('provision', baseArgs(fake, ['--health-timeout', '200ms']));
  t.equal(result.code, 1);
  t.match(result.stderr, /the agent on natgw-us-central1 did not report healthy within 0s \(last health: unhealthy: starting\)/);
  t.match(result.stderr, /Last lines of its serial console:\n[\s\S]*egress probe to 1\.1\.1\.1:443 failed/);
  t.same(inventory(fake).routes, []);
  agent.set(true);
  fake.store.setGuestAttribute(PROJECT, ZONE, GW, 'natgw/health', 'ok');
  fake.api.requests.length = 0;
  const rerun = await run('provision', baseArgs(fake));
  t.equal(rerun.code, 0, rerun.stderr);
  t.same(inventory(fake).routes, [`${GW}-default`]);
  t.same(
    fake.api.mutations().filter((request) => request.method !== 'compute.routes.insert'),
    [],
    'only the route was missing',
  );
});

t.test('network not found: one clear message', async (t) => {
  const { fake } = await fresh(t);
  const result = await run('provision', baseArgs(fake, ['--network', 'prod']));
  t.equal(result.code, 1);
  t.match(result.stderr, /network 'prod' not found in project test-project/);
});

t.test('a change that needs a new VM: refused without a terminal or --yes; with --yes route, VM, VM, route', async (t) => {
  const { fake } = await fresh(t);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  const refused = await run('provision', baseArgs(fake, ['--machine-type', 'e2-medium']));
  t.equal(refused.code, 2);
  t.match(
    refused.stdout,
    /± instance\s+natgw-us-central1\s+replace\s+\(these fields need a new VM[^\n]*\n\s+machineType: e2-small → e2-medium/,
  );
  t.match(refused.stdout, /± route\s+natgw-us-central1-default\s+replace\s+\(it points at the VM being replaced\)/);
  t.match(refused.stderr, /replaces the NAT VM .* re-run with --yes/);
  fake.api.requests.length = 0;
  const replaced = await run('provision', baseArgs(fake, ['--machine-type', 'e2-medium', '--yes']));
  t.equal(replaced.code, 0, replaced.stderr);
  t.same(
    fake.api.mutations().map((request) => request.method),
    ['compute.routes.delete', 'compute.instances.delete', 'compute.instances.insert', 'compute.routes.insert'],
  );
  t.match(fake.store.get(PROJECT, `zones/${ZONE}`, 'instances', GW)!.machineType, /e2-medium$/);
});
