// natgw-test: cli-lab — it drives the one lab the CLI allows per machine (natgw lab up/down).
// natgw lab up / status / exec / down, as a user drives them from two terminals.
import { spawn } from 'node:child_process';
import t from 'tap';
import { runCommand } from '../agent/runner.js';
import { PROVISION_FLAGS } from '../lab/demo.js';
import { Lab, LabProcess, repoRoot } from '../lab/lab.js';

const natgw = `${repoRoot()}/bin/natgw.js`;
const cli = (...args: string[]) =>
  runCommand(`natgw ${args.join(' ')}`, process.execPath, [natgw, ...args], { okExitCodes: [1, 2], timeoutMs: 60_000 });

t.test('lab up, then status, exec and down from another process', async (t) => {
  const up = new LabProcess(spawn(process.execPath, [natgw, 'lab', 'up'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'natgw lab up', 'root');
  t.teardown(() => up.stop('SIGKILL'));
  // Long enough for the first build of the guest image (about a minute and a half on a busy 2-core machine).
  await up.waitFor(/is up\. Compute API: http:\/\/127\.0\.0\.1:\d+/, 240_000);
  const id = /lab ([0-9a-f]+) is up/.exec(up.text)?.[1] ?? '';

  const status = await cli('lab', 'status');
  t.match(status.stdout, new RegExp(`lab ${id} running`));
  t.match(status.stdout, /app-1/);

  const exec = await cli('lab', 'exec', 'app-1', '--', 'ip', '-4', '-br', 'addr', 'show', 'ens4');
  t.equal(exec.exitCode, 0, exec.stderr);
  t.match(exec.stdout, /ens4\S*\s+UP\s+10\.10\.0\.\d+\/24/, 'the command ran inside the VM');

  await t.test('provisioned into the running lab, the NAT VM is a guest that exec enters', async (t) => {
    const api = /Compute API: (http:\/\/127\.0\.0\.1:\d+)/.exec(up.text)?.[1] ?? '';
    const provision = await runCommand(
      'natgw provision',
      process.execPath,
      [
        natgw,
        'provision',
        '--project',
        'natgw-lab',
        '--region',
        'us-central1',
        '--compute-endpoint',
        api,
        ...PROVISION_FLAGS,
        '--ports-per-vm',
        '64',
      ],
      { okExitCodes: [1, 2, 3], timeoutMs: 180_000 },
    );
    t.equal(provision.exitCode, 0, provision.stdout + provision.stderr);
    // Bounded: the guest finished booting well before the agent reported healthy; the state file follows within 1 s.
    let state = '';
    for (let attempt = 0; attempt < 50 && state !== 'running'; attempt++) {
      state = (await cli('lab', 'exec', 'natgw-us-central1', '--', 'systemctl', 'is-system-running')).stdout.trim();
      if (state !== 'running') await new Promise((resolve) => setTimeout(resolve, 200));
    }
    t.equal(state, 'running', 'systemctl inside the guest');
    const os = await cli('lab', 'exec', 'natgw-us-central1', '--', 'cat', '/etc/os-release');
    t.match(os.stdout, /trixie/, "the guest's own file system");
    const journal = await cli('lab', 'exec', 'natgw-us-central1', '--', 'journalctl', '-u', 'natgw-agent.service', '--no-pager');
    t.match(journal.stdout, /Started natgw-agent\.service/, "the agent's log, read as on GCE");
  });

  const second = await cli('lab', 'up');
  t.equal(second.exitCode, 2, 'a second lab is refused while one runs');
  t.match(second.stderr, /already running/);

  const missing = await cli('lab', 'exec', 'nope', '--', 'true');
  t.equal(missing.exitCode, 2);
  t.match(missing.stderr, /no VM 'nope'/);

  const down = await cli('lab', 'down');
  t.equal(down.exitCode, 0, down.stderr);
  t.equal(await up.exited, 0, 'lab up tore its lab down and exited');
  t.same(
    Lab.namespaces().filter((namespace) => namespace.includes(`-${id}-`)),
    [],
    'no namespace of the lab is left',
  );
  t.match((await cli('lab', 'status')).stdout, /no lab is running/);
});

t.test('lab failover refuses bad input before it builds anything', async (t) => {
  const before = Lab.namespaces();
  for (const [args, named] of [
    [['--flows', '0'], /--flows must be a whole number from 1 to 1000, got '0'/],
    [['--flows', '1001'], /--flows .* got '1001'/],
    [['--flows', '2.5'], /--flows .* got '2.5'/],
    [['--flows', 'many'], /--flows .* got 'many'/],
    [['--flows'], /--flows/],
    [['--flow', '10'], /--flow/],
    [['--failure-delay-ms', '1000'], /--failure-delay-ms must be a whole number of milliseconds from 0 to 999, got '1000'/],
    [['--failure-delay-ms', '-1'], /--failure-delay-ms/],
    [['--failure-delay-ms', 'soon'], /--failure-delay-ms .* got 'soon'/],
    [['--mode', 'active'], /--mode must be stateful or ha, got 'active'/],
    [
      ['--mode', 'ha', '--failure-delay-ms', '2000'],
      /--failure-delay-ms must be a whole number of milliseconds from 0 to 1999, got '2000'/,
    ],
    [['--mode', 'HA'], /--mode .* got 'HA'/],
    [['--mode'], /--mode/],
    [['--mode', 'ha', '--no-sync'], /--no-sync .*--mode ha/],
    [['--no-sync', '--mode', 'ha', '--flows', '10'], /--no-sync .*--mode ha/],
  ] as const) {
    const result = await cli('lab', 'failover', ...args);
    t.equal(result.exitCode, 2, `natgw lab failover ${args.join(' ')} exits 2`);
    t.match(result.stderr, named, `and names the flag: ${result.stderr.split('\n')[0]}`);
  }
  const misplaced = await cli('lab', 'demo', '--no-sync');
  t.equal(misplaced.exitCode, 2);
  t.match(misplaced.stderr, /--no-sync belongs to 'natgw lab failover'/);
  const misplacedMode = await cli('lab', 'up', '--mode', 'ha');
  t.equal(misplacedMode.exitCode, 2);
  t.match(misplacedMode.stderr, /--mode belongs to 'natgw lab failover', not to 'up'/);
  // Other lab files run next to this one (their labs come and go): a refused command's namespaces would outlive it.
  t.same(
    Lab.leftovers().filter((namespace) => !before.includes(namespace)),
    [],
    'no namespace was created',
  );
  t.match(
    (await cli('lab', '--help')).stdout,
    /failover \[--mode stateful\|ha\] \[--flows N\] \[--no-sync\] \[--bulk\] \[--failure-delay-ms MS\] \[--json\]/,
  );
});
