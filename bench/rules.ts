// Where natgw's per-packet cost goes (issue 23): two NAT VMs run the naive MASQUERADE recipe, and one of them also
// holds one piece of natgw's table at a time, measured against the other with both sides at once (bench/together.ts).
// A forward chain with no rule, one rule whose test fails, one that accepts established packets, the same with a counter,
// natgw's established rules alone (counting by direction), the one rule with named counters they replaced, natgw's
// whole table without its agent (shared pool; without its MSS clamp, or clamping with a route lookup per SYN; without its
// NAT chain or its input chains; static port blocks with and without the per-destination count; the stateful mode's,
// without conntrackd), and 40 rules whose test fails (a known cost the method must show), each against plain naive, and
// nothing (the A/A control). Which VM holds the piece alternates from round to round.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BLOCK_PORTS as BLOCK_RANGE, validateAgentConfig } from '../agent/config.js';
import { renderPortBlockElements, renderRuleset } from '../agent/ruleset.js';
import type { Lab } from '../lab/lab.js';
import { NATGW, ROOT, buildLab, masquerade, startSinks, type Bench, type BenchContext, type Row } from './lib.js';
import { type CountedKind, type Pair, type PairedMeasure, pairedRow, pairsMarkdown, parsePairs, roundOrder } from './pairing.js';
import { BLOCK_PORTS, natgwConfig } from './pairs.js';
import { type PairSide, measureTogether, startTogether } from './together.js';

const VARIANT_TABLE = 'natgw_variant';
const forwardChain = (rules: string[]) =>
  [
    `table ip ${VARIANT_TABLE} {`,
    // For the named-counter variant; declared counters no rule uses cost nothing per packet.
    '  counter egress { }',
    '  counter ingress { }',
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy accept;',
    ...rules.map((rule) => `    ${rule}`),
    '  }',
    '}',
    '',
  ].join('\n');

/** The lab NICs' MTU (GCE's default), which the agent reads for its MSS clamp. */
const LAB_MTU = 1460;

/** natgw's table as the agent renders it for bench/pairs' configs, without the agent. */
function natgwTable(portAllocation?: unknown): string {
  return renderRuleset(validateAgentConfig(natgwConfig(portAllocation), 'bench rules'), 'ens4', { flowtable: false, egressMtu: LAB_MTU })
    .text;
}

/**
 * The stateful mode's table on one NAT VM, without its agent and conntrackd: the VM's own address stands for the load
 * balancer's shared NAT IP, so the replies come back to it and take the NAT-IP chain as they do behind the balancer.
 */
function statefulTable({ natAddress }: Holder): string {
  const [self, peer] = [
    { ip: '10.10.0.251', ports: '1024-33279' },
    { ip: '10.10.0.252', ports: '33280-65535' },
  ];
  const config = validateAgentConfig(
    { ...natgwConfig(), deploymentMode: 'ha', stateful: { natIp: '203.0.113.100', members: [self, peer] } },
    'bench rules',
    () => [self.ip],
  );
  const stateful = { natIp: natAddress, syncPort: config.stateful!.syncPort, selfIp: natAddress, peerIp: peer.ip, ports: self.ports };
  return renderRuleset(config, 'ens4', { flowtable: false, stateful, egressMtu: LAB_MTU }).text;
}

/** The holder's client gets the block the agent would give it first, so no connection takes the overflow ports. */
const withClientBlock =
  (table: string) =>
  ({ natAddress, clientAddress }: Holder): string =>
    table +
    renderPortBlockElements([{ vm: clientAddress, natAddress, first: BLOCK_RANGE.first, last: BLOCK_RANGE.first + BLOCK_PORTS - 1 }]);

/** The table without one of its chains (from `  chain NAME {` to its closing brace). */
function withoutChain(table: string, name: string): string {
  const lines = table.split('\n');
  const start = lines.indexOf(`  chain ${name} {`);
  const end = lines.indexOf('  }', start);
  if (start < 0 || end < 0) throw new Error(`the rendered ruleset has no chain ${name}`);
  return [...lines.slice(0, start), ...lines.slice(end + 1)].join('\n');
}

function replaceOnce(table: string, from: string, to: string): string {
  if (table.split(from).length !== 2) throw new Error(`the rendered ruleset has no single "${from}"`);
  return table.replace(from, to);
}

function withoutRule(table: string, comment: string): string {
  const lines = table.split('\n');
  const kept = lines.filter((line) => !line.endsWith(`comment "${comment}"`));
  if (kept.length !== lines.length - 1) throw new Error(`the rendered ruleset has no single rule commented "${comment}"`);
  return kept.join('\n');
}

function establishedRules(table: string): string[] {
  return ['established-ingress', 'established-egress'].map((comment) => {
    const rule = table.split('\n').find((line) => line.endsWith(`comment "${comment}"`));
    if (rule === undefined) throw new Error(`the rendered ruleset has no rule commented "${comment}"`);
    return rule.trim();
  });
}

/** What a piece may depend on: the NAT VM that holds it and its client. */
interface Holder {
  natAddress: string;
  clientAddress: string;
}

interface Variant {
  name: string;
  label: string;
  /** nft input that adds the piece, and the table to delete afterwards. */
  apply?: { text: string | ((holder: Holder) => string); table: string };
}

function variants(): Variant[] {
  const table = natgwTable();
  const blocks = natgwTable({ mode: 'static', portsPerVm: BLOCK_PORTS, releaseAfterIdleSeconds: 86_400 });
  return [
    { name: 'none', label: 'nothing added (A/A control: the spread of the method itself)' },
    { name: 'empty', label: 'a forward base chain with no rule', apply: { text: forwardChain([]), table: VARIANT_TABLE } },
    {
      name: 'fails',
      label: 'one rule whose test fails (`ct state invalid,untracked drop`)',
      apply: { text: forwardChain(['ct state invalid,untracked drop']), table: VARIANT_TABLE },
    },
    {
      name: 'accepts',
      label: 'one rule that accepts an established packet (`ct state established,related accept`)',
      apply: { text: forwardChain(['ct state established,related accept']), table: VARIANT_TABLE },
    },
    {
      name: 'counts',
      label: 'the same rule with an anonymous counter (`… counter accept`)',
      apply: { text: forwardChain(['ct state established,related counter accept']), table: VARIANT_TABLE },
    },
    {
      name: 'established',
      label: "natgw's established rules alone (accept, count by direction)",
      apply: { text: forwardChain(establishedRules(table)), table: VARIANT_TABLE },
    },
    {
      name: 'named',
      label: "natgw's established rule before 9fa2c4f (one rule, `counter name ct direction map`)",
      apply: {
        text: forwardChain([
          'ct state established,related counter name ct direction map { original : "egress", reply : "ingress" } accept',
        ]),
        table: VARIANT_TABLE,
      },
    },
    { name: 'natgw', label: "natgw's whole table (shared pool), without its agent", apply: { text: table, table: 'natgw' } },
    {
      name: 'no-mss',
      label: 'the same without its MSS clamp (`mss-clamp`: every packet tests the TCP flags, SYNs have their option rewritten)',
      apply: { text: withoutRule(table, 'mss-clamp'), table: 'natgw' },
    },
    {
      name: 'mss-route',
      label: "the same with the MSS clamped to `rt mtu` (a route lookup per SYN: natgw's before it read the NIC's MTU)",
      apply: { text: replaceOnce(table, 'maxseg size set 1420', 'maxseg size set rt mtu'), table: 'natgw' },
    },
    {
      name: 'no-nat',
      label: "the same without its NAT chain (the naive recipe's MASQUERADE translates instead)",
      apply: { text: withoutChain(table, 'postrouting'), table: 'natgw' },
    },
    {
      name: 'no-input',
      label: "the same without its input chains (the agent's port)",
      apply: { text: withoutChain(withoutChain(table, 'input'), 'agent_port'), table: 'natgw' },
    },
    {
      name: 'blocks',
      label: `natgw's whole table with static port blocks of ${BLOCK_PORTS} (the client's block in place), without its agent`,
      apply: { text: withClientBlock(blocks), table: 'natgw' },
    },
    {
      name: 'uncounted',
      label: 'the same without the per-destination connection count (`port-block-full`)',
      apply: { text: withClientBlock(withoutRule(blocks, 'port-block-full')), table: 'natgw' },
    },
    {
      name: 'stateful',
      label: "natgw's whole table in stateful mode (the NAT-IP chain on every packet), without its agent and conntrackd",
      apply: { text: statefulTable, table: 'natgw' },
    },
    {
      name: 'forty',
      label: '40 rules whose test fails (a known cost)',
      apply: {
        text: forwardChain(Array.from({ length: 40 }, (_, index) => `ip saddr 10.99.${index}.1 counter`)),
        table: VARIANT_TABLE,
      },
    },
  ];
}

/**
 * `--pieces a,b`: only those pieces (and the A/A control, always), for a run about one question. Checked before any
 * lab is built.
 */
export function rulePieces(names: string | undefined): Variant[] {
  const all = variants();
  if (names === undefined) return all;
  const wanted = names.split(',').filter((name) => name !== '');
  const unknown = wanted.filter((name) => !all.some((variant) => variant.name === name));
  if (wanted.length === 0 || unknown.length > 0)
    throw new Error(
      `--pieces: ${wanted.length === 0 ? 'name at least one piece' : `unknown piece(s) ${unknown.join(', ')}`}; known: ${all.map((variant) => variant.name).join(', ')}`,
    );
  return all.filter((variant) => variant.name === 'none' || wanted.includes(variant.name));
}

const KINDS = [
  { key: 'udp', label: 'UDP 64 B', unit: 'kpps' },
  { key: 'conn', label: 'new TCP conn/s', unit: 'conn/s' },
] as const satisfies readonly { key: CountedKind; label: string; unit: string }[];

class NaiveVm implements PairSide {
  side: string | undefined = 'naive';
  constructor(
    private readonly lab: Lab,
    readonly name: string,
    readonly client: string,
    readonly index: number,
  ) {}

  async add(variant: Variant): Promise<void> {
    this.side = variant.name;
    const { text } = variant.apply ?? {};
    const holder = { natAddress: this.lab.vm(this.name).ip, clientAddress: this.lab.vm(this.client).ip };
    if (text !== undefined) await this.lab.exec(this.name, ['nft', '-f', '-'], { input: typeof text === 'string' ? text : text(holder) });
  }

  async remove(variant: Variant): Promise<void> {
    this.side = 'naive';
    if (variant.apply !== undefined) await this.lab.exec(this.name, ['nft', 'delete', 'table', 'ip', variant.apply.table]);
  }
}

export const rules: Bench = async (context: BenchContext) => {
  const { quick, log } = context;
  const rounds = parsePairs(context.options?.pairs ?? (quick ? '4' : '10'));
  const pieces = rulePieces(context.options?.pieces);
  const { lab, paths, agents } = await buildLab(['natgw-2', 'natgw-3']);
  try {
    // The agents set the sysctls every side keeps (conntrack timeouts, accounting); their tables go.
    await Promise.all([...agents.values()].map((agent) => agent.stop('SIGTERM')));
    const vms = paths.map((spec, index) => new NaiveVm(lab, spec.gateway, spec.clients[0]!, index));
    for (const vm of vms) {
      await lab.exec(vm.name, ['node', NATGW, 'agent', '--cleanup', '--root', lab.vm(vm.name).root]);
      await masquerade(lab, vm.name);
    }
    await startSinks(lab);
    const count = await startTogether(lab, vms);
    const pairs = new Map(pieces.flatMap((variant) => KINDS.map(({ key }) => [`${variant.name} ${key}`, [] as Pair[]])));
    for (let round = 0; round < rounds; round++) {
      const [holder, plain] = round % 2 === 0 ? [vms[0]!, vms[1]!] : [vms[1]!, vms[0]!];
      for (const variant of roundOrder(pieces, round)) {
        await holder.add(variant);
        try {
          for (const { key } of KINDS) {
            const together = await measureTogether(lab, count, key, holder, plain, round % 4 < 2, log);
            pairs.get(`${variant.name} ${key}`)!.push({
              subject: together.subject,
              baseline: together.baseline,
              first: round % 4 < 2 ? 'subject' : 'baseline',
            });
          }
        } finally {
          await holder.remove(variant);
        }
      }
      log(
        `  round ${round + 1}/${rounds} (piece on ${holder.name}): ${pieces
          .map((variant) => `${variant.name} ${KINDS.map(({ key }) => ratioOf(pairs.get(`${variant.name} ${key}`)!.at(-1)!)).join('/')}`)
          .join(', ')}`,
      );
    }
    const measures: PairedMeasure[] = pieces.flatMap((variant) =>
      KINDS.map(({ key, label, unit }) => ({
        section: 'rules',
        metric: `${label}: naive + ${variant.label} / naive`,
        unit,
        subjectLabel: variant.name,
        baselineLabel: 'naive',
        target: 'report only',
        note: 'both sides at once, 1 s counted at the internet; the piece alternates between the two NAT VMs',
        pairs: pairs.get(`${variant.name} ${key}`)!,
      })),
    );
    const heading = `### Where the per-packet cost goes, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (\`npm run bench -- rules --pairs ${rounds}${context.options?.pieces === undefined ? '' : ` --pieces ${context.options.pieces}`}\`)`;
    const markdown = pairsMarkdown(measures, heading);
    const file = path.join(ROOT, 'bench', 'results', 'rules.md');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, markdown);
    log(`\n${markdown}\nwrote ${path.relative(ROOT, file)} (ready for docs/bench.md)`);
    return measures.map(pairedRow) satisfies Row[];
  } finally {
    await lab.destroy();
  }
};

const ratioOf = (pair: Pair) => (pair.subject / pair.baseline).toFixed(3);
