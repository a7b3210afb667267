// natgw against the naive MASQUERADE recipe, both sides at once (issue 23). Five identical NAT VMs, one per side: natgw
// with the shared pool, with static port blocks, with dynamic port blocks, the naive recipe, and the naive recipe again
// as an A/A control (how far the method strays when both sides are the same), each with its own client. A pair is one
// window in which both of its sides load their own NAT VM at the same time, each client on the same CPU, and the
// internet counts what each NAT VM delivered (its external address tells them apart) between two counter dumps. The
// box's speed swings by ±20 % over seconds; two sides measured at the same instant see the same box, where sides
// measured one after the other, even a second apart, did not (their A/A control strayed by 5–15 % per pair). The sides
// change VMs between phases (a Latin square: each side runs once on every VM), so no VM's own speed favours a side.
// Then: new TCP conn/s with 1,000 client addresses vs 10 (port blocks), at once on two NAT VMs, and the first-packet
// loss of 100 new clients.
// With --perf, one extra connection-rate run, UDP run and one-way UDP run per side under `perf record -a -g`.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BLOCK_PORTS as BLOCK_RANGE, OVERFLOW_PORTS } from '../agent/config.js';
import { INTERNET, type Lab, type LabProcess } from '../lab/lab.js';
import { iperf } from './datapath.js';
import {
  LISTEN,
  MASQUERADE_RULE,
  NATGW,
  ROOT,
  SERVER,
  buildLab,
  connectRate,
  flushConntrack,
  masquerade,
  dist,
  median,
  sleep,
  startAgent,
  startSinks,
  valueRow,
  type Bench,
  type BenchContext,
  type Row,
} from './lib.js';
import {
  type CountedKind,
  gatewayOf,
  pairedRow,
  pairsMarkdown,
  parsePairs,
  parsePerfReport,
  profilesSideBySide,
  idleShare,
  roundOrder,
  ruleEvaluationOfBusy,
  ruleEvaluationSymbols,
  roundsInPhase,
  type Pair,
  type PairedMeasure,
} from './pairing.js';
import { CLIENT_RANGES, FEW, MANY, MANY_CLIENTS_VM, addManyClients, connectFrom } from './ports.js';
import { COUNT_MS, type PairSide, type Together, measureTogether, startTogether } from './together.js';

const run = promisify(execFile);

/** `control` is the naive recipe again, on another VM: control / naive is the method's own spread (an A/A test). */
type Side = 'shared' | 'blocks' | 'dynamic' | 'naive' | 'control';
const SIDES: readonly Side[] = ['control', 'shared', 'blocks', 'dynamic', 'naive'];
const NATGW_SIDES = ['shared', 'blocks', 'dynamic'] as const;
/** One NAT VM per side (bench/lib's gateways); the sides move between them from phase to phase. */
const GATEWAY_PATHS = ['natgw-1', 'natgw-1000', 'natgw-2', 'natgw-3', 'natgw-4'];
/**
 * One client opens ~10k connections a second to one server port, and each holds its NAT port for conntrack's 1 s
 * TIME_WAIT: a block must hold that many connections to one destination or it refuses some (port_block_full), which
 * would measure the block's size, not the data path. 32,768 is the largest block the config allows.
 */
export const BLOCK_PORTS = 32_768;
const FIRST_PACKET_CLIENTS = 100;
/** How long a profile records. */
const ADDRESS_SECONDS = 3;
/**
 * The address comparison restarts both agents with other blocks for each round (which VM runs 1,000 addresses
 * alternates), so each round measures a few windows.
 */
const MAX_ADDRESS_ROUNDS = 6;
const ADDRESS_WINDOWS_PER_ROUND = 2;
/** Bounds a whole run: a lab that stalls (a frozen box) stops after the rounds done so far. */
const MAX_MINUTES = 45;

/** Every side runs with the same conntrack timeouts: the agent's sysctls stay when its table is removed. */
export const natgwConfig = (portAllocation?: unknown) => ({
  sourceRanges: ['10.10.0.0/25', ...CLIENT_RANGES],
  logging: 'none',
  timeouts: { tcpTimeWait: 1 },
  ...(portAllocation === undefined ? {} : { portAllocation }),
});
const CONFIGS: Record<Exclude<Side, 'naive' | 'control'>, unknown> = {
  shared: natgwConfig(),
  // A day before an idle block goes: a phase's windows on one VM are seconds apart, but no release may fall in one.
  blocks: natgwConfig({ mode: 'static', portsPerVm: BLOCK_PORTS, releaseAfterIdleSeconds: 86_400 }),
  // The dynamic mode's ruleset (static's, its per-destination count included, plus the verdict map of block sizes), its
  // block at the largest size from the start, which has no second count: growing it mid-window would measure the
  // agent's reaction time, not the data path.
  dynamic: natgwConfig({ mode: 'dynamic', minPortsPerVm: BLOCK_PORTS, maxPortsPerVm: BLOCK_PORTS, releaseAfterIdleSeconds: 86_400 }),
};
const SIDE_LABEL: Record<(typeof NATGW_SIDES)[number], string> = {
  shared: 'natgw (shared pool)',
  blocks: `natgw (static port blocks of ${BLOCK_PORTS})`,
  dynamic: `natgw (dynamic port blocks, ${BLOCK_PORTS})`,
};

/** Switches one NAT VM between natgw (either config) and the naive recipe, each from an empty conntrack table. */
class NatVm implements PairSide {
  private agent: LabProcess | undefined;
  private masquerading = false;

  side: Side | undefined;

  constructor(
    private readonly lab: Lab,
    readonly name: string,
    readonly client: string,
    /** Its place among the NAT VMs: the internet's counters for this VM carry it (bench/pairing's counterName). */
    readonly index: number,
  ) {}

  async become(side: Side, config?: unknown): Promise<void> {
    this.side = side;
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
    await flushConntrack(this.lab, this.name);
    if (side === 'naive' || side === 'control') {
      await masquerade(this.lab, this.name);
      this.masquerading = true;
    } else {
      this.agent = await startAgent(this.lab, this.name, config ?? CONFIGS[side]);
      if (config === undefined && side !== 'shared') await this.waitForBlocks(this.client, [this.lab.vm(this.client).ip]);
    }
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

  async stop(): Promise<void> {
    await this.agent?.stop('SIGTERM');
  }
}

type Kind = CountedKind;
const COUNTED = `both sides at once, ${COUNT_MS / 1000} s counted at the internet`;
const KINDS = [
  { key: 'udp', label: 'UDP 64 B', unit: 'kpps', target: '>= 0.97', note: `iperf3 -u -b 0 -l 64, datagrams delivered, ${COUNTED}` },
  { key: 'tcp', label: 'TCP bulk', unit: 'Gbit/s', target: '>= 0.99', note: `iperf3, 1 stream, bytes delivered, ${COUNTED}` },
  {
    key: 'conn',
    label: 'new TCP conn/s',
    unit: 'conn/s',
    target: '>= 0.97',
    note: `connect+close loop (client closes), 32 in flight, SYNs delivered, ${COUNTED}`,
  },
] as const;

/** What the comparisons are: every natgw mode against naive, port blocks against the shared pool, and the A/A control. */
interface Comparison {
  subject: Side;
  baseline: Side;
  label: string;
  target?: string;
}
const COMPARISONS: readonly Comparison[] = [
  ...NATGW_SIDES.map((side) => ({ subject: side, baseline: 'naive' as const, label: `${SIDE_LABEL[side]} / naive MASQUERADE` })),
  ...(['blocks', 'dynamic'] as const).map((side) => ({
    subject: side,
    baseline: 'shared' as const,
    label: `${side === 'blocks' ? 'static' : 'dynamic'} port blocks / shared pool`,
    target: '>= 0.97',
  })),
  {
    subject: 'control',
    baseline: 'naive',
    label: 'naive / naive on another NAT VM (A/A control: the spread of the method itself)',
    target: 'report only',
  },
];

type Profile = { symbols: ReturnType<typeof parsePerfReport> };
/** The sides a profile compares: every natgw mode and naive (the control would repeat naive). */
const PROFILED_SIDES = [...NATGW_SIDES, 'naive'] as const;
type ProfiledKind = 'conn' | 'udp' | 'oneway';
/** Nothing listens there: the flow is never answered (the internet's ICMP errors are related, not a reply). */
const ONE_WAY_PORT = 9999;
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;

/** `perf record -a -g` over one extra run of a measure: the kernel's top symbols during NEW-heavy load or small datagrams. */
async function profileRun(lab: Lab, client: string, label: string, kind: ProfiledKind, log: (line: string) => void): Promise<Profile> {
  const file = path.join(lab.dir, `perf-${kind}-${label}.data`);
  const recording = run('perf', ['record', '-a', '-g', '-q', '-o', file, '--', 'sleep', String(ADDRESS_SECONDS + 1)], { timeout: 60_000 });
  if (kind === 'conn') await connectRate(lab, client, { close: 'client', concurrency: 32, seconds: ADDRESS_SECONDS, cpu: 0 });
  else if (kind === 'udp') await iperf(lab, client, ['-u', '-b', '0', '-l', '64'], ADDRESS_SECONDS);
  else {
    const { stdout } = await lab.exec(
      client,
      ['node', dist('lab/bin/udp-oneway.js'), '--host', SERVER, '--port', String(ONE_WAY_PORT), '--seconds', String(ADDRESS_SECONDS)],
      { timeoutMs: 30_000 },
    );
    const { sent } = JSON.parse(stdout) as { sent: number; failed: number };
    log(
      `  one-way UDP, ${label}: ${sent} datagrams sent in ${ADDRESS_SECONDS} s${sent === 0 ? ': NOTHING SENT, this profile measures nothing' : ''}`,
    );
  }
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
  const rounds = parsePairs(context.options?.pairs ?? (quick ? String(SIDES.length) : undefined));
  const deadline = Date.now() + MAX_MINUTES * 60_000;
  const { lab, paths, agents } = await buildLab(GATEWAY_PATHS, { natgwConfig: () => CONFIGS.shared });
  const vms = paths.map((spec, index) => new NatVm(lab, spec.gateway, spec.clients[0]!, index));
  const first = vms[0]!;
  try {
    await Promise.all([...agents.values()].map((agent) => agent.stop('SIGTERM')));
    const manyClients = [await addManyClients(lab, vms[0]!.name, 0), await addManyClients(lab, vms[1]!.name, 1)];
    const many = manyClients[0]!.addresses;
    await startSinks(lab, MAX_MINUTES * 60 + 300);
    const count = await startTogether(lab, vms);
    if (rounds < SIDES.length) log(`  ${rounds} rounds: fewer than the ${SIDES.length} phases, so not every side runs on every VM`);

    type Entry = Together & { subjectVm: string; baselineVm: string; subjectFirst: boolean };
    const results = Object.fromEntries(KINDS.map(({ key }) => [key, COMPARISONS.map(() => [] as Entry[])])) as Record<Kind, Entry[][]>;
    let done = 0;
    for (let phase = 0; phase < SIDES.length && done < rounds && Date.now() < deadline; phase++) {
      const phaseRounds = roundsInPhase(rounds, phase, SIDES.length);
      if (phaseRounds === 0) continue;
      const onVm = new Map<Side, NatVm>(SIDES.map((side, index) => [side, vms[gatewayOf(index, phase, vms.length)]!]));
      for (const [side, vm] of onVm) await vm.become(side);
      log(`  phase ${phase + 1}/${SIDES.length}: ${SIDES.map((side) => `${side} on ${onVm.get(side)!.name}`).join(', ')}`);
      const cpuBefore = new Map(vms.map((vm) => [vm, vm.agentCpuSeconds()]));
      const started = Date.now();
      for (let inPhase = 0; inPhase < phaseRounds && Date.now() < deadline; inPhase++, done++) {
        const subjectFirst = done % 2 === 0;
        // The comparisons take turns at every place in the round (a Williams design over the six of them).
        const order = roundOrder(
          COMPARISONS.map((_, index) => index),
          done,
        );
        for (const { key } of KINDS)
          for (const index of order) {
            const { subject, baseline } = COMPARISONS[index]!;
            const [subjectVm, baselineVm] = [onVm.get(subject)!, onVm.get(baseline)!];
            const together = await measureTogether(lab, count, key, subjectVm, baselineVm, subjectFirst, log);
            results[key][index]!.push({ ...together, subjectVm: subjectVm.name, baselineVm: baselineVm.name, subjectFirst });
          }
        const line = (key: Kind) =>
          COMPARISONS.map((_, index) => {
            const entry = results[key][index]!.at(-1)!;
            return (entry.subject / entry.baseline).toFixed(3);
          }).join(' ');
        log(
          `  round ${done + 1}/${rounds}, ratios (${COMPARISONS.map(({ subject, baseline }) => `${subject}/${baseline}`).join(' ')}): udp ${line('udp')}; tcp ${line('tcp')}; conn ${line('conn')}`,
        );
      }
      const seconds = (Date.now() - started) / 1000;
      const cpu = vms
        .filter((vm) => vm.side !== 'naive' && vm.side !== 'control')
        .map((vm) => `${vm.side} ${(((vm.agentCpuSeconds() - cpuBefore.get(vm)!) / seconds) * 100).toFixed(1)} %`);
      log(`  phase ${phase + 1}: agents' CPU over the phase (of a core, with the commands they waited for): ${cpu.join(', ')}`);
    }

    // Each side's median on each VM, over every window it ran in: a VM that favoured every side alike shows in every
    // row, one that favoured a side would not cancel out.
    for (const { key, unit } of KINDS)
      for (const side of SIDES) {
        const values = results[key].flatMap((entries, index) =>
          entries.flatMap((entry) => [
            ...(COMPARISONS[index]!.subject === side ? [{ vm: entry.subjectVm, value: entry.subject }] : []),
            ...(COMPARISONS[index]!.baseline === side ? [{ vm: entry.baselineVm, value: entry.baseline }] : []),
          ]),
        );
        const byVm = [...new Set(values.map((entry) => entry.vm))].map(
          (name) =>
            `${name} ${median(values.filter((entry) => entry.vm === name).map((entry) => entry.value)).toFixed(key === 'tcp' ? 2 : 0)}`,
        );
        log(`  ${key} ${unit}, ${side}, median by VM: ${byVm.join(', ')}`);
      }

    const measures: PairedMeasure[] = KINDS.flatMap(({ key, label, unit, target, note }) =>
      COMPARISONS.map((comparison, index) => {
        const entries = results[key][index]!;
        const failed = (side: 'subject' | 'baseline') => entries.reduce((sum, entry) => sum + entry.failed[side], 0);
        return {
          section: 'pairs',
          metric: `${label}: ${comparison.label}`,
          unit,
          subjectLabel: comparison.subject,
          baselineLabel: comparison.baseline,
          target: comparison.target ?? target,
          note: `${note}${key === 'conn' ? `; failed: ${failed('subject')} vs ${failed('baseline')}` : ''}`,
          pairs: entries.map(
            (entry): Pair => ({ subject: entry.subject, baseline: entry.baseline, first: entry.subjectFirst ? 'subject' : 'baseline' }),
          ),
        };
      }),
    );
    let profiles = '';
    if (context.options?.perf === true) {
      if (!existsSync('/usr/bin/perf')) log('  --perf: /usr/bin/perf is not installed, no profile taken');
      else {
        const measures = [
          { kind: 'conn', title: 'the new-connection phase' },
          {
            kind: 'udp',
            title:
              "the 64-byte UDP phase (iperf3's server answers its flow once, at the start: every later datagram takes the established path)",
          },
          {
            kind: 'oneway',
            title: 'a one-way UDP flow (64-byte datagrams from one socket, never answered: the conntrack entry stays unreplied)',
          },
        ] as const;
        const sections: string[] = [];
        for (const { kind, title } of measures) {
          const profile: Partial<Record<Side, Profile>> = {};
          // On the VMs of the last phase, before the address comparison below changes the first VM's config.
          for (const side of PROFILED_SIDES) {
            const vm = vms.find((candidate) => candidate.side === side)!;
            profile[side] = await profileRun(lab, vm.client, side, kind, log);
          }
          const naive = profile.naive!;
          const ofBusy = (side: Side) => ruleEvaluationOfBusy(profile[side]!.symbols);
          sections.push(
            `#### Kernel profile of ${title} (\`perf record -a -g\`, ${ADDRESS_SECONDS} s each, top symbols)`,
            '',
            'Rule evaluation (`nft_*`, `__nft_*`, `nf_tables_*`, `nf_conncount*`), in % of the busy samples (idle left out), and ' +
              `natgw's own rules (its excess over naive): ${NATGW_SIDES.map(
                (side) => `${side} ${ofBusy(side).toFixed(2)} % (${signed(ofBusy(side) - ofBusy('naive'))})`,
              ).join(', ')}, naive ${ofBusy('naive').toFixed(2)} %; idle: ${PROFILED_SIDES.map(
                (side) => `${side} ${idleShare(profile[side]!.symbols).toFixed(0)} %`,
              ).join(', ')}.`,
            '',
            // Which of the rules' functions: a connection count (nf_conncount_*) on a path says more than its share.
            "The rules' 8 largest functions per side, in % of all samples:",
            ...PROFILED_SIDES.map(
              (side) =>
                `- ${side}: ${ruleEvaluationSymbols(profile[side]!.symbols)
                  .slice(0, 8)
                  .map(({ symbol, percent }) => `\`${symbol}\` ${percent.toFixed(2)}`)
                  .join(', ')}`,
            ),
            '',
            ...NATGW_SIDES.map((side) =>
              profilesSideBySide({ label: SIDE_LABEL[side], symbols: profile[side]!.symbols }, { label: 'naive', symbols: naive.symbols }),
            ),
          );
        }
        profiles = sections.join('\n');
      }
    }
    // 1,000 client addresses with blocks of 64 against 10 with blocks of 4,096, both at once: the first two NAT VMs each
    // have a client VM of 1,000 addresses, and which of them runs 1,000 and which 10 alternates from round to round.
    const addressPairs: Pair[] = [];
    const setups = [
      { name: 'many', label: `${MANY} addresses`, count: MANY, portsPerVm: 64 },
      { name: 'few', label: `${FEW} addresses`, count: FEW, portsPerVm: 4096 },
    ] as const;
    for (let round = 0; round < Math.min(rounds, MAX_ADDRESS_ROUNDS) && Date.now() < deadline; round++) {
      const sideFor = async (setup: (typeof setups)[number], index: number): Promise<PairSide> => {
        const at = (index + round) % 2;
        const [vm, client] = [vms[at]!, manyClients[at]!];
        const sources = client.addresses.slice(0, setup.count);
        await vm.become('blocks', natgwConfig({ mode: 'static', portsPerVm: setup.portsPerVm, releaseAfterIdleSeconds: 86_400 }));
        await vm.waitForBlocks(client.vm, sources, setup.portsPerVm);
        return { name: vm.name, client: client.vm, index: vm.index, side: setup.label, sources };
      };
      const [manySide, fewSide] = await Promise.all([sideFor(setups[0], 0), sideFor(setups[1], 1)]);
      for (let window = 0; window < ADDRESS_WINDOWS_PER_ROUND; window++) {
        const subjectFirst = (round + window) % 2 === 0;
        const together = await measureTogether(lab, count, 'conn', manySide, fewSide, subjectFirst, log);
        addressPairs.push({ subject: together.subject, baseline: together.baseline, first: subjectFirst ? 'subject' : 'baseline' });
        log(
          `  addresses, round ${round + 1} (${MANY} on ${manySide.name}, ${FEW} on ${fewSide.name}): ${together.subject.toFixed(0)} vs ${together.baseline.toFixed(0)} conn/s (failed: ${together.failed.subject} vs ${together.failed.baseline})`,
        );
      }
    }
    measures.push({
      section: 'pairs',
      metric: `new TCP conn/s: port blocks, ${MANY.toLocaleString('en')} client addresses / ${FEW}`,
      unit: 'conn/s',
      subjectLabel: `${MANY} addresses`,
      baselineLabel: `${FEW} addresses`,
      target: '>= 0.97',
      note: `${COUNTED}, on two NAT VMs that swap setups from round to round; connect+close loop (client closes), 32 in flight, the connections taking the addresses in turn; static blocks of 64 vs 4,096 ports (each address's connections to one server port fit its block); one NAT address holds ${Math.floor((BLOCK_RANGE.last - BLOCK_RANGE.first + 1) / 64)} blocks of 64, the other ${MANY - Math.floor((BLOCK_RANGE.last - BLOCK_RANGE.first + 1) / 64)} addresses leave from the overflow ports`,
      pairs: addressPairs,
    });

    // 100 clients that never sent a packet, right after the agent started with static blocks: none may be lost.
    await first.become('blocks', natgwConfig({ mode: 'static', portsPerVm: 64 }));
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

    const heading = `### Paired run, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (\`npm run bench -- pairs --pairs ${rounds}\`)`;
    const markdown = `${pairsMarkdown(measures, heading)}\n${profiles}`;
    const file = path.join(ROOT, 'bench', 'results', 'pairs.md');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, markdown);
    log(`\n${markdown}\nwrote ${path.relative(ROOT, file)} (ready for docs/bench.md)`);
    return rows;
  } finally {
    for (const vm of vms) await vm.stop();
    await lab.destroy();
  }
};
