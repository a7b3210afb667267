// The config in effect, as gauges (ranges, timeouts, the per-VM cap, the reconcile period, the deployment mode): no
// series before a config is in effect.
import { Gauge } from 'prom-client';
import type { AgentConfig } from '../config.js';
import type { Collector } from './collector.js';

export const configCollector = (config: () => AgentConfig | undefined): Collector => ({
  register({ registry }) {
    const configGauge = (
      name: string,
      help: string,
      labelNames: string[],
      values: (inEffect: AgentConfig) => [Record<string, string>, number][],
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          const inEffect = config();
          this.reset();
          if (inEffect === undefined) return;
          for (const [labels, value] of values(inEffect)) this.set(labels, value);
        },
      });
    configGauge('natgw_config_source_ranges', 'Source ranges in the config in effect.', [], (inEffect) => [
      [{}, inEffect.sourceRanges.length],
    ]);
    configGauge('natgw_config_timeout_seconds', 'Conntrack timeouts in effect, by kind.', ['kind'], (inEffect) =>
      Object.entries(inEffect.timeouts).map(([kind, value]) => [{ kind }, value]),
    );
    configGauge('natgw_config_max_connections_per_vm', 'Per-VM connection cap in effect; 0 when there is none.', [], (inEffect) => [
      [{}, inEffect.maxConnectionsPerVm ?? 0],
    ]);
    configGauge('natgw_config_reconcile_interval_seconds', 'How often drift is checked and repaired.', [], (inEffect) => [
      [{}, inEffect.reconcileIntervalSeconds],
    ]);
    configGauge('natgw_deployment_info', 'Deployment mode of this gateway: "single" is not highly available.', ['mode'], (inEffect) => [
      [{ mode: inEffect.deploymentMode }, 1],
    ]);
  },
});
