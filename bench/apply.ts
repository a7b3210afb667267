// Apply time with 1,000 source ranges: the agent's Dataplane.apply() (one `nft -f` transaction replacing the table)
// against the naive per-rule way (1,000 `iptables -A` processes). Runs a worker inside a lab VM's namespace.
import { Lab } from '../lab/lab.js';
import { dist, execJson, median, ratioRow, valueRow, type Bench } from './lib.js';

interface ApplyResult {
  ranges: number;
  cold: number[];
  warm: number[];
  inspect: number[];
  converge: number[];
  naive: { rules: number; ms: number };
  linearRestoreMs: number;
}

export const apply: Bench = async ({ quick, log }) => {
  const lab = await Lab.create();
  try {
    await lab.addVm({ name: 'nat', ip: '10.10.0.2', externalIp: '203.0.113.10', canIpForward: true });
    const result = await execJson<ApplyResult>(lab, 'nat', [
      'node',
      dist('bench/workers/apply.js'),
      '--netns',
      lab.vm('nat').namespace,
      '--root',
      lab.vm('nat').root,
      '--ranges',
      '1000',
      '--reps',
      quick ? '3' : '7',
      '--naive',
      '1000',
    ]);
    log(
      `  cold ${result.cold.map((ms) => ms.toFixed(0)).join(', ')} ms; warm ${result.warm.map((ms) => ms.toFixed(0)).join(', ')} ms; naive ${result.naive.ms.toFixed(0)} ms`,
    );
    return [
      valueRow(
        'apply',
        'apply 1,000 ranges (Dataplane.apply, from empty)',
        'ms',
        median(result.cold),
        '<= 100',
        `median of ${result.cold.length}; re-apply when in place: ${median(result.warm).toFixed(0)} ms; inspect: ${median(result.inspect).toFixed(0)} ms; agent's full converge (inspect + apply + inspect): ${median(result.converge).toFixed(0)} ms`,
        result.cold,
      ),
      {
        ...ratioRow('apply', 'naive: 1,000 × `iptables -A` / natgw apply', 'ms', [result.naive.ms], 'natgw apply', result.cold),
        note: `one process per rule; the same 1,000 linear rules in one iptables-restore take ${result.linearRestoreMs.toFixed(0)} ms`,
      },
    ];
  } finally {
    await lab.destroy();
  }
};
