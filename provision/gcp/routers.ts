import type { protos } from '@google-cloud/compute';
import { describeFailure, getOrUndefined, mutate, withRetry, type CallContext } from './call.js';

export type Router = protos.google.cloud.compute.v1.IRouter;
export type RouterNat = protos.google.cloud.compute.v1.IRouterNat;

export const getRouter = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<Router>(ctx, `read router ${name}`, () => ctx.clients.routers.get({ project: ctx.project, region, router: name }));

export async function listRouters(ctx: CallContext, region: string): Promise<Router[]> {
  try {
    const [items] = await withRetry(ctx, 'list routers', () => ctx.clients.routers.list({ project: ctx.project, region }));
    return items;
  } catch (error) {
    throw describeFailure(`list routers in ${region}`, error);
  }
}

export const insertRouter = (ctx: CallContext, region: string, router: Router) =>
  mutate(ctx, `create router ${router.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.routers.insert({ project: ctx.project, region, routerResource: router, requestId }),
  );

/** A JSON merge patch: only the fields given change (`nats` as a whole list). An empty list is not sent: use update. */
export const patchRouterNats = (ctx: CallContext, region: string, name: string, nats: RouterNat[]) =>
  mutate(ctx, `update the NAT configs of router ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.routers.patch({ project: ctx.project, region, router: name, routerResource: { nats }, requestId }),
  );

/** Replaces the router with `router` as a whole (PUT): the one call that can leave it with no NAT config. */
export const updateRouter = (ctx: CallContext, region: string, router: Router & { name: string }) =>
  mutate(ctx, `update router ${router.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.routers.update({ project: ctx.project, region, router: router.name, routerResource: router, requestId }),
  );

export const deleteRouter = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete router ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.routers.delete({ project: ctx.project, region, router: name, requestId }),
  );
