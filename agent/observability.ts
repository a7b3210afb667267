// The background collectors, started and stopped as the config asks.
import type { AgentConfig } from './config.js';
import { ConntrackEventWatcher } from './collectors/conntrack-events.js';
import { ConntrackTableSampler } from './collectors/conntrack-table.js';
import { DropLogWatcher } from './collectors/drop-log.js';
import type { Logger } from './log.js';
import type { LineSpawner } from './runner.js';

export class Observability {
  readonly sampler: ConntrackTableSampler;
  readonly events: ConntrackEventWatcher;
  readonly dropLog: DropLogWatcher;
  config: AgentConfig | undefined;

  constructor(options: { spawn: LineSpawner; log: Logger }) {
    this.sampler = new ConntrackTableSampler(options.spawn, 30);
    this.events = new ConntrackEventWatcher({ spawn: options.spawn, log: options.log, logTranslations: false, ratePerSecond: 50 });
    this.dropLog = new DropLogWatcher(options.spawn, options.log);
  }

  /** Called after every applied config; starting an already running collector is a no-op. */
  configure(config: AgentConfig, natExternalIp?: string): void {
    this.config = config;
    this.sampler.setInterval(config.perVmMetrics.minIntervalSeconds);
    if (config.perVmMetrics.topN > 0) this.sampler.start();
    else this.sampler.stop();
    this.events.configure({
      logTranslations: config.logging === 'translations' || config.logging === 'all',
      ratePerSecond: config.logRateLimitPerSecond,
      ...(natExternalIp === undefined ? {} : { natExternalIp }),
    });
    if (config.logging === 'errors' || config.logging === 'all') this.dropLog.start();
    else this.dropLog.stop();
  }

  stop(): void {
    this.sampler.stop();
    this.events.stop();
    this.dropLog.stop();
  }
}
