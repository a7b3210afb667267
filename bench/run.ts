// `npm run bench [-- NAME ... ] [--quick]`: runs the benchmarks (all by default) in lab namespaces, prints one table,
// and writes JSON. A full run (all benchmarks, not --quick) also refreshes bench/results/latest.json and docs/bench.md.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, type Bench, type Row } from './lib.js';
import { apply } from './apply.js';
import { churn } from './churn.js';
import { cli } from './cli.js';
import { ha } from './ha.js';
import { datapath } from './datapath.js';
import { pairs } from './pairs.js';
import { parsePairs } from './pairing.js';
import { renderMarkdown } from './report.js';
import { rulePieces, rules } from './rules.js';
import { ports } from './ports.js';
import { scale } from './scale.js';

const BENCHES: Record<string, { run: Bench; about: string }> = {
  datapath: {
    run: datapath,
    about: 'TCP bulk, 64-byte UDP pps and new TCP conn/s: natgw (nft) 1 / 1,000 ranges vs the naive MASQUERADE recipe',
  },
  pairs: {
    run: pairs,
    about:
      'natgw (shared pool, static and dynamic port blocks) vs the naive MASQUERADE on identical NAT VMs, both sides of each pair at once: median of per-pair ratios (--pairs N, --perf)',
  },
  rules: {
    run: rules,
    about:
      "where the per-packet cost goes: pieces of natgw's table added to the naive recipe, each against plain naive at once (--pairs N, --pieces A,B: only those)",
  },
  churn: { run: churn, about: 'many short flows through natgw vs the naive MASQUERADE recipe: conntrack failures, failed connections' },
  scale: { run: scale, about: 'agent with ~250k conntrack entries: /metrics latency, CPU at 1 scrape / 15 s, RSS' },
  apply: { run: apply, about: 'nft table apply time with 1,000 ranges vs 1,000 iptables -A calls' },
  cli: { run: cli, about: 'natgw --help and natgw cost start-up time' },
  ports: { run: ports, about: 'per-VM port blocks: new TCP conn/s with 1,000 client addresses vs 10, and port blocks vs the shared pool' },
  ha: { run: ha, about: 'HA failover time in the lab (emulated internal load balancer)' },
};

function machine() {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  return {
    nproc,
    kernel: release(),
    cpu: cpuModel,
    node: process.version,
    memoryGiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024),
  };
}

const fmt = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(digits);

export function table(rows: Row[]): string {
  const header = ['benchmark', 'metric', 'natgw', 'baseline', 'ratio', 'target', 'met', 'note'];
  const lines = rows.map((row) => [
    row.bench,
    row.metric,
    row.value === null ? 'not measured' : `${fmt(row.value)} ${row.unit}`,
    row.baseline === undefined ? '' : `${fmt(row.baseline.value)} (${row.baseline.label})`,
    row.ratio === undefined ? '' : fmt(row.ratio),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    row.note ?? '',
  ]);
  return [header, ...lines]
    .map((cells) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`)
    .join('\n')
    .replace(/^(.*)\n/, `$1\n|${header.map(() => ' --- ').join('|')}|\n`);
}

/** Other labs and a high load make every data-path figure noisy on a small box: say so in the results. */
function contention(): { loadavg1: number; otherLabs: string[] } {
  const labs = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^natgw-lab-([0-9a-f]+)-fabric/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  return { loadavg1: Number(loadavg()[0]?.toFixed(2)), otherLabs: labs };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      pairs: { type: 'string' },
      perf: { type: 'boolean', default: false },
      pieces: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `Usage: npm run bench -- [--quick] [--pairs N] [--perf] [--pieces A,B] [NAME ...]\n\n${Object.entries(BENCHES)
        .map(([name, { about }]) => `  ${name.padEnd(12)} ${about}`)
        .join('\n')}\n`,
    );
    return;
  }
  // Refused before any lab is built: a bad value changes nothing.
  parsePairs(values.pairs);
  rulePieces(values.pieces);
  if (process.getuid?.() !== 0) throw new Error('the benchmarks build a lab of network namespaces: run them as root');
  const unknown = positionals.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  const names = positionals.length === 0 ? Object.keys(BENCHES) : positionals;
  if (values.pieces !== undefined && !names.includes('rules'))
    throw new Error(`--pieces: only the rules benchmark takes pieces, and it is not among ${names.join(', ')}`);
  const started = Date.now();
  const before = contention();
  if (before.otherLabs.length > 0 || before.loadavg1 > 0.5) {
    process.stderr.write(
      `warning: the box is not quiet (load ${before.loadavg1}, other labs: ${before.otherLabs.join(', ') || 'none'}); data-path ratios will be noisy\n`,
    );
  }
  const rows: Row[] = [];
  const errors: Record<string, string> = {};
  for (const name of names) {
    const t0 = Date.now();
    process.stderr.write(`== ${name}\n`);
    try {
      rows.push(
        ...(await BENCHES[name]!.run({
          quick: values.quick,
          log: (message) => process.stderr.write(`${message}\n`),
          options: {
            ...(values.pairs === undefined ? {} : { pairs: values.pairs }),
            ...(values.pieces === undefined ? {} : { pieces: values.pieces }),
            perf: values.perf,
          },
        })),
      );
    } catch (error) {
      errors[name] = (error as Error).stack ?? String(error);
      process.stderr.write(`${name} failed: ${errors[name]}\n`);
    }
    process.stderr.write(`== ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const result = {
    date: new Date().toISOString(),
    mode: values.quick ? 'quick' : 'full',
    benchmarks: names,
    seconds: (Date.now() - started) / 1000,
    machine: machine(),
    contention: { atStart: before, atEnd: contention() },
    rows,
    errors,
  };
  process.stdout.write(`${table(rows)}\n`);
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const complete = positionals.length === 0 && Object.keys(errors).length === 0;
  const file =
    complete && !values.quick ? path.join(dir, 'latest.json') : path.join(dir, `last-${values.quick ? 'quick' : 'partial'}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(ROOT, file)} (${result.seconds.toFixed(0)} s)\n`);
  if (file.endsWith('latest.json')) {
    let findings = '';
    try {
      findings = readFileSync(path.join(ROOT, 'bench', 'findings.md'), 'utf8');
    } catch {
      // none written
    }
    writeFileSync(path.join(ROOT, 'docs', 'bench.md'), renderMarkdown(result, findings));
    process.stderr.write('wrote docs/bench.md\n');
  }
  if (Object.keys(errors).length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
