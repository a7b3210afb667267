// The fallback watcher's decisions as a pure function of what it observed, so every path between natgw and Cloud NAT
// is tested with fakes and random walks, not with a cloud. The routes in GCE are the state that matters: the watcher
// keeps only its health streaks, and a restarted watcher picks up where the routes say it is.

/** Which path the routes give tagged VMs: natgw's own route exists, or only its demoted copy does. */
export type ServingPath = 'natgw' | 'fallback';

/** natgw's tagged route and its demoted copy, as read from the API (present or not). */
export interface ObservedRoutes {
  normal: boolean;
  demoted: boolean;
}

/**
 * One look at natgw: `healthy` is true only when some NAT VM is healthy AND the egress probe through natgw succeeded,
 * false when every NAT VM is unhealthy or the probe failed, undefined when it could not be told (API error).
 */
export interface Observation {
  at: number;
  healthy: boolean | undefined;
  routes: ObservedRoutes;
}

export interface WatchTimers {
  /** How long natgw must be unhealthy without a break before tagged VMs move to Cloud NAT. */
  failAfterMs: number;
  /** How long natgw must be healthy without a break before they move back. */
  holdDownMs: number;
}

/** The watcher's memory: when the current unbroken run of bad (or good) observations began. */
export interface WatchState {
  badSince: number | undefined;
  goodSince: number | undefined;
}

/**
 * fallback: create the demoted route (if missing), then delete natgw's. failback: create natgw's route (if missing),
 * then delete the demoted one. Both are idempotent, so a transition cut short is finished by the next one.
 */
export type WatchAction = 'fallback' | 'failback';

export interface WatchStep {
  state: WatchState;
  action: WatchAction | undefined;
  /** The path tagged VMs are on as observed (before the action); undefined when natgw has no route at all. */
  path: ServingPath | undefined;
}

export const initialWatchState: WatchState = { badSince: undefined, goodSince: undefined };

/** The natgw route wins whenever it exists (priority < 1000 beats the default route), whatever else is there. */
export function servingPath(routes: ObservedRoutes): ServingPath | undefined {
  if (routes.normal) return 'natgw';
  return routes.demoted ? 'fallback' : undefined;
}

/**
 * An unknown observation proves nothing: it breaks a good run (failing back needs proof) but neither starts nor breaks
 * a bad one, so a flaky API can neither trigger a fallback nor postpone one that is due.
 */
export function nextWatchState(state: WatchState, healthy: boolean | undefined, at: number): WatchState {
  if (healthy === true) return { badSince: undefined, goodSince: state.goodSince ?? at };
  if (healthy === false) return { badSince: state.badSince ?? at, goodSince: undefined };
  return { badSince: state.badSince, goodSince: undefined };
}

export function step(state: WatchState, observation: Observation, timers: WatchTimers): WatchStep {
  const next = nextWatchState(state, observation.healthy, observation.at);
  const path = servingPath(observation.routes);
  const badFor = next.badSince === undefined ? -1 : observation.at - next.badSince;
  const goodFor = next.goodSince === undefined ? -1 : observation.at - next.goodSince;
  let action: WatchAction | undefined;
  if (path === 'natgw' && badFor >= timers.failAfterMs) action = 'fallback';
  else if (path === 'fallback' && goodFor >= timers.holdDownMs) action = 'failback';
  // An interrupted transition (both routes) is finished towards whichever side the health says, without waiting:
  // natgw's route already carries traffic, so removing a leftover demoted route changes nothing for clients.
  else if (observation.routes.normal && observation.routes.demoted && observation.healthy === true) action = 'failback';
  return { state: next, action, path };
}
