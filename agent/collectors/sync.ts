// Stateful HA metrics: the sync link from our nft counters, conntrackd's own loss and resend figures from its UNIX
// socket, and from the stateful supervisor the peer, the resync and the role. Without stateful mode every one of them
// is absent (no series), never zero; a figure conntrackd does not print is absent too.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { parseConntrackdStats, type ConntrackdStats } from '../conntrackd.js';
import { STATEFUL_COUNTER } from '../ruleset.js';
import type { StatefulSync } from '../stateful.js';
import type { MonotonicCounters, RuleCounter } from './rules.js';

export async function readConntrackdStats(stateful: StatefulSync): Promise<ConntrackdStats | undefined> {
  const text = await stateful.conntrackdStats();
  return text === undefined ? undefined : parseConntrackdStats(text.general, text.queue);
}

export function registerSyncMetrics(
  registry: Registry,
  stateful: StatefulSync,
  scrape: () => Promise<{ rules?: Map<string, RuleCounter>; conntrackd?: ConntrackdStats }>,
  monotonic: MonotonicCounters,
): void {
  const metrics: Metric[] = [];
  const add = (metric: Metric) => metrics.push(metric);
  add(
    new Gauge({
      name: 'natgw_sync_peer_up',
      help: "1 while the peer's conntrackd messages arrive (FTFW sends one every second when idle), 0 after 5 s of silence.",
      registers: [],
      collect() {
        this.reset();
        if (stateful.enabled) this.set(stateful.status().peerUp ? 1 : 0);
      },
    }),
  );
  add(
    new Gauge({
      name: 'natgw_sync_last_received_age_seconds',
      help: "Seconds since the last sync packet from the peer's conntrackd arrived.",
      registers: [],
      collect() {
        this.reset();
        const age = stateful.enabled ? stateful.lastReceivedAgeSeconds() : undefined;
        if (age !== undefined) this.set(age);
      },
    }),
  );
  for (const unit of ['packets', 'bytes'] as const) {
    add(
      new Counter({
        name: `natgw_sync_${unit}_total`,
        help: `${unit === 'bytes' ? 'Bytes (IP headers included)' : 'Packets'} of conntrackd state sync, counted by the kernel; sent = to the peer, received = from it.`,
        labelNames: ['direction'],
        registers: [],
        async collect() {
          this.reset();
          if (!stateful.enabled) return;
          const { rules } = await scrape();
          if (rules === undefined) return;
          for (const [direction, id] of [
            ['sent', STATEFUL_COUNTER.syncSent],
            ['received', STATEFUL_COUNTER.syncReceived],
          ] as const) {
            const counter = rules.get(id);
            if (counter !== undefined) this.inc({ direction }, monotonic.observe(`${id}:${unit}`, counter[unit]));
          }
        },
      }),
    );
  }
  add(
    new Counter({
      name: 'natgw_sync_lost_total',
      help: 'Sync messages from the peer that never arrived (FTFW sequence gaps conntrackd could not recover), since conntrackd started.',
      registers: [],
      async collect() {
        this.reset();
        const lost = (await scrape()).conntrackd?.lostMessages;
        if (stateful.enabled && lost !== undefined) this.inc(monotonic.observe('conntrackd:lost', lost));
      },
    }),
  );
  add(
    new Gauge({
      name: 'natgw_sync_resend_queue_length',
      help: "Sync messages waiting for the peer's acknowledgement (conntrackd's resend queue).",
      registers: [],
      async collect() {
        this.reset();
        const length = (await scrape()).conntrackd?.resendQueueLength;
        if (stateful.enabled && length !== undefined) this.set(length);
      },
    }),
  );
  add(
    new Gauge({
      name: 'natgw_sync_state_ratio',
      help: "This VM's conntrack entries translated to the NAT IP ÷ the peer's (from its /sync/summary); near 1 when the standby holds the active's flows.",
      registers: [],
      collect() {
        this.reset();
        const peer = stateful.peerFlows;
        const local = stateful.lastLocalFlows;
        // From the supervisor's last round: a scrape never walks the conntrack table.
        if (!stateful.enabled || peer === undefined || local === undefined) return;
        this.set(peer === 0 ? (local === 0 ? 1 : local) : local / peer);
      },
    }),
  );
  add(
    new Gauge({
      name: 'natgw_role',
      help: 'Which VM the load balancer is using: active = packets for the NAT IP arrived here in the last 3 s; 1 for the current role, 0 for the other.',
      labelNames: ['role'],
      registers: [],
      collect() {
        this.reset();
        if (!stateful.enabled) return;
        const { role } = stateful.status();
        this.set({ role: 'active' }, role === 'active' ? 1 : 0);
        this.set({ role: 'standby' }, role === 'standby' ? 1 : 0);
      },
    }),
  );
  add(
    new Gauge({
      name: 'natgw_sync_resynced',
      help: "1 once the initial resync is complete (this VM holds ≥ 95 % of the peer's flows, or the peer was unreachable for 10 s).",
      registers: [],
      collect() {
        this.reset();
        if (stateful.enabled) this.set(stateful.resynced ? 1 : 0);
      },
    }),
  );
  // Registered only while stateful mode is on: an unlabelled prom-client metric always has a sample (0), and a standalone
  // VM must not report a sync peer that is down.
  stateful.onEnabledChange(() => {
    for (const metric of metrics) {
      // prom-client's typings leave out the name every metric object carries.
      const name = (metric as unknown as { name: string }).name;
      const registered = registry.getSingleMetric(name) !== undefined;
      if (stateful.enabled && !registered) registry.registerMetric(metric);
      if (!stateful.enabled && registered) registry.removeSingleMetric(name);
    }
  });
}
