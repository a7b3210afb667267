// natgw against a fake that behaves like a real project (issue 11): asynchronous operations, transient 5xx, late
// guest attributes, organization policies, quotas, Arm machine types, route warnings, the default network's open SSH
// rule, and HA groups whose creates fail. Real @google-cloud/compute client, as in provision.test.ts.
import t from 'tap';
import { orgPolicyError, type FakeCompute, type Json } from '../lab/compute-api/index.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';
import { baseArgs, inventory, PROJECT, REGION, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';

const GW = 'natgw-us-central1';
const ZONE = 'us-central1-a';
const FULL = { addresses: [`${GW}-ip`], firewalls: [`${GW}-clients`, `${GW}-health`], instances: [GW], routes: [`${GW}-default`] };
const EMPTY = { addresses: [], firewalls: [], instances: [], routes: [] };
// Operations take 50 ms and `wait` returns RUNNING after at most 20 ms: every wait loop has to go round.
const TIMING = { operationMs: 50, migActionMs: 100, waitCapMs: 20 };
const VM_EXTERNAL_IP = 'constraints/compute.vmExternalIpAccess';

async function realistic(t: { teardown: (fn: () => unknown) => void }, options: { defaultFirewalls?: boolean } = {}): Promise<FakeCompute> {
  const fake = await startSeededFake({ timing: TIMING, ...options });
  t.teardown(() => fake.close());
  return fake;
}

const requestIdOf = (url: string) => new URL(url, 'http://x').searchParams.get('requestId');

t.test('a full provision through async operations, late guest attributes, a 500 on the address and a 502 on the route', async (t) => {
  const fake = await realistic(t);
  // No early report: natgw/health answers 404 to the first read, then ok (counted in reads, not time: on a loaded box
  // 300 ms passed before the first read, and the 404 was never seen).
  simulateAgent(fake, { healthy: true, okAfterReads: 1, reportsStarting: false });
  fake.store.pollsUntilDone = 2;
  fake.api.inject({
    method: 'compute.addresses.insert',
    status: 500,
    reason: 'backendError',
    message: 'Internal error. Please try again or contact Google Support.',
  });
  fake.api.inject({ method: 'compute.routes.insert', status: 502, message: 'Bad Gateway' });
  const result = await run('provision', baseArgs(fake));
  t.equal(result.code, 0, result.stderr);
  t.same(inventory(fake), FULL, 'exactly one address, the firewall rules, one VM and one route');
  t.match(result.stderr, /create address natgw-us-central1-ip: HTTP 500 backendError, retrying in/);
  t.match(result.stderr, /create route natgw-us-central1-default: HTTP 502.*, retrying in/);
  for (const method of ['compute.addresses.insert', 'compute.routes.insert']) {
    const calls = fake.api.requests.filter((request) => request.method === method);
    t.equal(calls.length, 2, `${method}: the failed call and its retry`);
    t.equal(new Set(calls.map((call) => requestIdOf(call.url))).size, 1, `${method}: the retry reuses the requestId`);
  }
  // Every operation answers its first wait with RUNNING (pollsUntilDone 2), however slow the client is: a provisioner
  // that did not loop would stop at that answer, so each operation must have been waited on at least twice.
  const waitsPerOperation = new Map<string, number>();
  for (const request of fake.api.requests.filter((candidate) => candidate.method.endsWith('Operations.wait'))) {
    const operation = /\/operations\/([^/?]+)\/wait/.exec(request.url)?.[1] ?? '?';
    waitsPerOperation.set(operation, (waitsPerOperation.get(operation) ?? 0) + 1);
  }
  const accepted = fake.api.mutations().filter((request) => request.status === 200).length;
  t.equal(waitsPerOperation.size, accepted, 'one operation waited on per accepted mutation (the two refused calls started none)');
  t.same(
    [...waitsPerOperation.values()].filter((count) => count < 2),
    [],
    `wait returned before DONE and was called again (${[...waitsPerOperation.values()].join(', ')} waits per operation)`,
  );
  const reads = fake.api.requests.filter((request) => request.method === 'compute.instances.getGuestAttributes');
  t.ok(
    reads.some((request) => request.status === 404),
    'the health attribute was not written yet at first (404 is "not yet")',
  );
  t.equal(reads.at(-1)?.status, 200);
});

t.test(
  'guest attribute reads: errors other than 404 mean "not yet" (a denied permission stops at once: provision-faults.test.ts)',
  async (t) => {
    const fake = await realistic(t);
    simulateAgent(fake, { healthy: true, okAfterMs: 100 });
    fake.api.inject({
      method: 'compute.instances.getGuestAttributes',
      status: 400,
      reason: 'invalid',
      message: 'Guest attributes are not ready yet',
      times: 3,
    });
    const result = await run('provision', baseArgs(fake));
    t.equal(result.code, 0, result.stderr);
    t.match(result.stderr, /last read failed, retrying: HTTP 400: Guest attributes are not ready yet/);
    t.same(inventory(fake), FULL);
  },
);

t.test(
  'an org-policy refusal at instance insert: one message naming the constraint, nothing left behind, a re-run after the fix converges',
  async (t) => {
    const fake = await realistic(t);
    simulateAgent(fake);
    fake.store.setOrgPolicy(PROJECT, VM_EXTERNAL_IP);
    const refused = await run('provision', baseArgs(fake));
    t.equal(refused.code, 1);
    t.match(
      refused.stderr,
      /natgw provision: create instance natgw-us-central1: Constraint constraints\/compute\.vmExternalIpAccess violated for project test-project\./,
    );
    t.match(
      refused.stderr,
      /Refused by the organization policy constraints\/compute\.vmExternalIpAccess: natgw needs an external IP on the NAT VM \(it is the NAT IP\)\. Ask your organization policy admin for an exception for this project, then re-run\./,
    );
    t.match(
      refused.stderr,
      /Rolled back what this run created: firewall rule natgw-us-central1-health, firewall rule natgw-us-central1-clients, address natgw-us-central1-ip\./,
    );
    t.match(
      refused.stderr,
      /note: organization policies cannot be read through the Compute API/,
      'the preflight said it could not check policies',
    );
    t.equal(refused.stderr.match(/organization policies cannot be read/g)?.length, 1, 'said once');
    t.notMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    t.same(inventory(fake), EMPTY, 'no VM, no route, and nothing else this run created');

    fake.store.setOrgPolicy(PROJECT, VM_EXTERNAL_IP, false);
    const rerun = await run('provision', baseArgs(fake));
    t.equal(rerun.code, 0, rerun.stderr);
    t.same(inventory(fake), FULL);
  },
);

t.test('a canIpForward policy refusal injected as GCE sends it (412) is named the same way', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.api.inject({ method: 'compute.instances.insert', ...orgPolicyError('constraints/compute.vmCanIpForward') });
  const refused = await run('provision', baseArgs(fake));
  t.equal(refused.code, 1);
  t.match(
    refused.stderr,
    /Refused by the organization policy constraints\/compute\.vmCanIpForward: natgw needs IP forwarding on the NAT VM \(canIpForward\)/,
  );
  t.same(inventory(fake), EMPTY);
});

t.test('a quota refusal seen only at insert time rolls back this run and a re-run converges', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.api.inject({
    method: 'compute.instances.insert',
    operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'C3_CPUS' exceeded. Limit: 0.0 in region us-central1." },
  });
  const refused = await run('provision', baseArgs(fake));
  t.equal(refused.code, 1);
  t.match(
    refused.stderr,
    /create instance natgw-us-central1 failed: QUOTA_EXCEEDED: Quota 'C3_CPUS' exceeded\. Limit: 0\.0 in region us-central1\. Quota C3_CPUS is exhausted: raise it \(console: IAM & Admin > Quotas\) or free some, then re-run\./,
  );
  t.same(inventory(fake), EMPTY);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  t.same(inventory(fake), FULL);
});

t.test('preflight: an exhausted STATIC_ADDRESSES quota fails --dry-run and provision, naming it, with no mutation', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  fake.store.setQuota(PROJECT, REGION, 'STATIC_ADDRESSES', 2, 2);
  const expected =
    /natgw provision: the preflight found a problem that would make the deploy fail; nothing was changed:\n {2}- quota STATIC_ADDRESSES in us-central1: limit 2, in use 2, this plan needs 1 more\. Raise it \(console: IAM & Admin > Quotas, metric STATIC_ADDRESSES, region us-central1\) or free some, then re-run\./;
  const dry = await run('provision', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 1);
  t.match(dry.stderr, expected);
  const real = await run('provision', baseArgs(fake));
  t.equal(real.code, 1);
  t.match(real.stderr, expected);
  t.same(fake.api.mutations(), [], 'nothing was mutated');
  const json = await run('provision', baseArgs(fake, ['--dry-run', '--json']));
  t.equal(json.code, 1);
  t.match(JSON.parse(json.stdout), { error: 'preflight', preflight: { problems: [/quota STATIC_ADDRESSES/] } });
});

t.test('preflight: CPUs of the machine type against its series quota', async (t) => {
  const fake = await realistic(t);
  fake.store.setQuota(PROJECT, REGION, 'E2_CPUS', 2, 1);
  const dry = await run('provision', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 1);
  t.match(dry.stderr, /quota E2_CPUS in us-central1: limit 2, in use 1, this plan needs 2 more/);
});

t.test('preflight: a machine type the zone does not offer is named with what to do', async (t) => {
  const fake = await realistic(t);
  const dry = await run('provision', baseArgs(fake, ['--dry-run', '--machine-type', 'z9-mega-1']));
  t.equal(dry.code, 1);
  t.match(
    dry.stderr,
    /machine type z9-mega-1 is not offered in zone us-central1-a: pick another --machine-type \(gcloud compute machine-types list --zones us-central1-a --project test-project\) or another zone\./,
  );
  t.same(fake.api.mutations(), []);
});

t.test('Arm and Hyperdisk-only machine types: the image and boot disk that fit', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  const arm = await run('provision', baseArgs(fake, ['--machine-type', 't2a-standard-1', '--dry-run']));
  t.equal(arm.code, 0, arm.stderr);
  t.match(arm.stdout, /NAT VM: t2a-standard-1 \(ARM64\), image debian-cloud\/debian-13-arm64, boot disk pd-balanced/);
  t.match(
    arm.stdout,
    /gcloud compute instances create .*--machine-type t2a-standard-1 --image-family debian-13-arm64 --image-project debian-cloud .*--boot-disk-type pd-balanced/,
  );
  const c4 = await run('provision', baseArgs(fake, ['--machine-type', 'c4-standard-2', '--dry-run', '--json']));
  t.match(JSON.parse(c4.stdout), { architecture: 'X86_64', image: 'debian-cloud/debian-13', bootDiskType: 'hyperdisk-balanced' });
  const c4a = await run('provision', baseArgs(fake, ['--machine-type', 'c4a-standard-1', '--dry-run', '--json']));
  t.match(JSON.parse(c4a.stdout), { architecture: 'ARM64', image: 'debian-cloud/debian-13-arm64', bootDiskType: 'hyperdisk-balanced' });
  t.same(fake.api.mutations(), []);

  // The fake refuses an image or disk that does not fit, as GCE does: a real provision proves the choice.
  const real = await run('provision', baseArgs(fake, ['--machine-type', 't2a-standard-1']));
  t.equal(real.code, 0, real.stderr);
  const insert = fake.api.requests.find((request) => request.method === 'compute.instances.insert' && request.status === 200)!;
  t.match(((insert.body as Json).disks as Json[])[0], {
    initializeParams: { sourceImage: /debian-13-trixie-arm64/, diskType: /diskTypes\/pd-balanced$/ },
  });
});

t.test('status: route warnings, and exit 3 while the next hop is stopped or gone', async (t) => {
  const fake = await realistic(t);
  simulateAgent(fake);
  t.equal((await run('provision', baseArgs(fake))).code, 0);
  t.equal((await run('status', baseArgs(fake))).code, 0, 'serving');
  fake.store.update(PROJECT, `zones/${ZONE}`, 'instances', GW, (instance) => {
    instance.status = 'TERMINATED';
  });
  const stopped = await run('status', baseArgs(fake));
  t.equal(stopped.code, 3);
  t.match(stopped.stdout, /NOT serving/);
  t.match(stopped.stdout, /route {5}WARNING NEXT_HOP_NOT_RUNNING: .*\(clients of this route have no internet egress\)/);
  const json = JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout);
  t.match(json, { serving: false, route: { warnings: [{ code: 'NEXT_HOP_NOT_RUNNING' }] } });
  fake.store.remove(PROJECT, `zones/${ZONE}`, 'instances', GW);
  const gone = await run('status', baseArgs(fake));
  t.equal(gone.code, 3);
  t.match(gone.stdout, /WARNING NEXT_HOP_INSTANCE_NOT_FOUND/);
});

t.test("the default network's default-allow-ssh: provision and status warn, naming the rule and the fix", async (t) => {
  const fake = await realistic(t, { defaultFirewalls: true });
  simulateAgent(fake);
  const expected =
    /warning: firewall rule default-allow-ssh lets the internet \(0\.0\.0\.0\/0\) reach the NAT VM on tcp:22 \(it applies to every instance of the network\), and the NAT VM has a public IP\. Narrow it to Identity-Aware Proxy \(use --iap-ssh for SSH\): gcloud compute firewall-rules update default-allow-ssh --project test-project --source-ranges 35\.235\.240\.0\/20, or delete it: gcloud compute firewall-rules delete default-allow-ssh --project test-project/;
  const dry = await run('provision', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0, 'a warning, not a failure');
  t.match(dry.stderr, expected);
  const provisioned = await run('provision', baseArgs(fake));
  t.equal(provisioned.code, 0, provisioned.stderr);
  t.match(provisioned.stderr, expected);
  const status = await run('status', baseArgs(fake));
  t.match(status.stderr, expected);
  t.match(JSON.parse((await run('status', baseArgs(fake, ['--json']))).stdout).warnings, [/default-allow-ssh/]);

  // Narrowed to IAP: no warning any more.
  fake.store.update(PROJECT, 'global', 'firewalls', 'default-allow-ssh', (rule) => {
    rule.sourceRanges = ['35.235.240.0/20'];
  });
  t.notMatch((await run('status', baseArgs(fake))).stderr, /default-allow-ssh/);
});

t.test('without default-allow-ssh there is no exposure warning', async (t) => {
  const fake = await realistic(t);
  const dry = await run('provision', baseArgs(fake, ['--dry-run']));
  t.equal(dry.code, 0, dry.stderr);
  t.notMatch(dry.stderr, /lets the internet/);
});

t.test('guest attribute reads default to one per 10 s (GCE advises ≤ 10 queries a minute per VM)', async (t) => {
  const { parseOptions } = await import('../provision/options.js');
  t.equal(parseOptions('provision', ['--project', PROJECT, '--region', REGION], {}).pollIntervalMs, 10_000);
  t.equal(parseOptions('provision', ['--project', PROJECT, '--region', REGION, '--poll-interval', '30s'], {}).pollIntervalMs, 30_000);
});

// The waits with production timing (1 s backoff base, 10 s health polls, a 10-minute health timeout) on a fake clock:
// what the schedule is, without waiting for it.
const PRODUCTION = { NATGW_RETRY_BASE_MS: '1000', NATGW_POLL_INTERVAL: '10s' };

t.test('retries back off exponentially from 1 s, with jitter, on the run clock', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake);
  fake.api.inject({ method: 'compute.addresses.insert', status: 503, times: 3 });
  const clock = new FakeClock();
  const result = await run('provision', baseArgs(fake), { env: PRODUCTION, clock });
  t.equal(result.code, 0, result.stderr);
  t.same(inventory(fake).addresses, ['natgw-us-central1-ip']);
  const retries = [...result.stderr.matchAll(/create address natgw-us-central1-ip: HTTP 503.*, retrying in ([\d.]+)s \(attempt (\d)\)/g)];
  t.same(
    retries.map((match) => match[2]),
    ['2', '3', '4'],
  );
  // Before the address insert nothing waits: the first three sleeps are its backoff, printed rounded to 0.1 s.
  const delays = clock.sleeps.slice(0, 3);
  t.same(
    delays.map((delay) => (delay / 1000).toFixed(1)),
    retries.map((match) => match[1]),
    'the backoff printed is the one slept on the run clock',
  );
  for (const [index, delay] of delays.entries()) {
    const base = 1000 * 2 ** index;
    t.ok(delay >= base * 0.75 && delay <= base * 1.25, `retry ${index + 1} waited ${delay} ms, within 25% of ${base} ms`);
  }
});

t.test('an agent that never turns healthy: 10-second polls for the whole 10-minute timeout, then the serial tail', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake, { healthy: false });
  const clock = new FakeClock();
  const result = await run('provision', baseArgs(fake, ['--health-timeout', '10m']), { env: PRODUCTION, clock });
  t.equal(result.code, 1);
  t.match(result.stderr, /the agent on natgw-us-central1 did not report healthy within 600s \(last health: unhealthy: starting\)/);
  t.same(inventory(fake).routes, [], 'no route');
  const reads = fake.api.requests.filter((request) => request.method === 'compute.instances.getGuestAttributes').length;
  // One read at the start and one per 10 s until the deadline: GCE advises at most 10 reads a minute per VM.
  t.ok(reads >= 60 && reads <= 62, `${reads} health reads over 10 minutes`);
  t.ok(clock.elapsedMs >= 600_000, 'the whole timeout elapsed on the run clock');
  t.ok(
    clock.sleeps.every((slept) => slept <= 10_000),
    'no wait longer than the poll interval',
  );
});
