// A supervised reader (conntrack -E, tcpdump) restarts with backoff on a fake clock: no real waiting, exact delays.
import t from 'tap';
import { SupervisedReader } from '../agent/collectors/supervised.js';
import type { Logger } from '../agent/log.js';
import type { LineSpawner } from '../agent/runner.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';

function harness() {
  const clock = new FakeClock(0);
  const launches: { args: string[]; exit(code: number | undefined): void; stopped: boolean }[] = [];
  const spawn: LineSpawner = (_purpose, _file, args) => {
    let exit!: (code: number | undefined) => void;
    const done = new Promise<number | undefined>((resolve) => {
      exit = resolve;
    });
    const launch = { args, exit, stopped: false };
    launches.push(launch);
    return {
      done,
      stop: () => {
        launch.stopped = true;
        exit(143);
      },
    };
  };
  const warnings: string[] = [];
  const log = {
    warn: (fields: { error: string }) => void warnings.push(fields.error),
    info: () => undefined,
    error: () => undefined,
  } as unknown as Logger;
  const reader = new SupervisedReader(
    { collector: 'conntrack_events', purpose: 'read events', file: 'conntrack', args: ['-E'] },
    spawn,
    log,
    () => undefined,
    clock,
  );
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, launches, warnings, reader, settle };
}

t.test('a reader that keeps dying backs off 2 s, 4 s, 8 s … up to a minute; one that ran a minute starts over', async (t) => {
  const { clock, launches, warnings, reader, settle } = harness();
  reader.start();
  t.equal(launches.length, 1);
  for (let failure = 1; failure <= 7; failure++) {
    launches.at(-1)!.exit(1);
    await settle();
    t.equal(launches.length, failure + 1, `relaunched after failure ${failure}`);
  }
  t.same(clock.sleeps, [2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  t.match(warnings[0], /conntrack exited with 1/);
  t.equal(reader.ok, true, 'the relaunched reader counts as up');

  await clock.sleep(61_000);
  launches.at(-1)!.exit(1);
  await settle();
  t.equal(clock.sleeps.at(-1), 1000, 'after a minute of running, the backoff starts over');
  reader.stop();
});

t.test('stop() during the backoff: no relaunch; setArgs: the replaced reader’s exit is not a failure', async (t) => {
  const { launches, warnings, reader, settle } = harness();
  reader.start();
  reader.setArgs(['-E', '-p', 'tcp']);
  await settle();
  t.equal(launches.length, 2, 'one relaunch with the new arguments, no second one from the old reader’s exit');
  t.ok(launches[0]!.stopped);
  t.same(launches[1]!.args, ['-E', '-p', 'tcp']);
  t.same(warnings, [], 'replacing a reader is not a failure');

  reader.stop();
  await settle();
  t.equal(launches.length, 2, 'a stopped reader stays stopped');
  t.equal(reader.ok, false, 'a stopped reader is not up');
});

t.test('healthy: a reader that exits once is restarted and stays healthy; one that keeps dying turns unhealthy', async (t) => {
  const { clock, launches, reader, settle } = harness();
  reader.start();
  t.equal(reader.healthy, true);
  launches.at(-1)!.exit(1);
  await settle();
  t.equal(launches.length, 2, 'restarted (the fake clock waits no time)');
  t.equal(reader.healthy, true, 'one failure: restarted, healthy');
  launches.at(-1)!.exit(1);
  await settle();
  launches.at(-1)!.exit(1);
  await settle();
  t.equal(reader.failuresInARow, 3);
  t.equal(reader.healthy, false, 'three quick failures in a row: failing even while a relaunch runs');
  await clock.sleep(61_000);
  t.equal(reader.healthy, true, 'a relaunch that ran a minute is healthy again');
  t.notMatch(reader.lastError ?? '', /exited with 1: conntrack exited/, 'the error names the last failure only');
  reader.stop();
});
