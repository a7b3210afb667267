// What a collector is, for the registry (registry.ts) and every collector file: a leaf, so a collector that the agent's
// other modules also use (rules.ts, say) imports no registry.
import type { Registry } from 'prom-client';
import type { ConntrackdStats } from '../conntrackd.js';
import type { RuleCounter } from '../nft-state.js';

/** Kernel conntrack statistics of this network namespace (read by conntrack-stats.ts). */
export interface ConntrackStats {
  /** Column name → sum over CPUs; the column set differs between kernels. */
  totals: Record<string, number>;
  entries?: number;
  limit?: number;
}

export interface CollectorStatus {
  ok: boolean;
  /** How long its last run took; background collectors that have no runs of their own leave it out. */
  seconds?: number;
}

/** What one scrape read, each source at most once; a source that failed or is off is absent. */
export interface ScrapeData {
  rules?: Map<string, RuleCounter>;
  conntrack?: ConntrackStats;
  conntrackd?: ConntrackdStats;
  status: Record<string, CollectorStatus>;
}

/** The scrape-time sources: cheap whatever the load (rule counters, /proc statistics, conntrackd's socket). */
export interface ScrapeSources {
  rules: () => Promise<Map<string, RuleCounter>>;
  conntrack: () => Promise<ConntrackStats>;
  /** conntrackd's figures, read only while stateful sync is on (`on` is asked at every scrape). */
  conntrackd?: { on: () => boolean; read: () => Promise<ConntrackdStats | undefined> };
}

export interface CollectorContext {
  registry: Registry;
  /** This scrape's reads, shared by every series of every collector. */
  scrape: () => Promise<ScrapeData>;
  /** Kernel counters restart with the table; the exported ones never go back. */
  monotonic: MonotonicCounters;
}

export interface Collector {
  /** Declares the collector's series, in the order they are exposed. */
  register(context: CollectorContext): void;
  /** A background collector's state as of its last run, by collector name (the scrape-time sources report their own). */
  status?(): Record<string, CollectorStatus>;
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
