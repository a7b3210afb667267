// The 0.0.0.0/0 route for the client tag (global): what makes the gateway carry traffic, so created last (once
// something behind it is healthy: each mode waits its own way) and destroyed first. Routes cannot change in place.
import { quote } from '../gcloud-shared.js';
import { deleteRoute, type Route } from '../gcp/routes.js';
import { lastSegment } from '../model.js';
import type { ChangeOf } from '../plan.js';
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
