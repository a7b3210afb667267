// natgw provision | status | destroy: flags → read → plan → (confirm) → apply, with one clear message on failure.
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { realClock, type Clock } from '../common/clock.js';
import { exitCode, UsageError } from '../common/errors.js';
import { readFileSync } from 'node:fs';
import { bundleMetadata, checkMetadataBudget, loadAgentBundle, repoFile, startupScript } from './agent-bundle.js';
import { applyDestroy, applyProvision } from './apply.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { connectCompute, type ComputeClients } from './gcp/client.js';
import { getGuestAttributes } from './gcp/instances.js';
import { chooseZone, desiredState, discover, observe, regionZones, routeWarnings as routeWarningsOf, type Discovery } from './gateway.js';
import { listFirewalls } from './gcp/network.js';
import { gcloudCommands, gcloudDestroyCommands } from './gcloud.js';
import { getMig } from './gcp/instance-groups.js';
import { getBackendHealth, type HealthStatus } from './gcp/load-balancing.js';
import {
  AUTOHEAL_CHECK,
  AUTOHEAL_INITIAL_DELAY_SEC,
  TRAFFIC_CHECK,
  desiredHa,
  hasHaResources,
  haNames,
  observeHa,
  planDestroyHa,
  planHa,
  type ObservedHa,
} from './ha.js';
import { applyDestroyHa, applyHa, natIpByVm } from './ha-apply.js';
import { gcloudDestroyHaCommands, gcloudHaCommands } from './ha-gcloud.js';
import { lastSegment, NEXT_HOP_DOWN, ownerFromDescription, type ImageFamily } from './model.js';
import { resourceNames, shortLink, type Observed } from './model.js';
import { HelpRequested, parseOptions, USAGE, type Command, type Options } from './options.js';
import { plan as makePlan, planDestroy, type Change, type Plan } from './plan.js';
import { Progress, type Output } from './progress.js';
import { exposureWarnings, preflight, readMachineType, type MachineCheck, type PreflightReport, type QuotaNeeds } from './preflight.js';

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const SINGLE_INSTANCE_WARNING =
  'single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back ' +
  '(GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; see docs/ha.md.';

export const HA_WARNINGS = [
  "HA mode: connections through a NAT VM that fails or is replaced are lost (their public IP was that VM's); clients reconnect through another VM, with another of the gateway's IPs.",
  'HA mode: if every NAT VM is unhealthy, GCE still sends client traffic to them (an internal load balancer as next hop has no fallback to the internet route).',
];

/** GCE's own words on a route that sends nowhere; NEXT_HOP_* ones mean clients have no egress through it. */
const routeWarningLines = (warnings: { code: string; message: string }[]) =>
  warnings.map(
    (warning) =>
      `  route     WARNING ${warning.code}: ${warning.message}${NEXT_HOP_DOWN.has(warning.code) ? ' (clients of this route have no internet egress)' : ''}`,
  );

/** The preflight of either mode: they differ in zones, VM shape and what the plan adds. */
function runPreflight(
  ctx: CallContext,
  progress: Progress,
  options: Options,
  discovery: Discovery,
  machine: MachineCheck,
  zones: string[],
  vm: { image: ImageFamily; bootDiskType: string; tags: string[] },
  needs: QuotaNeeds,
): Promise<PreflightReport> {
  return progress.run('preflight: machine type, image, disk type, quotas, firewall exposure', () =>
    preflight(ctx, {
      region: discovery.region,
      regionName: options.region,
      network: options.network,
      machine,
      zones,
      image: vm.image,
      bootDiskType: vm.bootDiskType,
      needs,
      gateway: options.name,
      vmTags: vm.tags,
    }),
  );
}

const findCreate = (plan: Plan, kind: Change['kind']) =>
  plan.changes.filter((change) => change.kind === kind && change.action === 'create').length;

const SYMBOL: Record<Change['action'], string> = {
  create: '+',
  update: '~',
  replace: '±',
  delete: '-',
  unchanged: '=',
  conflict: '!',
  keep: '=',
};

function renderPlan(plan: Plan): string {
  const rows = [...plan.conflicts, ...plan.changes];
  const width = Math.max(...rows.map((change) => change.name.length), 10);
  const kindWidth = Math.max(9, ...rows.map((change) => change.kind.length + 1));
  const lines: string[] = [];
  for (const change of rows) {
    lines.push(
      `  ${SYMBOL[change.action]} ${change.kind.padEnd(kindWidth)}${change.name.padEnd(width + 2)}${change.action}${change.note === undefined ? '' : `  (${change.note})`}`,
    );
    for (const diff of change.diffs) lines.push(`        ${diff.field}: ${diff.have} → ${diff.want}`);
  }
  return lines.join('\n');
}

async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function callContext(clients: ComputeClients, options: Options, progress: Progress, clock: Clock): CallContext {
  return {
    clients,
    clock,
    project: options.project,
    retryBaseMs: options.retryBaseMs,
    maxAttempts: 6,
    operationTimeoutMs: 15 * 60_000,
    onRetry: (what, attempt, reason, delayMs) =>
      progress.line(`  ${what}: ${reason}, retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1})`),
  };
}

async function agentPayload(options: Options): Promise<Record<string, string>> {
  const bundle = await loadAgentBundle(options.agentBundle);
  const version = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { version: string }).version;
  return { 'startup-script': startupScript(), ...bundleMetadata(bundle, version) };
}

/** Warnings and notes on stderr (not in --json mode: they are in the JSON). */
function printPreflight(options: Options, io: Io, report: PreflightReport): void {
  if (options.json) return;
  for (const warning of report.warnings) io.stderr.write(`warning: ${warning}\n`);
  for (const note of report.notes) io.stderr.write(`note: ${note}\n`);
}

/** True when a dry run has been reported and nothing is to be applied; throws on conflicts and preflight problems. */
function endsBeforeApply(options: Options, io: Io, plan: Plan, summary: object, commands: string[], checks: PreflightReport): boolean {
  if (plan.conflicts.length > 0) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, error: 'conflicts' }, null, 2)}\n`);
    throw new ProvisionError(
      `cannot proceed, nothing was changed:\n${plan.conflicts.map((change) => `  ${change.kind} ${change.name}: ${change.note}`).join('\n')}`,
    );
  }
  if (checks.problems.length > 0) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, error: 'preflight' }, null, 2)}\n`);
    throw new ProvisionError(
      `the preflight found ${checks.problems.length === 1 ? 'a problem' : `${checks.problems.length} problems`} that would make the deploy fail; nothing was changed:\n${checks.problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
  if (options.dryRun) {
    if (options.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      io.stdout.write(
        plan.upToDate
          ? 'Up to date: nothing to do.\n'
          : `Equivalent gcloud commands (dry run, nothing was changed):\n${commands.map((line) => `  ${line}`).join('\n')}\n`,
      );
    return true;
  }
  return false;
}

async function confirmAndDestroy(
  options: Options,
  io: Io,
  plan: Plan,
  summary: object,
  commands: string[],
  question: (count: number) => string,
  apply: () => Promise<{ kind: string; name: string; action: string }[]>,
): Promise<number> {
  const deletions = plan.changes.filter((change) => change.action === 'delete');
  if (deletions.length === 0) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result: { applied: [] } }, null, 2)}\n`);
    else io.stdout.write('Nothing to destroy.\n');
    return 0;
  }
  if (options.dryRun) {
    if (options.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else io.stdout.write(`Equivalent gcloud commands (dry run, nothing was changed):\n${commands.map((line) => `  ${line}`).join('\n')}\n`);
    return 0;
  }
  if (!options.yes) {
    if (io.stdin.isTTY !== true)
      throw new UsageError('refusing to destroy without confirmation: there is no terminal to ask on; re-run with --yes');
    if (!(await confirm(io, question(deletions.length)))) {
      io.stderr.write('Cancelled; nothing was changed.\n');
      return 1;
    }
  }
  const applied = await apply();
  if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result: { applied } }, null, 2)}\n`);
  else io.stdout.write(`Destroyed ${applied.length} resources of ${options.name}.\n`);
  return 0;
}

async function provision(options: Options, io: Io, ctx: CallContext, progress: Progress): Promise<number> {
  // Everything local first: a bad bundle or script fails before any API call.
  const payload = await agentPayload(options);

  const discovery = await progress.run(`reading network ${options.network} in ${options.project}/${options.region}`, () =>
    discover(ctx, options),
  );
  const names = resourceNames(options.name);
  const observed = await progress.run(`reading gateway ${options.name}`, () =>
    observe(ctx, { names, region: options.region, zones: discovery.zones, natIp: options.natIp }),
  );
  const haMig = await getMig(ctx, options.region, haNames(options.name).mig);
  if (haMig !== undefined && ownerFromDescription(haMig.description) === options.name) {
    throw new ProvisionError(
      `gateway ${options.name} runs in HA mode (managed instance group ${haMig.name}); switching to single mode is not done in place: ` +
        `run 'natgw destroy' for it first (its NAT IPs go away), then provision without --ha, or keep it and add --ha`,
    );
  }
  const zone = chooseZone(options, discovery.zones, observed);
  const machine = await progress.run(`reading machine type ${options.machineType} in ${zone}`, () =>
    readMachineType(ctx, options.machineType, [zone]),
  );
  discovery.machineArchitecture = machine.architecture;
  const { desired, agentConfig } = desiredState({ options, discovery, zone, payload });
  checkMetadataBudget(desired.instance.metadata);
  const plan = makePlan(desired, observed);
  const checks = await runPreflight(ctx, progress, options, discovery, machine, [zone], desired.instance, {
    addresses: findCreate(plan, 'address'),
    vms: findCreate(plan, 'instance'),
  });
  const warnings = [SINGLE_INSTANCE_WARNING, ...checks.warnings];
  const commands = gcloudCommands(desired, observed, plan);
  const summary = {
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
    changes: [...plan.conflicts, ...plan.changes],
    gcloud: commands,
    warnings,
  };

  if (!options.json) {
    io.stdout.write(
      `Gateway ${options.name}: project ${options.project}, region ${options.region} (VM in ${zone}), network ${options.network}\n`,
    );
    io.stdout.write(`Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n`);
    io.stdout.write(
      `NAT VM: ${options.machineType} (${desired.instance.architecture}), image ${desired.instance.image.project}/${desired.instance.image.family}, boot disk ${desired.instance.bootDiskType}\n\nPlan:\n${renderPlan(plan)}\n\n`,
    );
    io.stderr.write(`warning: ${SINGLE_INSTANCE_WARNING}\n`);
  }
  printPreflight(options, io, checks);
  if (endsBeforeApply(options, io, plan, summary, commands, checks)) return 0;
  if (plan.upToDate) {
    if (options.json)
      io.stdout.write(`${JSON.stringify({ ...summary, result: { natIp: observed.address?.address, applied: [] } }, null, 2)}\n`);
    else io.stdout.write(`Up to date: nothing to do. NAT IP ${observed.address?.address ?? '?'}\n`);
    return 0;
  }
  const replacing = plan.changes.filter((change) => change.action === 'replace' && change.kind === 'instance');
  if (replacing.length > 0 && !options.yes) {
    if (io.stdin.isTTY !== true)
      throw new UsageError(
        'the plan replaces the NAT VM (clients lose egress meanwhile); no terminal to ask on, so re-run with --yes to accept',
      );
    if (!(await confirm(io, 'Replace the NAT VM? Clients lose internet egress until the new VM is healthy.'))) {
      io.stderr.write('Cancelled; nothing was changed.\n');
      return 1;
    }
  }
  const result = await applyProvision(ctx, desired, observed, plan, progress, {
    healthTimeoutMs: options.healthTimeoutMs,
    pollIntervalMs: options.pollIntervalMs,
  });
  if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result }, null, 2)}\n`);
  else {
    io.stdout.write(
      `\nDone. NAT IP ${result.natIp}. VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${options.name}.\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    );
  }
  return 0;
}

async function provisionHa(options: Options, io: Io, ctx: CallContext, progress: Progress): Promise<number> {
  const payload = await agentPayload(options);

  const discovery = await progress.run(`reading network ${options.network} in ${options.project}/${options.region}`, () =>
    discover(ctx, options),
  );
  for (const zone of options.zones ?? []) {
    if (!discovery.zones.includes(zone))
      throw new UsageError(`--zones: '${zone}' is not a zone of ${options.region} (zones: ${discovery.zones.join(', ')})`);
  }
  const observed = await progress.run(`reading gateway ${options.name}`, () =>
    observeHa(ctx, options.name, options.region, discovery.zones),
  );
  // Without --zones: where the group already runs, else the region's first three zones.
  const current = (observed.mig?.distributionPolicy?.zones ?? []).map((zone) => lastSegment(zone.zone)).sort();
  const zones = options.zones ?? (current.length > 0 ? current : discovery.zones.slice(0, 3));
  const machine = await progress.run(`reading machine type ${options.machineType} in ${zones.join(', ')}`, () =>
    readMachineType(ctx, options.machineType, zones),
  );
  discovery.machineArchitecture = machine.architecture;
  const { desired, agentConfig } = desiredHa({ options, discovery, zones, payload });
  checkMetadataBudget(desired.template.metadata);
  const plan = planHa(desired, observed);
  const checks = await runPreflight(
    ctx,
    progress,
    options,
    discovery,
    machine,
    zones,
    { ...desired.template, tags: [...(desired.template.properties.tags?.items ?? [])] },
    { addresses: findCreate(plan, 'address'), vms: findCreate(plan, 'vm') },
  );
  const commands = gcloudHaCommands(desired, observed, plan);
  const knownIps = desired.addresses.map(
    (address) => observed.addresses.find((candidate) => candidate.name === address.name)?.address ?? null,
  );
  const summary = {
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
    natIps: knownIps,
    healthChecks: { traffic: TRAFFIC_CHECK, autoheal: { ...AUTOHEAL_CHECK, initialDelaySec: AUTOHEAL_INITIAL_DELAY_SEC } },
    drainSeconds: desired.drainSeconds,
    upToDate: plan.upToDate,
    changes: [...plan.conflicts, ...plan.changes],
    gcloud: commands,
    warnings: [...HA_WARNINGS, ...checks.warnings],
  };
  if (!options.json) {
    io.stdout.write(
      `Gateway ${options.name} (HA): project ${options.project}, region ${options.region}, ${options.size} NAT VMs over ${zones.join(', ')}, network ${options.network}\n`,
    );
    io.stdout.write(
      `Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n\nPlan:\n${renderPlan(plan)}\n\n`,
    );
    for (const warning of HA_WARNINGS) io.stderr.write(`note: ${warning}\n`);
  }
  printPreflight(options, io, checks);
  if (endsBeforeApply(options, io, plan, summary, commands, checks)) return 0;
  if (plan.upToDate) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result: { natIps: knownIps, applied: [] } }, null, 2)}\n`);
    else io.stdout.write(`Up to date: nothing to do. NAT IPs ${knownIps.join(', ')}\n`);
    return 0;
  }
  const disruptive = plan.changes.filter(
    (change) => (change.kind === 'vm' && change.action === 'delete') || (change.kind === 'forwardingRule' && change.action === 'replace'),
  );
  if (disruptive.length > 0 && !options.yes) {
    const what = disruptive.map((change) => `${change.kind} ${change.name} (${change.action})`).join(', ');
    if (io.stdin.isTTY !== true)
      throw new UsageError(
        `the plan removes NAT VMs or briefly the route (${what}); no terminal to ask on, so re-run with --yes to accept`,
      );
    if (!(await confirm(io, `Apply ${what}? Connections through the affected VMs or route are cut.`))) {
      io.stderr.write('Cancelled; nothing was changed.\n');
      return 1;
    }
  }
  const result = await applyHa(ctx, desired, observed, plan, progress, {
    healthTimeoutMs: options.healthTimeoutMs,
    pollIntervalMs: options.pollIntervalMs,
  });
  if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, natIps: result.natIps, result }, null, 2)}\n`);
  else {
    io.stdout.write(
      `\nDone. NAT IPs (allow-list all of them): ${result.natIps.join(', ')}. Healthy backends: ${result.healthy.join(', ') || 'none reported yet'}.\n` +
        `VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${desired.forwardingRule.name}.\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    );
  }
  return 0;
}

async function statusHa(options: Options, io: Io, ctx: CallContext, observed: ObservedHa): Promise<number> {
  const names = haNames(options.name);
  let health: HealthStatus[] = [];
  let healthError: string | undefined;
  if (observed.backendService !== undefined && observed.mig !== undefined) {
    try {
      health = await getBackendHealth(
        ctx,
        options.region,
        names.backendService,
        `projects/${options.project}/regions/${options.region}/instanceGroups/${names.mig}`,
      );
    } catch (error) {
      healthError = (error as Error).message;
    }
  }
  const ips = natIpByVm(observed);
  const backends = await Promise.all(
    observed.vms.map(async (vm) => ({
      name: vm.name,
      zone: vm.zone,
      status: vm.status,
      template: vm.template,
      natIp: ips.get(vm.name) ?? null,
      loadBalancer:
        health.find((status) => lastSegment(status.instance) === vm.name)?.healthState ??
        (healthError === undefined ? 'UNKNOWN' : 'UNREADABLE'),
      agent: (await getGuestAttributes(ctx, vm.zone, vm.name, 'natgw/'))['natgw/health'] ?? null,
    })),
  );
  const healthy = backends.filter((backend) => backend.loadBalancer === 'HEALTHY').length;
  const routeWarnings = observed.route === undefined ? [] : routeWarningsOf(observed.route);
  const routeOk =
    observed.route !== undefined &&
    (observed.route.nextHopIlb ?? '') !== '' &&
    !routeWarnings.some((warning) => NEXT_HOP_DOWN.has(warning.code));
  // The gateway's own network, whatever --network says (status does not need it).
  const network = lastSegment(observed.backendService?.network ?? observed.route?.network) || options.network;
  const warnings =
    observed.mig === undefined ? [] : exposureWarnings(options.project, network, options.name, [names.vmTag], await listFirewalls(ctx));
  const serving = routeOk && healthy > 0;
  const rule = observed.forwardingRule;
  const firewalls = Object.entries(observed.firewalls).map(([name, firewall]) => ({ name, present: firewall !== undefined }));
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
    healthChecks: Object.entries(observed.healthChecks).map(([name, check]) => ({
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
    })),
    firewalls,
    route:
      observed.route === undefined
        ? null
        : {
            name: observed.route.name,
            destRange: observed.route.destRange,
            nextHopIlb: observed.route.nextHopIlb,
            tags: observed.route.tags,
            priority: observed.route.priority,
            warnings: routeWarnings,
          },
    warnings,
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
    ...report.healthChecks.map(
      (check) =>
        `  check     ${check.name.padEnd(32)}${check.present ? `${check.requestPath} every ${check.checkIntervalSec}s, timeout ${check.timeoutSec}s, unhealthy after ${check.unhealthyThreshold}` : absent}`,
    ),
    `  lb        ${names.forwardingRule.padEnd(32)}${rule === undefined ? absent : `${rule.IPAddress} ${rule.IPProtocol}${rule.allPorts ? ' all ports' : ''} → ${names.backendService}${report.backendService === null ? ' (backend service absent)' : ''}`}`,
    ...firewalls.map((firewall) => `  firewall  ${firewall.name.padEnd(32)}${firewall.present ? 'present' : absent}`),
    `  route     ${names.route.padEnd(32)}${observed.route === undefined ? absent : `${observed.route.destRange} → ${shortLink(observed.route.nextHopIlb ?? observed.route.nextHopInstance)}, tags ${(observed.route.tags ?? []).join(',')}, priority ${observed.route.priority}`}`,
    ...routeWarningLines(routeWarnings),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return serving ? 0 : 3;
}

async function destroyHa(options: Options, io: Io, ctx: CallContext, progress: Progress, observed: ObservedHa): Promise<number> {
  const plan = planDestroyHa(options.name, observed);
  const commands = gcloudDestroyHaCommands(options.project, options.region, observed, plan);
  const summary = {
    command: 'destroy',
    mode: 'ha',
    dryRun: options.dryRun,
    project: options.project,
    region: options.region,
    gateway: options.name,
    changes: plan.changes,
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
    () => applyDestroyHa(ctx, options.region, observed, plan, progress),
  );
}

async function status(options: Options, io: Io, ctx: CallContext): Promise<number> {
  const zones = await regionZones(ctx, options.region);
  const ha = await observeHa(ctx, options.name, options.region, zones);
  if (hasHaResources(ha, options.name)) return statusHa(options, io, ctx, ha);
  const names = resourceNames(options.name);
  const observed = await observe(ctx, { names, region: options.region, zones });
  const health =
    observed.instance === undefined
      ? undefined
      : (await getGuestAttributes(ctx, observed.instance.zone, observed.instance.name, 'natgw/'))['natgw/health'];
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
            agentVersion: observed.instance.metadata['natgw-agent-version'] ?? null,
          },
    health: health ?? null,
    route: observed.route ?? null,
    warnings,
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
    `  instance  ${names.instance.padEnd(32)}${observed.instance === undefined ? absent : `${observed.instance.status} in ${observed.instance.zone}, ${observed.instance.machineType}, internal ${observed.instance.internalIp ?? '?'}, NAT IP ${observed.instance.natIp ?? 'none'}, agent ${observed.instance.metadata['natgw-agent-version'] ?? '?'}`}`,
    `  agent     ${'health'.padEnd(32)}${health ?? (observed.instance === undefined ? absent : 'not reported')}`,
    `  route     ${names.route.padEnd(32)}${observed.route === undefined ? absent : `${observed.route.destRange} → ${shortLink(observed.route.nextHopInstance)}, tags ${observed.route.tags.join(',')}, priority ${observed.route.priority}`}`,
    ...routeWarningLines(routeWarnings),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return serving ? 0 : 3;
}

async function destroy(options: Options, io: Io, ctx: CallContext, progress: Progress): Promise<number> {
  const zones = await regionZones(ctx, options.region);
  const ha = await progress.run(`reading gateway ${options.name}`, () => observeHa(ctx, options.name, options.region, zones));
  if (hasHaResources(ha, options.name)) return destroyHa(options, io, ctx, progress, ha);
  const names = resourceNames(options.name);
  const observed: Observed = await progress.run(`reading gateway ${options.name}`, () =>
    observe(ctx, { names, region: options.region, zones }),
  );
  const plan = planDestroy(options.name, observed, {
    address: names.address,
    firewalls: [names.firewallClients, names.firewallHealth, names.firewallIap],
    instance: names.instance,
    route: names.route,
  });
  const commands = gcloudDestroyCommands(options.project, options.region, observed, plan);
  const summary = {
    command: 'destroy',
    dryRun: options.dryRun,
    project: options.project,
    region: options.region,
    gateway: options.name,
    changes: plan.changes,
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
    () => applyDestroy(ctx, options.region, observed, plan, progress),
  );
}

/** What a run needs from outside besides its streams; tests pass a fake clock and clients shared across runs. */
export interface Dependencies {
  clock?: Clock;
  connect?: typeof connectCompute;
}

export async function runProvisionCommand(command: Command, argv: string[], io: Io, dependencies: Dependencies = {}): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(command, argv, io.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout.write(USAGE);
      return 0;
    }
    throw error;
  }
  const clock = dependencies.clock ?? realClock;
  const progress = new Progress(io.stderr, () => clock.now());
  let clients: ComputeClients | undefined;
  try {
    clients = await (dependencies.connect ?? connectCompute)(options.endpoint, { requestTimeoutMs: 60_000 });
    const ctx = callContext(clients, options, progress, clock);
    switch (command) {
      case 'provision':
        return await (options.ha ? provisionHa(options, io, ctx, progress) : provision(options, io, ctx, progress));
      case 'status':
        return await status(options, io, ctx);
      case 'destroy':
        return await destroy(options, io, ctx, progress);
      default:
        throw new UsageError(`unknown command ${String(command)}`);
    }
  } catch (error) {
    if (error instanceof ProvisionError) {
      io.stderr.write(`natgw ${command}: ${error.message}\n`);
      return exitCode(error);
    }
    throw error;
  } finally {
    await clients?.close();
  }
}

export async function runProvisionCli(command: 'provision' | 'status' | 'destroy', argv: string[]): Promise<number> {
  return runProvisionCommand(command, argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
}
