#!/usr/bin/env node
// `npm test`: every test file, scheduled for the machine it runs on, in three phases.
//   1. unit files (no root, no namespaces): many at once, CPU-bound; as root they run as the unprivileged user
//      `nobody` on a copy of the tree (.ci/unit-as-user), which proves they need neither root nor write access to the
//      checkout. As root they run beside phase 2, at nice 10: they take the CPU its labs leave while those wait;
//   2. lab files that share the box well: one more at once than there are cores (each lab is its own set of namespaces),
//      pulled from one queue (files marked `// natgw-test: long` first); files marked `// natgw-test: cli-lab` drive
//      the one lab the CLI allows per machine, so no two of them run at once;
//   3. lab files marked `// natgw-test: exclusive` in their first lines, one at a time with nothing else running:
//      they measure (pauses, throughput, 20,000 connections against a deadline) or use the one lab the CLI allows.
// Prints each phase's tap summary and one closing `N passed, N failed[, N skipped]` line for CI; exits non-zero when
// any phase failed. Arguments narrow the run to files whose path contains one of them (`npm test -- lab-config`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tapFileArgs } from './tap-file-run.mjs';
import { failureReport } from './tap-failures.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXCLUSIVE_MARK = /^\/\/ natgw-test: exclusive\b/m;
const CLI_LAB_MARK = /^\/\/ natgw-test: cli-lab\b/m;
const LONG_MARK = /^\/\/ natgw-test: long\b/m;
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const isRoot = process.getuid?.() === 0;
const filters = process.argv.slice(2);

const all = readdirSync(path.join(root, 'test'))
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => `test/${name}`)
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
const isLab = (file) => /^test\/(lab|install)-/.test(file);
const heads = new Map();
/** A file's first lines, where its marks are: read once, as the shared phase's queue asks again on every pick. */
const head = (file) => {
  if (!heads.has(file)) heads.set(file, readFileSync(path.join(root, file), 'utf8').slice(0, 4000));
  return heads.get(file);
};
const isExclusive = (file) => EXCLUSIVE_MARK.test(head(file));
const isCliLab = (file) => CLI_LAB_MARK.test(head(file));
const isLong = (file) => LONG_MARK.test(head(file));

const phases = [
  { name: 'unit', files: all.filter((file) => !isLab(file)), jobs: Math.max(2, cores * 2) },
  // One lane more than cores: these files mostly wait on timers, guests booting and curl (sampled with two lanes on 2
  // cores: the CPU was 16-75 % busy), and every one of them is written to run next to other labs.
  { name: 'lab, shared', files: all.filter((file) => isLab(file) && !isExclusive(file)), jobs: cores + 1 },
  { name: 'lab, exclusive', files: all.filter((file) => isLab(file) && isExclusive(file)), jobs: 1 },
];

/**
 * Runs a command, teeing stdout so the tap summary can be read. `buffered`: the output is printed whole when the
 * command ends, so two lanes' reports never interleave line by line.
 */
function run(command, args, { buffered = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    const stdout = [];
    // The end of stderr is kept for the closing summary: a runner that dies before its first line says why only there.
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      if (buffered) chunks.push(chunk);
      else process.stdout.write(chunk);
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk) => {
      if (buffered) chunks.push(chunk);
      else process.stderr.write(chunk);
      stderr = (stderr + chunk.toString()).slice(-3000);
    });
    child.on('close', (code, signal) => {
      if (buffered) process.stdout.write(Buffer.concat(chunks));
      const output = Buffer.concat(stdout).toString();
      resolve({ code: code ?? (signal === null ? 1 : 128), output, stderr });
    });
  });
}

const summaryOf = (text) => {
  const lines = text.split('\n').filter((line) => /^# \{ total: /.test(line));
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const count = (key) => Number(new RegExp(`${key}: (\\d+)`).exec(last)?.[1] ?? 0);
  return { pass: count('pass'), fail: count('fail'), skip: count('skip') };
};

// Namespaces of labs whose owning process died (a test killed at its timeout, here or in an earlier run) would make
// the demo and the CLI tests refuse to start: removed, and said. A lab whose owner still runs is left alone.
async function removeDeadLabs() {
  if (!isRoot) return;
  const { Lab, removeNamespace } = await import(path.join(root, 'dist/lab/lab.js'));
  const leftovers = Lab.leftovers();
  for (const namespace of leftovers) removeNamespace(namespace);
  if (leftovers.length > 0) process.stdout.write(`# removed ${leftovers.length} namespaces of dead labs: ${leftovers.join(' ')}\n`);
}

const totals = { pass: 0, fail: 0, skip: 0 };
let failed = false;
/** The output of every run that failed, read again at the end (CI shows only the end of the log). */
const failedRuns = [];
function count(result, label) {
  if (result.code !== 0) failedRuns.push({ output: result.output, stderr: result.stderr, code: result.code, label });
  const summary = summaryOf(result.output);
  if (summary === undefined) {
    totals.fail += 1;
    failed = true;
    return;
  }
  totals.pass += summary.pass;
  totals.skip += summary.skip;
  // tap counts a file that died without a plan as a failure in its exit code only.
  totals.fail += summary.fail > 0 ? summary.fail : result.code === 0 ? 0 : 1;
  if (result.code !== 0) failed = true;
}

const tapRun = path.join(root, 'node_modules/tap/dist/esm/run.mjs');
const saveLists = mkdtempSync(path.join(os.tmpdir(), 'natgw-test-'));
/** One tap run of one file, beside others (scripts/tap-file-run.mjs); `.tap/processinfo` is emptied once, before any. */
const tap = (file, options) => {
  const saveList = path.join(saveLists, `${file.replaceAll('/', '_')}.list`);
  writeFileSync(saveList, `${file}\n`);
  return run(process.execPath, [tapRun, ...tapFileArgs(file, saveList)], options);
};
rmSync(path.join(root, '.tap/processinfo'), { recursive: true, force: true });

/**
 * `lanes` files at once, each lane taking the next file it may run from one queue, one tap run per file: a long file
 * started last would run alone at the end, and a cli-lab file waits while another one runs (it takes the next file).
 */
async function runLanes(files, lanes) {
  const queue = [...files.filter(isLong), ...files.filter((file) => !isLong(file))];
  const results = [];
  /** Settles when the running cli-lab file ends; undefined while none runs. */
  let cliLabRunning;
  const lane = async () => {
    while (queue.length > 0) {
      const index = queue.findIndex((file) => cliLabRunning === undefined || !isCliLab(file));
      if (index === -1) {
        await cliLabRunning;
        continue;
      }
      const [file] = queue.splice(index, 1);
      const running = tap(file, { buffered: true });
      if (isCliLab(file)) cliLabRunning = running.finally(() => (cliLabRunning = undefined));
      results.push({ ...(await running), file });
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

/**
 * A fresh machine has no guest image yet (lab/guest-image.ts: mmdebstrap, 23-40 s here). Built first, while the unit
 * files start, instead of by the first lab file while the other lanes wait on its lock; a build that fails here is
 * tried again, and reported, by the lab files that need it.
 */
function prebuildGuestImage() {
  if (!isRoot || !all.some(isLab)) return undefined;
  const script = `import(${JSON.stringify(path.join(root, 'dist/lab/guest-image.js'))}).then((m) => m.ensureGuestImage({ log: (line) => console.log(line) }))`;
  const started = Date.now();
  // Its output is kept (not streamed into the unit phase's) and summed up when the lab phases start.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: 'pipe' });
    let output = '';
    const keep = (chunk) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      resolve(
        code === 0
          ? `# natgw test: guest image ready (${seconds} s)\n`
          : `# natgw test: guest image build failed (exit ${code}); the lab files retry it:\n${output}\n`,
      );
    });
  });
}
let guestImage = prebuildGuestImage();

/** One phase's files, run as the phase asks; resolves once every file ended (counted into the totals). */
async function runPhase(phase, { beside = false } = {}) {
  const started = Date.now();
  process.stdout.write(
    `\n# natgw test phase: ${phase.name}, ${phase.files.length} files, ${phase.jobs} at once (${cores} cores)${beside ? ', beside the shared lab phase at nice 10' : ''}\n`,
  );
  const exitCodes = [];
  if (phase.name === 'unit') {
    // Beside the lab, the unit files take the CPU the labs leave (they mostly wait); the labs keep their timing.
    const nice = beside ? ['nice', '-n', '10'] : [];
    const [command, ...args] = isRoot
      ? [...nice, 'bash', '.ci/unit-as-user', '--jobs', String(phase.jobs), ...phase.files]
      : [...nice, process.execPath, tapRun, '--jobs', String(phase.jobs), ...phase.files];
    const result = await run(command, args, { buffered: beside });
    count(result, 'the unit phase');
    exitCodes.push(result.code);
  } else if (phase.jobs === 1) {
    // One tap run per file, each after the dead labs' namespaces are gone: one file killed at its timeout must not
    // fail every file after it.
    for (const file of phase.files) {
      await removeDeadLabs();
      const result = await tap(file);
      count(result, file);
      exitCodes.push(result.code);
    }
  } else {
    await removeDeadLabs();
    for (const result of await runLanes(phase.files, phase.jobs)) {
      count(result, result.file);
      exitCodes.push(result.code);
    }
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`# natgw test phase: ${phase.name} done in ${seconds} s, exit ${exitCodes.every((code) => code === 0) ? 0 : 1}\n`);
}

const [unit, shared, exclusive] = phases;
// tap rebuilds its test class into node_modules when package.json's plugin list differs from the installed one (ours
// drops ts-node for tsx): `nobody` cannot write there, and a tap run started while another rebuilds it finds it gone.
// So root builds it once, before any file runs.
if (isRoot) {
  const build = await run(process.execPath, [tapRun, 'build']);
  if (build.code !== 0) {
    // Every tap run would try to rebuild it at once, the race this build is here to prevent.
    process.stdout.write(`# natgw test: tap build failed (exit ${build.code}); no test ran\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}
const labImage = async () => {
  if (guestImage !== undefined) process.stdout.write(await guestImage);
  guestImage = undefined;
};
if (isRoot && unit.files.length > 0 && shared.files.length > 0) {
  // The unit files are CPU-bound and the shared lab files mostly wait (16-75 % of 2 cores busy): run together, the
  // two phases take little more than the lab phase alone. The exclusive phase still runs with nothing beside it.
  // Both are waited for even when one throws: a phase left running would outlive the summary line.
  const settled = await Promise.allSettled([runPhase(unit, { beside: true }), labImage().then(() => runPhase(shared))]);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
} else {
  if (unit.files.length > 0) await runPhase(unit);
  await labImage();
  if (shared.files.length > 0) await runPhase(shared);
}
if (exclusive.files.length > 0) {
  await labImage();
  await runPhase(exclusive);
}
// The summary must never cost the line CI counts.
try {
  const report = failureReport(failedRuns);
  if (report.length > 0) process.stdout.write(`\n${report.join('\n')}\n`);
} catch (error) {
  process.stdout.write(`# natgw test: no summary of the failures (${error})\n`);
}
process.stdout.write(`${totals.pass} passed, ${totals.fail} failed${totals.skip > 0 ? `, ${totals.skip} skipped` : ''}\n`);
rmSync(saveLists, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
