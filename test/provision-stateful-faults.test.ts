// natgw provision --ha --stateful when GCE misbehaves or refuses (as test/provision-faults.test.ts does for the other
// modes): a transient error on the NLB is retried; a quota or organization-policy refusal of the NAT IP's forwarding
// rule rolls back what the run created and a re-run converges; destroy after a half-done run leaves nothing.
import t from 'tap';
import { orgPolicyError, type Fault } from '../lab/compute-api/index.js';
import { baseArgs, EMPTY_HA_INVENTORY, haInventory, run, startSeededFake } from './fixtures/provision/helpers.js';
import { simulateStatefulAgent, STATEFUL_INVENTORY } from './fixtures/provision/stateful.js';

const GW = 'natgw-us-central1';
const STATEFUL = ['--ha', '--stateful'];
const named = (name: string) => (body: Record<string, unknown>) => body.name === name;

async function fresh(t: { teardown: (fn: () => unknown) => void }, timing: { migActionMs?: number } = {}) {
  const fake = await startSeededFake({ timing: { operationMs: 20, migActionMs: 50, waitCapMs: 10, ...timing } });
  t.teardown(() => fake.close());
  simulateStatefulAgent(fake);
  return fake;
}

const converged = (inventory: Record<string, string[]>) => {
  const { instances, instanceTemplates, ...rest } = inventory;
  return { ...rest, instances: instances!.length, instanceTemplates: instanceTemplates!.length };
};

t.test('a 503 on the NLB insert is retried with the same requestId; one NLB results', async (t) => {
  const fake = await fresh(t);
  fake.api.inject({ method: 'compute.regionBackendServices.insert', body: named(`${GW}-nlb`), status: 503, times: 2 });
  fake.api.inject({ method: 'compute.forwardingRules.insert', body: named(`${GW}-nat-fr`), reset: true });
  const result = await run('provision', baseArgs(fake, STATEFUL));
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, /create backend service natgw-us-central1-nlb: HTTP 503 backendError, retrying in/);
  t.match(result.stderr, /create forwarding rule natgw-us-central1-nat-fr: (ECONNRESET|connection reset), retrying/);
  const inserts = fake.api.requests.filter((request) => request.method === 'compute.regionBackendServices.insert');
  const nlbIds = inserts
    .filter((request) => (request.body as { name?: string }).name === `${GW}-nlb`)
    .map((request) => /requestId=([^&]+)/.exec(request.url)?.[1]);
  t.equal(nlbIds.length, 3, 'two 503s, then accepted');
  t.equal(new Set(nlbIds).size, 1, 'every retry carries the same requestId');
  t.same(converged(haInventory(fake)), { ...STATEFUL_INVENTORY, instances: 2, instanceTemplates: 1 });
});

const refusals: [string, Fault, RegExp][] = [
  [
    'quota',
    {
      method: 'compute.forwardingRules.insert',
      body: named(`${GW}-nat-fr`),
      operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'FORWARDING_RULES' exceeded. Limit: 15.0 globally.", httpStatus: 403 },
    },
    /create forwarding rule natgw-us-central1-nat-fr failed: QUOTA_EXCEEDED: .*Quota FORWARDING_RULES is exhausted: raise it/,
  ],
  [
    'organization policy',
    {
      method: 'compute.forwardingRules.insert',
      body: named(`${GW}-nat-fr`),
      ...orgPolicyError('constraints/compute.restrictLoadBalancerCreationForTypes'),
    },
    /create forwarding rule natgw-us-central1-nat-fr: .*Refused by the organization policy constraints\/compute\.restrictLoadBalancerCreationForTypes: natgw needs an external passthrough Network Load Balancer/,
  ],
];

for (const [label, fault, message] of refusals) {
  t.test(`${label} refusal of the NAT IP's forwarding rule: this run's creations are rolled back, a re-run converges`, async (t) => {
    const fake = await fresh(t);
    fake.api.inject(fault);
    const failed = await run('provision', baseArgs(fake, STATEFUL));
    t.equal(failed.code, 1);
    t.match(failed.stderr, message);
    t.match(
      failed.stderr,
      /Rolled back what this run created: forwarding rule natgw-us-central1-fr, backend service natgw-us-central1-nlb, backend service natgw-us-central1-ilb, NAT VM .*address natgw-us-central1-nat-ip\./,
    );
    t.match(failed.stderr, /Nothing of gateway natgw-us-central1 is left half-configured by this run/);
    t.notMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    t.same(haInventory(fake), EMPTY_HA_INVENTORY, 'nothing of the run is left');
    const rerun = await run('provision', baseArgs(fake, STATEFUL));
    t.equal(rerun.code, 0, rerun.stderr);
    t.same(converged(haInventory(fake)), { ...STATEFUL_INVENTORY, instances: 2, instanceTemplates: 1 });
  });
}

t.test('a run that stopped half way (no healthy backend) is finished by a re-run, and destroy then leaves nothing', async (t) => {
  // The health timeout also bounds the wait for the group's VMs: they appear at once here, and 1 s leaves a loaded box
  // room for the polls, so the run fails on the backends' health, the step this test is about.
  const fake = await fresh(t, { migActionMs: 0 });
  fake.store.backendHealth = () => 'UNHEALTHY';
  const failed = await run('provision', baseArgs(fake, [...STATEFUL, '--health-timeout', '1s']));
  t.equal(failed.code, 1);
  t.match(failed.stderr, /no NAT VM of the gateway turned healthy in natgw-us-central1-nlb within .*The route was not created/s);
  t.same(haInventory(fake).routes, []);
  delete fake.store.backendHealth;
  fake.api.requests.length = 0;
  const rerun = await run('provision', baseArgs(fake, STATEFUL));
  t.equal(rerun.code, 0, rerun.stderr);
  t.same(
    fake.api.mutations().map((request) => request.method),
    ['compute.routes.insert'],
    'the re-run adds only the route',
  );
  fake.api.inject({ method: 'compute.regionBackendServices.delete', status: 503 });
  const destroyed = await run('destroy', baseArgs(fake, ['--yes']));
  t.equal(destroyed.code, 0, destroyed.stderr);
  t.same(haInventory(fake), EMPTY_HA_INVENTORY);
});
