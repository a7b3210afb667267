// The real agent bundle (esbuild from agent/entry.ts) rides in instance metadata within GCE's limits.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { MAX_METADATA_TOTAL, MAX_METADATA_VALUE } from '../provision/agent-bundle.js';
import { baseArgs, PROJECT, run, simulateAgent, startSeededFake } from './fixtures/provision/helpers.js';
import type { Json } from '../lab/compute-api/index.js';

t.test('provision builds the agent with esbuild and ships it in metadata chunks', async (t) => {
  const fake = await startSeededFake();
  t.teardown(() => fake.close());
  simulateAgent(fake);
  const result = await run('provision', baseArgs(fake), { agentBundle: false });
  t.equal(result.code, 0, result.stderr);
  const instance = fake.store.get(PROJECT, 'zones/us-central1-a', 'instances', 'natgw-us-central1')!;
  const items = (instance.metadata as Json).items as { key: string; value: string }[];
  const metadata = Object.fromEntries(items.map((item) => [item.key, item.value]));
  const chunks = Object.keys(metadata)
    .filter((key) => /^natgw-agent-\d+$/.test(key))
    .sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
  t.ok(chunks.length >= 1);
  for (const key of chunks) t.ok(Buffer.byteLength(metadata[key]!) <= MAX_METADATA_VALUE, `${key} ≤ 256 KB`);
  const total = items.reduce((sum, item) => sum + Buffer.byteLength(item.key) + Buffer.byteLength(item.value), 0);
  t.ok(total < MAX_METADATA_TOTAL, `all metadata ${total} bytes < 512 KB`);
  const bundle = gunzipSync(Buffer.from(chunks.map((key) => metadata[key]).join(''), 'base64'));
  t.equal(createHash('sha256').update(bundle).digest('hex'), metadata['natgw-agent-sha256']);
  t.notMatch(bundle.toString('latin1'), /@google-cloud\/compute/, 'the provisioner stays out of the agent');

  const dir = mkdtempSync(join(tmpdir(), 'natgw-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'natgw-agent.mjs'), bundle);
  const help = await execa(process.execPath, [join(dir, 'natgw-agent.mjs'), '--help'], { reject: false });
  t.equal(help.exitCode, 0, help.stderr);
  t.match(help.stdout, /--metadata-url URL/, 'the bundle runs standalone');
});
