import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Agent } from './agent.js';
import type { AgentMetrics } from './metrics.js';
import { KeyedRateLimiter } from './rate-limit.js';
import { agentPortAdmits } from './ruleset.js';
import { AGENT_PORT, PROBE_HOLDS_MS } from '../common/protocol.js';

export interface AgentAppOptions {
  agent: Agent;
  metrics: AgentMetrics;
  /** How a held health check waits; tests pass one they release themselves. */
  hold?: (ms: number) => Promise<unknown>;
  /** Time for the per-source rate limit; tests bring their own. */
  now?: () => number;
}

/**
 * Requests a second one source address may make. GCE's probers each send a handful per second at most (one per check
 * and interval); beyond this a source is flooding, and a flood must not delay the probes' answers.
 */
export const REQUESTS_PER_SOURCE_PER_SECOND = 20;

/**
 * The connection came from this VM: a loopback source, or one of the VM's own addresses talking to itself. The kernel
 * drops a packet arriving on a NIC with either as its source (a martian), so this is where the VM's own tools and an
 * operator's SSH tunnel come from, and no one else.
 */
export function fromThisVm(request: FastifyRequest): boolean {
  const remote = request.socket.remoteAddress ?? '';
  return /^(::ffff:)?127\./.test(remote) || remote === '::1' || (remote !== '' && remote === request.socket.localAddress);
}

/** The longest `/healthz/hold/MS`: GCE's shortest probe timeout is 1 s, and the answer must beat it. */
export const MAX_HEALTH_HOLD_MS = 900;
/** Held probes at once; GCE sends a few per prober and load balancer. Beyond this they are answered at once. */
const MAX_HELD_PROBES = 64;

/** The agent's HTTP surface as a plugin: the server file listens, tests use inject(). */
export const agentApp: FastifyPluginAsync<AgentAppOptions> = async (app, { agent, metrics, hold = sleep, now = Date.now }) => {
  const limiter = new KeyedRateLimiter(REQUESTS_PER_SOURCE_PER_SECOND);
  app.addHook('onRequest', async (request, reply) => {
    if (fromThisVm(request)) return;
    const source = request.socket.remoteAddress ?? 'unknown';
    // The input chain drops these already; until the table is in place (boot, a failed apply) this answers instead.
    // Refused before the rate limit: a source that may not come in gets no bucket to fill the limiter's table with.
    if (!agentPortAdmits(agent.currentConfig, source))
      return reply.code(403).send({
        error: `${source} may not reach the agent: Google's health checkers, the stateful peer and metricsSourceRanges only (docs/security.md)`,
      });
    if (!limiter.take(source, now()))
      return reply
        .code(429)
        .header('retry-after', '1')
        .send({ error: `too many requests from ${source}: at most ${REQUESTS_PER_SOURCE_PER_SECOND} a second per source address` });
  });
  app.get('/healthz', async (_request, reply) => {
    const report = await agent.health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  // /healthz answered MS after the probe arrived when healthy (at once when not). A load balancer's probe is then
  // nearly always in flight, so a host that dies is caught by the probe it never answers, at that probe's timeout:
  // within 1 s + (1 s - MS) of the failure instead of up to 2 s at GCE's minimum interval and timeout. The health is
  // judged when the probe arrives, alongside the hold: judged after it, probes arriving together would queue behind
  // each other's checks and miss the timeout. (GCE's requestPath takes no query string, hence a path.)
  let held = 0;
  app.get<{ Params: { ms: string } }>('/healthz/hold/:ms', async (request, reply) => {
    const { ms } = request.params;
    if (!/^\d+$/.test(ms) || Number(ms) > MAX_HEALTH_HOLD_MS)
      return reply
        .code(400)
        .send({ error: `/healthz/hold/MS: MS must be a whole number of milliseconds from 0 to ${MAX_HEALTH_HOLD_MS}, got '${ms}'` });
    // A hold changes how the agent answers and ties up one of its held slots: from elsewhere only the holds natgw's
    // own load-balancer checks ask for.
    if (!PROBE_HOLDS_MS.includes(Number(ms)) && !fromThisVm(request))
      return reply.code(403).send({
        error: `/healthz/hold/${ms}: only /healthz/hold/${PROBE_HOLDS_MS.join(', /healthz/hold/')} is answered to other hosts; any other hold only on the NAT VM itself (docs/security.md)`,
      });
    const judged = agent.health();
    if (held < MAX_HELD_PROBES) {
      held++;
      try {
        const unhealthy = judged.then((report) => (report.status === 'ok' ? new Promise<never>(() => undefined) : report));
        await Promise.race([hold(Number(ms)), unhealthy]);
      } finally {
        held--;
      }
    }
    const report = await judged;
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/livez', async (_request, reply) => {
    const report = await agent.health('liveness');
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  // Which VM held which NAT port when: the operator's attribution records, not the clients' business.
  app.get('/port-blocks', async (request, reply) => {
    if (!fromThisVm(request))
      return reply.code(403).send({
        error: `/port-blocks is served to the NAT VM itself only: curl http://127.0.0.1:${request.socket.localPort ?? AGENT_PORT}/port-blocks there, or through an SSH tunnel (docs/security.md)`,
      });
    const table = agent.portBlockTable();
    return table === undefined ? reply.code(404).send({ error: 'this agent runs without port blocks' }) : reply.send(table);
  });
  // The peer asks for this VM's flow count: its resync is complete once it holds about as many (docs/agent.md).
  app.get('/sync/summary', async (_request, reply) => {
    const summary = await agent.syncSummary();
    return summary === undefined ? reply.code(404).send({ error: 'this agent runs without stateful sync' }) : reply.send(summary);
  });
  // The peer's relay derives the sync keys from this (docs/security.md). Public: what matters is that a fetch from this
  // VM's address is answered by this VM, which GCE's routing gives; admitted where /sync/summary is.
  app.get('/sync/key', async (_request, reply) => {
    const publicKey = agent.syncPublicKey();
    return publicKey === undefined ? reply.code(404).send({ error: 'this agent runs without stateful sync' }) : reply.send({ publicKey });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
