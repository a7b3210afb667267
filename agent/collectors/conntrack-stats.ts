// Kernel conntrack statistics of this network namespace (/proc/net/stat/nf_conntrack: one hex row per CPU) and the
// table's fill level. Absent files mean conntrack is not loaded: no data, not an error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Counter, Gauge } from 'prom-client';
import type { Collector, ConntrackStats } from './collector.js';

export function parseConntrackStatTable(text: string): Record<string, number> {
  const [header, ...rows] = text.trim().split('\n');
  const names = (header ?? '').trim().split(/\s+/);
  const totals: Record<string, number> = {};
  for (const row of rows) {
    row
      .trim()
      .split(/\s+/)
      .forEach((hex, index) => {
        const name = names[index];
        // "entries" is the same global count repeated on every CPU row, not a per-CPU figure.
        if (name === undefined || name === 'entries') return;
        totals[name] = (totals[name] ?? 0) + Number.parseInt(hex, 16);
      });
  }
  return totals;
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

export async function readConntrackStats(procRoot = '/proc'): Promise<ConntrackStats> {
  let totals: Record<string, number> = {};
  try {
    totals = parseConntrackStatTable(await readFile(path.join(procRoot, 'net/stat/nf_conntrack'), 'utf8'));
  } catch {
    // conntrack not loaded yet
  }
  const entries = await readNumber(path.join(procRoot, 'sys/net/netfilter/nf_conntrack_count'));
  const limit = await readNumber(path.join(procRoot, 'sys/net/netfilter/nf_conntrack_max'));
  return { totals, ...(entries === undefined ? {} : { entries }), ...(limit === undefined ? {} : { limit }) };
}

/** Kernel conntrack statistics exported as counters, and the drop reasons some of them stand for. */
export const KERNEL_STATS = [
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

/** The kernel's conntrack statistics and the table's fill level, from the registry's `conntrack` source. */
export const conntrackStatsCollector: Collector = {
  register({ registry, scrape }) {
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
  },
};
