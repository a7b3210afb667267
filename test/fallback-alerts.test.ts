// The fallback watcher's alert rules (observability/fallback.yml) pass promtool's check and their unit tests, and name
// only metrics the watcher serves.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runCommand } from '../agent/runner.js';
import { FallbackMetrics } from '../fallback/metrics.js';
import { repoRoot } from '../lab/lab.js';

const dir = path.join(repoRoot(), 'observability');

t.test('promtool check rules and test rules pass', async (t) => {
  const check = await runCommand('check fallback rules', 'promtool', ['check', 'rules', path.join(dir, 'fallback.yml')], {
    okExitCodes: [1],
  });
  t.equal(check.exitCode, 0, check.stdout + check.stderr);
  t.match(check.stdout, /SUCCESS: 4 rules found/);
  const test = await runCommand('unit-test fallback rules', 'promtool', ['test', 'rules', path.join(dir, 'fallback.test.yml')], {
    okExitCodes: [1],
  });
  t.equal(test.exitCode, 0, test.stdout + test.stderr);
});

t.test('every natgw_fallback_* metric the rules use is one the watcher serves', async (t) => {
  const served = new Set((await new FallbackMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name));
  const used = [...readFileSync(path.join(dir, 'fallback.yml'), 'utf8').matchAll(/natgw_fallback_[a-z_]+/g)].map((match) => match[0]);
  t.ok(used.length >= 3);
  for (const name of used) t.ok(served.has(name), `${name} is served`);
});
