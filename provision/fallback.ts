// provision --fallback cloud-nat (docs/fallback-provision.md): a Cloud NAT config on the region's Cloud Router for the
// subnets natgw serves, idle while natgw's tagged route wins, and a probe route with natgw's next hop that a fallback
// watcher never moves. Any mode adds it through the pipeline: observe → desired → plan → gcloud → apply, status and
// destroy, with the mode's own client route as the one input it takes from the mode.
import { DEFAULT_TIMEOUTS } from '../agent/config.js';
import type { Discovery } from './gateway.js';
import type { CallContext } from './gcp/call.js';
import { getRoute, deleteRoute, insertRoute, type Route } from './gcp/routes.js';
import { insertRouter, listRouters, type Router, type RouterNat } from './gcp/routers.js';
import {
  demotedRouteName,
  planRoute,
  probeNames,
  probeRouteFor,
  routeBody,
  routeCreateCommand,
  type DesiredRouteOf,
} from './kinds/route.js';
import {
  natChangeName,
  putNat,
  routerCommands,
  routerNatCommands,
  subnetFlag,
  type DesiredNat,
  type DesiredRouterOf,
} from './kinds/router.js';
import { lastSegment, markerFor, ownerFromDescription, shortLink } from './model.js';
import type { Options } from './options.js';
import { diffField, isUpToDate, setText, type Action, type Change, type FieldDiff, type Plan } from './plan.js';
import type { Progress } from './progress.js';
import { quote } from './gcloud-shared.js';

/** The seed's Cloud NAT settings that natgw's own agent config does not decide: static blocks of 64, logging ALL. */
export const FALLBACK_MIN_PORTS_PER_VM = 64;
export const FALLBACK_LOG_FILTER = 'ALL';

export const fallbackNames = (gateway: string) => ({ router: `${gateway}-router`, nat: `${gateway}-fallback`, ...probeNames(gateway) });

export interface DesiredFallback {
  /** The router to create when the network has none in the region. */
  router: DesiredRouterOf;
  nat: DesiredNat;
  probeRoute: DesiredRouteOf;
  /** Client ranges that are no subnet of the network (--extra-source-ranges): Cloud NAT cannot translate them. */
  uncovered: string[];
}

export interface ObservedFallback {
  /** Every router of the region (any network: destroy looks for natgw's NAT config wherever it is). */
  routers: Router[];
  probeRoute?: Route;
  /** natgw's client route as the watcher demoted it while on the fallback. */
  demotedRoute?: Route;
}

export async function observeFallback(ctx: CallContext, gateway: string, region: string): Promise<ObservedFallback> {
  const [routers, probeRoute, demotedRoute] = await Promise.all([
    listRouters(ctx, region),
    getRoute(ctx, probeNames(gateway).route),
    getRoute(ctx, demotedRouteName(gateway)),
  ]);
  return {
    routers,
    ...(probeRoute === undefined ? {} : { probeRoute }),
    ...(demotedRoute === undefined ? {} : { demotedRoute }),
  };
}

/** natgw's --subnets in Cloud NAT's terms (the vocabulary is the same: all, primary, SUBNET, SUBNET:ALL, SUBNET:RANGE). */
function subnetSelection(options: Options, discovery: Discovery): Pick<RouterNat, 'sourceSubnetworkIpRangesToNat' | 'subnetworks'> {
  const selection = options.subnets;
  if (selection.mode === 'all') return { sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES' };
  if (selection.mode === 'primary') return { sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES' };
  const bySubnet = new Map<string, { primary: boolean; all: boolean; secondaries: string[] }>();
  for (const entry of selection.entries) {
    const seen = bySubnet.get(entry.subnet) ?? { primary: false, all: false, secondaries: [] };
    if (entry.ranges === 'primary') seen.primary = true;
    else if (entry.ranges === 'all') seen.all = true;
    else seen.secondaries.push(entry.ranges);
    bySubnet.set(entry.subnet, seen);
  }
  return {
    sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
    subnetworks: [...bySubnet.entries()].map(([name, ranges]) => {
      const link =
        discovery.subnets.find((subnet) => subnet.name === name)?.selfLink ??
        `projects/${options.project}/regions/${options.region}/subnetworks/${name}`;
      if (ranges.all) return { name: link, sourceIpRangesToNat: ['ALL_IP_RANGES'] };
      return {
        name: link,
        sourceIpRangesToNat: [
          ...(ranges.primary ? ['PRIMARY_IP_RANGE'] : []),
          ...(ranges.secondaries.length > 0 ? ['LIST_OF_SECONDARY_IP_RANGES'] : []),
        ],
        ...(ranges.secondaries.length > 0 ? { secondaryIpRangeNames: ranges.secondaries } : {}),
      };
    }),
  };
}

/**
 * What --fallback cloud-nat wants: the same subnets and ranges as natgw, the agent's timeouts (whose defaults are the
 * seed's and Cloud NAT's), the seed's 64 ports per VM and logging of translations and errors; AUTO_ONLY NAT IPs.
 */
export function desiredFallback(options: Options, discovery: Discovery, clientRoute: DesiredRouteOf): DesiredFallback {
  const names = fallbackNames(options.name);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...(options.agent.timeouts ?? {}) };
  const subnetRanges = new Set(
    discovery.subnets.flatMap((subnet) => [
      subnet.ipCidrRange ?? '',
      ...(subnet.secondaryIpRanges ?? []).map((range) => range.ipCidrRange ?? ''),
    ]),
  );
  return {
    router: {
      name: names.router,
      network: `projects/${options.project}/global/networks/${options.network}`,
      description: `${markerFor(options.name)} Cloud Router for the Cloud NAT fallback of NAT gateway ${options.name}`,
    },
    nat: {
      name: names.nat,
      natIpAllocateOption: 'AUTO_ONLY',
      ...subnetSelection(options, discovery),
      minPortsPerVm: FALLBACK_MIN_PORTS_PER_VM,
      enableDynamicPortAllocation: false,
      udpIdleTimeoutSec: Number(timeouts.udp),
      icmpIdleTimeoutSec: Number(timeouts.icmp),
      tcpEstablishedIdleTimeoutSec: Number(timeouts.tcpEstablished),
      tcpTransitoryIdleTimeoutSec: Number(timeouts.tcpTransitory),
      tcpTimeWaitTimeoutSec: Number(timeouts.tcpTimeWait),
      logConfig: { enable: true, filter: FALLBACK_LOG_FILTER },
    },
    probeRoute: probeRouteFor(options.name, clientRoute, options.clientTag),
    uncovered: options.extraSourceRanges.filter((cidr) => !subnetRanges.has(cidr)),
  };
}

// ---- plan (pure) ----

const natsOf = (router: Router) => router.nats ?? [];
const onNetwork = (routers: Router[], network: string) =>
  routers
    .filter((router) => lastSegment(router.network) === lastSegment(network))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));

/** Subnet names a NAT config translates something of; `*` for every subnet. */
function subnetsCovered(nat: RouterNat): Set<string> {
  if (nat.sourceSubnetworkIpRangesToNat !== 'LIST_OF_SUBNETWORKS') return new Set(['*']);
  return new Set((nat.subnetworks ?? []).map((entry) => lastSegment(entry.name)));
}

const overlaps = (a: Set<string>, b: Set<string>) => a.has('*') || b.has('*') || [...a].some((name) => b.has(name));

const subnetsText = (nat: RouterNat) =>
  (nat.subnetworks ?? [])
    .map(
      (entry) =>
        `${lastSegment(entry.name)}:${setText([...(entry.sourceIpRangesToNat ?? [])])}${(entry.secondaryIpRangeNames ?? []).length > 0 ? `:${setText([...(entry.secondaryIpRangeNames ?? [])])}` : ''}`,
    )
    .sort()
    .join(' ');

function natDiffs(have: RouterNat, want: DesiredNat): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  const text = (value: unknown) => String(value ?? '(none)');
  diffField(diffs, 'natIpAllocateOption', text(have.natIpAllocateOption), text(want.natIpAllocateOption));
  diffField(diffs, 'sourceSubnetworkIpRangesToNat', text(have.sourceSubnetworkIpRangesToNat), text(want.sourceSubnetworkIpRangesToNat));
  diffField(diffs, 'subnetworks', subnetsText(have), subnetsText(want));
  diffField(diffs, 'minPortsPerVm', text(have.minPortsPerVm), text(want.minPortsPerVm));
  diffField(
    diffs,
    'enableDynamicPortAllocation',
    String(have.enableDynamicPortAllocation === true),
    String(want.enableDynamicPortAllocation === true),
  );
  for (const field of [
    'udpIdleTimeoutSec',
    'icmpIdleTimeoutSec',
    'tcpEstablishedIdleTimeoutSec',
    'tcpTransitoryIdleTimeoutSec',
    'tcpTimeWaitTimeoutSec',
  ] as const)
    diffField(diffs, field, text(have[field]), text(want[field]));
  diffField(diffs, 'logConfig.enable', String(have.logConfig?.enable === true), String(want.logConfig?.enable === true));
  diffField(diffs, 'logConfig.filter', text(have.logConfig?.filter), text(want.logConfig?.filter));
  return diffs;
}

/**
 * The fallback's changes: reuse a router of the network (the one already holding natgw's NAT config, so there is never
 * a second; else natgw's own; else the first by name) or create NAME-router; natgw's NAT config on it; the probe route,
 * replaced with the client route.
 */
export function planFallback(gateway: string, want: DesiredFallback, have: ObservedFallback, clientRouteAction: Action | undefined): Plan {
  const changes: Change[] = [];
  const conflicts: Change[] = [];
  const conflict = (kind: Change['kind'], name: string, note: string) =>
    conflicts.push({ kind, name, action: 'conflict', diffs: [], note });
  const routers = onNetwork(have.routers, want.router.network);
  const target =
    routers.find((router) => natsOf(router).some((nat) => nat.name === want.nat.name)) ??
    routers.find((router) => ownerFromDescription(router.description) === gateway) ??
    routers[0];
  const routerName = target?.name ?? want.router.name;
  if (target === undefined) {
    const sameName = have.routers.find((router) => router.name === want.router.name);
    if (sameName !== undefined)
      conflict(
        'router',
        want.router.name,
        `a router with this name exists on network ${lastSegment(sameName.network)}; pick another --name or delete it`,
      );
    else changes.push({ kind: 'router', name: want.router.name, action: 'create', diffs: [], want: want.router });
  } else if (ownerFromDescription(target.description) === gateway)
    changes.push({ kind: 'router', name: routerName, action: 'unchanged', diffs: [] });
  else
    changes.push({
      kind: 'router',
      name: routerName,
      action: 'keep',
      diffs: [],
      note: "the network's Cloud Router in this region, not natgw's: natgw adds only its NAT config to it",
    });

  // A subnet range is translated by one NAT config at most: Cloud NAT that already serves these VMs is a conflict.
  const ours = subnetsCovered(want.nat);
  for (const router of routers)
    for (const nat of natsOf(router)) {
      if (nat.name === want.nat.name) continue;
      if (overlaps(ours, subnetsCovered(nat)))
        conflict(
          'routerNat',
          natChangeName(String(router.name), String(nat.name)),
          `Cloud NAT ${nat.name} on router ${router.name} already translates subnets that natgw's fallback would cover; it is a fallback already: provision without --fallback, or narrow --subnets`,
        );
    }

  const natName = natChangeName(routerName, want.nat.name);
  const natWant = { router: routerName, nat: want.nat };
  const uncovered =
    want.uncovered.length > 0
      ? { note: `Cloud NAT does not translate --extra-source-ranges ${want.uncovered.join(',')}: no subnets of the network` }
      : {};
  const current = target === undefined ? undefined : natsOf(target).find((nat) => nat.name === want.nat.name);
  if (current === undefined) changes.push({ kind: 'routerNat', name: natName, action: 'create', diffs: [], want: natWant, ...uncovered });
  else {
    const diffs = natDiffs(current, want.nat);
    changes.push(
      diffs.length > 0
        ? { kind: 'routerNat', name: natName, action: 'update', diffs, want: natWant, ...uncovered }
        : { kind: 'routerNat', name: natName, action: 'unchanged', diffs, ...uncovered },
    );
  }

  const probe = planRoute(gateway, have.probeRoute, want.probeRoute, {
    created: 'created after the client route',
    nextHopReplaced: clientRouteAction === 'replace' ? 'it shares the client route’s next hop, which is replaced' : undefined,
  });
  if ('conflict' in probe) conflict('route', want.probeRoute.name, probe.conflict);
  else changes.push(probe);
  return { changes, conflicts, upToDate: isUpToDate(changes, conflicts) };
}

/** A mode's plan with the fallback's: the probe route's delete first (it holds the next hop), the rest after. */
export function withFallbackPlan(plan: Plan, fallback: Plan): Plan {
  const first = fallback.changes.filter((change) => change.kind === 'route' && change.action === 'delete');
  const rest = fallback.changes.filter((change) => !first.includes(change));
  return {
    changes: [...first, ...plan.changes, ...rest],
    conflicts: [...plan.conflicts, ...fallback.conflicts],
    upToDate: plan.upToDate && fallback.upToDate,
  };
}

/**
 * What destroy removes of the fallback: the probe route (before the next hop it names), natgw's NAT config from the
 * routers holding it, and a router natgw created once nothing but its NAT config is on it. Anything not natgw's stays.
 */
export function planDestroyFallback(gateway: string, observed: ObservedFallback): Plan {
  const changes: Change[] = [];
  const names = fallbackNames(gateway);
  const demoted = observed.demotedRoute;
  if (demoted !== undefined && ownerFromDescription(demoted.description) === gateway)
    changes.push({ kind: 'route', name: demotedRouteName(gateway), action: 'delete', diffs: [] });
  const probe = observed.probeRoute;
  if (probe !== undefined)
    changes.push(
      ownerFromDescription(probe.description) === gateway
        ? { kind: 'route', name: names.route, action: 'delete', diffs: [] }
        : { kind: 'route', name: names.route, action: 'keep', diffs: [], note: 'not created by natgw for this gateway: left alone' },
    );
  for (const router of [...observed.routers].sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
    const name = String(router.name);
    const holdsOurs = natsOf(router).some((nat) => nat.name === names.nat);
    const ours = ownerFromDescription(router.description) === gateway;
    if (!holdsOurs && !ours) continue;
    const others = natsOf(router).filter((nat) => nat.name !== names.nat);
    const inUse = others.length > 0 || (router.bgpPeers ?? []).length > 0 || (router.interfaces ?? []).length > 0;
    if (ours && !inUse) {
      changes.push({
        kind: 'router',
        name,
        action: 'delete',
        diffs: [],
        ...(holdsOurs ? { note: `with its NAT config ${names.nat}` } : {}),
      });
      continue;
    }
    if (holdsOurs) changes.push({ kind: 'routerNat', name: natChangeName(name, names.nat), action: 'delete', diffs: [] });
    changes.push({
      kind: 'router',
      name,
      action: 'keep',
      diffs: [],
      note: ours
        ? 'created by natgw, but it now holds NAT configs or BGP sessions natgw did not create: left in place'
        : 'not created by natgw: only its NAT config is removed',
    });
  }
  return { changes, conflicts: [], upToDate: changes.every((change) => change.action !== 'delete') };
}

// ---- gcloud ----

export function fallbackCommands(plan: Plan, project: string, region: string): string[] {
  const p = `--project ${quote(project)}`;
  const commands: string[] = [];
  for (const change of plan.changes) {
    if (change.kind === 'router') commands.push(...routerCommands(change, p, region));
    else if (change.kind === 'routerNat') commands.push(...routerNatCommands(change, p, region));
    else if (change.kind === 'route') {
      if (change.action === 'replace') commands.push(`gcloud compute routes delete ${change.name} ${p} --quiet`);
      commands.push(...routeCreateCommand(change, p));
    }
  }
  return commands;
}

// ---- apply ----

type RecordApplied = (change: Change) => void;

/** Before the mode's executor: a probe route to replace goes, so that the next hop it names can be replaced. */
export async function applyFallbackFirst(ctx: CallContext, plan: Plan, progress: Progress): Promise<void> {
  for (const change of plan.changes)
    if (change.kind === 'route' && change.action === 'replace')
      await progress.run(`deleting route ${change.name} (to replace it)`, () => deleteRoute(ctx, change.name));
}

/** After the mode's executor (its client route is in place): the router, natgw's NAT config, the probe route. */
export async function applyFallback(
  ctx: CallContext,
  region: string,
  plan: Plan,
  progress: Progress,
  record: RecordApplied,
): Promise<void> {
  const routerChange = plan.changes.find((change) => change.kind === 'router' && change.action === 'create');
  for (const change of plan.changes) {
    if (change.kind === 'router' && change.action === 'create') {
      const natChange = plan.changes.find((candidate) => candidate.kind === 'routerNat' && candidate.action === 'create');
      const nats = natChange?.kind === 'routerNat' && natChange.action === 'create' ? [natChange.want.nat] : [];
      const body = { name: change.want.name, network: change.want.network, description: change.want.description, nats };
      await progress.run(`creating Cloud Router ${change.name} with the fallback NAT config`, () => insertRouter(ctx, region, body));
      record(change);
      if (natChange !== undefined) record(natChange);
    } else if (change.kind === 'routerNat' && (change.action === 'create' || change.action === 'update') && routerChange === undefined) {
      const { router, nat } = change.want;
      await progress.run(`${change.action === 'create' ? 'adding' : 'updating'} NAT config ${nat.name} on router ${router}`, () =>
        putNat(ctx, region, router, nat),
      );
      record(change);
    } else if (change.kind === 'route' && (change.action === 'create' || change.action === 'replace')) {
      const want = change.want;
      await progress.run(`creating route ${want.name} (0.0.0.0/0 for tag ${want.tags.join(',')}, priority ${want.priority})`, () =>
        insertRoute(ctx, routeBody(ctx.project, want)),
      );
      record(change);
    }
  }
}

// ---- status ----

function natText(nat: RouterNat): string {
  const ranges = subnetFlag(nat).replace(/^--nat-/, '');
  const ports =
    nat.enableDynamicPortAllocation === true ? `${nat.minPortsPerVm}-${nat.maxPortsPerVm} ports/VM` : `${nat.minPortsPerVm} ports/VM`;
  const logging = nat.logConfig?.enable === true ? `logging ${nat.logConfig.filter}` : 'no logging';
  return `${nat.natIpAllocateOption === 'AUTO_ONLY' ? 'auto-allocated IPs' : `IPs ${(nat.natIps ?? []).map(lastSegment).join(',')}`}, ${ranges}, ${ports}, ${logging}`;
}

/** status: the fallback's router, NAT config and probe route; null when the gateway has none (no --fallback). */
export function fallbackReport(gateway: string, observed: ObservedFallback) {
  const names = fallbackNames(gateway);
  const holders = observed.routers.filter((router) => natsOf(router).some((nat) => nat.name === names.nat));
  const probe = observed.probeRoute;
  if (holders.length === 0 && probe === undefined) return null;
  return {
    nats: holders.map((router) => {
      const nat = natsOf(router).find((candidate) => candidate.name === names.nat)!;
      return {
        router: router.name,
        routerCreatedByNatgw: ownerFromDescription(router.description) === gateway,
        network: lastSegment(router.network),
        name: nat.name,
        natIpAllocateOption: nat.natIpAllocateOption,
        sourceSubnetworkIpRangesToNat: nat.sourceSubnetworkIpRangesToNat,
        minPortsPerVm: nat.minPortsPerVm,
        logFilter: nat.logConfig?.enable === true ? nat.logConfig.filter : null,
        text: natText(nat),
      };
    }),
    probeRoute:
      probe === undefined
        ? null
        : {
            name: probe.name,
            tags: probe.tags ?? [],
            nextHop: shortLink(probe.nextHopIlb ?? probe.nextHopInstance),
            priority: probe.priority,
          },
  };
}

export function fallbackLines(report: ReturnType<typeof fallbackReport>): string[] {
  if (report === null) return [];
  const names = report.nats.map(
    (nat) =>
      `  fallback  ${String(nat.name).padEnd(32)}Cloud NAT on router ${nat.router} (${nat.routerCreatedByNatgw ? "natgw's" : 'reused, not natgw’s'}): ${nat.text}`,
  );
  const probe = report.probeRoute;
  return [
    ...(names.length > 0 ? names : ['  fallback  Cloud NAT                       absent']),
    probe === null
      ? '  probe     route                           absent'
      : `  probe     ${String(probe.name).padEnd(32)}0.0.0.0/0 → ${probe.nextHop}, tags ${probe.tags.join(',')}, priority ${probe.priority}`,
  ];
}
