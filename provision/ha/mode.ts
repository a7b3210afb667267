// HA mode: a stateful regional managed instance group of NAT VMs behind an internal passthrough load balancer.
import { UsageError } from '../../common/errors.js';
import { checkMetadataBudget } from '../agent-bundle.js';
import { getGuestAttributes } from '../gcp/instances.js';
import { getBackendHealth, type HealthStatus } from '../gcp/load-balancing.js';
import { listFirewalls } from '../gcp/network.js';
import { routeWarnings as routeWarningsOf, type Discovery } from '../gateway.js';
import {
  AUTOHEAL_CHECK,
  AUTOHEAL_INITIAL_DELAY_SEC,
  desiredHa,
  haNames,
  hasHaResources,
  observeHa,
  planDestroyHa,
  planHa,
  type DesiredHa,
  type ObservedHa,
} from './gateway.js';
import { TRAFFIC_CHECK } from './checks.js';
import { applyHa, haWhere, natIpByVm, type HaApplyResult } from './apply.js';
import { gcloudHaCommands } from './gcloud.js';
import { applyDeletions, gcloudDeleteCommands } from '../kinds/index.js';
import { lastSegment, NEXT_HOP_DOWN, ownerFromDescription, shortLink } from '../model.js';
import { ProvisionError, type CallContext } from '../gcp/call.js';
import { getMig } from '../gcp/instance-groups.js';
import { statefulNames } from './members.js';
import { confirmAndDestroy, findCreate, provisionWith, type Found, type Mode, type Provisioning, type Run } from '../pipeline.js';
import type { Options } from '../options.js';
import { exposureWarnings } from '../preflight.js';
import { fallbackLines, fallbackReport, planDestroyFallback, withFallbackPlan } from '../fallback.js';
import { servingPath } from '../../fallback/status.js';
import { renderPlan, routeWarningLines } from '../report.js';
import { changeReport, type Plan } from '../plan.js';
import type { AgentConfigInput } from '../../agent/config.js';
import { GUEST_ATTRIBUTE } from '../../common/protocol.js';

export const HA_WARNINGS = [
  "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
  'HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).',
];

/** --zones, if given, names zones of the region. */
export function checkZonesOption(options: Options, discovery: Discovery): void {
  for (const zone of options.zones ?? []) {
    if (!discovery.zones.includes(zone))
      throw new UsageError(`--zones: '${zone}' is not a zone of ${options.region} (zones: ${discovery.zones.join(', ')})`);
  }
}

function provisioning(run: Run) {
  const { options, ctx, progress } = run;
  // The NAT IPs already reserved, in address order (null: reserved on apply).
  const knownIps = ({ desired, observed }: { desired: DesiredHa; observed: ObservedHa }) =>
    desired.addresses.map((address) => observed.addresses.find((candidate) => candidate.name === address.name)?.address ?? null);
  const mode: Provisioning<ObservedHa, string[], { desired: DesiredHa; agentConfig: AgentConfigInput; plan: Plan }, HaApplyResult> = {
    steps: {
      checkOptions: (discovery) => checkZonesOption(options, discovery),
      observe: (discovery) => observeHa(ctx, options.name, options.region, discovery.zones),
      refuseOtherMode: async () => {
        const statefulMig = await getMig(ctx, options.region, statefulNames(options.name).mig.a);
        if (statefulMig !== undefined && ownerFromDescription(statefulMig.description) === options.name)
          throw new ProvisionError(
            `gateway ${options.name} runs in stateful HA mode (managed instance group ${statefulMig.name}); switching to HA without --stateful is not done in place: ` +
              `run 'natgw destroy' for it first (its NAT IP goes away), or keep it and add --stateful`,
          );
      },
      // Without --zones: where the group already runs, else the region's first three zones.
      zones: (discovery, observed) => {
        const current = (observed.mig?.distributionPolicy?.zones ?? []).map((zone) => lastSegment(zone.zone)).sort();
        return options.zones ?? (current.length > 0 ? current : discovery.zones.slice(0, 3));
      },
      build: (observed, { discovery, zones, payload }) => {
        const { desired, agentConfig } = desiredHa({ options, discovery, zones, payload });
        checkMetadataBudget(desired.template.metadata);
        return { desired, agentConfig, plan: planHa(desired, observed) };
      },
      preflight: ({ desired, plan }) => ({
        vm: { ...desired.template, tags: [...(desired.template.properties.tags?.items ?? [])] },
        needs: { addresses: findCreate(plan, 'address'), vms: findCreate(plan, 'vm') },
      }),
    },
    clientRoute: ({ desired }) => desired.route,
    gcloud: ({ desired, observed, plan }) => gcloudHaCommands(desired, observed, plan),
    summary: (planned, commands) => {
      const { zones, desired, agentConfig, checks, plan } = planned;
      return {
        command: 'provision',
        mode: 'ha',
        dryRun: options.dryRun,
        project: options.project,
        region: options.region,
        network: options.network,
        gateway: options.name,
        zones,
        size: options.size,
        machineType: options.machineType,
        image: `${desired.template.image.project}/${desired.template.image.family}`,
        bootDiskType: desired.template.bootDiskType,
        clientTag: options.clientTag,
        sourceRanges: agentConfig.sourceRanges,
        preflight: checks,
        natIps: knownIps(planned),
        healthChecks: { traffic: TRAFFIC_CHECK, autoheal: { ...AUTOHEAL_CHECK, initialDelaySec: AUTOHEAL_INITIAL_DELAY_SEC } },
        drainSeconds: desired.drainSeconds,
        upToDate: plan.upToDate,
        changes: [...plan.conflicts, ...plan.changes].map(changeReport),
        gcloud: commands,
        warnings: [...HA_WARNINGS, ...checks.warnings],
      };
    },
    intro: ({ zones, agentConfig, plan }) => ({
      stdout:
        `Gateway ${options.name} (HA): project ${options.project}, region ${options.region}, ${options.size} NAT VMs over ${zones.join(', ')}, network ${options.network}\n` +
        `Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n\nPlan:\n${renderPlan(plan)}\n\n`,
      stderr: HA_WARNINGS.map((warning) => `note: ${warning}`),
    }),
    upToDate: (planned, summary) => ({
      json: { ...summary, result: { natIps: knownIps(planned), applied: [] } },
      text: `Up to date: nothing to do. NAT IPs ${knownIps(planned).join(', ')}\n`,
    }),
    disruption: (plan) => ({
      changes: plan.changes.filter(
        (change) =>
          (change.kind === 'vm' && change.action === 'delete') || (change.kind === 'forwardingRule' && change.action === 'replace'),
      ),
      texts: (what) => ({
        refusal: `the plan removes NAT VMs or briefly the route (${what}); no terminal to ask on, so re-run with --yes to accept`,
        question: `Apply ${what}? Connections through the affected VMs or route are cut.`,
      }),
    }),
    apply: ({ desired, observed, plan }) => applyHa(ctx, desired, observed, plan, progress, options),
    done: ({ desired }, result, summary) => ({
      json: { ...summary, natIps: result.natIps, result },
      text:
        `\nDone. NAT IPs (allow-list all of them): ${result.natIps.join(', ')}. Healthy backends: ${result.healthy.join(', ') || 'none reported yet'}.\n` +
        `VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${desired.forwardingRule.name}.\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    }),
  };
  return mode;
}

async function status(run: Run, found: Found): Promise<number> {
  const { options, io, ctx } = run;
  const observed = found.ha;
  const names = haNames(options.name);
  const lb = await lbHealth(
    ctx,
    options.region,
    observed.backendService !== undefined && observed.mig !== undefined ? names.backendService : undefined,
    [`projects/${options.project}/regions/${options.region}/instanceGroups/${names.mig}`],
  );
  const healthError = lb.error;
  const ips = natIpByVm(observed);
  const backends = await Promise.all(
    observed.vms.map(async (vm) => ({
      name: vm.name,
      zone: vm.zone,
      status: vm.status,
      template: vm.template,
      natIp: ips.get(vm.name) ?? null,
      loadBalancer: stateOf(lb, vm.name),
      agent: (await getGuestAttributes(ctx, vm.zone, vm.name, GUEST_ATTRIBUTE.namespace))[GUEST_ATTRIBUTE.health] ?? null,
    })),
  );
  const healthy = backends.filter((backend) => backend.loadBalancer === 'HEALTHY').length;
  const { routeWarnings, routeOk } = routeState(observed);
  const warnings = observed.mig === undefined ? [] : await exposureOf(ctx, options, observed);
  const serving = routeOk && healthy > 0;
  const rule = observed.forwardingRule;
  const firewalls = Object.entries(observed.firewalls).map(([name, firewall]) => ({ name, present: firewall !== undefined }));
  const fallback = fallbackReport(options.name, found.fallback);
  const path = servingPath(options.name, { normal: observed.route, demoted: found.fallback.demotedRoute });
  const report = {
    command: 'status',
    mode: 'ha',
    project: options.project,
    region: options.region,
    gateway: options.name,
    serving,
    healthyBackends: healthy,
    natIps: observed.addresses.filter((address) => address.labels['natgw-gateway'] === options.name).map((address) => address.address),
    mig:
      observed.mig === undefined
        ? null
        : {
            name: observed.mig.name,
            targetSize: observed.mig.targetSize,
            template: lastSegment(observed.mig.versions?.[0]?.instanceTemplate ?? observed.mig.instanceTemplate),
            zones: (observed.mig.distributionPolicy?.zones ?? []).map((zone) => lastSegment(zone.zone)),
          },
    backends,
    ...(healthError === undefined ? {} : { healthError }),
    forwardingRule:
      rule === undefined ? null : { name: rule.name, IPAddress: rule.IPAddress, IPProtocol: rule.IPProtocol, allPorts: rule.allPorts },
    backendService:
      observed.backendService === undefined
        ? null
        : { name: observed.backendService.name, healthChecks: (observed.backendService.healthChecks ?? []).map(lastSegment) },
    healthChecks: healthCheckReport(observed),
    firewalls,
    route: routeReport(observed, routeWarnings),
    ...(fallback === null ? {} : { fallback }),
    warnings,
    servingPath: path.report,
  };
  if (options.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return serving ? 0 : 3;
  }
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  const absent = 'absent';
  const state = serving
    ? healthy < backends.length
      ? `serving, DEGRADED (${healthy}/${backends.length} backends healthy)`
      : `serving (${healthy}/${backends.length} backends healthy)`
    : 'NOT serving';
  const lines = [
    `Gateway ${options.name} (HA; project ${options.project}, region ${options.region}): ${state}`,
    `  NAT IPs   ${report.natIps.join(', ') || 'none'}`,
    `  mig       ${names.mig.padEnd(32)}${report.mig === null ? absent : `${report.mig.targetSize ?? '?'} VMs over ${report.mig.zones.join(', ')}, template ${report.mig.template}`}`,
    ...backends.map(
      (backend) =>
        `  backend   ${backend.name.padEnd(32)}${backend.loadBalancer} (${backend.status} in ${backend.zone}, NAT IP ${backend.natIp ?? '?'}, agent: ${backend.agent ?? 'not reported'})`,
    ),
    ...(healthError === undefined ? [] : [`  backend   health unreadable: ${healthError}`]),
    ...healthCheckLines(report.healthChecks),
    `  lb        ${names.forwardingRule.padEnd(32)}${rule === undefined ? absent : `${rule.IPAddress} ${rule.IPProtocol}${rule.allPorts ? ' all ports' : ''} → ${names.backendService}${report.backendService === null ? ' (backend service absent)' : ''}`}`,
    ...firewallAndRouteLines(firewalls, names.route, observed, routeWarnings),
    ...fallbackLines(fallback),
    ...path.lines,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return serving ? 0 : 3;
}

/** status of either HA mode: the health checks as GCE holds them. */
export const healthCheckReport = (observed: ObservedHa) =>
  Object.entries(observed.healthChecks).map(([name, check]) => ({
    name,
    present: check !== undefined,
    ...(check === undefined
      ? {}
      : {
          requestPath: check.httpHealthCheck?.requestPath,
          checkIntervalSec: check.checkIntervalSec,
          timeoutSec: check.timeoutSec,
          unhealthyThreshold: check.unhealthyThreshold,
        }),
  }));

export type LbHealth = { states: HealthStatus[]; error?: string };

/** status of either HA mode: a load balancer's view of its backends; an unreadable one is reported, not thrown. */
export async function lbHealth(ctx: CallContext, region: string, service: string | undefined, groups: string[]): Promise<LbHealth> {
  if (service === undefined) return { states: [] };
  try {
    return { states: (await Promise.all(groups.map((group) => getBackendHealth(ctx, region, service, group)))).flat() };
  } catch (error) {
    return { states: [], error: (error as Error).message };
  }
}

export const stateOf = (lb: LbHealth, vm: string) =>
  lb.states.find((status) => lastSegment(status.instance) === vm)?.healthState ?? (lb.error === undefined ? 'UNKNOWN' : 'UNREADABLE');

/** status of either HA mode: the route's warnings, and whether it sends client traffic to a live internal load balancer. */
export function routeState(observed: ObservedHa): { routeWarnings: { code: string; message: string }[]; routeOk: boolean } {
  const routeWarnings = observed.route === undefined ? [] : routeWarningsOf(observed.route);
  const routeOk =
    observed.route !== undefined &&
    (observed.route.nextHopIlb ?? '') !== '' &&
    !routeWarnings.some((warning) => NEXT_HOP_DOWN.has(warning.code));
  return { routeWarnings, routeOk };
}

/** status of either HA mode: firewall rules that open the NAT VMs to the internet. */
export async function exposureOf(ctx: CallContext, options: Options, observed: ObservedHa): Promise<string[]> {
  // The gateway's own network, whatever --network says (status does not need it).
  const network = lastSegment(observed.backendService?.network ?? observed.route?.network) || options.network;
  return exposureWarnings(options.project, network, options.name, [haNames(options.name).vmTag], await listFirewalls(ctx));
}

export const routeReport = (observed: ObservedHa, warnings: { code: string; message: string }[]) =>
  observed.route === undefined
    ? null
    : {
        name: observed.route.name,
        destRange: observed.route.destRange,
        nextHopIlb: observed.route.nextHopIlb,
        tags: observed.route.tags,
        priority: observed.route.priority,
        warnings,
      };

export const healthCheckLines = (checks: ReturnType<typeof healthCheckReport>) =>
  checks.map(
    (check) =>
      `  check     ${check.name.padEnd(32)}${check.present ? `${check.requestPath} every ${check.checkIntervalSec}s, timeout ${check.timeoutSec}s, unhealthy after ${check.unhealthyThreshold}` : 'absent'}`,
  );

export const firewallAndRouteLines = (
  firewalls: { name: string; present: boolean }[],
  routeName: string,
  observed: ObservedHa,
  warnings: { code: string; message: string }[],
) => [
  ...firewalls.map((firewall) => `  firewall  ${firewall.name.padEnd(32)}${firewall.present ? 'present' : 'absent'}`),
  `  route     ${routeName.padEnd(32)}${observed.route === undefined ? 'absent' : `${observed.route.destRange} → ${shortLink(observed.route.nextHopIlb ?? observed.route.nextHopInstance)}, tags ${(observed.route.tags ?? []).join(',')}, priority ${observed.route.priority}`}`,
  ...routeWarningLines(warnings),
];

async function destroy(run: Run, found: Found): Promise<number> {
  const { options, io, ctx, progress } = run;
  const observed = found.ha;
  const plan = withFallbackPlan(planDestroyHa(options.name, observed), planDestroyFallback(options.name, found.fallback));
  const where = haWhere(ctx, options.region, observed);
  const commands = gcloudDeleteCommands(where, plan);
  const summary = {
    command: 'destroy',
    mode: 'ha',
    dryRun: options.dryRun,
    project: options.project,
    region: options.region,
    gateway: options.name,
    changes: plan.changes.map(changeReport),
    gcloud: commands,
  };
  if (!options.json)
    io.stdout.write(`Gateway ${options.name} (HA; project ${options.project}, region ${options.region}):\n${renderPlan(plan)}\n`);
  return confirmAndDestroy(
    options,
    io,
    plan,
    summary,
    commands,
    (count) =>
      `Delete these ${count} resources (and the group's VMs)? VMs tagged for this gateway lose internet egress; the NAT IPs are released.`,
    () => applyDeletions(where, plan, progress),
  );
}

export const haMode: Mode = {
  chosenBy: (options) => options.ha,
  runs: (found, gateway) => hasHaResources(found.ha, gateway),
  provision: (run) => provisionWith(run, provisioning(run)),
  status,
  destroy,
};
