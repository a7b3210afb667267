// `npm pack` → `npm install` into an empty directory → a working natgw without the source tree or esbuild: the way a
// user gets it. Needs `npm run build` first (npm test and test:lab do it); npm installs from its cache when it can.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { startFakeCompute } from '../lab/compute-api/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

t.test('the packed tarball installs into an empty directory and runs without the source tree', async (t) => {
  t.ok(existsSync(path.join(REPO, 'dist/agent/natgw-agent.mjs')), 'the prebuilt agent bundle exists (npm run build)');
  const work = mkdtempSync(path.join(tmpdir(), 'natgw-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const pack = await execa('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: REPO,
    reject: false,
    env: { npm_config_ignore_scripts: 'true' },
  });
  t.equal(pack.exitCode, 0, pack.stderr);
  const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  const packed = files.map((file) => file.path);
  for (const wanted of [
    'dist/agent/natgw-agent.mjs',
    'dist/cli/main.js',
    'bin/natgw.js',
    'startup-scripts/natgw-startup.sh',
    'docs/cost.md',
    'README.md',
  ]) {
    t.ok(packed.includes(wanted), `the tarball has ${wanted}`);
  }
  t.notOk(
    packed.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
    'no TypeScript source in the tarball',
  );
  t.notOk(
    packed.some((file) => file.startsWith('test/') || file.startsWith('dist/test/')),
    'no tests in the tarball',
  );

  const app = path.join(work, 'app');
  writeFileSync(path.join(work, 'package.json'), '{}');
  const install = await execa(
    'npm',
    ['install', '--prefix', app, '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', path.join(work, filename)],
    { cwd: work, reject: false, timeout: 240_000 },
  );
  t.equal(install.exitCode, 0, install.stderr);
  const installed = readdirSync(path.join(app, 'node_modules'));
  t.notOk(installed.includes('esbuild'), 'esbuild is not installed with natgw');
  t.notOk(installed.includes('typescript'), 'typescript is not installed with natgw');
  const natgw = path.join(app, 'node_modules/.bin/natgw');

  const help = await execa(natgw, ['--help'], { cwd: work, reject: false });
  t.equal(help.exitCode, 0, help.stderr);
  t.match(help.stdout, /provision/);

  const cost = await execa(natgw, ['cost', '--region', 'us-central1', '--vms', '8', '--gib', '400', '--json'], {
    cwd: work,
    reject: false,
  });
  t.equal(cost.exitCode, 0, cost.stderr);
  t.ok(JSON.parse(cost.stdout), 'cost prints JSON');

  const fake = await startFakeCompute();
  t.teardown(() => fake.close());
  const dryRun = await execa(
    natgw,
    ['provision', '--project', 'test-project', '--region', 'us-central1', '--compute-endpoint', fake.url, '--dry-run'],
    { cwd: work, reject: false, timeout: 120_000 },
  );
  t.equal(dryRun.exitCode, 0, dryRun.stderr);
  t.match(dryRun.stdout, /\+ instance\s+natgw-us-central1\s+create/, 'the plan creates the NAT VM');
  t.match(dryRun.stdout, /natgw-agent-0=natgw-agent-0\.txt/, 'the plan ships the prebuilt agent bundle in metadata');
  t.same(fake.api.mutations(), [], 'a dry run changes nothing');
});
