// The agent's lifecycle in one place: main.ts drives it, and the health checks, the HTTP app and the stateful sync read
// it, so none of them keeps a flag of its own that could disagree with the others. Pure: no timers, no I/O.

export type AgentPhase = 'starting' | 'serving' | 'draining' | 'stopped';

export type AgentEvent =
  /** Still no config (the metadata server does not answer yet): the reason is what /healthz shows. */
  | { type: 'waiting'; reason: string }
  | { type: 'config-applied'; source: string }
  /** A signal or an upgrade: /healthz fails so the load balancer moves new flows away; the data plane stays. */
  | { type: 'drain'; reason: string; exitCode: number }
  | { type: 'stop' };

/**
 * Which event may happen in which phase, and where it leads. Anything not listed is a bug in the caller and throws.
 * A config may still arrive while draining (SIGHUP, the metadata watch) and is applied, but the drain goes on: only a
 * restart serves again. A second drain is a second signal: it may only turn an upgrade's restart into a plain stop.
 */
const TRANSITIONS: Record<AgentPhase, Partial<Record<AgentEvent['type'], AgentPhase>>> = {
  starting: { waiting: 'starting', 'config-applied': 'serving', drain: 'draining', stop: 'stopped' },
  serving: { 'config-applied': 'serving', drain: 'draining', stop: 'stopped' },
  draining: { 'config-applied': 'draining', drain: 'draining', stop: 'stopped' },
  stopped: {},
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly phase: AgentPhase,
    readonly event: AgentEvent['type'],
  ) {
    super(`agent state: '${event}' is not allowed while ${phase}`);
    this.name = 'IllegalTransitionError';
  }
}

export class AgentState {
  private current: AgentPhase = 'starting';
  private waitingReason = 'no config loaded yet';
  private configSourceValue: string | undefined;
  private drainReasonValue: string | undefined;
  private exitCodeValue = 0;
  private readonly listeners: ((phase: AgentPhase, event: AgentEvent) => void)[] = [];

  get phase(): AgentPhase {
    return this.current;
  }

  /** Why there is no config yet; meaningful while starting. */
  get waitingFor(): string {
    return this.waitingReason;
  }

  /** Where the config in effect came from; undefined until one was applied. */
  get configSource(): string | undefined {
    return this.configSourceValue;
  }

  get drainReason(): string | undefined {
    return this.drainReasonValue;
  }

  /** What the process exits with once stopped: an upgrade's restart code, unless a signal asked for a plain stop. */
  get exitCode(): number {
    return this.exitCodeValue;
  }

  /** Whether the agent may still change the kernel and publish its health. */
  get running(): boolean {
    return this.current !== 'stopped';
  }

  /** Called after every transition, with the phase reached. */
  onChange(listener: (phase: AgentPhase, event: AgentEvent) => void): void {
    this.listeners.push(listener);
  }

  can(type: AgentEvent['type']): boolean {
    return TRANSITIONS[this.current][type] !== undefined;
  }

  send(event: AgentEvent): AgentPhase {
    const next = TRANSITIONS[this.current][event.type];
    if (next === undefined) throw new IllegalTransitionError(this.current, event.type);
    switch (event.type) {
      case 'waiting':
        this.waitingReason = event.reason;
        break;
      case 'config-applied':
        this.configSourceValue = event.source;
        break;
      case 'drain':
        if (this.current === 'draining') {
          if (event.exitCode === 0) this.exitCodeValue = 0;
        } else {
          this.drainReasonValue = event.reason;
          this.exitCodeValue = event.exitCode;
        }
        break;
      case 'stop':
        break;
    }
    this.current = next;
    for (const listener of this.listeners) listener(next, event);
    return next;
  }
}
