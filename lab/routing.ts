// GCE's routing decision for one VM's 0.0.0.0/0 traffic, as a pure function: the lab programs the result.
import { activeBackends } from './load-balancing.js';
import { VPC, type LabLoadBalancedRoute, type LabRoute, type LabVm } from './model.js';

/** The hop of a load-balanced route that drops everything (failover policy with dropTrafficIfUnhealthy). */
export const BLACKHOLE = 'blackhole';

/** The VPC's own default route to the internet gateway; GCE's priority for it. */
const DEFAULT_ROUTE_PRIORITY = 1000;

/** The best priority among the load balancer's routes that apply to a VM with `tags` (undefined: none applies). */
export function balancedRoutePriority(route: LabLoadBalancedRoute, tags: readonly string[]): number | undefined {
  const applying = (route.viaRoutes ?? [{ priority: route.priority, tags: route.tags }]).filter(
    (via) => via.tags.length === 0 || via.tags.some((tag) => tags.includes(tag)),
  );
  return applying.length === 0 ? undefined : Math.min(...applying.map((via) => via.priority));
}

/**
 * The next hops of a VM's default route: the best (lowest) priority route whose tags it carries wins, equal
 * priorities share (ECMP); a load-balanced route goes to its active backends as the load balancer last saw their
 * health (lab/load-balancing.ts: failover policy, all of them when none is healthy; GCE does not fall back to the
 * internet gateway). A VM is never its own next hop. Empty: the VPC gateway.
 */
export function defaultRouteHops(
  vm: Pick<LabVm, 'ip' | 'tags'>,
  routes: readonly LabRoute[],
  balancedRoutes: readonly LabLoadBalancedRoute[],
  healthyBackends: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const tags = vm.tags ?? [];
  const applies = (route: { tags: string[] }) => route.tags.length === 0 || route.tags.some((tag) => tags.includes(tag));
  const candidates: { priority: number; hops: string[] }[] = [
    ...routes
      .filter((route) => applies(route) && route.nextHopIp !== vm.ip)
      .map((route) => ({ priority: route.priority, hops: [route.nextHopIp] })),
    ...balancedRoutes
      .filter((route) => route.scheme !== 'EXTERNAL' && route.routed !== false && !route.backends.includes(vm.ip))
      .filter((route) => route.backends.length > 0 && balancedRoutePriority(route, tags) !== undefined)
      .map((route) => {
        const active = activeBackends(route, healthyBackends.get(route.name) ?? new Set());
        return { priority: balancedRoutePriority(route, tags)!, hops: active.length > 0 ? active : [BLACKHOLE] };
      }),
  ].filter((candidate) => candidate.hops.length > 0);
  const best = Math.min(DEFAULT_ROUTE_PRIORITY, ...candidates.map((candidate) => candidate.priority));
  if (best >= DEFAULT_ROUTE_PRIORITY) return [];
  const hops = [...new Set(candidates.filter((candidate) => candidate.priority === best).flatMap((candidate) => candidate.hops))].sort();
  return hops.length > 1 ? hops.filter((hop) => hop !== BLACKHOLE) : hops;
}

/** `ip route` arguments for those hops. */
export function defaultRouteArgs(hops: readonly string[]): string[] {
  if (hops.length === 0) return ['route', 'replace', 'default', 'via', VPC.gateway];
  if (hops.includes(BLACKHOLE)) return ['route', 'replace', 'blackhole', 'default'];
  if (hops.length === 1) return ['route', 'replace', 'default', 'via', hops[0]!];
  return ['route', 'replace', 'default', ...hops.flatMap((hop) => ['nexthop', 'via', hop])];
}
