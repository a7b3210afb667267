// The port-block state file is the attribution record: a kill at any instant must leave a file that parses and holds
// every block written before, and a corrupt file is reported loudly and kept aside, never overwritten.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transform } from 'esbuild';
import pino from 'pino';
import t from 'tap';
import { PORT_BLOCK_STATE_FILE, PortBlockManager, parseStateFile } from '../agent/port-block-manager.js';
import { validateAgentConfig } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';

const KILLS = 100;
/** Independent files killed side by side: the kills wait on process starts and fsyncs, not on the CPU. */
const CHAINS = 4;

t.test(`killed ${KILLS} times while it writes, the state file always parses and loses no block`, async (t) => {
  const dir = t.testdir();
  // The real module, as plain JavaScript, so that each writer starts in milliseconds.
  const source = readFileSync(path.join(import.meta.dirname, '../agent/atomic-file.ts'), 'utf8');
  writeFileSync(path.join(dir, 'atomic-file.mjs'), (await transform(source, { loader: 'ts', format: 'esm' })).code);

  /** `kills` writers one after another on `file`, each killed a few writes in; the confirmed count and the bad kills. */
  async function killChain(file: string, kills: number): Promise<{ confirmed: number; bad: string[] }> {
    // Each writer continues the file it finds, one more block per write, and says which count is on disk.
    const writer = `
    import { readFileSync } from 'node:fs';
    import { writeFileAtomic } from ${JSON.stringify(path.join(dir, 'atomic-file.mjs'))};
    const file = ${JSON.stringify(file)};
    let current = [];
    try { current = JSON.parse(readFileSync(file, 'utf8')).current; } catch {}
    for (let i = 0; i < 100000; i++) {
      const n = current.length;
      current.push({ vm: '10.0.' + (n >> 8) + '.' + (n & 255), natIp: '203.0.113.10', natAddress: '10.0.0.2', first: 1024, last: 1087, since: new Date().toISOString() });
      await writeFileAtomic(file, JSON.stringify({ version: 1, current, retiring: [], history: [] }));
      process.stdout.write(current.length + '\\n');
    }`;
    let confirmed = 0;
    const bad: string[] = [];
    for (let kill = 0; kill < kills; kill++) {
      // Without tap's process-tracking hook, which would double each writer's CPU time: tap puts it back into the
      // environment of every process this one spawns (an empty NODE_OPTIONS is not enough), so `env` drops it on the
      // way, then becomes the writer (exec: the pid killed is the writer's).
      const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', writer], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      const delayMs = kill % 10;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          // Killed a few writes in, at a moment that moves through the write's steps from one kill to the next.
          if (output.split('\n').length > 3 && !child.killed) setTimeout(() => child.kill('SIGKILL'), delayMs);
        });
        child.on('exit', () => resolve());
      });
      const lastSaid = Number(output.trim().split('\n').at(-1) ?? '0');
      confirmed = Math.max(confirmed, lastSaid);
      const state = parseStateFile(readFileSync(file, 'utf8'));
      if (typeof state === 'string' || state.current.length < confirmed)
        bad.push(
          `${path.basename(file)} kill ${kill}: ${typeof state === 'string' ? state : `${state.current.length} blocks on disk, ${confirmed} confirmed`}`,
        );
    }
    return { confirmed, bad };
  }

  const chains = await Promise.all(
    Array.from({ length: CHAINS }, (_, index) => killChain(path.join(dir, `port-blocks-${index}.json`), KILLS / CHAINS)),
  );
  const bad = chains.flatMap((chain) => chain.bad);
  for (const failure of bad) t.fail(failure);
  t.equal(
    bad.length,
    0,
    `after ${KILLS} kills (${CHAINS} files × ${KILLS / CHAINS}) every file parsed every time and held every confirmed block (${chains.map((chain) => chain.confirmed).join(', ')} in the end)`,
  );
  t.ok(
    chains.every((chain) => chain.confirmed >= KILLS / CHAINS),
    'every writer confirmed writes before it was killed: the kills landed mid-stream, not before the first write',
  );
  t.same(
    readdirSync(dir).filter((name) => name.endsWith('.tmp')).length <= CHAINS,
    true,
    "at most the one temporary file each chain's last killed writer left, which its next write replaces",
  );
});

t.test('a corrupt state file is kept aside, reported in the log and as a /healthz warning, and not overwritten', async (t) => {
  const root = t.testdir();
  const file = path.join(root, PORT_BLOCK_STATE_FILE);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '{"version":1,"current":[{"vm":"10.10.0.11","fir');
  const lines: Record<string, unknown>[] = [];
  const log = pino({ base: null }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const netfilter = new FakeNetfilter();
  const noReader = () => ({ done: new Promise<number | undefined>(() => undefined), stop: () => undefined });
  const manager = new PortBlockManager({
    run: netfilter.run,
    dataplane: new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root }),
    spawn: noReader,
    log,
    root,
    now: () => Date.parse('2026-12-06T10:00:00Z'),
  });
  await manager.configure(
    validateAgentConfig({ sourceRanges: ['10.10.0.0/24'], portAllocation: { mode: 'static', portsPerVm: 64 } }, 'test'),
    'ens4',
  );
  const aside = readdirSync(path.dirname(file)).find((name) => name.startsWith('port-blocks.json.corrupt-'));
  t.ok(aside !== undefined, `kept aside as ${aside}`);
  t.equal(
    readFileSync(path.join(path.dirname(file), aside ?? ''), 'utf8'),
    '{"version":1,"current":[{"vm":"10.10.0.11","fir',
    'byte for byte',
  );
  t.match(manager.warnings[0], /port-block state .* is corrupt \(not JSON: .*\); kept aside as .*corrupt-2026-12-06T10-00-00-000Z/);
  t.match(
    lines.find((line) => line.event === 'port_block_state_corrupt'),
    { level: 50, keptAs: /corrupt-/ },
  );
  t.ok(existsSync(file), 'a new, valid state file replaces it');
  t.notOk(typeof parseStateFile(readFileSync(file, 'utf8')) === 'string');

  t.match(parseStateFile('{"version":1,"current":[{"vm":1}]}'), /"current" is not a list of port blocks/);
  t.match(parseStateFile('[]'), /not a version 1 state file/);
});

t.test('writes to one file from one process never interleave', async (t) => {
  const { writeFileAtomic } = await import('../agent/atomic-file.js');
  const file = path.join(t.testdir(), 'state.json');
  const bodies = Array.from({ length: 50 }, (_, index) => JSON.stringify({ index, pad: 'x'.repeat(20_000 + index * 97) }));
  await Promise.all(bodies.map((body) => writeFileAtomic(file, body)));
  t.equal(readFileSync(file, 'utf8'), bodies.at(-1), 'the last write wins, whole');
});
