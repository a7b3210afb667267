// The counters of our nft table, read with one `nft -j -t list table` per scrape (the registry's `rules` source): the
// named ones and the hot-path rules' anonymous ones (COUNTING_RULES). -t leaves the sets' elements out of the output,
// and from nft 1.1 (Debian 13's) out of what nft fetches too, so the port-block sets do not weigh on a scrape; nothing
// here grows with traffic or the conntrack table.
import { Counter } from 'prom-client';
import { parseNftCounters, type RuleCounter } from '../nft-state.js';
import { AGENT_PORT_REFUSED, COUNTER, DROP_REASONS, TABLE_FAMILY, TABLE_NAME, dropCounterId } from '../ruleset.js';
import type { CommandRunner } from '../runner.js';
import { KERNEL_STATS } from './conntrack-stats.js';
import type { Collector } from './collector.js';

export type { RuleCounter };

export async function readRuleCounters(run: CommandRunner): Promise<Map<string, RuleCounter>> {
  const { stdout } = await run('read rule counters', 'nft', ['-j', '-t', 'list', 'table', TABLE_FAMILY, TABLE_NAME]);
  return parseNftCounters(stdout);
}

/**
 * What the rules count: forwarded packets and bytes, drops by reason (the kernel's own drop reasons from its conntrack
 * statistics beside ours), knocks on the agent's port, admitted connections.
 */
export const rulesCollector: Collector = {
  register({ registry, scrape, monotonic }) {
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

    const counted = (name: string, help: string, id: string) =>
      new Counter({
        name,
        help,
        registers: [registry],
        async collect() {
          const { rules } = await scrape();
          if (rules === undefined) return;
          this.reset();
          this.inc(monotonic.observe(`${id}:packets`, rules.get(id)?.packets ?? 0));
        },
      });
    counted(
      'natgw_agent_port_refused_packets_total',
      "Packets to the agent's port dropped because their source may not reach it (docs/security.md): a client VM or the internet knocking.",
      AGENT_PORT_REFUSED,
    );
    counted(
      'natgw_connections_opened_total',
      'New connections from VMs admitted for translation, counted once each by the kernel (a retransmitted SYN is not counted again).',
      COUNTER.newConnections,
    );
  },
};
