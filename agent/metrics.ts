// The agent's metrics: its collectors (agent/collectors/, one concern per file) run by one registry, and the
// instruments the agent itself moves (applies, repairs, reloads, health). Scrape-time collectors read only what is
// cheap whatever the load (rule counters, /proc statistics); per-VM figures and event counts come from background
// collectors and are served from memory.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Collector } from './collectors/collector.js';
import { conntrackEventsCollector } from './collectors/conntrack-events.js';
import { conntrackStatsCollector, readConntrackStats } from './collectors/conntrack-stats.js';
import { conntrackTableCollector } from './collectors/conntrack-table.js';
import { configCollector } from './collectors/config.js';
import { dropLogCollector } from './collectors/drop-log.js';
import { logsCollector } from './collectors/logs.js';
import { portBlocksCollector } from './collectors/port-blocks.js';
import { processCollector } from './collectors/process.js';
import { registerCollectors } from './collectors/registry.js';
import { readRuleCounters, rulesCollector } from './collectors/rules.js';
import { readConntrackdStats, syncCollector } from './collectors/sync.js';
import type { Observability } from './observability.js';
import type { PortBlockManager } from './port-block-manager.js';
import type { CommandRunner } from './runner.js';
import type { StatefulSync } from './stateful.js';

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

export function createAgentMetrics(options: {
  run: CommandRunner;
  /** Where /proc is (a fixture in tests). */
  procRoot?: string;
  version: string;
  observability?: Observability;
  portBlocks?: PortBlockManager;
  stateful?: StatefulSync;
}): AgentMetrics {
  const registry = new Registry();
  const { observability, portBlocks, stateful } = options;
  const config = () => observability?.config;
  const topN = () => observability?.config?.perVmMetrics.topN ?? 20;
  const collectors: Collector[] = [
    processCollector(options.version),
    rulesCollector,
    conntrackEventsCollector(observability?.events),
    conntrackStatsCollector,
    conntrackTableCollector(observability?.sampler, topN),
    dropLogCollector(observability?.dropLog),
    ...(portBlocks === undefined ? [] : [portBlocksCollector(portBlocks, () => observability?.sampler.status.summary, topN)]),
    ...(stateful === undefined ? [] : [syncCollector(stateful)]),
    logsCollector(observability?.events, config),
    configCollector(config),
  ];
  registerCollectors(
    registry,
    {
      rules: () => readRuleCounters(options.run),
      conntrack: () => readConntrackStats(options.procRoot),
      ...(stateful === undefined ? {} : { conntrackd: { on: () => stateful.enabled, read: () => readConntrackdStats(stateful) } }),
    },
    collectors,
  );

  return {
    registry,
    rulesetInSync: new Gauge({
      name: 'natgw_ruleset_in_sync',
      help: '1 when the live ruleset, sets and sysctls match the config.',
      registers: [registry],
    }),
    rulesetRepairs: new Counter({
      name: 'natgw_ruleset_repairs_total',
      help: 'Times the agent found drift and re-applied the data plane.',
      registers: [registry],
    }),
    rulesetApplies: new Counter({
      name: 'natgw_ruleset_applies_total',
      help: 'Times the data plane was applied (start, config change, repair).',
      registers: [registry],
    }),
    rulesetApplyErrors: new Counter({
      name: 'natgw_ruleset_apply_errors_total',
      help: 'Failed attempts to apply the data plane.',
      registers: [registry],
    }),
    configReloads: new Counter({ name: 'natgw_config_reloads_total', help: 'Config changes applied at runtime.', registers: [registry] }),
    configErrors: new Counter({
      name: 'natgw_config_errors_total',
      help: 'Config changes refused as invalid (the last good config stays).',
      registers: [registry],
    }),
    healthy: new Gauge({ name: 'natgw_healthy', help: '1 when /healthz would answer 200.', registers: [registry] }),
  };
}
