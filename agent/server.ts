import Fastify, { type FastifyInstance } from 'fastify';
import { agentApp, type AgentAppOptions } from './app.js';
import { splitHostPort } from '../common/host-port.js';

export async function listen(options: AgentAppOptions, address: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(agentApp, options);
  const { host, port } = splitHostPort(address);
  await app.listen({ host, port });
  return app;
}
