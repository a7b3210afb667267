import type { protos } from '@google-cloud/compute';
import { getOrUndefined, mutate, type CallContext } from './call.js';

export type Route = protos.google.cloud.compute.v1.IRoute;

export const getRoute = (ctx: CallContext, name: string) =>
  getOrUndefined<Route>(ctx, `read route ${name}`, () => ctx.clients.routes.get({ project: ctx.project, route: name }));

export const insertRoute = (ctx: CallContext, route: Route) =>
  mutate(ctx, `create route ${route.name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.routes.insert({ project: ctx.project, routeResource: route, requestId }),
  );

export const deleteRoute = (ctx: CallContext, name: string) =>
  mutate(ctx, `delete route ${name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.routes.delete({ project: ctx.project, route: name, requestId }),
  );
