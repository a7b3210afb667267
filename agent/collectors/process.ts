// The agent process: its version, and the process metrics the dashboard and the benchmarks use. prom-client's default
// set also exports gauges named *_total, which promtool rejects, so the few that matter are defined here.
import { Counter, Gauge } from 'prom-client';
import type { Collector } from './collector.js';

export const processCollector = (version: string): Collector => ({
  register({ registry }) {
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
    new Gauge({ name: 'natgw_build_info', help: 'Agent version; always 1.', labelNames: ['version'], registers: [registry] }).set(
      { version },
      1,
    );
  },
});
