// The agent's registry. Scrape-time collectors read only what is cheap whatever the load (rule counters, /proc
// statistics); per-VM figures and event counts come from background collectors and are served from memory.
import { Counter, Gauge, Registry } from 'prom-client';
import { readConntrackStats, type ConntrackStats } from './collectors/conntrack-stats.js';
import { MonotonicCounters, readRuleCounters, type RuleCounter } from './collectors/rules.js';
import { readConntrackdStats, registerSyncMetrics } from './collectors/sync.js';
import type { ConntrackdStats } from './conntrackd.js';
import type { StatefulSync } from './stateful.js';
import type { Observability } from './observability.js';
import type { PortBlockManager } from './port-block-manager.js';
import { blockSize } from './port-blocks.js';
import { AGENT_PORT_REFUSED, COUNTER, DROP_REASONS, OVERFLOW_COUNTER, dropCounterId, logCounterId } from './ruleset.js';
import type { CommandRunner } from './runner.js';

interface ScrapeData {
  rules?: Map<string, RuleCounter>;
  conntrack?: ConntrackStats;
  conntrackd?: ConntrackdStats;
  status: Record<string, { ok: boolean; seconds: number }>;
}

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

/** Kernel conntrack statistics exported as counters, and the drop reasons some of them stand for. */
const KERNEL_STATS = [
  {
    column: 'insert_failed',
    metric: 'natgw_conntrack_insert_failed_total',
    help: 'Connections the kernel could not insert (a NAT port clash): their packet was dropped.',
    dropReason: 'nat_allocation_failed',
  },
  {
    column: 'drop',
    metric: 'natgw_conntrack_drop_total',
    help: 'Packets dropped because no conntrack entry could be made (table full).',
    dropReason: 'conntrack_table_full',
  },
  {
    column: 'early_drop',
    metric: 'natgw_conntrack_early_drop_total',
    help: 'Entries evicted to make room for new ones (table near full).',
  },
  { column: 'invalid', metric: 'natgw_conntrack_invalid_total', help: 'Packets conntrack could not classify.' },
] as const;

export function createAgentMetrics(options: {
  run: CommandRunner;
  procRoot?: string;
  version: string;
  observability?: Observability;
  portBlocks?: PortBlockManager;
  stateful?: StatefulSync;
}): AgentMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const monotonic = new MonotonicCounters();
  const timed = async <T>(status: ScrapeData['status'], name: string, read: () => Promise<T>): Promise<T | undefined> => {
    const started = process.hrtime.bigint();
    let ok = true;
    try {
      return await read();
    } catch {
      ok = false;
      return undefined;
    } finally {
      status[name] = { ok, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    }
  };
  let pending: Promise<ScrapeData> | undefined;
  // Every collect() of one scrape shares one read of each source.
  const scrape = () => {
    pending ??= (async () => {
      const status: ScrapeData['status'] = {};
      const stateful = options.stateful;
      const [rules, conntrack, conntrackd] = await Promise.all([
        timed(status, 'rules', () => readRuleCounters(options.run)),
        timed(status, 'conntrack_stats', () => readConntrackStats(options.procRoot)),
        stateful?.enabled === true ? timed(status, 'conntrackd_stats', () => readConntrackdStats(stateful)) : undefined,
      ]);
      return {
        ...(rules === undefined ? {} : { rules }),
        ...(conntrack === undefined ? {} : { conntrack }),
        ...(conntrackd === undefined ? {} : { conntrackd }),
        status,
      };
    })().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const observability = options.observability;

  new Gauge({ name: 'natgw_build_info', help: 'Agent version; always 1.', labelNames: ['version'], registers: [registry] }).set(
    { version: options.version },
    1,
  );

  for (const unit of ['packets', 'bytes'] as const) {
    new Counter({
      name: `natgw_forwarded_${unit}_total`,
      help: `${unit === 'bytes' ? 'Bytes (IP headers included)' : 'Packets'} forwarded through the NAT, counted by the kernel; egress = from VMs, ingress = replies to VMs.`,
      labelNames: ['direction'],
      registers: [registry],
      async collect() {
        const { rules } = await scrape();
        if (rules === undefined) return;
        this.reset();
        for (const [direction, id] of [
          ['egress', COUNTER.egress],
          ['ingress', COUNTER.ingress],
        ] as const) {
          this.inc({ direction }, monotonic.observe(`${id}:${unit}`, rules.get(id)?.[unit] ?? 0));
        }
      },
    });
  }

  new Counter({
    name: 'natgw_dropped_packets_total',
    help: 'Forwarded packets dropped, by reason: source_not_allowed, per_vm_cap, invalid, port_block_full (our rules); conntrack_table_full, nat_allocation_failed (kernel).',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const { rules, conntrack } = await scrape();
      this.reset();
      if (rules !== undefined) {
        for (const { reason } of DROP_REASONS)
          this.inc({ reason }, monotonic.observe(`${dropCounterId(reason)}:packets`, rules.get(dropCounterId(reason))?.packets ?? 0));
      }
      for (const stat of KERNEL_STATS) {
        const value = conntrack?.totals[stat.column];
        if ('dropReason' in stat && value !== undefined) this.inc({ reason: stat.dropReason }, value);
      }
    },
  });

  new Counter({
    name: 'natgw_agent_port_refused_packets_total',
    help: "Packets to the agent's port dropped because their source may not reach it (docs/security.md): a client VM or the internet knocking.",
    registers: [registry],
    async collect() {
      const { rules } = await scrape();
      if (rules === undefined) return;
      this.reset();
      this.inc(monotonic.observe(`${AGENT_PORT_REFUSED}:packets`, rules.get(AGENT_PORT_REFUSED)?.packets ?? 0));
    },
  });

  new Counter({
    name: 'natgw_connections_opened_total',
    help: 'New connections from VMs admitted for translation, counted once each by the kernel (a retransmitted SYN is not counted again).',
    registers: [registry],
    async collect() {
      const { rules } = await scrape();
      if (rules === undefined) return;
      this.reset();
      this.inc(monotonic.observe(`${COUNTER.newConnections}:packets`, rules.get(COUNTER.newConnections)?.packets ?? 0));
    },
  });

  new Counter({
    name: 'natgw_connections_closed_total',
    help: 'Translated connections removed from the conntrack table, by protocol (from kernel events; see natgw_conntrack_events_lost_total).',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      if (observability === undefined) return;
      this.reset();
      for (const protocol of ['tcp', 'udp', 'icmp']) this.inc({ protocol }, observability.events.counts.closed.get(protocol) ?? 0);
    },
  });

  new Counter({
    name: 'natgw_conntrack_events_lost_total',
    help: 'Times the kernel dropped connection events because the agent fell behind (closed counts and translation logs miss those).',
    registers: [registry],
    collect() {
      if (observability === undefined) return;
      this.reset();
      this.inc(observability.events.counts.lost);
    },
  });

  for (const stat of KERNEL_STATS) {
    new Counter({
      name: stat.metric,
      help: stat.help,
      registers: [registry],
      async collect() {
        const value = (await scrape()).conntrack?.totals[stat.column];
        if (value === undefined) return;
        this.reset();
        this.inc(value);
      },
    });
  }

  for (const [name, help, field] of [
    ['natgw_conntrack_entries', 'Connections in the conntrack table (all of them, not only translated ones).', 'entries'],
    ['natgw_conntrack_entries_limit', 'Size of the conntrack table (nf_conntrack_max); new connections fail beyond it.', 'limit'],
  ] as const) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = (await scrape()).conntrack?.[field];
        if (value !== undefined) this.set(value);
      },
    });
  }

  const sampled = (
    name: string,
    help: string,
    pick: (
      summary: NonNullable<Observability['sampler']['status']['summary']>,
      topN: number,
    ) => { labels?: Record<string, string>; value: number }[],
    labelNames: string[] = [],
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const summary = observability?.sampler.status.summary;
        this.reset();
        if (summary === undefined) return;
        for (const { labels, value } of pick(summary, observability?.config?.perVmMetrics.topN ?? 20)) {
          if (labels === undefined) this.set(value);
          else this.set(labels, value);
        }
      },
    });
  sampled('natgw_open_connections', 'Translated connections open at the last sample.', (summary) => [{ value: summary.translated }]);
  sampled('natgw_vms', 'VMs with at least one translated connection at the last sample.', (summary) => [{ value: summary.vms.length }]);
  sampled(
    'natgw_vm_open_connections',
    'Open translated connections per VM at the last sample; only the top N VMs by connections (perVmMetrics.topN).',
    (summary, topN) => summary.vms.slice(0, topN).map((vm) => ({ labels: { vm: vm.vm }, value: vm.openConnections })),
    ['vm'],
  );
  sampled(
    'natgw_vm_port_usage',
    'Most connections from one VM to a single destination ip:port/protocol (Cloud NAT port_usage); top N VMs by connections.',
    (summary, topN) => summary.vms.slice(0, topN).map((vm) => ({ labels: { vm: vm.vm }, value: vm.portUsage })),
    ['vm'],
  );
  new Gauge({
    name: 'natgw_vm_series_omitted',
    help: 'VMs left out of the per-VM series by the top-N limit.',
    registers: [registry],
    collect() {
      const summary = observability?.sampler.status.summary;
      if (summary !== undefined) this.set(Math.max(0, summary.vms.length - (observability?.config?.perVmMetrics.topN ?? 20)));
    },
  });

  const portBlocks = options.portBlocks;
  if (portBlocks !== undefined) {
    registerPortBlockMetrics(registry, portBlocks, observability);
    new Counter({
      name: 'natgw_port_block_overflow_connections_total',
      help: 'Connections translated from the shared overflow ports because their VM had no port block yet (counted by the kernel); none is dropped for want of a block.',
      registers: [registry],
      async collect() {
        const { rules } = await scrape();
        this.reset();
        if (rules === undefined || !portBlocks.enabled) return;
        this.inc(monotonic.observe(`${OVERFLOW_COUNTER}:packets`, rules.get(OVERFLOW_COUNTER)?.packets ?? 0));
      },
    });
  }
  if (options.stateful !== undefined) registerSyncMetrics(registry, options.stateful, scrape, monotonic);

  new Gauge({
    name: 'natgw_collector_success',
    help: '1 when the collector worked on its last run (scrape-time: this scrape; background: its last sample).',
    labelNames: ['collector'],
    registers: [registry],
    async collect() {
      const { status } = await scrape();
      this.reset();
      for (const [collector, result] of Object.entries(status)) this.set({ collector }, result.ok ? 1 : 0);
      if (portBlocks?.enabled === true) {
        this.set({ collector: 'port_block_learn' }, portBlocks.learnerOk ? 1 : 0);
        this.set({ collector: 'port_block_overflow' }, portBlocks.overflowReaderOk ? 1 : 0);
      }
      if (observability === undefined) return;
      this.set({ collector: 'conntrack_table' }, observability.sampler.status.ok ? 1 : 0);
      this.set({ collector: 'conntrack_events' }, observability.events.ok ? 1 : 0);
      this.set({ collector: 'drop_log' }, observability.dropLog.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'natgw_collector_duration_seconds',
    help: 'How long the collector took on its last run.',
    labelNames: ['collector'],
    registers: [registry],
    async collect() {
      const { status } = await scrape();
      this.reset();
      for (const [collector, result] of Object.entries(status)) this.set({ collector }, result.seconds);
      if (observability !== undefined) this.set({ collector: 'conntrack_table' }, observability.sampler.status.durationSeconds);
    },
  });
  new Gauge({
    name: 'natgw_vm_sample_age_seconds',
    help: 'Age of the per-VM figures (the sampler adapts its cadence to the table size).',
    registers: [registry],
    collect() {
      const last = observability?.sampler.status.lastSuccess;
      if (last !== undefined) this.set(Date.now() / 1000 - last);
    },
  });

  new Counter({
    name: 'natgw_log_entries_total',
    help: 'Log entries written, by kind (translation, error).',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      if (observability !== undefined) this.inc({ kind: 'translation' }, observability.events.counts.logged);
      const { rules } = await scrape();
      const logged = DROP_REASONS.reduce((sum, { reason }) => sum + (rules?.get(logCounterId(reason))?.packets ?? 0), 0);
      this.inc({ kind: 'error' }, monotonic.observe('natgw:log:all', logged));
    },
  });
  new Counter({
    name: 'natgw_log_entries_suppressed_total',
    help: 'Log entries left out by the rate limit (logRateLimitPerSecond), by kind.',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      if (observability !== undefined) this.inc({ kind: 'translation' }, observability.events.counts.suppressed);
      const config = observability?.config;
      const { rules } = await scrape();
      if (rules === undefined || config === undefined || !(config.logging === 'errors' || config.logging === 'all')) return;
      const suppressed = DROP_REASONS.reduce(
        (sum, { reason }) =>
          sum + Math.max(0, (rules.get(dropCounterId(reason))?.packets ?? 0) - (rules.get(logCounterId(reason))?.packets ?? 0)),
        0,
      );
      this.inc({ kind: 'error' }, monotonic.observe('natgw:log:suppressed', suppressed));
    },
  });

  const configGauge = (
    name: string,
    help: string,
    labelNames: string[],
    values: (config: NonNullable<Observability['config']>) => [Record<string, string>, number][],
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const config = observability?.config;
        this.reset();
        if (config === undefined) return;
        for (const [labels, value] of values(config)) this.set(labels, value);
      },
    });
  configGauge('natgw_config_source_ranges', 'Source ranges in the config in effect.', [], (config) => [[{}, config.sourceRanges.length]]);
  configGauge('natgw_config_timeout_seconds', 'Conntrack timeouts in effect, by kind.', ['kind'], (config) =>
    Object.entries(config.timeouts).map(([kind, value]) => [{ kind }, value]),
  );
  configGauge('natgw_config_max_connections_per_vm', 'Per-VM connection cap in effect; 0 when there is none.', [], (config) => [
    [{}, config.maxConnectionsPerVm ?? 0],
  ]);
  configGauge('natgw_config_reconcile_interval_seconds', 'How often drift is checked and repaired.', [], (config) => [
    [{}, config.reconcileIntervalSeconds],
  ]);
  configGauge('natgw_deployment_info', 'Deployment mode of this gateway: "single" is not highly available.', ['mode'], (config) => [
    [{ mode: config.deploymentMode }, 1],
  ]);

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

/**
 * The process metrics the dashboard and the benchmarks use. prom-client's default set also exports gauges named
 * *_total, which promtool rejects, so the few that matter are defined here.
 */
function registerProcessMetrics(registry: Registry): void {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch in seconds.',
    registers: [registry],
  }).set(startTime);
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent in seconds.',
    registers: [registry],
    collect() {
      const usage = process.cpuUsage();
      this.reset();
      this.inc((usage.user + usage.system) / 1e6);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
  new Gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use, in bytes.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
}

/** Port blocks: how full the NAT IP's port space is, and per VM (top N by use) its block, its use and its refusals. */
function registerPortBlockMetrics(registry: Registry, portBlocks: PortBlockManager, observability: Observability | undefined): void {
  const topN = () => observability?.config?.perVmMetrics.topN ?? 20;
  const perVm = () => {
    const usage = new Map((observability?.sampler.status.summary?.vms ?? []).map((vm) => [vm.vm, vm.portUsage]));
    return portBlocks
      .table()
      .blocks.filter((block) => block.until === undefined)
      .map((block) => ({ vm: block.vm, size: blockSize(block), used: usage.get(block.vm) ?? 0 }))
      .sort((a, b) => b.used / b.size - a.used / a.size || a.vm.localeCompare(b.vm));
  };
  new Gauge({
    name: 'natgw_port_space_ports',
    help: 'Ports of the NAT IP for port blocks (1024-61439; 61440-65535 are the overflow ports): total, and used by blocks VMs hold.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      if (!portBlocks.enabled) return;
      const { space } = portBlocks.table();
      this.set({ state: 'total' }, space.totalPorts);
      this.set({ state: 'used' }, space.usedPorts);
    },
  });
  new Gauge({
    name: 'natgw_port_blocks',
    help: 'VMs holding a port block.',
    registers: [registry],
    collect() {
      this.set(portBlocks.enabled ? portBlocks.table().blocks.filter((block) => block.until === undefined).length : 0);
    },
  });
  new Counter({
    name: 'natgw_port_block_clients_refused_total',
    help: 'New clients refused because the port space had no block left for them.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(portBlocks.refusedClients);
    },
  });
  new Gauge({
    name: 'natgw_vm_port_block_size',
    help: "Ports in a VM's block; top N VMs by block use (perVmMetrics.topN).",
    labelNames: ['vm'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vm of perVm().slice(0, topN())) this.set({ vm: vm.vm }, vm.size);
    },
  });
  new Gauge({
    name: 'natgw_vm_port_block_used_ports',
    help: 'Most connections from a VM to one destination ip:port/protocol: the ports of its block in use there; top N by use.',
    labelNames: ['vm'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vm of perVm().slice(0, topN())) this.set({ vm: vm.vm }, vm.used);
    },
  });
  const refusalsSeen = new Map<string, number>();
  new Counter({
    name: 'natgw_vm_port_block_refusals_total',
    help: "New connections refused because the VM's block was full for their destination; top N VMs by refusals.",
    labelNames: ['vm'],
    registers: [registry],
    async collect() {
      const refusals = await portBlocks.refusalsPerVm().catch(() => new Map<string, number>());
      this.reset();
      const top = [...refusals.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN());
      for (const [vm, packets] of top) {
        // The kernel's count restarts with the table: never let the series go down.
        const total = Math.max(refusalsSeen.get(vm) ?? 0, packets);
        refusalsSeen.set(vm, total);
        this.inc({ vm }, total);
      }
    },
  });
}
