// Stateful HA metrics: the sync link from our nft counters, conntrackd's own loss and resend figures from its UNIX
// socket, and from the stateful supervisor the peer, the resync and the role. Every series carries the peer's address:
// without stateful mode there is no peer and so no sample at all (a standalone VM must not report a sync peer that is
// down), while the metrics stay declared for dashboards. A figure conntrackd does not print is absent too.
import { Counter, Gauge } from 'prom-client';
import { parseConntrackdStats, type ConntrackdStats } from '../conntrackd.js';
import { STATEFUL_COUNTER } from '../ruleset.js';
import type { StatefulSync } from '../stateful.js';
import { FORGED_REASONS } from '../sync-relay.js';
import type { Collector } from './collector.js';

export async function readConntrackdStats(stateful: StatefulSync): Promise<ConntrackdStats | undefined> {
  const text = await stateful.conntrackdStats();
  return text === undefined ? undefined : parseConntrackdStats(text.general, text.queue);
}

/** The sync link, conntrackd's figures (the registry's `conntrackd` source) and the stateful supervisor's view. */
export const syncCollector = (stateful: StatefulSync): Collector => ({
  register: ({ registry, scrape, monotonic }) => {
    const gauge = (name: string, help: string, value: () => number | undefined | Promise<number | undefined>) =>
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers: [registry],
        async collect() {
          this.reset();
          const peer = stateful.peerIp;
          if (peer === undefined) return;
          const current = await value();
          if (current !== undefined) this.set({ peer }, current);
        },
      });

    gauge(
      'natgw_sync_peer_up',
      "1 while the peer's conntrackd messages arrive (FTFW sends one every second when idle), 0 after 5 s of silence.",
      () => (stateful.status().peerUp ? 1 : 0),
    );
    gauge('natgw_sync_last_received_age_seconds', "Seconds since the last sync packet from the peer's conntrackd arrived.", () =>
      stateful.lastReceivedAgeSeconds(),
    );
    gauge(
      'natgw_sync_resend_queue_length',
      "Sync messages waiting for the peer's acknowledgement (conntrackd's resend queue).",
      async () => (await scrape()).conntrackd?.resendQueueLength,
    );
    gauge(
      'natgw_sync_state_ratio',
      "This VM's conntrack entries translated to the NAT IP ÷ the peer's (from its /sync/summary); near 1 when the standby holds the active's flows.",
      () => {
        const peerFlows = stateful.peerFlows;
        // From the supervisor's last round: a scrape never walks the conntrack table.
        const local = stateful.lastLocalFlows;
        if (peerFlows === undefined || local === undefined) return undefined;
        return peerFlows === 0 ? (local === 0 ? 1 : local) : local / peerFlows;
      },
    );
    gauge(
      'natgw_sync_resynced',
      "1 once the initial resync is complete (this VM holds ≥ 95 % of the peer's flows, or the peer was unreachable for 10 s).",
      () => (stateful.resynced ? 1 : 0),
    );

    for (const unit of ['packets', 'bytes'] as const) {
      new Counter({
        name: `natgw_sync_${unit}_total`,
        help: `${unit === 'bytes' ? 'Bytes (IP headers included)' : 'Packets'} of conntrackd state sync, counted by the kernel; sent = to the peer, received = from it.`,
        labelNames: ['peer', 'direction'],
        registers: [registry],
        async collect() {
          this.reset();
          const peer = stateful.peerIp;
          if (peer === undefined) return;
          const { rules } = await scrape();
          for (const [direction, id] of [
            ['sent', STATEFUL_COUNTER.syncSent],
            ['received', STATEFUL_COUNTER.syncReceived],
          ] as const) {
            const counter = rules?.get(id);
            if (counter !== undefined) this.inc({ peer, direction }, monotonic.observe(`${id}:${unit}`, counter[unit]));
          }
        },
      });
    }
    new Counter({
      name: 'natgw_sync_lost_total',
      help: 'Sync messages from the peer that never arrived (FTFW sequence gaps conntrackd could not recover).',
      labelNames: ['peer'],
      registers: [registry],
      async collect() {
        this.reset();
        const peer = stateful.peerIp;
        const lost = (await scrape()).conntrackd?.lostMessages;
        if (peer !== undefined && lost !== undefined) this.inc({ peer }, monotonic.observe('conntrackd:lost', lost));
      },
    });
    new Counter({
      name: 'natgw_sync_forged_total',
      help: "Sync frames from the wire the agent's relay dropped instead of handing to conntrackd: malformed, bad_tag (not under the peer's key), replay (a counter seen or too old), unverified (dropped before the peer's key was known).",
      labelNames: ['peer', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        const peer = stateful.peerIp;
        if (peer === undefined) return;
        for (const reason of FORGED_REASONS) this.inc({ peer, reason }, stateful.forged.get(reason) ?? 0);
      },
    });
    new Gauge({
      name: 'natgw_role',
      help: 'Which VM the load balancer is using: active = packets for the NAT IP arrived here in the last 3 s; 1 for the current role, 0 for the other.',
      labelNames: ['role'],
      registers: [registry],
      collect() {
        this.reset();
        if (!stateful.enabled) return;
        const { role } = stateful.status();
        this.set({ role: 'active' }, role === 'active' ? 1 : 0);
        this.set({ role: 'standby' }, role === 'standby' ? 1 : 0);
      },
    });
  },
});
