// What `nft -j list table` says, reduced to what we compare: chains, rules, sets, counters and flowtables without
// handles, counter values or the kernel's dynamic set entries. The reference is the listing nft gave right after our
// own transaction, so nft's canonical spelling of our text never shows up as drift, whatever the nft version.
import {
  COUNTING_RULES,
  SOURCE_SET,
  cidrToInterval,
  intervalToCidrs,
  mergeIntervals,
  subtractIntervals,
  type Interval,
} from './ruleset.js';

type Json = Record<string, unknown>;

export interface TableShape {
  chains: Record<string, { base?: string; rules: { id: string; expr: string }[] }>;
  sets: Record<string, { definition: string; elements?: Interval[] }>;
  counters: string[];
  flowtables: Record<string, string>;
}

interface NftObject {
  [kind: string]: Json;
}

export function parseNftJson(stdout: string): NftObject[] {
  const parsed = JSON.parse(stdout === '' ? '{"nftables":[]}' : stdout) as { nftables?: NftObject[] };
  return parsed.nftables ?? [];
}

/** A set element as nft prints it: an address, {prefix}, or {range}. */
export function elementInterval(element: unknown): Interval | undefined {
  if (typeof element === 'string') return cidrToInterval(element);
  if (element === null || typeof element !== 'object') return undefined;
  const object = element as Json;
  if ('elem' in object) return elementInterval((object.elem as Json).val);
  if ('prefix' in object) {
    const prefix = object.prefix as { addr: string; len: number };
    return cidrToInterval(`${prefix.addr}/${prefix.len}`);
  }
  if ('range' in object) {
    const [start, end] = object.range as [string, string];
    return [cidrToInterval(start)[0], cidrToInterval(end)[1]];
  }
  return undefined;
}

const stable = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Json).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

/** An anonymous counter's values change with traffic; that is not drift. What else a counter statement says is. */
const withoutCounts = (expr: unknown): unknown =>
  Array.isArray(expr)
    ? expr.map((statement: unknown) => {
        const counter = statement !== null && typeof statement === 'object' ? (statement as Json).counter : undefined;
        if (counter === null || typeof counter !== 'object') return statement;
        const { packets: _packets, bytes: _bytes, ...rest } = counter as Json;
        return { ...(statement as Json), counter: rest };
      })
    : expr;

export function tableShape(objects: NftObject[]): TableShape | undefined {
  if (!objects.some((object) => 'table' in object)) return undefined;
  const shape: TableShape = { chains: {}, sets: {}, counters: [], flowtables: {} };
  for (const object of objects) {
    if ('chain' in object) {
      const { name, type, hook, prio, policy } = object.chain as Json;
      shape.chains[String(name)] = {
        ...(hook === undefined ? {} : { base: `type ${type} hook ${hook} priority ${prio} policy ${policy}` }),
        rules: [],
      };
    } else if ('rule' in object) {
      const rule = object.rule as Json;
      const name = String(rule.chain);
      const chain = shape.chains[name] ?? { rules: [] };
      shape.chains[name] = chain;
      chain.rules.push({ id: String(rule.comment ?? `(no comment, handle ${rule.handle})`), expr: stable(withoutCounts(rule.expr)) });
    } else if ('set' in object) {
      const { name, type, flags, size, elem } = object.set as Json;
      const definition = stable({ type, flags, size });
      // Only the allow-list is ours to compare; the per-VM set fills with the traffic.
      shape.sets[String(name)] =
        name === SOURCE_SET
          ? {
              definition,
              elements: mergeIntervals(
                ((elem as unknown[]) ?? []).map(elementInterval).filter((interval): interval is Interval => interval !== undefined),
              ),
            }
          : { definition };
    } else if ('counter' in object) {
      shape.counters.push(String((object.counter as Json).name));
    } else if ('flowtable' in object) {
      const { name, hook, prio, dev } = object.flowtable as Json;
      shape.flowtables[String(name)] = stable({ hook, prio, dev });
    }
  }
  shape.counters.sort();
  return shape;
}

const rangesText = (intervals: Interval[], limit = 5) => {
  const cidrs = intervals.flatMap(intervalToCidrs);
  return cidrs.length <= limit ? cidrs.join(', ') : `${cidrs.slice(0, limit).join(', ')} and ${cidrs.length - limit} more`;
};

/** Says how `live` differs from `want`, one readable sentence per difference (they end up in logs and /healthz). */
export function compareShapes(want: TableShape, live: TableShape | undefined): string[] {
  if (live === undefined) return ['table ip natgw is missing'];
  const differences: string[] = [];
  for (const [name, chain] of Object.entries(want.chains)) {
    const have = live.chains[name];
    if (have === undefined) {
      differences.push(`chain ${name} is missing`);
      continue;
    }
    if (have.base !== chain.base)
      differences.push(`chain ${name} is "${have.base ?? 'a regular chain'}", wanted "${chain.base ?? 'a regular chain'}"`);
    const wantIds = chain.rules.map((rule) => rule.id);
    const haveIds = have.rules.map((rule) => rule.id);
    if (wantIds.join('\n') !== haveIds.join('\n')) {
      const missing = wantIds.filter((id) => !haveIds.includes(id));
      const extra = haveIds.filter((id) => !wantIds.includes(id));
      const parts = [
        ...(missing.length === 0 ? [] : [`missing rule${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`]),
        ...(extra.length === 0 ? [] : [`unexpected rule${extra.length === 1 ? '' : 's'} ${extra.join(', ')}`]),
      ];
      differences.push(`chain ${name}: ${parts.length === 0 ? `rules in another order (${haveIds.join(', ')})` : parts.join('; ')}`);
      continue;
    }
    chain.rules.forEach((rule, index) => {
      if (have.rules[index]?.expr !== rule.expr) differences.push(`chain ${name}: rule ${rule.id} was changed`);
    });
  }
  for (const name of Object.keys(live.chains)) if (!(name in want.chains)) differences.push(`unexpected chain ${name}`);
  for (const [name, set] of Object.entries(want.sets)) {
    const have = live.sets[name];
    if (have === undefined) {
      differences.push(`set ${name} is missing`);
      continue;
    }
    if (have.definition !== set.definition) differences.push(`set ${name} has another type or flags`);
    if (set.elements !== undefined) {
      const missing = subtractIntervals(set.elements, have.elements ?? []);
      const extra = subtractIntervals(have.elements ?? [], set.elements);
      if (missing.length > 0) differences.push(`set ${name} lacks ${rangesText(missing)}`);
      if (extra.length > 0) differences.push(`set ${name} holds ${rangesText(extra)}, which the config does not list`);
    }
  }
  for (const name of Object.keys(live.sets)) if (!(name in want.sets)) differences.push(`unexpected set ${name}`);
  const missingCounters = want.counters.filter((name) => !live.counters.includes(name));
  if (missingCounters.length > 0)
    differences.push(`counter${missingCounters.length === 1 ? '' : 's'} ${missingCounters.join(', ')} missing`);
  for (const [name, definition] of Object.entries(want.flowtables)) {
    if (live.flowtables[name] === undefined) differences.push(`flowtable ${name} is missing`);
    else if (live.flowtables[name] !== definition) differences.push(`flowtable ${name} was changed`);
  }
  for (const name of Object.keys(live.flowtables)) if (!(name in want.flowtables)) differences.push(`unexpected flowtable ${name}`);
  return differences;
}

export interface RuleCounter {
  packets: number;
  bytes: number;
}

/**
 * `nft -j -t list table ip natgw` → counter id → values: each named counter under its name, and the anonymous counters
 * of the rules COUNTING_RULES names, added up under each id it lists for that rule's comment.
 */
export function parseNftCounters(stdout: string): Map<string, RuleCounter> {
  const counters = new Map<string, RuleCounter>();
  const add = (id: string, packets: unknown, bytes: unknown) => {
    const sum = counters.get(id) ?? { packets: 0, bytes: 0 };
    counters.set(id, { packets: sum.packets + Number(packets ?? 0), bytes: sum.bytes + Number(bytes ?? 0) });
  };
  for (const object of parseNftJson(stdout)) {
    if ('counter' in object) {
      const { name, packets, bytes } = object.counter as Json;
      add(String(name), packets, bytes);
    } else if ('rule' in object) {
      const { comment, expr } = object.rule as Json;
      const ids: readonly string[] | undefined = COUNTING_RULES[String(comment)];
      if (ids === undefined || !Array.isArray(expr)) continue;
      for (const statement of expr as Json[]) {
        const counter = statement?.counter;
        if (counter === null || typeof counter !== 'object') continue;
        const { packets, bytes } = counter as Json;
        for (const id of ids) add(id, packets, bytes);
      }
    }
  }
  return counters;
}

export interface ForeignChain {
  table: string;
  chain: string;
  hook: string;
  priority: number;
  policy: string;
  /** Handles of rules whose verdict is drop or reject. */
  droppingRules: { handle: number; comment?: string }[];
}

const hasDropVerdict = (expr: unknown): boolean =>
  Array.isArray(expr) &&
  expr.some((statement) => statement !== null && typeof statement === 'object' && ('drop' in statement || 'reject' in statement));

/**
 * Base chains of other tables on the forward and postrouting hooks of IPv4 traffic: in nftables a drop in any of them
 * is final, however our own table decides.
 */
export function foreignForwardChains(objects: NftObject[]): ForeignChain[] {
  const chains = new Map<string, ForeignChain>();
  const key = (family: unknown, table: unknown, chain: unknown) => `${family} ${table} ${chain}`;
  for (const object of objects) {
    if (!('chain' in object)) continue;
    const { family, table, name, hook, prio, policy } = object.chain as Json;
    if (!(family === 'ip' || family === 'inet') || (family === 'ip' && table === 'natgw')) continue;
    if (hook !== 'forward' && hook !== 'postrouting') continue;
    chains.set(key(family, table, name), {
      table: `${family} ${table}`,
      chain: String(name),
      hook: String(hook),
      priority: Number(prio),
      policy: String(policy ?? 'accept'),
      droppingRules: [],
    });
  }
  for (const object of objects) {
    if (!('rule' in object)) continue;
    const rule = object.rule as Json;
    const chain = chains.get(key(rule.family, rule.table, rule.chain));
    if (chain !== undefined && hasDropVerdict(rule.expr))
      chain.droppingRules.push({ handle: Number(rule.handle), ...(rule.comment === undefined ? {} : { comment: String(rule.comment) }) });
  }
  return [...chains.values()];
}

export function describeForeignChain(chain: ForeignChain): string {
  const rules = chain.droppingRules.map((rule) => `rule handle ${rule.handle}${rule.comment === undefined ? '' : ` ("${rule.comment}")`}`);
  const what = [...(chain.policy === 'drop' ? ['policy drop'] : []), ...(rules.length === 0 ? [] : [`drop/reject ${rules.join(', ')}`])];
  return `table ${chain.table} chain ${chain.chain} (hook ${chain.hook}, priority ${chain.priority}): ${what.join('; ')}`;
}
