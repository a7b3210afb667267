// CLI start-up: wall time of `natgw --help` and of a `natgw cost` computation (no network), median of N runs.
import { execFileSync } from 'node:child_process';
import { NATGW, median, valueRow, type Bench } from './lib.js';

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, [NATGW, ...args], { stdio: 'ignore', timeout: 30_000 });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const cli: Bench = async ({ quick }) => {
  const runs = quick ? 5 : 11;
  const commands: [string, string[], string][] = [
    ['natgw --help', ['--help'], '<= 300'],
    ['natgw cost --region us-central1 --vms 8 --gib 400', ['cost', '--region', 'us-central1', '--vms', '8', '--gib', '400'], '<= 500'],
  ];
  return commands.map(([label, args, target]) => {
    wallMs(args); // warm the page cache
    const samples = Array.from({ length: runs }, () => wallMs(args));
    return valueRow(
      'cli',
      `${label}: wall time`,
      'ms',
      median(samples),
      target,
      `median of ${runs} runs (node ${process.version})`,
      samples,
    );
  });
};
