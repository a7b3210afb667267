// Data-path cost, side by side in one lab: TCP bulk, 64-byte UDP packets per second and new TCP connections per second
// through plain routing, the naive MASQUERADE recipe, and natgw's nft table with 1 and 1,000 source ranges. natgw's own
// cost is natgw / naive: both do conntrack and NAT, natgw adds its allow-list, counters and fast path.
import type { Lab } from '../lab/lab.js';
import {
  SERVER,
  buildLab,
  connectRate,
  execJson,
  startSinks,
  median,
  ratioRow,
  sleep,
  type Bench,
  type PathSpec,
  type Row,
} from './lib.js';

const PATHS = ['routed', 'natgw-1', 'natgw-1000', 'naive'];

export interface IperfResult {
  end: {
    sum_received?: { bits_per_second: number; seconds?: number };
    sum?: { packets: number; lost_packets: number; seconds: number; bits_per_second: number };
  };
}

/**
 * `port`: one of the internet's iperf3 servers (5201, or 5202 for a second side at once). `attempts`: iperf3's server
 * can be busy for a moment, so a lone run retries; a side loading alongside another must not start late, so it fails.
 */
export async function iperf(
  lab: Lab,
  client: string,
  args: string[],
  seconds: number,
  { port = 5201, attempts = 3 }: { port?: number; attempts?: number } = {},
): Promise<IperfResult> {
  // -t bounds the run; the command timeout bounds a hung server.
  for (let attempt = 1; ; attempt++) {
    try {
      return await execJson<IperfResult>(lab, client, [
        'timeout',
        String(seconds + 15),
        'iperf3',
        '-c',
        SERVER,
        '-p',
        String(port),
        '-t',
        String(seconds),
        '-A',
        '0,1',
        '-J',
        ...args,
      ]);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(500);
    }
  }
}

export const datapath: Bench = async ({ quick, log }) => {
  // Two vCPUs make every figure noisy: client (and the kernel's forwarding, done in its softirq) pinned to CPU 0, the
  // servers to CPU 1, the order rotated each repetition, and the median taken.
  const reps = quick ? 2 : 4;
  const seconds = 3;
  const connSeconds = 3;
  const { lab, paths } = await buildLab(PATHS);
  try {
    const iperfServer = lab.spawnIn(
      lab.internet,
      ['taskset', '-c', '1', 'iperf3', '-s', '-B', SERVER, '-p', '5201', '--forceflush'],
      'iperf3 server',
    );
    await Promise.all([iperfServer.waitFor(/listening/i), startSinks(lab)]);
    const tcp = new Map<string, number[]>();
    const udp = new Map<string, number[]>();
    const conn = new Map<string, number[]>();
    const connFailed = new Map<string, number>();
    const push = (map: Map<string, number[]>, key: string, value: number) => map.set(key, [...(map.get(key) ?? []), value]);
    for (let rep = 0; rep < reps; rep++) {
      // Rotate the order so that drift on a noisy box does not always favour the same path.
      const order: PathSpec[] = paths.map((_, i) => paths[(i + rep) % paths.length]!);
      for (const path of order) {
        const client = path.clients[0]!;
        const bulk = await iperf(lab, client, [], seconds);
        push(tcp, path.name, (bulk.end.sum_received?.bits_per_second ?? NaN) / 1e9);
        const small = await iperf(lab, client, ['-u', '-b', '0', '-l', '64'], seconds);
        const sum = small.end.sum;
        push(udp, path.name, sum === undefined ? NaN : (sum.packets - sum.lost_packets) / sum.seconds / 1000);
        const rate = await connectRate(lab, client, { close: 'client', concurrency: 32, seconds: connSeconds, cpu: 0 });
        push(conn, path.name, rate.rate);
        connFailed.set(path.name, (connFailed.get(path.name) ?? 0) + rate.failed);
        log(
          `  rep ${rep + 1}/${reps} ${path.name}: tcp ${tcp.get(path.name)!.at(-1)!.toFixed(2)} Gbit/s, udp ${udp.get(path.name)!.at(-1)!.toFixed(0)} kpps, ${rate.rate.toFixed(0)} conn/s`,
        );
      }
    }
    const get = (map: Map<string, number[]>, key: string) => map.get(key) ?? [];
    const repeat = `median of ${reps} × ${seconds} s`;
    const failed = (name: string) => connFailed.get(name) ?? 0;
    const measures = [
      { section: 'throughput', label: 'TCP bulk', unit: 'Gbit/s', map: tcp, note: `iperf3, 1 stream, ${repeat}` },
      { section: 'throughput', label: 'UDP 64 B', unit: 'kpps', map: udp, note: `iperf3 -u -b 0 -l 64, packets received; ${repeat}` },
      {
        section: 'connections',
        label: 'new TCP conn/s',
        unit: 'conn/s',
        map: conn,
        note: `connect+close loop (client closes), 32 in flight, median of ${reps} × ${connSeconds} s`,
      },
    ] as const;
    const rows: Row[] = measures.flatMap(({ section, label, unit, map, note }) => {
      const connNote = (name: string) => (map === conn ? `; failed: ${failed(name)} vs ${failed('naive')} naive` : '');
      return [
        ratioRow(
          section,
          `${label}: natgw (1 range) / naive MASQUERADE`,
          unit,
          get(map, 'natgw-1'),
          'naive MASQUERADE',
          get(map, 'naive'),
          '>= 0.97',
          `${note}${connNote('natgw-1')}`,
        ),
        ratioRow(
          section,
          `${label}: natgw (1,000 ranges) / naive MASQUERADE`,
          unit,
          get(map, 'natgw-1000'),
          'naive MASQUERADE',
          get(map, 'naive'),
          '>= 0.97',
          `${note}${connNote('natgw-1000')}`,
        ),
        ratioRow(
          section,
          `${label}: natgw 1,000 ranges / 1 range`,
          unit,
          get(map, 'natgw-1000'),
          'natgw, 1 range',
          get(map, 'natgw-1'),
          '>= 0.95',
          note,
        ),
        ratioRow(
          section,
          `${label}: naive MASQUERADE / plain routing`,
          unit,
          get(map, 'naive'),
          'plain routing',
          get(map, 'routed'),
          undefined,
          `conntrack + NAT without any natgw rule, for context; ${note}`,
        ),
      ];
    });
    for (const [name, values] of tcp)
      log(
        `  ${name}: tcp ${median(values).toFixed(2)} Gbit/s, udp ${median(get(udp, name)).toFixed(0)} kpps, ${median(get(conn, name)).toFixed(0)} conn/s`,
      );
    return rows;
  } finally {
    await lab.destroy();
  }
};
