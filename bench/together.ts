// Two sides of a pair measured at once (bench/pairs, bench/rules): both load their own NAT VM at the same time, each
// client on the same CPU, and the internet counts what each NAT VM delivered, told apart by its external address,
// between two dumps of its counters. The two share the CPU the way the scheduler shares two busy processes, so the side
// whose packets cost more delivers less, and the box's swings (±20 % over seconds on the 2-vCPU box) fall on both at
// the same instant.
import type { Lab } from '../lab/lab.js';
import { iperf, type IperfResult } from './datapath.js';
import { SERVER, connectRate, flushConntrack, sleep } from './lib.js';
import { type CountedKind, type CounterValues, countingRuleset, deliveredPerSecond, parseCounters } from './pairing.js';

/** Each side of a pair loads this long; the internet counts a second in its middle. */
const LOAD_SECONDS = 2;
/**
 * The count starts once both loads are up: processes started, iperf3's control connection made, and the connection
 * loop past compiling its hot path (a fresh node process spends its first ~300 ms there).
 */
const COUNT_FROM_MS = 700;
export const COUNT_MS = 1000;
/** The internet's two iperf3 servers, one per side of a pair; the first side of a pair takes the first port. */
const IPERF_PORTS = [5201, 5202] as const;
/** The sink whose clients close first (bench/lib's startSinks), as the connection loop uses it. */
const SINK_PORT = 9001;
const COUNTING_TABLE = 'natgw_bench';
/** A window whose load failed or whose second dump came late is measured again, at most this often. */
const WINDOW_ATTEMPTS = 3;

/** A NAT VM as a side of a pair: its client loads it, its place among the NAT VMs names its counters. */
export interface PairSide {
  name: string;
  client: string;
  index: number;
  /** What it runs, for the log. */
  side: string | undefined;
  /** Connection windows: the client addresses its connections take in turn (bench/pairs' address comparison). */
  sources?: readonly string[];
}

/** The internet's iperf3 servers (one per side of a pair) and its counting table. */
export async function startTogether(lab: Lab, sides: readonly PairSide[]): Promise<InternetCount> {
  const servers = IPERF_PORTS.map((port) =>
    lab.spawnIn(
      lab.internet,
      ['taskset', '-c', '1', 'iperf3', '-s', '-B', SERVER, '-p', String(port), '--forceflush'],
      `iperf3 server ${port}`,
    ),
  );
  await Promise.all(servers.map((server) => server.waitFor(/listening/i)));
  const count = new InternetCount(lab);
  await count.install(sides);
  return count;
}

/** The internet's counters of what each NAT VM delivered (bench/pairing's countingRuleset). */
export class InternetCount {
  constructor(private readonly lab: Lab) {}

  async install(vms: readonly PairSide[]): Promise<void> {
    const addresses = vms.map((vm) => {
      const address = this.lab.vm(vm.name).externalIp;
      if (address === undefined) throw new Error(`NAT VM ${vm.name} has no external IP to count it by`);
      return address;
    });
    await this.lab.run('count what each NAT VM delivers', this.lab.internet, ['nft', '-f', '-'], {
      input: countingRuleset(COUNTING_TABLE, addresses, { sink: SINK_PORT, iperf: IPERF_PORTS }),
    });
  }

  async read(): Promise<{ values: CounterValues; at: number }> {
    const { stdout } = await this.lab.run('read the counters', this.lab.internet, [
      'nft',
      '-j',
      'list',
      'counters',
      'table',
      'ip',
      COUNTING_TABLE,
    ]);
    return { values: parseCounters(stdout), at: performance.now() };
  }
}

/** One side's load of a pair; its own report says whether it ran through the counted second. */
async function load(
  lab: Lab,
  side: PairSide,
  kind: CountedKind,
  port: number,
): Promise<{ seconds: number; failed: number; errors?: Record<string, number> }> {
  const { client, sources } = side;
  if (kind === 'conn') {
    const rate = await connectRate(lab, client, {
      close: 'client',
      concurrency: 32,
      seconds: LOAD_SECONDS,
      cpu: 0,
      ...(sources === undefined ? {} : { sources }),
    });
    return { seconds: rate.seconds, failed: rate.failed, errors: rate.errors };
  }
  const result: IperfResult = await iperf(lab, client, kind === 'udp' ? ['-u', '-b', '0', '-l', '64'] : [], LOAD_SECONDS, {
    port,
    attempts: 1,
  });
  return { seconds: result.end.sum?.seconds ?? result.end.sum_received?.seconds ?? Number.NaN, failed: 0 };
}

export interface Together {
  subject: number;
  baseline: number;
  /** Connections that failed on either side (conn windows only). */
  failed: { subject: number; baseline: number };
}

/**
 * Both sides load at once; what each delivered between two dumps of the internet's counters is its value. `subjectFirst`
 * alternates from round to round which side is started first and takes the first iperf3 server.
 */
export async function measureTogether(
  lab: Lab,
  count: InternetCount,
  kind: CountedKind,
  subject: PairSide,
  baseline: PairSide,
  subjectFirst: boolean,
  log: (line: string) => void,
): Promise<Together> {
  const ordered = subjectFirst ? [subject, baseline] : [baseline, subject];
  let problem = '';
  for (let attempt = 1; attempt <= WINDOW_ATTEMPTS; attempt++) {
    await Promise.all([flushConntrack(lab, subject.name), flushConntrack(lab, baseline.name)]);
    const launched = performance.now();
    const loads = Promise.allSettled(ordered.map((vm, index) => load(lab, vm, kind, IPERF_PORTS[index]!)));
    await sleep(COUNT_FROM_MS);
    const before = await count.read();
    await sleep(Math.max(0, COUNT_MS - (performance.now() - before.at)));
    const after = await count.read();
    const [first, second] = await loads;
    const loaded = [first, second].map((settled) => (settled?.status === 'fulfilled' ? settled.value : undefined));
    const countEnd = (after.at - launched) / 1000;
    // The count must fall inside both loads: a load that failed, or ended before the second dump, leaves one side alone.
    if (loaded.some((result) => result === undefined))
      problem = `a load failed: ${[first, second].map((settled) => (settled?.status === 'rejected' ? String(settled.reason).slice(0, 200) : 'ok')).join('; ')}`;
    else if (loaded.some((result) => !(result!.seconds >= countEnd)))
      problem = `the count ended ${countEnd.toFixed(2)} s after the start, after a load (${loaded.map((result) => result!.seconds.toFixed(2)).join(', ')} s)`;
    else {
      const seconds = (after.at - before.at) / 1000;
      const value = (vm: PairSide) => deliveredPerSecond(kind, vm.index, before.values, after.values, seconds);
      const failed = (vm: PairSide) => loaded[ordered.indexOf(vm)]!.failed;
      for (const [index, vm] of ordered.entries())
        if (loaded[index]!.failed > 0)
          log(
            `  ${kind} window, ${vm.side} on ${vm.name}: ${loaded[index]!.failed} connections failed ${JSON.stringify(loaded[index]!.errors)}`,
          );
      return {
        subject: value(subject),
        baseline: value(baseline),
        failed: { subject: failed(subject), baseline: failed(baseline) },
      };
    }
    log(`  ${kind} window ${subject.side} ‖ ${baseline.side}, attempt ${attempt}: ${problem}`);
  }
  log(`  ${kind} window ${subject.side} ‖ ${baseline.side}: no valid window in ${WINDOW_ATTEMPTS} attempts, left out`);
  return { subject: Number.NaN, baseline: Number.NaN, failed: { subject: 0, baseline: 0 } };
}
