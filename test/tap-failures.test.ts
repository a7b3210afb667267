import { readFileSync } from 'node:fs';
import t from 'tap';
// @ts-expect-error: a plain .mjs script of the test runner, without types
import { failureReport, failuresOf } from '../scripts/tap-failures.mjs';

type Failure = { path: string[]; why: string[]; comments: string[] };
const rolling = readFileSync(new URL('fixtures/tap/rolling-failed.tap', import.meta.url), 'utf8');

t.test('a real CI failure: every failed point, its diff, and the diagnosis printed before it', async (t) => {
  const failures: Failure[] = failuresOf(rolling);
  const [first] = failures;
  if (first === undefined) throw new Error('no failure read');
  t.same(
    failures.map((failure) => failure.path.at(-1)),
    ['99 of 100 flows came through the replacement', 'no flow was reset', 'the echo server saw no reset either'],
    'the three failed points, not the subtest and file that failed because of them',
  );
  t.same(first.path.slice(0, 2), [
    'test/lab-failover-rolling.test.ts',
    'a rolling replacement of both NAT VMs loses none of 100 long-lived flows',
  ]);
  t.same(first.why, ['compare: ===', 'lineNumber: 92', '-100', '+99'], 'what was compared, where, and the diff');
  t.ok(
    first.comments.some((comment) => comment.startsWith('longest pause 996 ms')),
    "the subtest's comments, including the one printed after the assertion",
  );
  t.notOk(
    first.comments.some((comment) => comment.includes('failover figures')),
    "another subtest's comments are not this one's",
  );
  const report: string[] = failureReport([{ output: rolling }]);
  t.match(report[0], /3 failed point/);
  t.ok(report.some((line) => line.startsWith('# ✗ test/lab-failover-rolling.test.ts › a rolling') && line.endsWith('no flow was reset')));
  t.ok(
    report.every((line) => line.startsWith('#')),
    'only comment lines: tap and CI read them as such',
  );
});

t.test('a file killed at its timeout is named, with its signal and the last comments of where it was', async (t) => {
  const killed = [
    '# Subtest: test/lab-slow.test.ts',
    '    # Subtest: first',
    '        ok 1 - fine',
    '        1..1',
    '    ok 1 - first # time=10.5ms',
    '    ',
    '    # Subtest: the one that hung',
    '        # waiting for the guest to boot',
    '        ok 1 - lab up',
    'not ok 1 - test/lab-slow.test.ts # time=85113.317ms',
    '  ---',
    '  cwd: /ci/clone',
    '  exitCode: null',
    '  signal: SIGKILL',
    '  ...',
    '',
  ].join('\n');
  const failures: Failure[] = failuresOf(killed);
  t.same(
    failures.map(({ path, why, comments }) => ({ path, why, comments })),
    [{ path: ['test/lab-slow.test.ts'], why: ['exitCode: null', 'signal: SIGKILL'], comments: ['waiting for the guest to boot'] }],
  );
});

t.test('a passing run reports nothing; the report keeps within its budget, the last comments first', async (t) => {
  t.same(failureReport([{ output: '# Subtest: test/a.test.ts\n    ok 1 - fine\nok 1 - test/a.test.ts # time=1ms\n' }]), []);
  const many = Array.from({ length: 50 }, (_, at) => `    # ${'x'.repeat(400)} ${at}`).join('\n');
  const noisy = `# Subtest: test/noisy.test.ts\n${many}\n    not ok 1 - broke\nnot ok 1 - test/noisy.test.ts # time=1ms\n`;
  const report: string[] = failureReport([{ output: noisy }], { maxChars: 2000, width: 1000 });
  t.ok(report.join('\n').length <= 2000, `${report.join('\n').length} characters`);
  t.ok(report.includes('# ✗ test/noisy.test.ts › broke'), 'the failed point always, however many comments');
  const kept = report.filter((line) => line.startsWith('#   | ')).map((line) => line.split(' ').at(-1));
  t.same(kept, ['46', '47', '48', '49'], 'the last comments, in their order');
  const clipped: string[] = failureReport([{ output: noisy }], { width: 100 });
  t.ok(
    clipped.every((line) => line.length <= 100),
    'each line clipped to the width',
  );
});

t.test('a run that failed before any failed point is named by its label and exit code; a TODO point is no failure', async (t) => {
  const crashed = 'TAP version 14\nnode:internal/modules/cjs/loader:1228\n  throw err;\nError: Cannot find module\n';
  t.same(failureReport([{ output: crashed, code: 1, label: 'the unit phase' }]), [
    '# natgw test: 1 failed point(s), with the comments of where they failed:',
    '# ✗ the unit phase: exit 1, no failed point in its output',
    '#   | TAP version 14',
    '#   | node:internal/modules/cjs/loader:1228',
    '#   |   throw err;',
    '#   | Error: Cannot find module',
  ]);
  // 8ec5a6b's landing CI: tap's runner died at its start (ENOTEMPTY) with nothing on stdout.
  const runnerError =
    "Error: ENOTEMPTY: directory not empty, rmdir '/ci/.tap/processinfo'\n    at async rm (node:internal/fs/promises:1050:10)\n";
  t.same(failureReport([{ output: '', stderr: runnerError, code: 1, label: 'test/lab-x.test.ts' }]).slice(1), [
    '# ✗ test/lab-x.test.ts: exit 1, no failed point in its output',
    "#   | stderr: Error: ENOTEMPTY: directory not empty, rmdir '/ci/.tap/processinfo'",
    '#   | stderr:     at async rm (node:internal/fs/promises:1050:10)',
  ]);
  const todo = '# Subtest: test/a.test.ts\n    not ok 1 - later # TODO\n    not ok 2 - now\nnot ok 1 - test/a.test.ts # time=1ms\n';
  t.same(
    failuresOf(todo).map((failure: Failure) => failure.path.at(-1)),
    ['now'],
  );
});
