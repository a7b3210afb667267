// Cloud Routers (regional) and the Cloud NAT config natgw puts on one as its fallback (docs/fallback-provision.md).
// Routers have no labels: one natgw creates carries the description marker. On a router natgw reuses it adds, changes
// and removes only its own NAT config (named NAME-fallback) by a merge patch of `nats`, never anything else.
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteRouter, getRouter, patchRouterNats, updateRouter, type RouterNat } from '../gcp/routers.js';
import { lastSegment } from '../model.js';
import type { ChangeOf } from '../plan.js';
import type { KindModule } from './kind.js';

export interface DesiredRouterOf {
  name: string;
  /** projects/P/global/networks/N */
  network: string;
  description: string;
}

/** The NAT config natgw wants, in GCE's RouterNat shape (what routers.patch gets), and the router it goes on. */
export type DesiredNat = RouterNat & { name: string };
export interface DesiredRouterNatOf {
  router: string;
  nat: DesiredNat;
}

declare module '../plan.js' {
  interface Wants {
    router: DesiredRouterOf;
    routerNat: DesiredRouterNatOf;
  }
}

/** A NAT config's change is named `ROUTER/NAT`: which router it lives on is part of what it is, delete included. */
export const natChangeName = (router: string, nat: string) => `${router}/${nat}`;
export function splitNatChangeName(name: string): { router: string; nat: string } {
  const slash = name.lastIndexOf('/');
  return { router: name.slice(0, slash), nat: name.slice(slash + 1) };
}

export const router: KindModule<'router'> = {
  deleting: (_, change) => `deleting Cloud Router ${change.name} (with its NAT config)`,
  remove: (where, change) => deleteRouter(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute routers delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

export const routerNat: KindModule<'routerNat'> = {
  deleting: (_, change) => {
    const { router: name, nat } = splitNatChangeName(change.name);
    return `removing NAT config ${nat} from router ${name}`;
  },
  remove: (where, change) => {
    const { router: name, nat } = splitNatChangeName(change.name);
    return removeNat(where.ctx, where.region, name, nat);
  },
  gcloudDelete: (where, change) => {
    const { router: name, nat } = splitNatChangeName(change.name);
    return [
      `gcloud compute routers nats delete ${nat} --router ${name} --project ${quote(where.project)} --region ${where.region} --quiet`,
    ];
  },
};

/**
 * Puts natgw's NAT config on a router, replacing one of the same name and keeping every other: `nats` is replaced as a
 * whole by a patch, so the others are read just before.
 */
export async function putNat(ctx: CallContext, region: string, routerName: string, nat: DesiredNat): Promise<void> {
  const current = await getRouter(ctx, region, routerName);
  const others = (current?.nats ?? []).filter((other) => other.name !== nat.name);
  await patchRouterNats(ctx, region, routerName, [...others, nat]);
}

/** Takes natgw's NAT config off a router, the others kept. The client drops an empty list from a patch: then update. */
export async function removeNat(ctx: CallContext, region: string, routerName: string, natName: string): Promise<void> {
  const current = await getRouter(ctx, region, routerName);
  if (current === undefined) return;
  const nats = current.nats ?? [];
  const others = nats.filter((other) => other.name !== natName);
  if (others.length === nats.length) return;
  if (others.length > 0) await patchRouterNats(ctx, region, routerName, others);
  else await updateRouter(ctx, region, { ...current, name: routerName, nats: [] });
}

const seconds = (value: number | null | undefined) => `${value ?? 0}s`;

/** `--nat-all-subnet-ip-ranges` and the like: natgw's --subnets vocabulary is Cloud NAT's, so this maps one to one. */
export function subnetFlag(nat: RouterNat): string {
  if (nat.sourceSubnetworkIpRangesToNat === 'ALL_SUBNETWORKS_ALL_IP_RANGES') return '--nat-all-subnet-ip-ranges';
  if (nat.sourceSubnetworkIpRangesToNat === 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES') return '--nat-primary-subnet-ip-ranges';
  const entries = (nat.subnetworks ?? []).flatMap((entry) => {
    const subnet = lastSegment(entry.name);
    const modes = entry.sourceIpRangesToNat ?? [];
    if (modes.includes('ALL_IP_RANGES')) return [`${subnet}:ALL`];
    return [
      ...(modes.includes('PRIMARY_IP_RANGE') ? [subnet] : []),
      ...(entry.secondaryIpRangeNames ?? []).map((range) => `${subnet}:${range}`),
    ];
  });
  return `--nat-custom-subnet-ip-ranges ${entries.join(',')}`;
}

/** The flags of `gcloud compute routers nats create|update` for a NAT config. */
function natFlags(nat: DesiredNat): string {
  const ips =
    nat.natIpAllocateOption === 'MANUAL_ONLY'
      ? `--nat-external-ip-pool ${(nat.natIps ?? []).map(lastSegment).join(',')}`
      : '--auto-allocate-nat-external-ips';
  const logging = nat.logConfig?.enable === true ? `--enable-logging --log-filter ${nat.logConfig.filter ?? 'ALL'}` : '--no-enable-logging';
  return (
    `${ips} ${subnetFlag(nat)} --min-ports-per-vm ${nat.minPortsPerVm} --udp-idle-timeout ${seconds(nat.udpIdleTimeoutSec)} ` +
    `--icmp-idle-timeout ${seconds(nat.icmpIdleTimeoutSec)} --tcp-established-idle-timeout ${seconds(nat.tcpEstablishedIdleTimeoutSec)} ` +
    `--tcp-transitory-idle-timeout ${seconds(nat.tcpTransitoryIdleTimeoutSec)} --tcp-time-wait-timeout ${seconds(nat.tcpTimeWaitTimeoutSec)} ${logging}`
  );
}

export function routerCommands(change: ChangeOf<'router'>, p: string, region: string): string[] {
  if (change.action !== 'create') return [];
  const want = change.want;
  return [
    `gcloud compute routers create ${want.name} ${p} --region ${region} --network ${lastSegment(want.network)} --description ${quote(want.description)}`,
  ];
}

/** A NAT config to create or update (its delete is the kind's gcloudDelete: only destroy removes one). */
export function routerNatCommands(change: ChangeOf<'routerNat'>, p: string, region: string): string[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const { router: name, nat } = change.want;
  return [`gcloud compute routers nats ${change.action} ${nat.name} --router ${name} ${p} --region ${region} ${natFlags(nat)}`];
}
