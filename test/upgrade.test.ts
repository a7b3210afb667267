// When the agent decides to restart into a newly published bundle: against its own file, never in a fast loop.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { AttributeMissingError, type AttributeValue, type MetadataClient } from '../agent/metadata.js';
import { waitForNewBundle } from '../agent/upgrade.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Answers each read with the next scripted value; once they run out, a read blocks until the watch is aborted, and
 * `exhausted` resolves: the watch has taken every answer and is still watching.
 */
function scriptedMetadata(answers: (string | Error)[]): MetadataClient & { reads: number; exhausted: Promise<void> } {
  let exhaust = () => {};
  const fake = {
    reads: 0,
    exhausted: new Promise<void>((resolve) => (exhaust = resolve)),
    async getAttribute(_name: string, options: { signal?: AbortSignal } = {}): Promise<AttributeValue> {
      fake.reads++;
      const answer = answers.shift();
      if (answer === undefined) {
        exhaust();
        await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
        throw new Error('aborted');
      }
      if (answer instanceof Error) throw answer;
      return { value: answer, etag: `etag-${fake.reads}` };
    },
  };
  return fake as unknown as MetadataClient & { reads: number; exhausted: Promise<void> };
}

t.test('live upgrade decisions', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'natgw-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runningFile = path.join(dir, 'natgw-agent.mjs');
  writeFileSync(runningFile, '// running agent\n');
  const running = sha('// running agent\n');
  const next = sha('// next agent\n');
  const log = pino({ level: 'silent' });
  const watch = (metadata: MetadataClient, signal = AbortSignal.timeout(5000)) =>
    waitForNewBundle(metadata, log, { runningFile, signal, retryMs: 10, failedUpgradeRetryMs: 50 });

  await t.test('the running bundle is the published one: restart when a new one is published', async (t) => {
    t.equal(await watch(scriptedMetadata([running, running, next])), next);
  });

  await t.test('a publish that raced the start (or a failed update) is retried, but only after a pause', async (t) => {
    const started = Date.now();
    const metadata = scriptedMetadata([next, next]);
    t.equal(await watch(metadata), next);
    t.ok(Date.now() - started >= 45, 'waited before asking for another restart');
    t.equal(metadata.reads, 2, 'read again after the pause');
  });

  /**
   * Nothing happens means: the watch reads every scripted answer, does not restart, and is still watching for the next
   * publish (a watch that gave up would also "do nothing", forever). Aborted once it waits for a read past the script.
   */
  const stillWatchingAfter = async (t: Test, answers: (string | Error)[]) => {
    const abort = new AbortController();
    const metadata = scriptedMetadata([...answers]);
    const result = watch(metadata, abort.signal);
    const first = await Promise.race([metadata.exhausted.then(() => 'watching' as const), result.then(() => 'ended' as const)]);
    t.equal(first, 'watching', `the watch read all ${answers.length} answers and is waiting for the next publish`);
    t.equal(metadata.reads, answers.length + 1, 'one read per answer, then one that waits');
    abort.abort();
    t.equal(await result, undefined, 'no restart');
  };

  await t.test('if the running bundle is published again meanwhile, nothing happens', async (t) => {
    await stillWatchingAfter(t, [next, running]);
  });

  await t.test('no bundle in metadata (an agent started by hand), or garbage in it: no restart', async (t) => {
    await stillWatchingAfter(t, [new AttributeMissingError('not set'), 'not a checksum', running]);
  });

  await t.test('a running file that cannot be read turns live upgrades off', async (t) => {
    t.equal(
      await waitForNewBundle(scriptedMetadata([next]), log, {
        runningFile: path.join(dir, 'missing.mjs'),
        signal: AbortSignal.timeout(5000),
      }),
      undefined,
    );
  });
});
