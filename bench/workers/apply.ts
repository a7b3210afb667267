// Times the agent's data-plane apply with N source ranges (the real Dataplane, the real commands), against the naive
// way of writing the same allow-list: one `iptables -A` process per range. Runs inside a lab VM's namespace only.
import { parseArgs } from 'node:util';
import { validateAgentConfig } from '../../agent/config.js';
import { Dataplane } from '../../agent/dataplane.js';
import { runCommand } from '../../agent/runner.js';
import { assertInsideLabNamespace } from './guard.js';
import { manyRanges } from '../ranges.js';

const { values } = parseArgs({
  options: {
    netns: { type: 'string' },
    root: { type: 'string' },
    ranges: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '5' },
    naive: { type: 'string', default: '1000' },
  },
});
assertInsideLabNamespace(values.netns);
const root = values.root;
if (root === undefined) throw new Error('--root is required');
const reps = Number(values.reps);
const ranges = manyRanges(Number(values.ranges), '10.10.0.0/25');
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

const dataplane = new Dataplane({ run: runCommand, root });
const config = validateAgentConfig({ sourceRanges: ranges }, 'bench');
const desired = await dataplane.desiredState(config, 'ens4');

const cold: number[] = [];
const warm: number[] = [];
const inspect: number[] = [];
const converge: number[] = [];
for (let rep = 0; rep < reps; rep++) {
  await dataplane.cleanup();
  let start = process.hrtime.bigint();
  await dataplane.apply(desired);
  cold.push(ms(start));
  start = process.hrtime.bigint();
  await dataplane.apply(desired);
  warm.push(ms(start));
  start = process.hrtime.bigint();
  const inspection = await dataplane.inspect(desired);
  inspect.push(ms(start));
  if (!inspection.inSync) throw new Error(`not in sync after apply: ${inspection.differences.join('; ')}`);
  // What the agent does on a config change: inspect, apply, inspect again.
  await dataplane.cleanup();
  start = process.hrtime.bigint();
  await dataplane.inspect(desired);
  await dataplane.apply(desired);
  await dataplane.inspect(desired);
  converge.push(ms(start));
}
await dataplane.cleanup();

// The naive recipe: one process per rule (what a shell loop over the ranges does).
const naiveCount = Math.min(Number(values.naive), ranges.length);
await runCommand('flush', 'iptables', ['-t', 'nat', '-F', 'POSTROUTING']);
let start = process.hrtime.bigint();
for (const range of ranges.slice(0, naiveCount)) {
  await runCommand('append a rule', 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'ens4', '-s', range, '-j', 'MASQUERADE']);
}
const naiveMs = ms(start);
await runCommand('flush', 'iptables', ['-t', 'nat', '-F', 'POSTROUTING']);

// The same linear rules in one iptables-restore transaction: shows how much of the naive cost is one process per rule.
start = process.hrtime.bigint();
await runCommand('restore linear rules', 'iptables-restore', ['--noflush'], {
  input: ['*nat', ...ranges.map((range) => `-A POSTROUTING -o ens4 -s ${range} -j MASQUERADE`), 'COMMIT', ''].join('\n'),
});
const linearRestoreMs = ms(start);
await runCommand('flush', 'iptables', ['-t', 'nat', '-F', 'POSTROUTING']);

process.stdout.write(
  `${JSON.stringify({ ranges: ranges.length, cold, warm, inspect, converge, naive: { rules: naiveCount, ms: naiveMs }, linearRestoreMs })}\n`,
);
