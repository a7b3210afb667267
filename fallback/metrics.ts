// The watcher's own metrics on its own registry: which path serves, since when, how often it moved, and what the
// egress probe through natgw saw. Served by the watcher (watch.ts); the alert rules are observability/fallback.yml.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ServingPath, WatchAction } from './state.js';

export const WATCHER_PORT = 9733;

export class FallbackMetrics {
  readonly registry = new Registry();
  private readonly active = new Gauge({
    name: 'natgw_fallback_active',
    help: 'Whether tagged VMs are on the Cloud NAT fallback (1) or on natgw (0), as natgw routes say',
    registers: [this.registry],
  });
  private readonly since = new Gauge({
    name: 'natgw_fallback_since_timestamp_seconds',
    help: 'When the current fallback began (Unix seconds, from the demoted route); 0 while natgw serves',
    registers: [this.registry],
  });
  private readonly transitions = new Counter({
    name: 'natgw_fallback_transitions_total',
    help: 'Route changes this watcher made, by direction (fallback: to Cloud NAT, failback: to natgw)',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  private readonly transitionErrors = new Counter({
    name: 'natgw_fallback_transition_errors_total',
    help: 'Route changes that failed (retried at the next check), by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  private readonly healthy = new Gauge({
    name: 'natgw_fallback_natgw_healthy',
    help: 'The last check: 1 natgw healthy (a NAT VM healthy and the probe through natgw answered), 0 not, -1 unknown',
    registers: [this.registry],
  });
  private readonly probeSuccess = new Gauge({
    name: 'natgw_fallback_probe_success',
    help: 'Whether the last egress probe through natgw got an answer',
    registers: [this.registry],
  });
  private readonly probeDuration = new Gauge({
    name: 'natgw_fallback_probe_duration_seconds',
    help: 'How long the last egress probe through natgw took',
    registers: [this.registry],
  });
  private readonly lastCheck = new Gauge({
    name: 'natgw_fallback_last_check_timestamp_seconds',
    help: 'When the watcher last completed a check (Unix seconds)',
    registers: [this.registry],
  });

  constructor() {
    for (const direction of ['fallback', 'failback']) {
      this.transitions.labels(direction).inc(0);
      this.transitionErrors.labels(direction).inc(0);
    }
  }

  path(path: ServingPath | undefined, since: Date | undefined): void {
    this.active.set(path === 'fallback' ? 1 : 0);
    this.since.set(path === 'fallback' && since !== undefined ? since.getTime() / 1000 : 0);
  }

  check(at: number, healthy: boolean | undefined): void {
    this.healthy.set(healthy === undefined ? -1 : healthy ? 1 : 0);
    this.lastCheck.set(at / 1000);
  }

  probe(ok: boolean, durationMs: number): void {
    this.probeSuccess.set(ok ? 1 : 0);
    this.probeDuration.set(durationMs / 1000);
  }

  transition(direction: WatchAction, ok: boolean): void {
    (ok ? this.transitions : this.transitionErrors).labels(direction).inc();
  }
}
