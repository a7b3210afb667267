// natgw's tagged route and its demoted copy: reading them, telling from them which path serves and since when, and the
// two transitions. The demoted copy keeps everything needed to restore natgw's route (next hop, tags, priority,
// description), so the state lives in GCE: a restarted watcher, `natgw status` and an operator all read the same thing.
import type { CallContext } from '../provision/gcp/call.js';
import { getBackendHealth, getBackendService } from '../provision/gcp/load-balancing.js';
import { getInstance } from '../provision/gcp/instances.js';
import { deleteRoute, getRoute, insertRoute, type Route } from '../provision/gcp/routes.js';
import { demotedRouteName, desiredFromRoute, routeBody } from '../provision/kinds/route.js';
import { haNames } from '../provision/ha/gateway.js';
import { markerFor, NEXT_HOP_DOWN, resourceNames } from '../provision/model.js';
import type { ObservedRoutes, ServingPath } from './state.js';

/**
 * The demoted route loses to every other route, the default internet gateway's (1000) included, so tagged VMs follow
 * the default route to Cloud NAT; it only matters if a project has no default route at all (then it is natgw's again,
 * which is where they were before the fallback).
 */
export const DEMOTED_ROUTE_PRIORITY = 65535;

const DEMOTED_DESCRIPTION = /natgw fallback since (\S+); was priority (\d+); (.*)$/s;

export function demotedDescription(gateway: string, since: Date, original: Route): string {
  const rest = (original.description ?? '').replace(markerFor(gateway), '').trim();
  return `${markerFor(gateway)} natgw fallback since ${since.toISOString()}; was priority ${original.priority ?? 1000}; ${rest}`;
}

/** When the fallback began and natgw's route as it was, from a demoted route's description. */
export function parseDemoted(route: Route): { since: Date | undefined; priority: number; rest: string } {
  const match = DEMOTED_DESCRIPTION.exec(route.description ?? '');
  const since = match === null ? undefined : new Date(match[1]!);
  return {
    since: since === undefined || Number.isNaN(since.getTime()) ? undefined : since,
    priority: match === null ? 1000 : Number(match[2]),
    rest: match?.[3] ?? '',
  };
}

export interface GatewayRoutes {
  normal: Route | undefined;
  demoted: Route | undefined;
}

export async function readGatewayRoutes(ctx: CallContext, gateway: string): Promise<GatewayRoutes> {
  const [normal, demoted] = await Promise.all([getRoute(ctx, resourceNames(gateway).route), getRoute(ctx, demotedRouteName(gateway))]);
  return { normal, demoted };
}

export const presence = (routes: GatewayRoutes): ObservedRoutes => ({
  normal: routes.normal !== undefined,
  demoted: routes.demoted !== undefined,
});

/** What `natgw status` and the watcher's metrics say: which path serves tagged VMs, and since when on fallback. */
export interface PathReport {
  path: ServingPath | undefined;
  since: Date | undefined;
}

export function pathReport(routes: GatewayRoutes): PathReport {
  if (routes.normal !== undefined) return { path: 'natgw', since: undefined };
  if (routes.demoted === undefined) return { path: undefined, since: undefined };
  return { path: 'fallback', since: parseDemoted(routes.demoted).since };
}

/** Make before break: the demoted copy first (it records the way back), then natgw's route goes. */
export async function fallBack(ctx: CallContext, gateway: string, routes: GatewayRoutes, at: Date): Promise<void> {
  if (routes.demoted === undefined) {
    if (routes.normal === undefined) throw new Error(`gateway ${gateway} has no route to demote`);
    const want = desiredFromRoute(routes.normal, {
      name: demotedRouteName(gateway),
      priority: DEMOTED_ROUTE_PRIORITY,
      description: demotedDescription(gateway, at, routes.normal),
    });
    await insertRoute(ctx, routeBody(ctx.project, want));
  }
  if (routes.normal !== undefined) await deleteRoute(ctx, resourceNames(gateway).route);
}

/** Make before break: natgw's route first (it wins at once), then the demoted copy goes. */
export async function failBack(ctx: CallContext, gateway: string, routes: GatewayRoutes): Promise<void> {
  if (routes.normal === undefined) {
    if (routes.demoted === undefined) throw new Error(`gateway ${gateway} has no demoted route to restore`);
    const { priority, rest } = parseDemoted(routes.demoted);
    const description = `${markerFor(gateway)} ${rest}`.trim();
    const want = desiredFromRoute(routes.demoted, { name: resourceNames(gateway).route, priority, description });
    await insertRoute(ctx, routeBody(ctx.project, want));
  }
  if (routes.demoted !== undefined) await deleteRoute(ctx, demotedRouteName(gateway));
}

/**
 * Whether any NAT VM behind the route is healthy: HA, as its load balancer sees the backends (getHealth per group);
 * single, its VM RUNNING and the route without a next-hop warning.
 */
export async function someNatVmHealthy(ctx: CallContext, gateway: string, region: string, route: Route): Promise<boolean> {
  if (route.nextHopIlb) {
    const service = await getBackendService(ctx, region, haNames(gateway).backendService);
    if (service === undefined) return false;
    const groups = (service.backends ?? []).map((backend) => backend.group ?? '').filter((group) => group !== '');
    const health = await Promise.all(groups.map((group) => getBackendHealth(ctx, region, service.name ?? '', group)));
    return health.flat().some((status) => status.healthState === 'HEALTHY');
  }
  if ((route.warnings ?? []).some((warning) => NEXT_HOP_DOWN.has(String(warning.code)))) return false;
  const match = /zones\/([^/]+)\/instances\/([^/]+)$/.exec(route.nextHopInstance ?? '');
  if (match === null) return false;
  const instance = await getInstance(ctx, match[1]!, match[2]!);
  return instance?.status === 'RUNNING';
}
