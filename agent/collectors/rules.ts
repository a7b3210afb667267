// Kernel rule counters of our chains, read with one `iptables-save -c`: cost depends on the ruleset, never on traffic
// or on the size of the conntrack table.
import type { CommandRunner } from '../runner.js';

export interface RuleCounter {
  packets: number;
  bytes: number;
}

/** Reads `[packets:bytes]` of every rule tagged with one of our counter comments. */
export function parseRuleCounters(iptablesSaveWithCounters: string): Map<string, RuleCounter> {
  const counters = new Map<string, RuleCounter>();
  for (const line of iptablesSaveWithCounters.split('\n')) {
    const match = /^\[(\d+):(\d+)\] .*--comment "?(natgw:[^\s"]+)"?/.exec(line);
    if (match === null) continue;
    const id = match[3] ?? '';
    const previous = counters.get(id) ?? { packets: 0, bytes: 0 };
    counters.set(id, { packets: previous.packets + Number(match[1]), bytes: previous.bytes + Number(match[2]) });
  }
  return counters;
}

export async function readRuleCounters(run: CommandRunner): Promise<Map<string, RuleCounter>> {
  const { stdout } = await run('read rule counters', 'iptables-save', ['-c']);
  return parseRuleCounters(stdout);
}

/**
 * Rule counters restart from zero whenever a chain is re-declared (a repair or a config change). Prometheus counters
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
