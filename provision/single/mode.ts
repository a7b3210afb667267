// Single mode: one NAT VM with a static IP and a next-hop-instance route.
import { checkMetadataBudget } from '../agent-bundle.js';
import { applyProvision, singleWhere, type ApplyResult } from './apply.js';
import { applyDeletions, gcloudDeleteCommands } from '../kinds/index.js';
import { ProvisionError } from '../gcp/call.js';
import { getMig } from '../gcp/instance-groups.js';
import { getGuestAttributes } from '../gcp/instances.js';
import { listFirewalls } from '../gcp/network.js';
import { chooseZone, desiredState, observe } from '../gateway.js';
import { gcloudCommands } from './gcloud.js';
import { haNames } from '../ha/gateway.js';
import { statefulNames } from '../ha/members.js';
import {
  gatewayFirewalls,
  lastSegment,
  NEXT_HOP_DOWN,
  ownerFromDescription,
  resourceNames,
  shortLink,
  type Desired,
  type Observed,
} from '../model.js';
import type { AgentConfigInput } from '../../agent/config.js';
import { plan as makePlan, planDestroy } from './plan.js';
import { confirmAndDestroy, findCreate, provisionWith, type Found, type Mode, type Provisioning, type Run } from '../pipeline.js';
import { exposureWarnings } from '../preflight.js';
import { fallbackLines, fallbackReport, planDestroyFallback, withFallbackPlan } from '../fallback.js';
import { servingPath } from '../../fallback/status.js';
import { renderPlan, routeWarningLines } from '../report.js';
import { changeReport, type Plan } from '../plan.js';
import { GUEST_ATTRIBUTE, METADATA } from '../../common/protocol.js';

export const SINGLE_INSTANCE_WARNING =
  'single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back ' +
  '(GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.';

function provisioning(run: Run) {
  const { options, ctx, progress } = run;
  const names = resourceNames(options.name);
  const mode: Provisioning<Observed, [string], { desired: Desired; agentConfig: AgentConfigInput; plan: Plan }, ApplyResult> = {
    steps: {
      observe: (discovery) => observe(ctx, { names, region: options.region, zones: discovery.zones, natIp: options.natIp }),
      refuseOtherMode: async () => {
        const haMigs = await Promise.all(
          [haNames(options.name).mig, statefulNames(options.name).mig.a].map((name) => getMig(ctx, options.region, name)),
        );
        const haMig = haMigs.find((mig) => mig !== undefined && ownerFromDescription(mig.description) === options.name);
        if (haMig !== undefined) {
          throw new ProvisionError(
            `gateway ${options.name} runs in HA mode (managed instance group ${haMig.name}); switching to single mode is not done in place: ` +
              `run 'natgw destroy' for it first (its NAT IPs go away), then provision without --ha, or keep it and add --ha`,
          );
        }
      },
      zones: (discovery, observed): [string] => [chooseZone(options, discovery.zones, observed)],
      build: (observed, { discovery, zones: [zone], payload }) => {
        const { desired, agentConfig } = desiredState({ options, discovery, zone, payload });
        checkMetadataBudget(desired.instance.metadata);
        return { desired, agentConfig, plan: makePlan(desired, observed) };
      },
      preflight: ({ desired, plan }) => ({
        vm: desired.instance,
        needs: { addresses: findCreate(plan, 'address'), vms: findCreate(plan, 'instance') },
      }),
    },
    clientRoute: ({ desired }) => desired.route,
    gcloud: ({ desired, observed, plan }) => gcloudCommands(desired, observed, plan),
    summary: ({ zones: [zone], desired, agentConfig, checks, plan }, commands) => ({
      command: 'provision',
      dryRun: options.dryRun,
      project: options.project,
      region: options.region,
      network: options.network,
      gateway: options.name,
      zone,
      machineType: options.machineType,
      architecture: desired.instance.architecture,
      image: `${desired.instance.image.project}/${desired.instance.image.family}`,
      bootDiskType: desired.instance.bootDiskType,
      clientTag: options.clientTag,
      sourceRanges: agentConfig.sourceRanges,
      preflight: checks,
      upToDate: plan.upToDate,
      changes: [...plan.conflicts, ...plan.changes].map(changeReport),
      gcloud: commands,
      warnings: [SINGLE_INSTANCE_WARNING, ...checks.warnings],
    }),
    intro: ({ zones: [zone], desired, agentConfig, plan }) => ({
      stdout:
        `Gateway ${options.name}: project ${options.project}, region ${options.region} (VM in ${zone}), network ${options.network}\n` +
        `Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n` +
        `NAT VM: ${options.machineType} (${desired.instance.architecture}), image ${desired.instance.image.project}/${desired.instance.image.family}, boot disk ${desired.instance.bootDiskType}\n\nPlan:\n${renderPlan(plan)}\n\n`,
      stderr: [`warning: ${SINGLE_INSTANCE_WARNING}`],
    }),
    upToDate: ({ observed }, summary) => ({
      json: { ...summary, result: { natIp: observed.address?.address, applied: [] } },
      text: `Up to date: nothing to do. NAT IP ${observed.address?.address ?? '?'}\n`,
    }),
    disruption: (plan) => ({
      changes: plan.changes.filter((change) => change.action === 'replace' && change.kind === 'instance'),
      texts: () => ({
        refusal: 'the plan replaces the NAT VM (clients lose egress meanwhile); no terminal to ask on, so re-run with --yes to accept',
        question: 'Replace the NAT VM? Clients lose internet egress until the new VM is healthy.',
      }),
    }),
    apply: ({ desired, observed, plan }) => applyProvision(ctx, desired, observed, plan, progress, options),
    done: (_, result, summary) => ({
      json: { ...summary, result },
      text:
        `\nDone. NAT IP ${result.natIp}. VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${options.name}.\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    }),
  };
  return mode;
}

async function status(run: Run, found: Found): Promise<number> {
  const { options, io, ctx } = run;
  const names = resourceNames(options.name);
  const observed = found.single();
  const health =
    observed.instance === undefined
      ? undefined
      : (await getGuestAttributes(ctx, observed.instance.zone, observed.instance.name, GUEST_ATTRIBUTE.namespace))[GUEST_ATTRIBUTE.health];
  const routeWarnings = observed.route?.warnings ?? [];
  const nextHopDown = routeWarnings.some((warning) => NEXT_HOP_DOWN.has(warning.code));
  const serving = observed.route !== undefined && health === 'ok' && observed.instance?.status === 'RUNNING' && !nextHopDown;
  const warnings =
    observed.instance === undefined
      ? []
      : exposureWarnings(
          options.project,
          lastSegment(observed.instance.network),
          options.name,
          observed.instance.tags,
          await listFirewalls(ctx),
        );
  const firewalls = Object.entries(observed.firewalls).map(([name, firewall]) => ({
    name,
    present: firewall !== undefined,
    ...(firewall === undefined ? {} : { sourceRanges: firewall.sourceRanges, allowed: firewall.allowed, targetTags: firewall.targetTags }),
  }));
  const fallback = fallbackReport(options.name, found.fallback);
  const path = servingPath(options.name, { normal: observed.route, demoted: found.fallback.demotedRoute });
  const report = {
    command: 'status',
    project: options.project,
    region: options.region,
    gateway: options.name,
    serving,
    natIp: observed.address?.address ?? observed.instance?.natIp ?? null,
    address: observed.address ?? null,
    firewalls,
    instance:
      observed.instance === undefined
        ? null
        : {
            name: observed.instance.name,
            zone: observed.instance.zone,
            status: observed.instance.status,
            machineType: observed.instance.machineType,
            internalIp: observed.instance.internalIp ?? null,
            natIp: observed.instance.natIp ?? null,
            agentVersion: observed.instance.metadata[METADATA.bundleVersion] ?? null,
          },
    health: health ?? null,
    route: observed.route ?? null,
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
  const lines = [
    `Gateway ${options.name} (project ${options.project}, region ${options.region}): ${serving ? 'serving' : observed.instance === undefined && observed.route === undefined ? 'not provisioned' : 'NOT serving'}`,
    `  address   ${names.address.padEnd(32)}${observed.address === undefined ? absent : `${observed.address.address} (${observed.address.status})`}`,
    ...firewalls.map(
      (firewall) =>
        `  firewall  ${firewall.name.padEnd(32)}${firewall.present ? `${firewall.sourceRanges?.join(',')} → ${firewall.allowed?.map((rule) => rule.IPProtocol + (rule.ports ? `:${rule.ports.join('/')}` : '')).join(',')}` : absent}`,
    ),
    `  instance  ${names.instance.padEnd(32)}${observed.instance === undefined ? absent : `${observed.instance.status} in ${observed.instance.zone}, ${observed.instance.machineType}, internal ${observed.instance.internalIp ?? '?'}, NAT IP ${observed.instance.natIp ?? 'none'}, agent ${observed.instance.metadata[METADATA.bundleVersion] ?? '?'}`}`,
    `  agent     ${'health'.padEnd(32)}${health ?? (observed.instance === undefined ? absent : 'not reported')}`,
    `  route     ${names.route.padEnd(32)}${observed.route === undefined ? absent : `${observed.route.destRange} → ${shortLink(observed.route.nextHopInstance)}, tags ${observed.route.tags.join(',')}, priority ${observed.route.priority}`}`,
    ...routeWarningLines(routeWarnings),
    ...fallbackLines(fallback),
    ...path.lines,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return serving ? 0 : 3;
}

async function destroy(run: Run, found: Found): Promise<number> {
  const { options, io, ctx, progress } = run;
  const names = resourceNames(options.name);
  const observed = found.single();
  const plan = withFallbackPlan(
    planDestroy(options.name, observed, {
      address: names.address,
      firewalls: gatewayFirewalls(names),
      instance: names.instance,
      route: names.route,
    }),
    planDestroyFallback(options.name, found.fallback),
  );
  const where = singleWhere(ctx, options.region, observed);
  const commands = gcloudDeleteCommands(where, plan);
  const summary = {
    command: 'destroy',
    dryRun: options.dryRun,
    project: options.project,
    region: options.region,
    gateway: options.name,
    changes: plan.changes.map(changeReport),
    gcloud: commands,
  };
  if (!options.json)
    io.stdout.write(
      `Gateway ${options.name} (project ${options.project}, region ${options.region}):\n${plan.changes.length === 0 ? '  nothing of it exists' : renderPlan(plan)}\n`,
    );
  return confirmAndDestroy(
    options,
    io,
    plan,
    summary,
    commands,
    (count) => `Delete these ${count} resources? VMs tagged for this gateway lose internet egress.`,
    () => applyDeletions(where, plan, progress),
  );
}

// What neither HA mode claims is single mode's to report: also a project where nothing of the gateway exists.
export const singleMode: Mode = {
  chosenBy: () => true,
  runs: () => true,
  provision: (run) => provisionWith(run, provisioning(run)),
  status,
  destroy,
};
