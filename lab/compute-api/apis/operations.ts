// Global, regional and zonal operations. `get` reports the state now; `wait` blocks until DONE or for at most the
// wait cap (real GCE: about 2 minutes) and may return RUNNING, so callers must loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { handler, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';

export function operationHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const get = (ctx: Ctx) => s.pollOperation(ctx.project, ctx.scope, ctx.params.operation!);
  const wait = async (ctx: Ctx) => {
    const stored = s.requireOperation(ctx.project, ctx.scope, ctx.params.operation!);
    const remaining = s.operationRemainingMs(stored);
    if (stored.resource.status !== 'DONE' && remaining > 0) await sleep(Math.min(remaining, s.timing.waitCapMs));
    return get(ctx);
  };
  return ['GlobalOperations', 'RegionOperations', 'ZoneOperations'].flatMap((service) => [
    handler(service, 'Get', get),
    handler(service, 'Wait', wait),
  ]);
}
