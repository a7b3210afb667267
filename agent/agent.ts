import { type Clock, realClock } from '../common/clock.js';
import type { AgentConfig } from './config.js';
import type { Dataplane, DesiredState, ForwardPath, Inspection } from './dataplane.js';
import type { Logger } from './log.js';
import type { MetadataClient } from './metadata.js';
import type { AgentMetrics } from './metrics.js';
import type { Observability } from './observability.js';
import type { PortBlockManager } from './port-block-manager.js';
import type { StatefulSync, SyncSummary } from './stateful.js';
import { probeEgress, type ProbeResult } from './probe.js';
import { type AgentPhase, AgentState } from './agent-state.js';
import { GUEST_ATTRIBUTE } from '../common/protocol.js';
import { serial } from '../common/serial.js';

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** Where the agent is in its lifecycle: an operator reading /healthz sees a drain or a start as such. */
  phase: AgentPhase;
  failed: string[];
  checks: Record<string, CheckResult>;
  warnings: string[];
}

export interface AgentDeps {
  dataplane: Dataplane;
  log: Logger;
  metrics: AgentMetrics;
  /** Where readiness is published as guest attribute natgw/health; absent when nothing reads it. */
  guestAttributes?: MetadataClient;
  probe?: typeof probeEgress;
  observability?: Observability;
  portBlocks?: PortBlockManager;
  /** Stateful HA (conntrackd, resync, role); only does something when the config has `stateful`. */
  stateful?: StatefulSync;
  /** Time for probe freshness and health publishing; the real one unless a test brings its own. */
  clock?: Clock;
  /** The lifecycle the agent shares with main.ts and the stateful sync (a fresh one unless the caller brings one). */
  state?: AgentState;
}

/**
 * How long a health answer is reused. Probes arrive from several probers per load balancer, and each look lists the
 * kernel: reused for this long, a flood of health requests costs at most a few looks a second. Short against the
 * checks' 1 s interval, and dropped at once when the agent's own state changes (a drain, a config, a repair).
 */
export const HEALTH_CACHE_MS = 250;

/** Rewrites of natgw/health while it does not change: under a minute, so the provisioner's next reads see it. */
export const HEALTH_REFRESH_MS = 50_000;

/**
 * Owns the desired state and keeps the kernel on it. Every read-compare-apply runs one at a time, so a health check
 * never observes a half-applied transaction of our own.
 */
export class Agent {
  private config: AgentConfig | undefined;
  private egressInterface: string | undefined;
  private desired: DesiredState | undefined;
  private lastInspection: Inspection | undefined;
  private forwardPath: ForwardPath | undefined;
  private lastError: string | undefined;
  private rejectedConfig: string | undefined;
  private probeResult: ProbeResult | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private publishedHealth: string | undefined;
  /** The address GCE maps this VM to (translation logs show it as nat_ip), when known. */
  natExternalIp: string | undefined;

  private readonly clock: Clock;
  readonly state: AgentState;

  constructor(private readonly deps: AgentDeps) {
    this.clock = deps.clock ?? realClock;
    this.state = deps.state ?? new AgentState();
    // Every change of phase changes the health answer: the cached one is stale, and the provisioner reads it.
    this.state.onChange(() => {
      this.forgetHealth();
      void this.publishHealth();
    });
  }

  get currentConfig(): AgentConfig | undefined {
    return this.config;
  }

  private readonly exclusive = serial();

  /** A drain that began before any config arrived ends the wait for one: later reasons no longer matter. */
  setWaiting(reason: string): void {
    if (this.state.can('waiting')) this.state.send({ type: 'waiting', reason });
  }

  rejectConfig(message: string): void {
    this.rejectedConfig = message;
    this.forgetHealth();
    this.deps.metrics.configErrors.inc();
    this.deps.log.error({ event: 'config_rejected', error: message }, 'refused an invalid config; the last good config stays in effect');
  }

  /** Applies a new config: at start, on a metadata change or on SIGHUP. Not a repair, so not counted as one. */
  async setConfig(config: AgentConfig, source: string): Promise<void> {
    const isReload = this.config !== undefined;
    await this.exclusive(async () => {
      // A config read just before the stop (SIGHUP, the metadata watch) must not touch the kernel after it.
      if (!this.state.running) return;
      this.config = config;
      this.rejectedConfig = undefined;
      await this.convergeGuarded('config');
      // A stop during the converge must not respawn the readers, the relay or conntrackd it has just stopped.
      if (!this.state.running) return;
      this.deps.observability?.configure(config, this.natExternalIp);
      if (this.egressInterface !== undefined)
        await this.deps.stateful?.configure(config, this.egressInterface).catch((error: Error) => {
          this.deps.log.error({ event: 'stateful_failed', error: error.message }, 'could not start the state sync');
        });
      // The stop may have come while converging: the data plane has this config, but the agent no longer serves it.
      if (this.state.running) this.state.send({ type: 'config-applied', source });
      // Logged once the data plane follows the config, so "in effect" is true when a reader sees it.
      this.deps.log.info({ event: isReload ? 'config_reloaded' : 'config_loaded', source, config }, `config from ${source} in effect`);
      if (isReload) this.deps.metrics.configReloads.inc();
    });
    this.schedule();
  }

  /** One reconcile period: compare the live data plane with the desired one and repair what drifted. */
  async reconcile(): Promise<void> {
    await this.exclusive(() => this.convergeGuarded('reconcile'));
    await this.deps.portBlocks?.tick(this.deps.observability?.sampler.status.summary).catch((error: Error) => {
      this.deps.log.error({ event: 'port_block_tick_failed', error: error.message }, 'port-block housekeeping failed; retried next period');
    });
  }

  private async convergeGuarded(trigger: 'config' | 'reconcile'): Promise<void> {
    this.forgetHealth();
    try {
      await this.converge(trigger);
      this.lastError = undefined;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.deps.metrics.rulesetApplyErrors.inc();
      this.deps.metrics.rulesetInSync.set(0);
      this.deps.log.error({ event: 'apply_failed', trigger, error: this.lastError }, 'could not bring the data plane to the desired state');
    }
    await this.publishHealth();
  }

  private async converge(trigger: 'config' | 'reconcile'): Promise<void> {
    const config = this.config;
    if (config === undefined) return;
    const { dataplane, log, metrics } = this.deps;
    const egressInterface = config.egressInterface ?? (await dataplane.detectEgressInterface());
    if (egressInterface !== this.egressInterface) {
      if (this.egressInterface !== undefined)
        log.warn({ event: 'egress_interface_changed', from: this.egressInterface, to: egressInterface }, 'egress interface changed');
      this.egressInterface = egressInterface;
    }
    const desired = await dataplane.desiredState(config, egressInterface);
    this.desired = desired;
    if (trigger === 'config') await this.deps.portBlocks?.configure(config, egressInterface, this.natExternalIp);
    const inspection = await dataplane.inspect(desired);
    if (!inspection.inSync) {
      if (trigger === 'reconcile') {
        metrics.rulesetRepairs.inc();
        log.warn({ event: 'drift_repaired', differences: inspection.differences }, 'the data plane drifted from the config; re-applying');
      } else {
        log.info({ event: 'apply', differences: inspection.differences }, 'applying the data plane');
      }
      await dataplane.apply(desired);
      metrics.rulesetApplies.inc();
    }
    this.lastInspection = inspection.inSync ? inspection : await dataplane.inspect(desired);
    metrics.rulesetInSync.set(this.lastInspection.inSync ? 1 : 0);
    if (!this.lastInspection.inSync) throw new Error(`still out of sync after applying: ${this.lastInspection.differences.join('; ')}`);
  }

  private schedule(): void {
    if (!this.state.running || this.config === undefined) return;
    clearTimeout(this.reconcileTimer);
    const reconcileLoop = () => {
      this.reconcileTimer = setTimeout(() => {
        void this.reconcile().finally(() => {
          if (this.state.running) reconcileLoop();
        });
      }, this.config!.reconcileIntervalSeconds * 1000);
    };
    reconcileLoop();
    clearTimeout(this.probeTimer);
    this.probeResult = undefined;
    const probe = this.config.egressProbe;
    if (probe === undefined) return;
    const probeLoop = async () => {
      const result = await (this.deps.probe ?? probeEgress)(probe.targets, probe.timeoutSeconds * 1000);
      if (result.ok !== this.probeResult?.ok) {
        this.deps.log[result.ok ? 'info' : 'error'](
          { event: 'egress_probe', ok: result.ok, detail: result.detail },
          result.ok ? 'egress probe passes' : 'egress probe fails',
        );
      }
      this.probeResult = result;
      this.forgetHealth();
      await this.publishHealth();
      if (this.state.running && this.config?.egressProbe === probe)
        this.probeTimer = setTimeout(() => void probeLoop(), probe.intervalSeconds * 1000);
    };
    void probeLoop();
  }

  /**
   * Fails /healthz on purpose so a load balancer stops sending new flows before the agent goes away. A second call (a
   * signal during an upgrade's drain) only decides the exit code.
   */
  startDraining(reason = 'stop', exitCode = 0): void {
    this.state.send({ type: 'drain', reason, exitCode });
  }

  /** The current port blocks and the released ones it remembers; undefined without a port-block manager. */
  portBlockTable() {
    return this.deps.portBlocks?.table();
  }

  /** `GET /sync/summary`: undefined when this agent runs without stateful sync. */
  syncSummary(): Promise<SyncSummary | undefined> {
    return this.deps.stateful?.summary() ?? Promise.resolve(undefined);
  }

  /** `GET /sync/key`: this agent's public sync key (base64), undefined without stateful sync. */
  syncPublicKey(): string | undefined {
    return this.deps.stateful?.publicKey;
  }

  get drainSeconds(): number {
    return this.config?.drainSeconds ?? 0;
  }

  /** Idempotent: a test's teardown and main.ts may both stop the agent. */
  stop(): void {
    if (!this.state.running) return;
    this.state.send({ type: 'stop' });
    this.deps.portBlocks?.stop();
    this.deps.observability?.stop();
    clearTimeout(this.reconcileTimer);
    clearTimeout(this.probeTimer);
    // Last: until now the standby kept receiving this VM's state changes, so a drain hands over every flow.
    this.deps.stateful?.stop();
  }

  /**
   * Health from the live kernel state, not from memory: a broken NAT must never look healthy. The `liveness` scope
   * leaves out what is not this VM's fault (the egress probe, draining), for autohealing: a VM is only recreated when
   * recreating it can help.
   */
  health(scope: 'traffic' | 'liveness' = 'traffic'): Promise<HealthReport> {
    // Probes arrive together (several GCE probers per load balancer, two load balancers in stateful HA): the ones that
    // come while a check of their scope is under way share its answer instead of each listing the kernel again.
    const running = this.healthChecks.get(scope);
    if (running !== undefined) return running;
    const startedAt = this.clock.now();
    const cached = this.healthCache.get(scope);
    if (cached !== undefined && startedAt - cached.at < HEALTH_CACHE_MS && startedAt >= cached.at) return Promise.resolve(cached.report);
    const generation = this.healthGeneration;
    const check = this.checkHealth(scope)
      .then((report) => {
        // Judged before a change of our own state: not worth keeping.
        if (generation === this.healthGeneration) this.healthCache.set(scope, { at: startedAt, report });
        return report;
      })
      .finally(() => this.healthChecks.delete(scope));
    this.healthChecks.set(scope, check);
    return check;
  }

  private readonly healthChecks = new Map<'traffic' | 'liveness', Promise<HealthReport>>();
  private readonly healthCache = new Map<'traffic' | 'liveness', { at: number; report: HealthReport }>();
  private healthGeneration = 0;

  private forgetHealth(): void {
    this.healthGeneration++;
    this.healthCache.clear();
  }

  private checkHealth(scope: 'traffic' | 'liveness'): Promise<HealthReport> {
    return this.exclusive(async () => {
      let inspection: Inspection | undefined;
      let inspectionError: string | undefined;
      if (this.desired !== undefined) {
        try {
          inspection = await this.deps.dataplane.inspect(this.desired);
          this.lastInspection = inspection;
        } catch (error) {
          inspectionError = (error as Error).message;
        }
        if (scope === 'traffic') {
          try {
            this.forwardPath = await this.deps.dataplane.checkForwardPath();
          } catch (error) {
            this.forwardPath = { ok: true, detail: `not checked: ${(error as Error).message}`, warnings: [] };
          }
        }
      }
      const report = this.report(inspection, inspectionError, scope);
      if (scope === 'traffic') this.deps.metrics.healthy.set(report.status === 'ok' ? 1 : 0);
      return report;
    });
  }

  private report(inspection: Inspection | undefined, inspectionError?: string, scope: 'traffic' | 'liveness' = 'traffic'): HealthReport {
    const checks: Record<string, CheckResult> = {};
    checks.config =
      this.config === undefined ? { ok: false, detail: this.state.waitingFor } : { ok: true, detail: `from ${this.state.configSource}` };
    if (this.config !== undefined) {
      checks.egress_interface =
        this.egressInterface === undefined
          ? { ok: false, detail: this.lastError ?? 'not detected yet' }
          : { ok: true, detail: this.egressInterface };
      const forwardingOff = inspection?.differences.find((difference) => difference.startsWith('sysctl net.ipv4.ip_forward '));
      checks.forwarding =
        inspection === undefined
          ? { ok: false, detail: inspectionError ?? this.lastError ?? 'not applied yet' }
          : { ok: forwardingOff === undefined, detail: forwardingOff ?? 'net.ipv4.ip_forward = 1' };
      checks.ruleset =
        inspection === undefined
          ? { ok: false, detail: inspectionError ?? this.lastError ?? 'not applied yet' }
          : { ok: inspection.inSync, detail: inspection.inSync ? 'in sync with the config' : inspection.differences.join('; ') };
      // Another firewall's drop is this VM's configuration, not a fault that recreating the VM would fix.
      if (this.forwardPath !== undefined && scope === 'traffic')
        checks.forward_path = { ok: this.forwardPath.ok, detail: this.forwardPath.detail };
      const probe = this.config.egressProbe;
      if (probe !== undefined && scope === 'traffic') {
        const fresh =
          this.probeResult !== undefined &&
          this.clock.now() - this.probeResult.at < probe.intervalSeconds * 3000 + probe.timeoutSeconds * 1000 * probe.targets.length;
        checks.egress_probe =
          this.probeResult === undefined
            ? { ok: false, detail: 'no probe has finished yet' }
            : { ok: this.probeResult.ok && fresh, detail: fresh ? this.probeResult.detail : `stale: ${this.probeResult.detail}` };
      }
    }
    // Without its NFLOG reader a port-block gateway stops giving blocks (new clients stay on the shared overflow ports);
    // without its conntrack listings it stops attributing the overflow ports. A reader that exits once is restarted
    // and a listing that fails once is retried; one that keeps failing (e.g. a sandbox that refuses tcpdump) fails the
    // traffic check.
    const portBlocks = this.deps.portBlocks;
    if (portBlocks?.enabled === true && this.config !== undefined && scope === 'traffic')
      checks.port_block_learner = !portBlocks.learnerHealthy
        ? { ok: false, detail: `not reading NFLOG: ${portBlocks.learnerError ?? 'not running'}` }
        : portBlocks.overflow.failing
          ? { ok: false, detail: `cannot list the overflow connections: ${portBlocks.overflow.lastError ?? 'unknown error'}` }
          : { ok: true, detail: 'reading NFLOG and listing the overflow connections' };
    // Only in the traffic check: a resync that waits for its peer is not this VM's fault, recreating it cannot help.
    if (this.config?.stateful !== undefined && this.deps.stateful !== undefined && scope === 'traffic')
      checks.sync = this.deps.stateful.check();
    if (this.state.phase === 'draining' && scope === 'traffic')
      checks.draining = {
        ok: false,
        detail: `the agent is stopping (${this.state.drainReason ?? 'stop'}); new flows should go elsewhere`,
      };
    const failed = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    const warnings = [
      ...(this.rejectedConfig === undefined
        ? []
        : [`the latest config was refused, the previous one stays in effect: ${this.rejectedConfig}`]),
      ...this.deps.dataplane.warnings,
      ...(this.deps.portBlocks?.warnings ?? []),
      ...(this.forwardPath?.warnings ?? []),
    ];
    return { status: failed.length === 0 ? 'ok' : 'unhealthy', phase: this.state.phase, failed, checks, warnings };
  }

  /**
   * Readiness for the provisioner, which routes clients here only after it reads `ok`. Written on change and rewritten
   * every HEALTH_REFRESH_MS even when unchanged: GCE may silently drop guest-attribute writes above its advised rate
   * (10/min, bursts of 3/s), and one dropped `ok` must not stall a provision until its timeout.
   */
  private async publishHealth(): Promise<void> {
    const report = this.report(this.lastInspection);
    this.deps.metrics.healthy.set(report.status === 'ok' ? 1 : 0);
    const value = report.status === 'ok' ? 'ok' : `unhealthy: ${report.failed.join(',')}`;
    if (this.deps.guestAttributes === undefined || !this.state.running) return;
    const fresh = this.clock.now() - this.healthPublishedAt < HEALTH_REFRESH_MS;
    if (value === this.publishedHealth && fresh) return;
    clearTimeout(this.healthRefreshTimer);
    // unref: the refresh never keeps a stopping agent alive; the stopped phase ends the chain.
    this.healthRefreshTimer = setTimeout(() => void this.publishHealth(), HEALTH_REFRESH_MS).unref();
    try {
      await this.deps.guestAttributes.putGuestAttribute(GUEST_ATTRIBUTE.health, value);
      this.publishedHealth = value;
      this.healthPublishedAt = this.clock.now();
    } catch (error) {
      this.deps.log.warn(
        { event: 'guest_attribute_failed', error: (error as Error).message },
        'could not publish health as a guest attribute',
      );
    }
  }
  private healthPublishedAt = 0;
  private healthRefreshTimer: NodeJS.Timeout | undefined;
}
