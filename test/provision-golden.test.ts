// Golden output of provision (plan and apply), status and destroy for the three modes against the fake Compute API,
// with the real @google-cloud/compute client: the guard that a refactor of provision/ changes no byte a user sees.
// Only what the run cannot fix is normalised: generated VM and template names, timings and the order VMs come up in.
import t from 'tap';
import { golden, fresh, GW, MODES } from './fixtures/provision/golden.js';
import { baseArgs, run } from './fixtures/provision/helpers.js';

for (const { mode, flags } of MODES) {
  t.test(`${mode}: provision plan and apply, a second run, status, destroy (text)`, async (t) => {
    const gcp = await fresh(t, mode);
    const steps: [string, 'provision' | 'status' | 'destroy', string[]][] = [
      ['provision --dry-run', 'provision', [...flags, '--dry-run']],
      ['provision', 'provision', flags],
      ['provision again', 'provision', flags],
      ['status', 'status', []],
      ['destroy --dry-run', 'destroy', ['--dry-run']],
      ['destroy --yes', 'destroy', ['--yes']],
      ['status after destroy', 'status', []],
      ['destroy again', 'destroy', ['--yes']],
    ];
    for (const [label, command, args] of steps) {
      const result = await run(command, baseArgs(gcp.fake, args));
      t.matchSnapshot(golden(result, gcp), label);
    }
  });

  t.test(`${mode}: provision plan and apply, a second run, status, destroy (--json)`, async (t) => {
    const gcp = await fresh(t, mode);
    const steps: [string, 'provision' | 'status' | 'destroy', string[]][] = [
      ['provision --dry-run --json', 'provision', [...flags, '--dry-run', '--json']],
      ['provision --json', 'provision', [...flags, '--json']],
      ['provision again --json', 'provision', [...flags, '--json']],
      ['status --json', 'status', ['--json']],
      ['destroy --dry-run --json', 'destroy', ['--dry-run', '--json']],
      ['destroy --yes --json', 'destroy', ['--yes', '--json']],
      ['status after destroy --json', 'status', ['--json']],
    ];
    for (const [label, command, args] of steps) {
      const result = await run(command, baseArgs(gcp.fake, args));
      t.matchSnapshot(golden(result, gcp), label);
    }
  });
}

// Plans that change something: each kind of change the executors and the gcloud renderer act on (grow, shrink, a new
// template, a replaced VM, a conflict), so that a change's payload reaches them as the note used to.
const CHANGES: Record<string, [string, 'provision' | 'status' | 'destroy', string[]][]> = {
  single: [
    ['--iap-ssh --machine-type e2-medium --dry-run', 'provision', ['--iap-ssh', '--machine-type', 'e2-medium', '--dry-run']],
    ['--machine-type e2-medium without --yes', 'provision', ['--machine-type', 'e2-medium']],
    ['--iap-ssh --machine-type e2-medium --yes', 'provision', ['--iap-ssh', '--machine-type', 'e2-medium', '--yes']],
    ['back without --iap-ssh --json', 'provision', ['--machine-type', 'e2-medium', '--json']],
    ['--ha over single', 'provision', ['--ha', '--dry-run']],
    ['a firewall update --dry-run', 'provision', ['--machine-type', 'e2-medium', '--extra-source-ranges', '10.99.0.0/16', '--dry-run']],
    ['a firewall update', 'provision', ['--machine-type', 'e2-medium', '--extra-source-ranges', '10.99.0.0/16']],
  ],
  ha: [
    ['--size 3 --dry-run', 'provision', ['--ha', '--size', '3', '--dry-run']],
    ['--size 3', 'provision', ['--ha', '--size', '3']],
    ['--size 2 without --yes', 'provision', ['--ha', '--size', '2']],
    ['--size 2 --yes --dry-run --json', 'provision', ['--ha', '--size', '2', '--yes', '--dry-run', '--json']],
    ['--size 2 --yes', 'provision', ['--ha', '--size', '2', '--yes']],
    ['--machine-type e2-medium --dry-run', 'provision', ['--ha', '--machine-type', 'e2-medium', '--dry-run']],
    ['--machine-type e2-medium --json', 'provision', ['--ha', '--machine-type', 'e2-medium', '--json']],
    ['status --json after the roll', 'status', ['--json']],
    ['--stateful over HA', 'provision', ['--ha', '--stateful', '--dry-run']],
    ['single over HA', 'provision', ['--dry-run']],
    ['a firewall update --json', 'provision', ['--ha', '--machine-type', 'e2-medium', '--extra-source-ranges', '10.99.0.0/16', '--json']],
  ],
  stateful: [
    [
      '--machine-type e2-medium --iap-ssh --dry-run',
      'provision',
      ['--ha', '--stateful', '--machine-type', 'e2-medium', '--iap-ssh', '--dry-run'],
    ],
    ['--machine-type e2-medium --iap-ssh', 'provision', ['--ha', '--stateful', '--machine-type', 'e2-medium', '--iap-ssh']],
    [
      '--machine-type e2-medium --json (up to date)',
      'provision',
      ['--ha', '--stateful', '--machine-type', 'e2-medium', '--iap-ssh', '--json'],
    ],
    ['plain --ha over stateful', 'provision', ['--ha', '--dry-run']],
    ['single over stateful', 'provision', ['--dry-run']],
    [
      'a firewall update --dry-run',
      'provision',
      ['--ha', '--stateful', '--machine-type', 'e2-medium', '--iap-ssh', '--extra-source-ranges', '10.99.0.0/16', '--dry-run'],
    ],
  ],
};

for (const { mode, flags } of MODES) {
  t.test(`${mode}: plans that change a provisioned gateway`, async (t) => {
    const gcp = await fresh(t, mode);
    t.equal((await run('provision', baseArgs(gcp.fake, flags))).code, 0);
    for (const [label, command, args] of CHANGES[mode]!) {
      const result = await run(command, baseArgs(gcp.fake, args));
      t.matchSnapshot(golden(result, gcp), label);
    }
  });
}

t.test('conflicts: a resource with one of the gateway names that natgw does not own stops each mode', async (t) => {
  for (const { mode, flags } of MODES) {
    const gcp = await fresh(t, mode);
    gcp.fake.store.put('test-project', 'global', 'firewalls', {
      name: `${GW}-clients`,
      network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default',
      sourceRanges: ['0.0.0.0/0'],
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
      description: 'not natgw',
    });
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, flags)), gcp), `${mode}: text`);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--json'])), gcp), `${mode}: --json`);
  }
});

t.test('single: a NAT VM found in two zones is an error status and destroy report, and neither changes anything', async (t) => {
  const gcp = await fresh(t, 'single');
  t.equal(await run('provision', baseArgs(gcp.fake)).then((result) => result.code), 0);
  const vm = gcp.fake.store.get('test-project', 'zones/us-central1-a', 'instances', GW)!;
  gcp.fake.store.put('test-project', 'zones/us-central1-b', 'instances', {
    ...vm,
    zone: 'us-central1-b',
    id: undefined,
    selfLink: undefined,
  });
  gcp.fake.api.requests.length = 0;
  for (const command of ['status', 'destroy'] as const) {
    const result = await run(command, baseArgs(gcp.fake, command === 'destroy' ? ['--yes'] : []));
    t.equal(result.code, 1, command);
    t.match(result.stderr, /instance 'natgw-us-central1' exists in several zones \(us-central1-a, us-central1-b\); delete the extra one/);
  }
  t.same(gcp.fake.api.mutations(), []);
});

t.test('a health check changed by hand is patched back, in both HA modes', async (t) => {
  for (const { mode, flags } of MODES.filter((entry) => entry.mode !== 'single')) {
    const gcp = await fresh(t, mode);
    t.equal((await run('provision', baseArgs(gcp.fake, flags))).code, 0);
    const check = gcp.fake.store.get('test-project', 'regions/us-central1', 'healthChecks', `${GW}-hc-heal`)!;
    check.checkIntervalSec = 30;
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--dry-run'])), gcp), `${mode}: --dry-run`);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, flags)), gcp), `${mode}: apply`);
    t.equal(gcp.fake.store.get('test-project', 'regions/us-central1', 'healthChecks', `${GW}-hc-heal`)!.checkIntervalSec, 10);
  }
});

t.test('a backend service changed by hand is patched back, in both HA modes', async (t) => {
  for (const { mode, flags } of MODES.filter((entry) => entry.mode !== 'single')) {
    const gcp = await fresh(t, mode);
    t.equal((await run('provision', baseArgs(gcp.fake, flags))).code, 0);
    const service = gcp.fake.store.get('test-project', 'regions/us-central1', 'backendServices', `${GW}-ilb`)!;
    service.connectionDraining = { drainingTimeoutSec: 30 };
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--dry-run'])), gcp), `${mode}: --dry-run`);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--json'])), gcp), `${mode}: apply --json`);
    t.not(
      (
        gcp.fake.store.get('test-project', 'regions/us-central1', 'backendServices', `${GW}-ilb`)!.connectionDraining as {
          drainingTimeoutSec: number;
        }
      ).drainingTimeoutSec,
      30,
    );
  }
});

t.test('a forwarding rule changed by hand is replaced (route first where it is the next hop), in both HA modes', async (t) => {
  for (const { mode, flags } of MODES.filter((entry) => entry.mode !== 'single')) {
    const gcp = await fresh(t, mode);
    t.equal((await run('provision', baseArgs(gcp.fake, flags))).code, 0);
    for (const name of mode === 'stateful' ? [`${GW}-fr`, `${GW}-nat-fr`] : [`${GW}-fr`])
      gcp.fake.store.get('test-project', 'regions/us-central1', 'forwardingRules', name)!.allPorts = false;
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--dry-run'])), gcp), `${mode}: --dry-run`);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, flags)), gcp), `${mode}: without --yes`);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, '--yes'])), gcp), `${mode}: --yes`);
    t.equal(gcp.fake.store.get('test-project', 'regions/us-central1', 'forwardingRules', `${GW}-fr`)!.allPorts, true);
  }
});

t.test('--metrics-source-ranges in every mode: a NAME-metrics rule to the agent port and the ranges in the agent config', async (t) => {
  const ranges = ['10.128.0.50/32', '192.168.7.0/24'];
  const flag = ['--metrics-source-ranges', ranges.join(',')];
  for (const { mode, flags } of MODES) {
    const gcp = await fresh(t, mode);
    t.matchSnapshot(golden(await run('provision', baseArgs(gcp.fake, [...flags, ...flag, '--dry-run'])), gcp), `${mode}: --dry-run`);
    t.same(gcp.fake.api.mutations(), [], `${mode}: the dry run changed nothing`);
    t.equal((await run('provision', baseArgs(gcp.fake, [...flags, ...flag]))).code, 0, `${mode}: provision`);
    const rule = gcp.fake.store.get('test-project', 'global', 'firewalls', `${GW}-allow-metrics`);
    t.match(
      rule,
      { sourceRanges: ranges, targetTags: [GW], allowed: [{ IPProtocol: 'tcp', ports: ['9731'] }], direction: 'INGRESS' },
      `${mode}: the rule`,
    );
    const configs = ['us-central1-a', 'us-central1-b', 'us-central1-c']
      .flatMap((zone) => gcp.fake.store.list('test-project', `zones/${zone}`, 'instances'))
      .map((vm) => ((vm.metadata as { items: { key: string; value: string }[] }).items ?? []).find((item) => item.key === 'natgw-config'));
    t.ok(configs.length > 0, `${mode}: NAT VMs exist`);
    for (const config of configs) t.same(JSON.parse(config?.value ?? '{}').metricsSourceRanges, ranges, `${mode}: what the NAT VM reads`);
    t.matchSnapshot(golden(await run('status', baseArgs(gcp.fake)), gcp), `${mode}: status`);
    t.matchSnapshot(
      golden(await run('provision', baseArgs(gcp.fake, [...flags, '--dry-run'])), gcp),
      `${mode}: without the flag, --dry-run`,
    );
    t.matchSnapshot(golden(await run('destroy', baseArgs(gcp.fake, ['--yes'])), gcp), `${mode}: destroy`);
    t.notOk(gcp.fake.store.get('test-project', 'global', 'firewalls', `${GW}-allow-metrics`), `${mode}: destroy removed the rule`);
  }
});

t.test('--metrics-source-ranges: a bad range is refused with the flag and the field named, before any API call', async (t) => {
  const gcp = await fresh(t, 'single');
  for (const [ranges, problem] of [
    ['0.0.0.0/0', /--metrics-source-ranges: metricsSourceRanges\[0\]: "0\.0\.0\.0\/0" would open the agent's port to the whole internet/],
    ['10.128.0.0/24,10.128.0.50/24', /--metrics-source-ranges: metricsSourceRanges\[1\]: "10\.128\.0\.50\/24" has host bits set/],
    ['prometheus', /--metrics-source-ranges: metricsSourceRanges\[0\]: "prometheus" is not an IPv4 CIDR/],
    [',', /--metrics-source-ranges: give at least one CIDR/],
  ] as const) {
    gcp.fake.api.requests.length = 0;
    const result = await run('provision', baseArgs(gcp.fake, ['--metrics-source-ranges', ranges]));
    t.not(result.code, 0, `${ranges}: exit ${result.code}`);
    t.match(result.stderr, problem);
    t.same(gcp.fake.api.requests, [], `${ranges}: no API call`);
  }
  const long = 'n'.repeat(50);
  const tooLong = await run('provision', baseArgs(gcp.fake, ['--name', long, '--metrics-source-ranges', '10.0.0.0/8']));
  t.not(tooLong.code, 0);
  t.match(tooLong.stderr, /--name: 'n{50}' is too long for the metrics firewall rule n{50}-allow-metrics .*at most 49 characters/);
  t.same(gcp.fake.api.requests, [], 'no API call');
  const status = await run('status', baseArgs(gcp.fake, ['--metrics-source-ranges', '10.0.0.0/8']));
  t.match(status.stderr, /--metrics-source-ranges: only 'natgw provision' takes this flag/);
});
