// Stateful HA mode (--ha --stateful): two NAT VMs, active/standby, sharing one NAT IP and their connection state.
// status shows each VM's role, its health in both load balancers and its sync state; destroy is HA's (it knows the
// stateful parts).
import { UsageError } from '../../common/errors.js';
import { checkMetadataBudget } from '../agent-bundle.js';
import { getGuestAttributes } from '../gcp/instances.js';
import type { Discovery } from '../gateway.js';
import { lastSegment } from '../model.js';
import { findCreate, provisionWith, type Found, type Mode, type PlanInputs, type Provisioning, type Run } from '../pipeline.js';
import { renderPlan } from '../report.js';
import { fallbackLines, fallbackReport } from '../fallback.js';
import { servingPath } from '../../fallback/status.js';
import { changeReport, type Plan } from '../plan.js';
import type { AgentConfigInput } from '../../agent/config.js';
import { AUTOHEAL_CHECK, AUTOHEAL_INITIAL_DELAY_SEC, haNames, observeHa, type ObservedHa } from './gateway.js';
import { gcloudStatefulCommands } from './gcloud.js';
import {
  checkZonesOption,
  exposureOf,
  firewallAndRouteLines,
  haMode,
  healthCheckLines,
  healthCheckReport,
  lbHealth,
  routeReport,
  routeState,
  stateOf,
} from './mode.js';
import {
  desiredStateful,
  type DesiredStateful,
  hasStatefulResources,
  knownIps,
  observeStateful,
  parseHealthAttribute,
  planStateful,
  syncStateOf,
  UNDOCUMENTED_BEHAVIOUR,
  userCheck,
} from './stateful.js';
import { STATEFUL_TRAFFIC_CHECK } from './checks.js';
import { MEMBERS, statefulNames, type Member } from './members.js';
import { applyStateful, type StatefulApplyResult } from './stateful-apply.js';
import type { Options } from '../options.js';
import type { CallContext } from '../gcp/call.js';
import { GUEST_ATTRIBUTE } from '../../common/protocol.js';

export const STATEFUL_DOCS = 'docs/stateful-ha.md';

export const STATEFUL_WARNINGS = [
  'stateful HA: established connections survive the loss of one NAT VM (they pause for the failover, a few seconds); losing both at once loses them.',
  'stateful HA: if both NAT VMs are unhealthy, GCE still sends client traffic to them (no fallback to the internet route).',
];

async function observeAll(ctx: CallContext, options: Options, zones: string[]): Promise<ObservedHa> {
  const [ha, stateful] = await Promise.all([
    observeHa(ctx, options.name, options.region, zones),
    observeStateful(ctx, options.name, options.region),
  ]);
  return { ...ha, stateful };
}

/** a's zone then b's: --zones, else where the groups run, else the region's first two zones. */
function chooseZones(options: Options, discovery: Discovery, observed: ObservedHa): [string, string] {
  checkZonesOption(options, discovery);
  const current = MEMBERS.map((member) => lastSegment(observed.stateful?.members[member].mig?.distributionPolicy?.zones?.[0]?.zone));
  const zones = options.zones ?? (current.every((zone) => zone !== '') ? current : discovery.zones.slice(0, 2));
  if (zones.length < 2 || zones[0] === zones[1])
    throw new UsageError(
      `--stateful: needs two different zones in ${options.region}; the region lists ${discovery.zones.join(', ') || 'none'}`,
    );
  return [zones[0]!, zones[1]!];
}

type StatefulBuilt = { desired: DesiredStateful; agentConfig: AgentConfigInput; plan: Plan };

function provisioning(run: Run) {
  const { options, ctx, progress } = run;
  const build = (from: ObservedHa, { discovery, zones, payload }: PlanInputs<[string, string]>): StatefulBuilt => {
    const { desired, agentConfig } = desiredStateful({ options, discovery, zones, payload, ips: knownIps(options.name, from) });
    checkMetadataBudget(desired.ha.template.metadata);
    return { desired, agentConfig, plan: planStateful(desired, from) };
  };
  const natIpText = (desired: DesiredStateful) => desired.natIp ?? `(reserved as ${desired.natAddress.name} on apply)`;
  const mode: Provisioning<ObservedHa, [string, string], StatefulBuilt, StatefulApplyResult> = {
    steps: {
      observe: (discovery) => observeAll(ctx, options, discovery.zones),
      zones: (discovery, observed) => chooseZones(options, discovery, observed),
      build,
      preflight: ({ desired, plan }) => ({
        vm: { ...desired.ha.template, tags: [...(desired.ha.template.properties.tags?.items ?? [])] },
        // Only the NAT IP is a static external address; the internal ones have their own quota.
        needs: {
          addresses: plan.changes.some(
            (change) => change.kind === 'address' && change.action === 'create' && change.name === desired.natAddress.name,
          )
            ? 1
            : 0,
          vms: findCreate(plan, 'vm'),
        },
      }),
    },
    clientRoute: ({ desired }) => desired.ha.route,
    gcloud: ({ desired, observed, plan }) => gcloudStatefulCommands(desired, observed, plan),
    summary: ({ zones, desired, agentConfig, checks, plan }, commands) => ({
      command: 'provision',
      mode: 'stateful',
      dryRun: options.dryRun,
      project: options.project,
      region: options.region,
      network: options.network,
      gateway: options.name,
      zones,
      members: desired.members.map((member) => ({
        member: member.member,
        role: member.member === 'a' ? 'primary' : 'failover',
        zone: member.zone,
        mig: member.mig.name,
        vm: member.vm,
        internalIp: desired.memberIps[member.member] ?? null,
        ports: member.ports,
      })),
      natIp: desired.natIp ?? null,
      machineType: options.machineType,
      image: `${desired.ha.template.image.project}/${desired.ha.template.image.family}`,
      clientTag: options.clientTag,
      sourceRanges: agentConfig.sourceRanges,
      preflight: checks,
      healthChecks: { traffic: STATEFUL_TRAFFIC_CHECK, autoheal: { ...AUTOHEAL_CHECK, initialDelaySec: AUTOHEAL_INITIAL_DELAY_SEC } },
      drainSeconds: desired.ha.drainSeconds,
      undocumented: UNDOCUMENTED_BEHAVIOUR,
      userCheck: userCheck(desired.natIp ?? 'NAT_IP'),
      docs: STATEFUL_DOCS,
      upToDate: plan.upToDate,
      changes: [...plan.conflicts, ...plan.changes].map(changeReport),
      gcloud: commands,
      warnings: [...STATEFUL_WARNINGS, ...checks.warnings],
    }),
    intro: ({ desired, agentConfig, plan }) => {
      const [a, b] = desired.members;
      return {
        stdout:
          `Gateway ${options.name} (HA, stateful): project ${options.project}, region ${options.region}, network ${options.network}\n` +
          `NAT VMs: a (primary) in ${a.zone}, b (failover) in ${b.zone}; one NAT IP ${natIpText(desired)}; connection state synced on udp/${String((agentConfig as { stateful?: { syncPort?: number } }).stateful?.syncPort)}\n` +
          `Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n` +
          `Relies on: ${UNDOCUMENTED_BEHAVIOUR}\nCheck it on your project: ${userCheck(desired.natIp ?? 'NAT_IP')}. Details: ${STATEFUL_DOCS}\n\nPlan:\n${renderPlan(plan)}\n\n`,
        stderr: STATEFUL_WARNINGS.map((warning) => `note: ${warning}`),
      };
    },
    upToDate: ({ desired }, summary) => ({
      json: { ...summary, result: { natIp: desired.natIp, applied: [] } },
      text: `Up to date: nothing to do. NAT IP ${natIpText(desired)}\n`,
    }),
    disruption: (plan) => ({
      changes: plan.changes.filter((change) => change.kind === 'forwardingRule' && change.action === 'replace'),
      texts: (what) => ({
        refusal: `the plan replaces ${what}: traffic through it stops meanwhile; no terminal to ask on, so re-run with --yes to accept`,
        question: `Apply ${what}? Traffic through it stops meanwhile.`,
      }),
    }),
    // The addresses are reserved first; the rest is planned again with their IPs in the agent config.
    apply: (planned) =>
      applyStateful(
        ctx,
        { desired: planned.desired, observed: planned.observed, plan: planned.plan },
        async () => {
          const again = await observeAll(ctx, options, planned.discovery.zones);
          const rebuilt = build(again, planned);
          return { desired: rebuilt.desired, observed: again, plan: rebuilt.plan };
        },
        progress,
        options,
      ),
    done: ({ desired }, result, summary) => ({
      json: { ...summary, natIp: result.natIp, userCheck: userCheck(result.natIp), result },
      text:
        `\nDone. NAT IP (allow-list it): ${result.natIp}. Healthy backends: ${result.healthy.join(', ') || 'none reported yet'}.\n` +
        `VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${desired.ha.forwardingRule.name}; their connections survive the loss of one NAT VM.\n` +
        `Check on your project (GCE behaviour Google does not document): ${userCheck(result.natIp)}\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    }),
  };
  return mode;
}

async function status(run: Run, found: Found): Promise<number> {
  const { options, io, ctx } = run;
  const observed = found.ha;
  const parts = observed.stateful!;
  const names = haNames(options.name);
  const extra = statefulNames(options.name);
  const group = (member: Member) => `projects/${options.project}/regions/${options.region}/instanceGroups/${extra.mig[member]}`;
  const groups = MEMBERS.filter((member) => parts.members[member].mig !== undefined).map(group);
  const [ilb, nlb] = await Promise.all([
    lbHealth(ctx, options.region, observed.backendService === undefined ? undefined : names.backendService, groups),
    lbHealth(ctx, options.region, parts.nlb === undefined ? undefined : extra.nlb, groups),
  ]);
  const vms = await Promise.all(
    MEMBERS.flatMap((member) =>
      parts.members[member].vms.map(async (vm) => {
        const attributes = await getGuestAttributes(ctx, vm.zone, vm.name, GUEST_ATTRIBUTE.namespace);
        const agent = parseHealthAttribute(attributes[GUEST_ATTRIBUTE.health]);
        const sync = syncStateOf(attributes[GUEST_ATTRIBUTE.sync], attributes[GUEST_ATTRIBUTE.health]);
        return {
          member,
          name: vm.name,
          zone: vm.zone,
          status: vm.status,
          template: vm.template,
          internalIp: parts.syncAddresses[member]?.address ?? null,
          ilb: stateOf(ilb, vm.name),
          nlb: stateOf(nlb, vm.name),
          agent: agent.text,
          sync: sync ?? null,
        };
      }),
    ),
  );
  // Failover policy: the primary (a) while it is healthy, else the failover backend (b); each load balancer on its own.
  const activeIn = (lb: 'ilb' | 'nlb') => {
    const healthy = (member: Member) => vms.some((vm) => vm.member === member && vm[lb] === 'HEALTHY');
    return healthy('a') ? 'a' : healthy('b') ? 'b' : undefined;
  };
  const active = { ilb: activeIn('ilb'), nlb: activeIn('nlb') };
  const backends = vms.map((vm) => {
    const inIlb = active.ilb === vm.member;
    const inNlb = active.nlb === vm.member;
    const role =
      inIlb && inNlb ? 'active' : !inIlb && !inNlb ? 'standby' : `active in the ${inIlb ? 'internal' : 'external'} load balancer only`;
    return { ...vm, role };
  });
  const { routeWarnings, routeOk } = routeState(observed);
  const warnings = groups.length === 0 ? [] : await exposureOf(ctx, options, observed);
  const syncDown = backends.filter((vm) => vm.sync !== null && vm.sync.peerUp === false).map((vm) => vm.name);
  const serving = routeOk && active.ilb !== undefined && active.nlb !== undefined && parts.natForwardingRule !== undefined;
  const healthyEverywhere = serving && syncDown.length === 0;
  const firewalls = Object.entries({ ...observed.firewalls, ...parts.firewalls }).map(([name, firewall]) => ({
    name,
    present: firewall !== undefined,
  }));
  const rule = observed.forwardingRule;
  const natRule = parts.natForwardingRule;
  const fallback = fallbackReport(options.name, found.fallback);
  const path = servingPath(options.name, { normal: observed.route, demoted: found.fallback.demotedRoute });
  const report = {
    command: 'status',
    mode: 'stateful',
    project: options.project,
    region: options.region,
    gateway: options.name,
    serving,
    syncOk: syncDown.length === 0,
    natIp: parts.natAddress?.address ?? null,
    active,
    backends,
    ...(ilb.error === undefined ? {} : { ilbHealthError: ilb.error }),
    ...(nlb.error === undefined ? {} : { nlbHealthError: nlb.error }),
    forwardingRules: [rule, natRule]
      .filter((item) => item !== undefined)
      .map((item) => ({
        name: item.name,
        IPAddress: item.IPAddress,
        IPProtocol: item.IPProtocol,
        loadBalancingScheme: item.loadBalancingScheme,
      })),
    healthChecks: healthCheckReport(observed),
    firewalls,
    route: routeReport(observed, routeWarnings),
    ...(fallback === null ? {} : { fallback }),
    undocumented: UNDOCUMENTED_BEHAVIOUR,
    warnings,
    servingPath: path.report,
  };
  const code = healthyEverywhere ? 0 : 3;
  if (options.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return code;
  }
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  const healthy = backends.filter((vm) => vm.ilb === 'HEALTHY' && vm.nlb === 'HEALTHY').length;
  const state = !serving
    ? 'NOT serving'
    : syncDown.length > 0
      ? `serving, SYNC PEER DOWN on ${syncDown.join(', ')} (a failure now loses every connection)`
      : healthy < 2
        ? `serving, DEGRADED (${healthy}/2 NAT VMs healthy: a failure now loses every connection)`
        : 'serving (2/2 NAT VMs healthy, state synced)';
  const absent = 'absent';
  const syncText = (sync: (typeof backends)[number]['sync']) =>
    sync === null
      ? 'sync not reported'
      : `sync peer ${sync.peerUp === true ? 'up' : 'DOWN'}, ${sync.resynced === true ? 'resynced' : 'NOT resynced'}`;
  const lines = [
    `Gateway ${options.name} (HA, stateful; project ${options.project}, region ${options.region}): ${state}`,
    `  NAT IP    ${report.natIp ?? 'none'}`,
    ...MEMBERS.filter((member) => !backends.some((vm) => vm.member === member)).map(
      (member) =>
        `  vm ${member}      ${extra.mig[member].padEnd(32)}${parts.members[member].mig === undefined ? 'group absent' : 'no VM'}`,
    ),
    ...backends.map(
      (vm) =>
        `  vm ${vm.member}      ${vm.name.padEnd(32)}${vm.role.toUpperCase()} — ilb ${vm.ilb}, nlb ${vm.nlb} (${vm.status} in ${vm.zone}, ${vm.internalIp ?? '?'}; agent: ${vm.agent}; ${syncText(vm.sync)})`,
    ),
    ...(ilb.error === undefined ? [] : [`  ilb       health unreadable: ${ilb.error}`]),
    ...(nlb.error === undefined ? [] : [`  nlb       health unreadable: ${nlb.error}`]),
    ...healthCheckLines(report.healthChecks),
    `  lb        ${names.forwardingRule.padEnd(32)}${rule === undefined ? absent : `${rule.IPAddress} ${rule.IPProtocol} → ${names.backendService}`}`,
    `  lb        ${extra.natForwardingRule.padEnd(32)}${natRule === undefined ? absent : `${natRule.IPAddress} ${natRule.IPProtocol} → ${extra.nlb}${parts.nlb === undefined ? ' (backend service absent)' : ''}`}`,
    ...firewallAndRouteLines(firewalls, names.route, observed, routeWarnings),
    ...fallbackLines(fallback),
    ...path.lines,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return code;
}

export const statefulMode: Mode = {
  chosenBy: (options) => options.stateful,
  runs: (found) => hasStatefulResources(found.ha),
  provision: (run) => provisionWith(run, provisioning(run)),
  status,
  destroy: (run, found) => haMode.destroy(run, found),
};
