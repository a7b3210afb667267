// Golden output of provision (plan and apply), status and destroy for the three modes against the fake Compute API,
// with the real @google-cloud/compute client: the guard that a refactor of provision/ changes no byte a user sees.
// Only what the run cannot fix is normalised: generated VM and template names, timings and the order VMs come up in.
import t from 'tap';
import type { FakeCompute, ResourceEvent } from '../lab/compute-api/index.js';
import { baseArgs, run, startSeededFake, type RunResult } from './fixtures/provision/helpers.js';

const GW = 'natgw-us-central1';
const MODES = [
  { mode: 'single', flags: [] as string[] },
  { mode: 'ha', flags: ['--ha'] },
  { mode: 'stateful', flags: ['--ha', '--stateful'] },
];

interface Gcp {
  fake: FakeCompute;
  /** Every VM a group created, by its made-up name: the zone it went to, which the run does fix. */
  vms: Map<string, string>;
}

async function fresh(t: { teardown: (fn: () => unknown) => void }, mode: string): Promise<Gcp> {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  const vms = new Map<string, string>();
  // An agent healthy (and resynced) the moment its VM exists: with the simulated agents' delays, which VMs were
  // healthy when the route went in depended on the box's speed.
  fake.store.on('insert', (event: ResourceEvent) => {
    if (event.collection !== 'instances') return;
    const zone = event.scope.replace('zones/', '');
    if (event.name !== GW) vms.set(event.name, zone);
    fake.store.setGuestAttribute(event.project, zone, event.name, 'natgw/health', 'ok');
    if (mode === 'stateful')
      fake.store.setGuestAttribute(
        event.project,
        zone,
        event.name,
        'natgw/sync',
        JSON.stringify({ peerUp: true, resynced: true, role: 'standby' }),
      );
  });
  return { fake, vms };
}

function normalise(text: string, gcp: Gcp): string {
  let out = text;
  for (const [name, zone] of gcp.vms) out = out.replaceAll(name, `${name.slice(0, -4)}VM@${zone}`);
  return out.replace(/\(\d+\.\d+s\)/g, '(N.Ns)');
}

/** stdout whole; of stderr only what a user reads as a result (warnings, notes, errors), not progress lines. */
function golden(result: RunResult, gcp: Gcp): string {
  const stderr = result.stderr
    .split('\n')
    .filter((line) => /^(warning|note|natgw \w+):/.test(line))
    .join('\n');
  return normalise(`exit ${result.code}\n--- stdout\n${result.stdout}--- stderr (warnings, notes, errors)\n${stderr}\n`, gcp);
}

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
