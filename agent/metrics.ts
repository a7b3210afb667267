import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { COUNTER } from './ruleset.js';
import type { CommandRunner } from './runner.js';

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

const DROP_REASONS: Record<string, string> = {
  [COUNTER.dropSourceNotAllowed]: 'source_not_allowed',
  [COUNTER.dropPerVmCap]: 'per_vm_cap',
  [COUNTER.dropInvalid]: 'invalid',
};

export interface AgentMetrics {
  registry: Registry;
  rulesetInSync: Gauge;
  rulesetRepairs: Counter;
  rulesetApplies: Counter;
  rulesetApplyErrors: Counter;
  configReloads: Counter;
  configErrors: Counter;
  healthy: Gauge;
}

export function createAgentMetrics(options: { run: CommandRunner; procRoot?: string; version: string }): AgentMetrics {
  const registry = new Registry();
  const procRoot = options.procRoot ?? '/proc';
  const monotonic = new MonotonicCounters();
  let ruleCounters: Promise<Map<string, RuleCounter>> | undefined;
  // Several collectors need the same `iptables-save -c`; one scrape runs it once.
  const readRuleCounters = () => {
    ruleCounters ??= options
      .run('read rule counters', 'iptables-save', ['-c'])
      .then(({ stdout }) => parseRuleCounters(stdout))
      .finally(() => setImmediate(() => (ruleCounters = undefined)));
    return ruleCounters;
  };

  new Gauge({ name: 'natgw_build_info', help: 'Agent version; always 1.', labelNames: ['version'], registers: [registry] }).set({ version: options.version }, 1);

  for (const unit of ['packets', 'bytes'] as const) {
    new Counter({
      name: `natgw_forwarded_${unit}_total`,
      help: `${unit === 'bytes' ? 'Bytes (IP headers included)' : 'Packets'} forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.`,
      labelNames: ['direction'],
      registers: [registry],
      async collect() {
        const counters = await readRuleCounters();
        this.reset();
        for (const [direction, id] of [['egress', COUNTER.egress], ['ingress', COUNTER.ingress]] as const) {
          this.inc({ direction }, monotonic.observe(`${id}:${unit}`, counters.get(id)?.[unit] ?? 0));
        }
      },
    });
  }

  new Counter({
    name: 'natgw_dropped_packets_total',
    help: 'Forwarded packets the NAT dropped, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const counters = await readRuleCounters();
      this.reset();
      for (const [id, reason] of Object.entries(DROP_REASONS)) {
        this.inc({ reason }, monotonic.observe(`${id}:packets`, counters.get(id)?.packets ?? 0));
      }
    },
  });

  const readProcNumber = async (file: string): Promise<number | undefined> => {
    try {
      return Number((await readFile(path.join(procRoot, 'sys/net/netfilter', file), 'utf8')).trim());
    } catch {
      return undefined;
    }
  };
  new Gauge({
    name: 'natgw_conntrack_entries',
    help: 'Connections in the conntrack table.',
    registers: [registry],
    async collect() {
      const value = await readProcNumber('nf_conntrack_count');
      if (value !== undefined) this.set(value);
    },
  });
  new Gauge({
    name: 'natgw_conntrack_entries_limit',
    help: 'Size of the conntrack table (nf_conntrack_max); new connections fail beyond it.',
    registers: [registry],
    async collect() {
      const value = await readProcNumber('nf_conntrack_max');
      if (value !== undefined) this.set(value);
    },
  });

  return {
    registry,
    rulesetInSync: new Gauge({ name: 'natgw_ruleset_in_sync', help: '1 when the live ruleset, sets and sysctls match the config.', registers: [registry] }),
    rulesetRepairs: new Counter({ name: 'natgw_ruleset_repairs_total', help: 'Times the agent found drift and re-applied the data plane.', registers: [registry] }),
    rulesetApplies: new Counter({ name: 'natgw_ruleset_applies_total', help: 'Times the data plane was applied (start, config change, repair).', registers: [registry] }),
    rulesetApplyErrors: new Counter({ name: 'natgw_ruleset_apply_errors_total', help: 'Failed attempts to apply the data plane.', registers: [registry] }),
    configReloads: new Counter({ name: 'natgw_config_reloads_total', help: 'Config changes applied at runtime.', registers: [registry] }),
    configErrors: new Counter({ name: 'natgw_config_errors_total', help: 'Config changes refused as invalid (the last good config stays).', registers: [registry] }),
    healthy: new Gauge({ name: 'natgw_healthy', help: '1 when /healthz would answer 200.', registers: [registry] }),
  };
}
