// Where natgw's per-packet cost goes (issue 23): two NAT VMs run the naive MASQUERADE recipe, and one of them also
// holds one piece of natgw's table at a time, measured against the other with both sides at once (bench/together.ts).
// A forward chain with no rule, one rule whose test fails, one that accepts established packets, the same with a counter,
// natgw's established rules alone (counting by direction), the one rule with named counters they replaced, natgw's
// whole table without its agent, and 40 rules whose test fails (a known cost the method must show), each against plain
// naive, and nothing (the A/A control). Which VM holds the piece alternates from round to round.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateAgentConfig } from '../agent/config.js';
import { renderRuleset } from '../agent/ruleset.js';
import type { Lab } from '../lab/lab.js';
import { NATGW, ROOT, buildLab, masquerade, startSinks, type Bench, type BenchContext, type Row } from './lib.js';
import { type CountedKind, type Pair, type PairedMeasure, pairedRow, pairsMarkdown, parsePairs, roundOrder } from './pairing.js';
import { CLIENT_RANGE } from './ports.js';
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

/** natgw's table as the agent renders it for the shared pool (bench/pairs' config), without the agent. */
function natgwTable(): string {
  const config = validateAgentConfig(
    { sourceRanges: ['10.10.0.0/25', CLIENT_RANGE], logging: 'none', timeouts: { tcpTimeWait: 1 } },
    'bench rules',
  );
  return renderRuleset(config, 'ens4', { flowtable: false }).text;
}

function establishedRules(table: string): string[] {
  return ['established-ingress', 'established-egress'].map((comment) => {
    const rule = table.split('\n').find((line) => line.endsWith(`comment "${comment}"`));
    if (rule === undefined) throw new Error(`the rendered ruleset has no rule commented "${comment}"`);
    return rule.trim();
  });
}

interface Variant {
  name: string;
  label: string;
  /** nft input that adds the piece, and the table to delete afterwards. */
  apply?: { text: string; table: string };
}

function variants(): Variant[] {
  const table = natgwTable();
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
      name: 'forty',
      label: '40 rules whose test fails (a known cost)',
      apply: {
        text: forwardChain(Array.from({ length: 40 }, (_, index) => `ip saddr 10.99.${index}.1 counter`)),
        table: VARIANT_TABLE,
      },
    },
  ];
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
    if (variant.apply !== undefined) await this.lab.exec(this.name, ['nft', '-f', '-'], { input: variant.apply.text });
  }

  async remove(variant: Variant): Promise<void> {
    this.side = 'naive';
    if (variant.apply !== undefined) await this.lab.exec(this.name, ['nft', 'delete', 'table', 'ip', variant.apply.table]);
  }
}

export const rules: Bench = async (context: BenchContext) => {
  const { quick, log } = context;
  const rounds = parsePairs(context.options?.pairs ?? (quick ? '4' : '10'));
  const pieces = variants();
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
    const heading = `### Where the per-packet cost goes, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (\`npm run bench -- rules --pairs ${rounds}\`)`;
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
