// Runs the agent's collectors as node_exporter runs its own: each concern registers its series from a file of its own
// (agent/collectors/*.ts), the registry reads each scrape-time source once per scrape and times it, and every
// collector has its own success and duration series. A source that fails costs its own series, never the scrape; a
// kernel feature that is missing is no data, not a failure.
import { Gauge, type Registry } from 'prom-client';
import { MonotonicCounters, type Collector, type CollectorContext, type ScrapeData, type ScrapeSources } from './collector.js';

/** Each source's collector name in natgw_collector_success and natgw_collector_duration_seconds. */
const SOURCE_COLLECTOR = { rules: 'rules', conntrack: 'conntrack_stats', conntrackd: 'conntrackd_stats' } as const;

/** Registers every collector, in order, then the success and duration of each. */
export function registerCollectors(registry: Registry, sources: ScrapeSources, collectors: readonly Collector[]): void {
  const context: CollectorContext = { registry, scrape: sharedScrape(sources), monotonic: new MonotonicCounters() };
  for (const collector of collectors) collector.register(context);
  const statuses = async () => {
    const { status } = await context.scrape();
    return [...Object.entries(status), ...collectors.flatMap((collector) => Object.entries(collector.status?.() ?? {}))];
  };
  new Gauge({
    name: 'natgw_collector_success',
    help: '1 when the collector worked on its last run (scrape-time: this scrape; background: its last sample).',
    labelNames: ['collector'],
    registers: [registry],
    async collect() {
      const all = await statuses();
      this.reset();
      for (const [collector, result] of all) this.set({ collector }, result.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'natgw_collector_duration_seconds',
    help: 'How long the collector took on its last run.',
    labelNames: ['collector'],
    registers: [registry],
    async collect() {
      const all = await statuses();
      this.reset();
      for (const [collector, result] of all) if (result.seconds !== undefined) this.set({ collector }, result.seconds);
    },
  });
}

/** One read of each source per scrape: every collect() of a scrape shares it, the next turn of the event loop reads again. */
function sharedScrape(sources: ScrapeSources): () => Promise<ScrapeData> {
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
  return () => {
    pending ??= (async () => {
      const status: ScrapeData['status'] = {};
      const conntrackd = sources.conntrackd;
      const [rules, conntrack, conntrackdStats] = await Promise.all([
        timed(status, SOURCE_COLLECTOR.rules, sources.rules),
        timed(status, SOURCE_COLLECTOR.conntrack, sources.conntrack),
        conntrackd?.on() === true ? timed(status, SOURCE_COLLECTOR.conntrackd, conntrackd.read) : undefined,
      ]);
      return {
        ...(rules === undefined ? {} : { rules }),
        ...(conntrack === undefined ? {} : { conntrack }),
        ...(conntrackdStats === undefined ? {} : { conntrackd: conntrackdStats }),
        status,
      };
    })().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
}
