import type { FastifyPluginAsync } from 'fastify';
import type { Agent } from './agent.js';
import type { AgentMetrics } from './metrics.js';

export interface AgentAppOptions {
  agent: Agent;
  metrics: AgentMetrics;
}

/** The agent's HTTP surface as a plugin: the server file listens, tests use inject(). */
export const agentApp: FastifyPluginAsync<AgentAppOptions> = async (app, { agent, metrics }) => {
  app.get('/healthz', async (_request, reply) => {
    const report = await agent.health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/livez', async (_request, reply) => {
    const report = await agent.health('liveness');
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/port-blocks', async (_request, reply) => {
    const table = agent.portBlockTable();
    return table === undefined ? reply.code(404).send({ error: 'this agent runs without port blocks' }) : reply.send(table);
  });
  // The peer asks for this VM's flow count: its resync is complete once it holds about as many (docs/agent.md).
  app.get('/sync/summary', async (_request, reply) => {
    const summary = await agent.syncSummary();
    return summary === undefined ? reply.code(404).send({ error: 'this agent runs without stateful sync' }) : reply.send(summary);
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
