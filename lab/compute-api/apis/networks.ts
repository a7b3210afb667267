// Networks and subnetworks: seeded, read-only here (natgw never creates a network).
import { handler, type Handler, type HandlerKit } from '../handler-kit.js';

export function networkHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Networks', 'Get', (ctx) => s.require(ctx.project, 'global', 'networks', ctx.params.network!)),
    handler('Networks', 'List', (ctx) => kit.listOf(ctx, 'networks', 'network')),
    handler('Subnetworks', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'subnetworks', ctx.params.subnetwork!)),
    handler('Subnetworks', 'List', (ctx) => kit.listOf(ctx, 'subnetworks', 'subnetwork')),
  ];
}
