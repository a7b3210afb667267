// The agent's logs: translation entries (from the connection-event collector) and error entries (our rules' NFLOG
// counters), written and left out by the rate limit.
import { Counter } from 'prom-client';
import type { AgentConfig } from '../config.js';
import { DROP_REASONS, dropCounterId, logCounterId } from '../ruleset.js';
import type { Collector } from './collector.js';
import type { ConntrackEventWatcher } from './conntrack-events.js';

export const logsCollector = (events: ConntrackEventWatcher | undefined, config: () => AgentConfig | undefined): Collector => ({
  register({ registry, scrape, monotonic }) {
    new Counter({
      name: 'natgw_log_entries_total',
      help: 'Log entries written, by kind (translation, error).',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        this.reset();
        if (events !== undefined) this.inc({ kind: 'translation' }, events.counts.logged);
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
        if (events !== undefined) this.inc({ kind: 'translation' }, events.counts.suppressed);
        const inEffect = config();
        const { rules } = await scrape();
        if (rules === undefined || inEffect === undefined || !(inEffect.logging === 'errors' || inEffect.logging === 'all')) return;
        const suppressed = DROP_REASONS.reduce(
          (sum, { reason }) =>
            sum + Math.max(0, (rules.get(dropCounterId(reason))?.packets ?? 0) - (rules.get(logCounterId(reason))?.packets ?? 0)),
          0,
        );
        this.inc({ kind: 'error' }, monotonic.observe('natgw:log:suppressed', suppressed));
      },
    });
  },
});
