// Global, regional and zonal operations: get and wait.
import { handler, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';

export function operationHandlers(kit: HandlerKit): Handler[] {
  const poll = (ctx: Ctx) => kit.store.pollOperation(ctx.project, ctx.scope, ctx.params.operation!);
  return ['GlobalOperations', 'RegionOperations', 'ZoneOperations'].flatMap((service) => [handler(service, 'Get', poll), handler(service, 'Wait', poll)]);
}
