// natgw against the naive MASQUERADE recipe on ONE NAT VM, interleaved (issue 23): each round measures the shared pool,
// static port blocks and the naive recipe one after another on the same VM and the same client, the order reversed
// every other round, and every target is the median of the per-round ratios (bench/pairing.ts). Separate gateway VMs
// (bench/datapath) compare two paths whose speed drifts apart on a noisy box; here both sides share everything but the
// rules. Then: new TCP conn/s with 1,000 client addresses vs 10 (port blocks), interleaved the same way, and the
// first-packet loss of 100 new clients. With --perf, one extra connection-rate run per side under `perf record -a -g`.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BLOCK_PORTS as BLOCK_RANGE, OVERFLOW_PORTS } from '../agent/config.js';
import { INTERNET, type Lab, type LabProcess } from '../lab/lab.js';
import { iperf } from './datapath.js';
import {
  LISTEN,
  NATGW,
  ROOT,
  SERVER,
  buildLab,
  connectRate,
  dist,
  sleep,
  startAgent,
  startSinks,
  sysctls,
  valueRow,
  type Bench,
  type BenchContext,
  type Row,
} from './lib.js';
import {
  pairedRow,
  pairsMarkdown,
  parsePairs,
  parsePerfReport,
  profilesSideBySide,
  roundOrder,
  type Pair,
  type PairedMeasure,
} from './pairing.js';
import { CLIENT_RANGE, FEW, MANY, MANY_CLIENTS_VM, addManyClients, connectFrom } from './ports.js';

const run = promisify(execFile);

type Side = 'shared' | 'blocks' | 'naive';
const SIDES: readonly Side[] = ['shared', 'blocks', 'naive'];
/**
 * One client opens ~10k connections a second to one server port, and each holds its NAT port for conntrack's 1 s
 * TIME_WAIT: a block must hold that many connections to one destination or it refuses some (port_block_full), which
 * would measure the block's size, not the data path. 32,768 is the largest block the config allows.
 */
const BLOCK_PORTS = 32_768;
const FIRST_PACKET_CLIENTS = 100;
const SECONDS = 3;
/** Bounds a whole run: a lab that stalls (a frozen box) stops after the rounds done so far. */
const MAX_MINUTES = 45;

/** Both sides run with the same conntrack timeouts: the agent's sysctls stay when its table is removed. */
const natgwConfig = (portAllocation?: unknown) => ({
  sourceRanges: ['10.10.0.0/25', CLIENT_RANGE],
  logging: 'none',
  timeouts: { tcpTimeWait: 1 },
  ...(portAllocation === undefined ? {} : { portAllocation }),
});
const CONFIGS: Record<Exclude<Side, 'naive'>, unknown> = {
  shared: natgwConfig(),
  blocks: natgwConfig({ mode: 'static', portsPerVm: BLOCK_PORTS }),
};
const MASQUERADE_RULE = ['POSTROUTING', '-o', 'ens4', '-j', 'MASQUERADE'];

/** Switches one NAT VM between natgw (either config) and the naive recipe, each from an empty conntrack table. */
class NatVm {
  private agent: LabProcess | undefined;
  private masquerading = false;

  constructor(
    private readonly lab: Lab,
    readonly name: string,
  ) {}

  async become(side: Side, config?: unknown): Promise<void> {
    await this.agent?.stop('SIGTERM');
    this.agent = undefined;
    const root = this.lab.vm(this.name).root;
    await this.lab.exec(this.name, ['node', NATGW, 'agent', '--cleanup', '--root', root]);
    if (this.masquerading) {
      await this.lab.exec(this.name, ['iptables', '-t', 'nat', '-D', ...MASQUERADE_RULE]);
      // iptables-nft leaves its nat table, an empty base chain on the postrouting hook that natgw's side would pay for.
      await this.lab.exec(this.name, ['nft', 'delete', 'table', 'ip', 'nat'], { okExitCodes: [1] });
    }
    this.masquerading = false;
    await this.flushConntrack();
    if (side === 'naive') {
      await sysctls(this.lab, this.lab.vm(this.name).namespace, { 'net.ipv4.ip_forward': 1 });
      await this.lab.exec(this.name, ['iptables', '-t', 'nat', '-A', ...MASQUERADE_RULE]);
      this.masquerading = true;
    } else this.agent = await startAgent(this.lab, this.name, config ?? CONFIGS[side]);
  }

  /**
   * Until each address holds its block: a client without one leaves from the overflow ports, a path of its own (and a
   * range of 4,096 ports that a connection loop would exhaust), so the clock starts only once every block is in place.
   */
  async waitForBlocks(client: string, addresses: string[], portsPerVm = BLOCK_PORTS): Promise<void> {
    const deadline = Date.now() + 30_000;
    // One NAT address holds this many blocks; the other clients stay on the overflow ports, as they would on a VM.
    const capacity = Math.floor((BLOCK_RANGE.last - BLOCK_RANGE.first + 1) / portsPerVm);
    for (;;) {
      await connectFrom(this.lab, client, addresses, 5, { concurrency: Math.min(addresses.length, 100), maxConnections: addresses.length });
      const { stdout } = await this.lab.exec(this.name, ['curl', '-sS', '-m', '10', `http://${LISTEN}/port-blocks`]);
      const held = new Set((JSON.parse(stdout) as { blocks: { vm: string }[] }).blocks.map((block) => block.vm));
      const missing = addresses.filter((address) => !held.has(address));
      if (addresses.length - missing.length >= Math.min(addresses.length, capacity)) return;
      if (Date.now() > deadline) throw new Error(`${missing.length} client addresses got no block within 30 s, e.g. ${missing[0]}`);
      await sleep(200);
    }
  }

  /**
   * CPU seconds the agent has used so far, with the commands it ran and waited for (nft, conntrack -L): what its
   * background work takes from the box while a side is measured. NaN for the naive side.
   */
  agentCpuSeconds(): number {
    if (this.agent === undefined) return Number.NaN;
    const marker = `--root\0${this.lab.vm(this.name).root}\0`;
    let total = 0;
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
        // Fields after the command name: utime, stime, cutime, cstime are the 12th to 15th, in clock ticks (100 Hz).
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        total += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0) / 100;
      } catch {
        // the process ended between the listing and the read
      }
    }
    return total;
  }

  /** Every run starts from the same state: no entries of the run before holding ports or hash chains. */
  flushConntrack(): Promise<unknown> {
    return this.lab.exec(this.name, ['conntrack', '-F'], { okExitCodes: [1] });
  }

  async stop(): Promise<void> {
    await this.agent?.stop('SIGTERM');
  }
}

interface Sample {
  tcp: number;
  udp: number;
  conn: number;
  connFailed: number;
}

async function measure(lab: Lab, client: string): Promise<Sample> {
  const bulk = await iperf(lab, client, [], SECONDS);
  const small = await iperf(lab, client, ['-u', '-b', '0', '-l', '64'], SECONDS);
  const sum = small.end.sum;
  const rate = await connectRate(lab, client, { close: 'client', concurrency: 32, seconds: SECONDS, cpu: 0 });
  return {
    tcp: (bulk.end.sum_received?.bits_per_second ?? Number.NaN) / 1e9,
    udp: sum === undefined ? Number.NaN : (sum.packets - sum.lost_packets) / sum.seconds / 1000,
    conn: rate.rate,
    connFailed: rate.failed,
  };
}

/** `perf record -a -g` over the connection-rate phase of one extra run: the kernel's top symbols during NEW-heavy load. */
async function profileConnections(lab: Lab, client: string, label: string): Promise<{ symbols: { symbol: string; percent: number }[] }> {
  const file = path.join(lab.dir, `perf-${label}.data`);
  const recording = run('perf', ['record', '-a', '-g', '-q', '-o', file, '--', 'sleep', String(SECONDS + 1)], { timeout: 60_000 });
  await connectRate(lab, client, { close: 'client', concurrency: 32, seconds: SECONDS, cpu: 0 });
  await recording;
  const { stdout } = await run('perf', ['report', '-i', file, '--no-children', '--sort', 'sym', '--stdio', '-g', 'none'], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { symbols: parsePerfReport(stdout) };
}

/** First packets of new clients right after the agent started: every UDP flow answered, no SYN re-sent. */
async function firstPacketLoss(lab: Lab, clients: string[]): Promise<{ lost: number; flows: number; retransmitted: number }> {
  const retransmitted = async () => {
    const { stdout } = await lab.exec(MANY_CLIENTS_VM, ['nstat', '-asz', 'TcpRetransSegs']);
    return Number(/TcpRetransSegs\s+(\d+)/.exec(stdout)?.[1] ?? Number.NaN);
  };
  const before = await retransmitted();
  const { stdout } = await lab.exec(
    MANY_CLIENTS_VM,
    [
      'node',
      dist('lab/bin/first-packet-burst.js'),
      INTERNET.server,
      String(INTERNET.udpPort),
      String(INTERNET.httpPort),
      '1',
      '1',
      ...clients,
    ],
    { timeoutMs: 60_000 },
  );
  const results = JSON.parse(stdout) as { udp: number; tcp: number }[];
  const answered = results.reduce((sum, result) => sum + result.udp + result.tcp, 0);
  return { lost: 2 * clients.length - answered, flows: 2 * clients.length, retransmitted: (await retransmitted()) - before };
}

export const pairs: Bench = async (context: BenchContext) => {
  const { quick, log } = context;
  const rounds = parsePairs(context.options?.pairs ?? (quick ? '2' : undefined));
  const deadline = Date.now() + MAX_MINUTES * 60_000;
  const { lab, paths, agents } = await buildLab(['natgw-1'], { natgwConfig: () => CONFIGS.shared });
  const gateway = paths[0]!.gateway;
  const client = paths[0]!.clients[0]!;
  const nat = new NatVm(lab, gateway);
  const switchTo = async (side: Side) => {
    await nat.become(side);
    if (side === 'blocks') await nat.waitForBlocks(client, [lab.vm(client).ip]);
  };
  try {
    await agents.get('natgw-1')?.stop('SIGTERM');
    const many = await addManyClients(lab, gateway);
    const iperfServer = lab.spawnIn(
      lab.internet,
      ['taskset', '-c', '1', 'iperf3', '-s', '-B', SERVER, '-p', '5201', '--forceflush'],
      'iperf3 server',
    );
    await Promise.all([iperfServer.waitFor(/listening/i), startSinks(lab)]);

    const samples: Record<Side, { sample: Sample; round: number; position: number }[]> = { shared: [], blocks: [], naive: [] };
    for (let round = 0; round < rounds && Date.now() < deadline; round++) {
      for (const [position, side] of roundOrder(SIDES, round).entries()) {
        await switchTo(side);
        const cpuBefore = nat.agentCpuSeconds();
        const started = Date.now();
        const sample = await measure(lab, client);
        const agentCpu = (nat.agentCpuSeconds() - cpuBefore) / ((Date.now() - started) / 1000);
        samples[side].push({ sample, round, position });
        log(
          `  round ${round + 1}/${rounds} ${side}: tcp ${sample.tcp.toFixed(2)} Gbit/s, udp ${sample.udp.toFixed(0)} kpps, ${sample.conn.toFixed(0)} conn/s (${sample.connFailed} failed)${Number.isNaN(agentCpu) ? '' : `, agent ${(agentCpu * 100).toFixed(1)} % of a core`}`,
        );
      }
    }
    const done = Math.min(samples.shared.length, samples.blocks.length, samples.naive.length);
    const paired = (subject: Side, baseline: Side, key: keyof Sample): Pair[] =>
      Array.from({ length: done }, (_, round) => {
        const s = samples[subject][round]!;
        const b = samples[baseline][round]!;
        return { subject: s.sample[key], baseline: b.sample[key], first: s.position < b.position ? 'subject' : 'baseline' };
      });
    const failed = (side: Side) => samples[side].reduce((sum, entry) => sum + entry.sample.connFailed, 0);
    const kinds = [
      { key: 'udp', label: 'UDP 64 B', unit: 'kpps', target: '>= 0.97', note: `iperf3 -u -b 0 -l 64, packets received, ${SECONDS} s` },
      { key: 'tcp', label: 'TCP bulk', unit: 'Gbit/s', target: '>= 0.99', note: `iperf3, 1 stream, ${SECONDS} s` },
      {
        key: 'conn',
        label: 'new TCP conn/s',
        unit: 'conn/s',
        target: '>= 0.97',
        note: `connect+close loop (client closes), 32 in flight, ${SECONDS} s`,
      },
    ] as const;
    const failedNote = (key: string, subject: Side, baseline: Side) =>
      key === 'conn' ? `; failed: ${failed(subject)} vs ${failed(baseline)}` : '';
    const measures: PairedMeasure[] = kinds.flatMap(({ key, label, unit, target, note }) => [
      ...(['shared', 'blocks'] as const).map((side) => ({
        section: 'pairs',
        metric: `${label}: natgw (${side === 'shared' ? 'shared pool' : `port blocks of ${BLOCK_PORTS}`}) / naive MASQUERADE`,
        unit,
        subjectLabel: side === 'shared' ? 'natgw' : 'natgw blocks',
        baselineLabel: 'naive',
        target,
        note: `${note}${failedNote(key, side, 'naive')}`,
        pairs: paired(side, 'naive', key),
      })),
      {
        section: 'pairs',
        metric: `${label}: port blocks / shared pool`,
        unit,
        subjectLabel: 'blocks',
        baselineLabel: 'shared',
        target: '>= 0.97',
        note: `${note}${failedNote(key, 'blocks', 'shared')}`,
        pairs: paired('blocks', 'shared', key),
      },
    ]);

    // 1,000 client addresses with blocks of 64 against 10 with blocks of 4,096: as bench/ports, interleaved.
    const setups = [
      { name: 'many', sources: many, portsPerVm: 64 },
      { name: 'few', sources: many.slice(0, FEW), portsPerVm: 4096 },
    ] as const;
    const addressRates: Record<string, { rate: number; position: number }[]> = { many: [], few: [] };
    for (let round = 0; round < rounds && Date.now() < deadline; round++) {
      for (const [position, setup] of roundOrder(setups, round).entries()) {
        await nat.become('blocks', natgwConfig({ mode: 'static', portsPerVm: setup.portsPerVm }));
        await nat.waitForBlocks(MANY_CLIENTS_VM, [...setup.sources], setup.portsPerVm);
        await nat.flushConntrack();
        const rate = await connectFrom(lab, MANY_CLIENTS_VM, setup.sources, SECONDS);
        addressRates[setup.name]!.push({ rate: rate.rate, position });
        log(`  round ${round + 1}/${rounds} ${setup.sources.length} addresses: ${rate.rate.toFixed(0)} conn/s (${rate.failed} failed)`);
      }
    }
    const addressRounds = Math.min(addressRates.many!.length, addressRates.few!.length);
    measures.push({
      section: 'pairs',
      metric: `new TCP conn/s: port blocks, ${MANY.toLocaleString('en')} client addresses / ${FEW}`,
      unit: 'conn/s',
      subjectLabel: `${MANY} addresses`,
      baselineLabel: `${FEW} addresses`,
      target: '>= 0.97',
      note: `connect+close loop (client closes), 32 in flight, ${SECONDS} s; static blocks of 64 vs 4,096 ports (each address's connections to one server port fit its block); one NAT address holds ${Math.floor((BLOCK_RANGE.last - BLOCK_RANGE.first + 1) / 64)} blocks of 64, the other ${MANY - Math.floor((BLOCK_RANGE.last - BLOCK_RANGE.first + 1) / 64)} addresses leave from the overflow ports`,
      pairs: Array.from({ length: addressRounds }, (_, round) => ({
        subject: addressRates.many![round]!.rate,
        baseline: addressRates.few![round]!.rate,
        first: addressRates.many![round]!.position === 0 ? 'subject' : 'baseline',
      })),
    });

    // 100 clients that never sent a packet, right after the agent started with static blocks: none may be lost.
    await nat.become('blocks', natgwConfig({ mode: 'static', portsPerVm: 64 }));
    const firstPackets = many.slice(MANY - FIRST_PACKET_CLIENTS);
    const loss = await firstPacketLoss(lab, firstPackets);
    log(`  first packets: ${loss.lost} of ${loss.flows} flows lost, ${loss.retransmitted} TCP segments retransmitted`);

    const rows: Row[] = [
      ...measures.map(pairedRow),
      valueRow(
        'pairs',
        `first-packet loss, ${FIRST_PACKET_CLIENTS} new clients (static blocks of 64, right after the agent started)`,
        'flows',
        loss.lost + loss.retransmitted,
        '<= 0',
        `one UDP flow (one datagram, answered) and one TCP connection per client, as test/lab-port-blocks-first-packet; unanswered: ${loss.lost} of ${loss.flows}, TCP segments retransmitted: ${loss.retransmitted}; clients without a block yet leave from ports ${OVERFLOW_PORTS.first}-${OVERFLOW_PORTS.last}`,
      ),
    ];

    let profiles = '';
    if (context.options?.perf === true) {
      if (!existsSync('/usr/bin/perf')) log('  --perf: /usr/bin/perf is not installed, no profile taken');
      else {
        const profile: Record<string, { symbols: { symbol: string; percent: number }[] }> = {};
        for (const side of SIDES) {
          await switchTo(side);
          profile[side] = await profileConnections(lab, client, side);
        }
        profiles = [
          `#### Kernel profile of the new-connection phase (\`perf record -a -g\`, ${SECONDS} s each, top symbols)`,
          '',
          profilesSideBySide(
            { label: 'natgw, shared pool', symbols: profile.shared!.symbols },
            { label: 'naive', symbols: profile.naive!.symbols },
          ),
          profilesSideBySide(
            { label: 'natgw, port blocks', symbols: profile.blocks!.symbols },
            { label: 'naive', symbols: profile.naive!.symbols },
          ),
        ].join('\n');
      }
    }
    const heading = `### Paired run, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (\`npm run bench -- pairs --pairs ${rounds}\`)`;
    const markdown = `${pairsMarkdown(measures, heading)}\n${profiles}`;
    const file = path.join(ROOT, 'bench', 'results', 'pairs.md');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, markdown);
    log(`\n${markdown}\nwrote ${path.relative(ROOT, file)} (ready for docs/bench.md)`);
    return rows;
  } finally {
    await nat.stop();
    await lab.destroy();
  }
};
