// The watcher's loop: every interval, read natgw's routes, ask whether natgw is healthy (a NAT VM healthy AND an
// egress probe through natgw answered), let the state machine decide, and move the route. The cloud and the probe are
// injected: the CLI wires the real Compute API and HTTP probes, unit tests fakes, the lab a probe from a tagged VM.
import { createServer, type Server } from 'node:http';
import { realClock, type Clock } from '../common/clock.js';
import type { CallContext } from '../provision/gcp/call.js';
import { connectCompute, type Endpoint } from '../provision/gcp/client.js';
import type { Route } from '../provision/gcp/routes.js';
import { FallbackMetrics } from './metrics.js';
import { failBack, fallBack, pathReport, presence, readGatewayRoutes, someNatVmHealthy, type GatewayRoutes } from './routes.js';
import { initialWatchState, nextWatchState, step, type WatchState, type WatchTimers } from './state.js';

export interface ProbeResult {
  ok: boolean;
  durationMs: number;
  /** What went wrong (or what answered), for the log. */
  detail: string;
}

/** What the watcher does to the cloud; every call may throw (an API error is "unknown", never "unhealthy"). */
export interface FallbackCloud {
  readRoutes(): Promise<GatewayRoutes>;
  someNatVmHealthy(route: Route): Promise<boolean>;
  fallBack(routes: GatewayRoutes, at: Date): Promise<void>;
  failBack(routes: GatewayRoutes): Promise<void>;
}

export interface WatchOptions {
  cloud: FallbackCloud;
  probe: () => Promise<ProbeResult>;
  timers: WatchTimers;
  intervalMs: number;
  clock: Clock;
  metrics: FallbackMetrics;
  log: (line: string) => void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One check: observe, decide, act. Returns the watcher's new memory. */
export async function checkOnce(options: WatchOptions, state: WatchState): Promise<WatchState> {
  const { cloud, clock, metrics, log } = options;
  const at = clock.now();
  let routes: GatewayRoutes;
  try {
    routes = await cloud.readRoutes();
  } catch (error) {
    log(`cannot read natgw's routes: ${message(error)}`);
    metrics.check(at, undefined);
    return nextWatchState(state, undefined, at);
  }
  const route = routes.normal ?? routes.demoted;
  const report = pathReport(routes);
  metrics.path(report.path, report.since);
  if (route === undefined) {
    // Not provisioned (yet) or destroyed: nothing to move, and no streak carries over to a gateway created later.
    metrics.check(at, undefined);
    return initialWatchState;
  }
  const [vms, probe] = await Promise.allSettled([cloud.someNatVmHealthy(route), options.probe()]);
  if (probe.status === 'fulfilled') metrics.probe(probe.value.ok, probe.value.durationMs);
  else metrics.probe(false, 0);
  const probeOk = probe.status === 'fulfilled' && probe.value.ok;
  const vmsKnown = vms.status === 'fulfilled';
  // A failing probe is proof enough of "unhealthy"; "healthy" needs both the VMs and the probe.
  const healthy = !probeOk || (vmsKnown && !vms.value) ? false : vmsKnown ? true : undefined;
  metrics.check(at, healthy);
  const decision = step(state, { at, healthy, routes: presence(routes) }, options.timers);
  const why =
    healthy === false
      ? `${vmsKnown && !vms.value ? 'no NAT VM is healthy' : 'NAT VMs healthy'}; probe ${probeOk ? 'ok' : `failed (${probe.status === 'fulfilled' ? probe.value.detail : message(probe.reason)})`}`
      : 'natgw healthy and the probe through it answered';
  // Each change of natgw's health once, with its reason: the log explains every later move (or the lack of one).
  if (state.badSince === undefined && decision.state.badSince !== undefined) log(`natgw unhealthy (${why})`);
  if (state.goodSince === undefined && decision.state.goodSince !== undefined) log(`natgw healthy (${why})`);
  if (healthy === undefined && vms.status === 'rejected') log(`cannot tell whether a NAT VM is healthy: ${message(vms.reason)}`);
  if (decision.action === undefined) return decision.state;
  try {
    if (decision.action === 'fallback') {
      await cloud.fallBack(routes, new Date(at));
      metrics.path('fallback', new Date(at));
      log(`fell back to Cloud NAT: natgw unhealthy for ${((at - (decision.state.badSince ?? at)) / 1000).toFixed(0)} s (${why})`);
    } else {
      await cloud.failBack(routes);
      metrics.path('natgw', undefined);
      log(`failed back to natgw: healthy for ${((at - (decision.state.goodSince ?? at)) / 1000).toFixed(0)} s (${why})`);
    }
    metrics.transition(decision.action, true);
  } catch (error) {
    metrics.transition(decision.action, false);
    log(`could not ${decision.action === 'fallback' ? 'fall back' : 'fail back'} (retrying at the next check): ${message(error)}`);
  }
  return decision.state;
}

/** Checks every interval until `signal` aborts. */
export async function watch(options: WatchOptions, signal: AbortSignal): Promise<void> {
  let state = initialWatchState;
  while (!signal.aborted) {
    state = await checkOnce(options, state);
    await options.clock.sleep(options.intervalMs, signal).catch(() => undefined);
  }
}

/** Any HTTP answer from one of the URLs proves the path out works (alterNAT's rule): the internet is not ours to test. */
export function httpProbe(urls: readonly string[], timeoutMs: number, clock: Clock): () => Promise<ProbeResult> {
  return async () => {
    const started = clock.now();
    const failures: string[] = [];
    for (const url of urls) {
      try {
        const answer = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        await answer.body?.cancel();
        return { ok: true, durationMs: clock.now() - started, detail: `${url} answered ${answer.status}` };
      } catch (error) {
        failures.push(`${url}: ${message((error as { cause?: unknown }).cause ?? error)}`);
      }
    }
    return { ok: false, durationMs: clock.now() - started, detail: failures.join('; ') };
  };
}

/** /metrics for Prometheus, /healthz for whatever keeps the watcher running. */
export async function serveMetrics(metrics: FallbackMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(message(error)),
      );
    } else if (request.url === '/healthz') response.writeHead(200).end('ok\n');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

export interface WatcherConfig {
  endpoint: Endpoint | undefined;
  project: string;
  region: string;
  gateway: string;
  timers: WatchTimers;
  intervalMs: number;
  probe: () => Promise<ProbeResult>;
  /** Where /metrics listens; port 0 picks a free one. */
  listen: { host: string; port: number };
  log: (line: string) => void;
  clock?: Clock;
}

export interface RunningWatcher {
  metricsUrl: string;
  metrics: FallbackMetrics;
  /** Stops checking and serving; a check in flight finishes first. What the routes say stays as it is. */
  stop(): Promise<void>;
}

/** The watcher against a Compute API: the real client (provision/gcp/), its retries, one CallContext for its life. */
export async function startWatcher(config: WatcherConfig): Promise<RunningWatcher> {
  const clock = config.clock ?? realClock;
  const clients = await connectCompute(config.endpoint, { requestTimeoutMs: 20_000 });
  const ctx: CallContext = {
    clients,
    clock,
    project: config.project,
    // Short: the next check retries anyway, and a check must not outlast the interval by much.
    retryBaseMs: 500,
    maxAttempts: 3,
    operationTimeoutMs: 2 * 60_000,
    onRetry: (what, attempt, reason) => config.log(`${what}: ${reason}, retrying (attempt ${attempt + 1})`),
  };
  const cloud: FallbackCloud = {
    readRoutes: () => readGatewayRoutes(ctx, config.gateway),
    someNatVmHealthy: (route) => someNatVmHealthy(ctx, config.gateway, config.region, route),
    fallBack: (routes, at) => fallBack(ctx, config.gateway, routes, at),
    failBack: (routes) => failBack(ctx, config.gateway, routes),
  };
  const metrics = new FallbackMetrics();
  const server = await serveMetrics(metrics, config.listen.host, config.listen.port);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.listen.port;
  const abort = new AbortController();
  const loop = watch(
    { cloud, probe: config.probe, timers: config.timers, intervalMs: config.intervalMs, clock, metrics, log: config.log },
    abort.signal,
  );
  return {
    metricsUrl: `http://${config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host}:${port}/metrics`,
    metrics,
    stop: async () => {
      abort.abort();
      await loop;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await clients.close();
    },
  };
}
