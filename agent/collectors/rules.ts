// The named counters of our nft table, read with one `nft -j list counters`: cost depends on the table, never on
// traffic or on the size of the conntrack table.
import { parseNftCounters, type NamedCounter } from '../nft-state.js';
import { TABLE_FAMILY, TABLE_NAME } from '../ruleset.js';
import type { CommandRunner } from '../runner.js';

export type RuleCounter = NamedCounter;

export async function readRuleCounters(run: CommandRunner): Promise<Map<string, RuleCounter>> {
  const { stdout } = await run('read rule counters', 'nft', ['-j', 'list', 'counters', 'table', TABLE_FAMILY, TABLE_NAME]);
  return parseNftCounters(stdout);
}

/**
 * Named counters restart from zero whenever the table is replaced (a repair or a config change). Prometheus counters
 * must not go backwards, so each reset folds the last value into a base.
 */
export class MonotonicCounters {
  private readonly state = new Map<string, { base: number; last: number }>();

  observe(id: string, current: number): number {
    const entry = this.state.get(id) ?? { base: 0, last: 0 };
    if (current < entry.last) entry.base += entry.last;
    entry.last = current;
    this.state.set(id, entry);
    return entry.base + current;
  }
}
