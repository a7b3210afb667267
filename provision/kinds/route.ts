// The 0.0.0.0/0 route for the client tag (global): what makes the gateway carry traffic, so created last (once
// something behind it is healthy: each mode waits its own way) and destroyed first. Routes cannot change in place.
import { quote } from '../gcloud-shared.js';
import { deleteRoute, type Route } from '../gcp/routes.js';
import { lastSegment, markerFor, ownerFromDescription, resourceNames, shortLink } from '../model.js';
import { diffField, setText, type ChangeOf, type FieldDiff } from '../plan.js';
import type { KindModule } from './kind.js';

/** Single mode's next hop is its VM (`zones/Z/instances/N`); HA's the internal load balancer's forwarding rule (a link). */
export type DesiredRouteOf = {
  name: string;
  network: string;
  destRange: string;
  priority: number;
  tags: string[];
  description: string;
} & ({ nextHopInstance: string; nextHopIlb?: undefined } | { nextHopIlb: string; nextHopInstance?: undefined });

declare module '../plan.js' {
  interface Wants {
    route: DesiredRouteOf;
  }
}

export const route: KindModule<'route'> = {
  deleting: (_, change) => `deleting route ${change.name}`,
  remove: (where, change) => deleteRoute(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute routes delete ${change.name} --project ${quote(where.project)} --quiet`],
};

/** The client route's description: who owns it (the marker) and which gateway, HA (next hop an ILB) or single. */
export const clientRouteDescription = (gateway: string, clientTag: string, nextHop: 'ilb' | 'instance') =>
  `${markerFor(gateway)} internet egress of VMs tagged ${clientTag} through ${nextHop === 'ilb' ? 'HA ' : ''}NAT gateway ${gateway}`;

/** The egress probe's route and tag (--fallback): VMs with this tag always leave through natgw. */
export const probeNames = (gateway: string) => ({ route: `${gateway}-probe`, tag: `${gateway}-probe` });

/** natgw's client route as the fallback watcher demotes it (fallback/routes.ts): destroy removes it too. */
export const demotedRouteName = (gateway: string) => `${resourceNames(gateway).route}-demoted`;

/**
 * The probe route: the client route's next hop and priority for the probe tag. Its description names the client tag,
 * so that the probe route still says which VMs natgw serves while the fallback watcher has moved the client route away.
 */
export function probeRouteFor(gateway: string, clientRoute: DesiredRouteOf, clientTag: string): DesiredRouteOf {
  const names = probeNames(gateway);
  const hop =
    clientRoute.nextHopIlb === undefined ? { nextHopInstance: clientRoute.nextHopInstance } : { nextHopIlb: clientRoute.nextHopIlb };
  return {
    name: names.route,
    network: clientRoute.network,
    destRange: clientRoute.destRange,
    priority: clientRoute.priority,
    tags: [names.tag],
    ...hop,
    description: `${markerFor(gateway)} natgw-client-tag=${clientTag}; egress probe of NAT gateway ${gateway}: VMs tagged ${names.tag} always leave through it (the fallback never moves this route)`,
  };
}

/**
 * A route GCE holds, as provision wants a route: its network, range, tags and next hop kept, under the name, priority
 * and description given. The fallback watcher demotes and restores natgw's client route this way (fallback/routes.ts),
 * so the route it puts back is built where provision builds its own and provision sees no difference.
 */
export function desiredFromRoute(route: Route, as: { name: string; priority: number; description: string }): DesiredRouteOf {
  const common = {
    name: as.name,
    network: route.network ?? '',
    destRange: route.destRange ?? '0.0.0.0/0',
    priority: as.priority,
    tags: [...(route.tags ?? [])],
    description: as.description,
  };
  if (route.nextHopIlb) return { ...common, nextHopIlb: route.nextHopIlb };
  const instance = /zones\/[^/]+\/instances\/[^/]+$/.exec(route.nextHopInstance ?? '')?.[0];
  if (instance === undefined) throw new Error(`route ${route.name} has neither an internal load balancer nor an instance as next hop`);
  return { ...common, nextHopInstance: instance };
}

/** How a route as GCE holds it differs from the one wanted; any difference means a new route (no in-place change). */
export function routeDiffs(have: Route, want: DesiredRouteOf): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  diffField(diffs, 'network', lastSegment(have.network), lastSegment(want.network));
  diffField(diffs, 'destRange', have.destRange ?? '', want.destRange);
  diffField(diffs, 'priority', String(have.priority ?? 1000), String(want.priority));
  diffField(diffs, 'tags', setText([...(have.tags ?? [])]), setText(want.tags));
  if (want.nextHopIlb !== undefined) diffField(diffs, 'nextHopIlb', shortLink(have.nextHopIlb), shortLink(want.nextHopIlb));
  else diffField(diffs, 'nextHopInstance', shortLink(have.nextHopInstance), shortLink(want.nextHopInstance));
  diffField(diffs, 'description', have.description ?? '', want.description);
  return diffs;
}

/** A route of that name that is not this gateway's: provision stops rather than take it over. */
export const FOREIGN_ROUTE = "a route with this name exists but is not marked as this gateway's; pick another --name";

/**
 * natgw's route against the one wanted, as every mode plans it: create it (`created` says when: after what it points
 * at), replace it when a field differs or its next hop is being replaced (`nextHopReplaced` says why; routes cannot
 * change in place), else leave it. A route of that name that is not this gateway's is a conflict: its note.
 */
export function planRoute(
  gateway: string,
  have: Route | undefined,
  want: DesiredRouteOf,
  notes: { created: string; nextHopReplaced?: string | undefined },
): ChangeOf<'route'> | { conflict: string } {
  if (have === undefined) return { kind: 'route', name: want.name, action: 'create', diffs: [], note: notes.created, want };
  if (ownerFromDescription(have.description) !== gateway) return { conflict: FOREIGN_ROUTE };
  const diffs = routeDiffs(have, want);
  if (diffs.length > 0)
    return { kind: 'route', name: want.name, action: 'replace', diffs, note: 'routes cannot be changed in place', want };
  if (notes.nextHopReplaced !== undefined)
    return { kind: 'route', name: want.name, action: 'replace', diffs, note: notes.nextHopReplaced, want };
  return { kind: 'route', name: want.name, action: 'unchanged', diffs };
}

/** What routes.insert gets; a VM next hop is qualified by the project. */
export function routeBody(project: string, want: DesiredRouteOf): Route {
  return {
    name: want.name,
    network: want.network,
    destRange: want.destRange,
    priority: want.priority,
    tags: want.tags,
    ...(want.nextHopIlb === undefined
      ? { nextHopInstance: `projects/${project}/${want.nextHopInstance}` }
      : { nextHopIlb: want.nextHopIlb }),
    description: want.description,
  };
}

/** `gcloud compute routes create` for a route to create or replace (its delete is the mode's: it may come earlier). */
export function routeCreateCommand(change: ChangeOf<'route'>, p: string): string[] {
  if (change.action !== 'create' && change.action !== 'replace') return [];
  const want = change.want;
  const hop =
    want.nextHopIlb === undefined
      ? `--next-hop-instance ${lastSegment(want.nextHopInstance)} --next-hop-instance-zone ${want.nextHopInstance.split('/')[1]}`
      : `--next-hop-ilb ${lastSegment(want.nextHopIlb)} --next-hop-ilb-region ${/regions\/([^/]+)/.exec(want.nextHopIlb)?.[1] ?? ''}`;
  return [
    `gcloud compute routes create ${want.name} ${p} --network ${lastSegment(want.network)} --destination-range ${want.destRange} ` +
      `${hop} --tags ${want.tags.join(',')} --priority ${want.priority} --description ${quote(want.description)}`,
  ];
}
