// Renders a results file (bench/results/latest.json by default) as the README's benchmark section: docs/bench.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, type Row } from './lib.js';

export interface BenchResult {
  date: string;
  mode: string;
  seconds: number;
  machine: { nproc: number; kernel: string; cpu: string; node: string; memoryGiB: number };
  contention?: { atStart: { loadavg1: number; otherLabs: string[] }; atEnd: { loadavg1: number; otherLabs: string[] } };
  rows: Row[];
  errors: Record<string, string>;
}

const fmt = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : Math.abs(value) >= 100
      ? value.toFixed(0)
      : Math.abs(value) >= 10
        ? value.toFixed(1)
        : value.toFixed(2);
const cell = (text: string) => text.replace(/\|/g, '\\|');
const verdict = (row: Row) => (row.met === undefined ? '' : row.met ? '✅' : '❌');

export function renderMarkdown(result: BenchResult, explanations = ''): string {
  const ratios = result.rows.filter((row) => row.ratio !== undefined);
  const values = result.rows.filter((row) => row.ratio === undefined);
  const m = result.machine;
  return [
    '## Benchmarks',
    '',
    `Measured with \`npm run bench\` (as root; ${result.mode} run, ${Math.round(result.seconds / 60)} min) on ${result.date.slice(0, 10)}, in the lab: every path crosses`,
    'the same hops (client VM → VPC bridge → gateway VM → VPC bridge → fabric → internet namespace), side by side in one',
    'run. The baseline for throughput and connection rate is a plain router VM (ip_forward=1, no rules, no conntrack)',
    'whose client the fabric 1:1-NATs like a VM with an external IP. These are veth pairs on one box: compare the ratios,',
    'not the absolute numbers, with a real VM.',
    '',
    `Machine: ${m.nproc} vCPU (\`nproc\`), ${m.cpu}, kernel ${m.kernel}, ${m.memoryGiB} GiB, Node.js ${m.node}.`,
    ...(result.contention === undefined
      ? []
      : [
          '',
          `Box load: 1-min load average ${result.contention.atStart.loadavg1} at the start, ${result.contention.atEnd.loadavg1} at the end; other labs running: ${[...new Set([...result.contention.atStart.otherLabs, ...result.contention.atEnd.otherLabs])].length}.` +
            (result.contention.atStart.otherLabs.length + result.contention.atEnd.otherLabs.length > 0 ||
            result.contention.atStart.loadavg1 > 0.5
              ? ' **Not a quiet box: the data-path ratios below are noisy.**'
              : ''),
        ]),
    '',
    '### Ratios (natgw against its baseline, same lab, same run)',
    '',
    '| measure | natgw | baseline | ratio | target | |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...ratios.map(
      (row) =>
        `| ${cell(row.metric)} | ${fmt(row.value)} ${row.unit} | ${fmt(row.baseline?.value)} ${row.unit} | **${fmt(row.ratio)}** | ${row.target ?? 'for comparison'} | ${verdict(row)} |`,
    ),
    '',
    '### Agent, apply, CLI',
    '',
    '| measure | value | target | |',
    '| --- | ---: | --- | --- |',
    ...values.map(
      (row) =>
        `| ${cell(row.metric)} | ${row.value === null ? 'not measured yet' : `${fmt(row.value)} ${row.unit}`} | ${row.target ?? ''} | ${verdict(row)} |`,
    ),
    '',
    '### Details',
    '',
    ...result.rows.filter((row) => row.note !== undefined).map((row) => `- **${cell(row.metric)}**: ${row.note}`),
    '',
    explanations,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? path.join(ROOT, 'bench', 'results', 'latest.json');
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const notesFile = path.join(ROOT, 'bench', 'findings.md');
  let notes = '';
  try {
    notes = readFileSync(notesFile, 'utf8');
  } catch {
    // no findings written
  }
  writeFileSync(path.join(ROOT, 'docs', 'bench.md'), renderMarkdown(result, notes));
  process.stdout.write(`wrote docs/bench.md from ${path.relative(ROOT, file)}\n`);
}
