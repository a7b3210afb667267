// How `npm test` starts a tap run beside others (scripts/tap-file-run.mjs), proven against the race that made
// 8ec5a6b's landing CI red with nothing named: tap deletes `.tap/processinfo` at its start while other runs' processes
// write there, and dies with ENOTEMPTY before its first line.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
// @ts-expect-error: a plain .mjs script of the test runner, without types
import { tapFileArgs } from '../scripts/tap-file-run.mjs';

const root = path.resolve(import.meta.dirname, '..');
const tapRun = path.join(root, 'node_modules/tap/dist/esm/run.mjs');

/** A project of one passing file, with this repository's tap config and modules (so tap needs no build). */
function project(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'natgw-tap-race-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { tap } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tap-race', type: 'module', tap }));
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  mkdirSync(path.join(dir, 'test'));
  symlinkSync(path.join(root, 'test/loader'), path.join(dir, 'test/loader'));
  writeFileSync(path.join(dir, 'test/one.test.ts'), "import t from 'tap';\nt.pass('ran');\n");
  return dir;
}

/** Another run's processes: records written into `.tap/processinfo` without pause until killed. */
function writer(dir: string): ChildProcess {
  const script = `const fs = require('node:fs'); const d = ${JSON.stringify(path.join(dir, '.tap/processinfo'))};
    for (let i = 0; ; i += 1) { try { fs.mkdirSync(d, { recursive: true }); fs.writeFileSync(d + '/w-' + (i % 50) + '.json', '{}'); } catch {} }`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

/** tap's runner in `dir` while a writer runs, with no tap variables of this run in its environment. */
async function tapBesideWriter(dir: string, args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(TAP|_TAPJS)/.test(key)));
  const other = writer(dir);
  try {
    // The writer has filled the directory before the runner starts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [tapRun, ...args], { cwd: dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    other.kill('SIGKILL');
  }
}

t.test('a tap run started beside another run that writes .tap/processinfo', async (t) => {
  const dir = project(t);
  await t.test('control: a plain tap run dies at its start, exit 1, nothing on stdout (the race is real here)', async (t) => {
    let plain = await tapBesideWriter(dir, ['--jobs', '1', 'test/one.test.ts']);
    // One more try for a box so slow that the writer did not get in between tap's reads and its rmdir.
    for (let tries = 1; tries < 3 && plain.code === 0; tries += 1) plain = await tapBesideWriter(dir, ['--jobs', '1', 'test/one.test.ts']);
    t.equal(plain.code, 1, 'exit 1');
    t.equal(plain.stdout, '', 'not one line on stdout');
    t.match(plain.stderr, /ENOTEMPTY/, 'stderr: ENOTEMPTY');
  });
  await t.test("npm test's run of one file deletes nothing, and runs it", async (t) => {
    const saveList = path.join(dir, 'one.list');
    writeFileSync(saveList, 'test/one.test.ts\n');
    const run = await tapBesideWriter(dir, tapFileArgs('test/one.test.ts', saveList));
    t.equal(run.code, 0, `exit 0${run.code === 0 ? '' : `; stderr: ${run.stderr.slice(-600)}`}`);
    t.match(run.stdout, /# \{ total: 1, pass: 1 \}/, "the file's one point passed");
  });
});
