// natgw provision | status | destroy: flags → read → plan → (confirm) → apply, with one clear message on failure.
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../cli/errors.js';
import { readFileSync } from 'node:fs';
import { bundleMetadata, checkMetadataBudget, loadAgentBundle, repoFile, startupScript } from './agent-bundle.js';
import { applyDestroy, applyProvision } from './apply.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { connectCompute, type ComputeClients } from './gcp/client.js';
import { getGuestAttributes } from './gcp/instances.js';
import { chooseZone, desiredState, discover, observe, regionZones } from './gateway.js';
import { gcloudCommands, gcloudDestroyCommands } from './gcloud.js';
import { resourceNames, shortLink, type Observed } from './model.js';
import { HelpRequested, parseOptions, USAGE, type Command, type Options } from './options.js';
import { plan as makePlan, planDestroy, type Change, type Plan } from './plan.js';
import { Progress, type Output } from './progress.js';

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const SINGLE_INSTANCE_WARNING =
  'single-instance mode: one NAT VM is not highly available. If it stops, VMs with the client tag lose internet egress until it is back ' +
  '(GCE does not health-check next-hop-instance routes). HA mode (--ha, several VMs behind an internal load balancer) is the answer; it comes in a later release.';

const SYMBOL: Record<Change['action'], string> = { create: '+', update: '~', replace: '±', delete: '-', unchanged: '=', conflict: '!', keep: '=' };

function renderPlan(plan: Plan): string {
  const rows = [...plan.conflicts, ...plan.changes];
  const width = Math.max(...rows.map((change) => change.name.length), 10);
  const lines: string[] = [];
  for (const change of rows) {
    lines.push(`  ${SYMBOL[change.action]} ${change.kind.padEnd(9)}${change.name.padEnd(width + 2)}${change.action}${change.note === undefined ? '' : `  (${change.note})`}`);
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

function callContext(clients: ComputeClients, options: Options, progress: Progress): CallContext {
  return {
    clients,
    project: options.project,
    retryBaseMs: options.retryBaseMs,
    maxAttempts: 6,
    operationTimeoutMs: 15 * 60_000,
    onRetry: (what, attempt, reason, delayMs) => progress.line(`  ${what}: ${reason}, retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1})`),
  };
}

async function provision(options: Options, io: Io, ctx: CallContext, progress: Progress): Promise<number> {
  // Everything local first: a bad bundle or script fails before any API call.
  const bundle = await loadAgentBundle(options.agentBundle);
  const version = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { version: string }).version;
  const payload = { 'startup-script': startupScript(), ...bundleMetadata(bundle, version) };

  const discovery = await progress.run(`reading network ${options.network} in ${options.project}/${options.region}`, () => discover(ctx, options));
  const names = resourceNames(options.name);
  const observed = await progress.run(`reading gateway ${options.name}`, () => observe(ctx, { names, region: options.region, zones: discovery.zones, natIp: options.natIp }));
  const zone = chooseZone(options, discovery.zones, observed);
  const { desired, agentConfig } = desiredState({ options, discovery, zone, payload });
  checkMetadataBudget(desired.instance.metadata);
  const plan = makePlan(desired, observed);
  const warnings = [SINGLE_INSTANCE_WARNING];
  const commands = gcloudCommands(desired, observed, plan);
  const summary = {
    command: 'provision',
    dryRun: options.dryRun,
    project: options.project,
    region: options.region,
    network: options.network,
    gateway: options.name,
    zone,
    clientTag: options.clientTag,
    sourceRanges: agentConfig.sourceRanges,
    upToDate: plan.upToDate,
    changes: [...plan.conflicts, ...plan.changes],
    gcloud: commands,
    warnings,
  };

  if (!options.json) {
    io.stdout.write(`Gateway ${options.name}: project ${options.project}, region ${options.region} (VM in ${zone}), network ${options.network}\n`);
    io.stdout.write(`Clients: VMs tagged '${options.clientTag}' in ${agentConfig.sourceRanges.join(', ')}\n\nPlan:\n${renderPlan(plan)}\n\n`);
    io.stderr.write(`warning: ${SINGLE_INSTANCE_WARNING}\n`);
  }
  if (plan.conflicts.length > 0) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, error: 'conflicts' }, null, 2)}\n`);
    throw new ProvisionError(`cannot proceed, nothing was changed:\n${plan.conflicts.map((change) => `  ${change.kind} ${change.name}: ${change.note}`).join('\n')}`);
  }
  if (options.dryRun) {
    if (options.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else io.stdout.write(plan.upToDate ? 'Up to date: nothing to do.\n' : `Equivalent gcloud commands (dry run, nothing was changed):\n${commands.map((line) => `  ${line}`).join('\n')}\n`);
    return 0;
  }
  if (plan.upToDate) {
    if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result: { natIp: observed.address?.address, applied: [] } }, null, 2)}\n`);
    else io.stdout.write(`Up to date: nothing to do. NAT IP ${observed.address?.address ?? '?'}\n`);
    return 0;
  }
  const replacing = plan.changes.filter((change) => change.action === 'replace' && change.kind === 'instance');
  if (replacing.length > 0 && !options.yes) {
    if (io.stdin.isTTY !== true) throw new UsageError('the plan replaces the NAT VM (clients lose egress meanwhile); no terminal to ask on, so re-run with --yes to accept');
    if (!(await confirm(io, 'Replace the NAT VM? Clients lose internet egress until the new VM is healthy.'))) {
      io.stderr.write('Cancelled; nothing was changed.\n');
      return 1;
    }
  }
  const result = await applyProvision(ctx, desired, observed, plan, progress, { healthTimeoutMs: options.healthTimeoutMs, pollIntervalMs: options.pollIntervalMs });
  if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result }, null, 2)}\n`);
  else {
    io.stdout.write(
      `\nDone. NAT IP ${result.natIp}. VMs without an external IP that carry the network tag '${options.clientTag}' now reach the internet through ${options.name}.\n` +
        `Opt a VM in: gcloud compute instances add-tags VM --zone ZONE --tags ${options.clientTag} --project ${options.project}\n`,
    );
  }
  return 0;
}

async function status(options: Options, io: Io, ctx: CallContext): Promise<number> {
  const zones = await regionZones(ctx, options.region);
  const names = resourceNames(options.name);
  const observed = await observe(ctx, { names, region: options.region, zones });
  const health = observed.instance === undefined ? undefined : (await getGuestAttributes(ctx, observed.instance.zone, observed.instance.name, 'natgw/'))['natgw/health'];
  const serving = observed.route !== undefined && health === 'ok' && observed.instance?.status === 'RUNNING';
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
    instance: observed.instance === undefined ? null : { name: observed.instance.name, zone: observed.instance.zone, status: observed.instance.status, machineType: observed.instance.machineType, internalIp: observed.instance.internalIp ?? null, natIp: observed.instance.natIp ?? null, agentVersion: observed.instance.metadata['natgw-agent-version'] ?? null },
    health: health ?? null,
    route: observed.route ?? null,
  };
  if (options.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return serving ? 0 : 3;
  }
  const absent = 'absent';
  const lines = [
    `Gateway ${options.name} (project ${options.project}, region ${options.region}): ${serving ? 'serving' : observed.instance === undefined && observed.route === undefined ? 'not provisioned' : 'NOT serving'}`,
    `  address   ${names.address.padEnd(32)}${observed.address === undefined ? absent : `${observed.address.address} (${observed.address.status})`}`,
    ...firewalls.map((firewall) => `  firewall  ${firewall.name.padEnd(32)}${firewall.present ? `${firewall.sourceRanges?.join(',')} → ${firewall.allowed?.map((rule) => rule.IPProtocol + (rule.ports ? `:${rule.ports.join('/')}` : '')).join(',')}` : absent}`),
    `  instance  ${names.instance.padEnd(32)}${observed.instance === undefined ? absent : `${observed.instance.status} in ${observed.instance.zone}, ${observed.instance.machineType}, internal ${observed.instance.internalIp ?? '?'}, NAT IP ${observed.instance.natIp ?? 'none'}, agent ${observed.instance.metadata['natgw-agent-version'] ?? '?'}`}`,
    `  agent     ${'health'.padEnd(32)}${health ?? (observed.instance === undefined ? absent : 'not reported')}`,
    `  route     ${names.route.padEnd(32)}${observed.route === undefined ? absent : `${observed.route.destRange} → ${shortLink(observed.route.nextHopInstance)}, tags ${observed.route.tags.join(',')}, priority ${observed.route.priority}`}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return serving ? 0 : 3;
}

async function destroy(options: Options, io: Io, ctx: CallContext, progress: Progress): Promise<number> {
  const zones = await regionZones(ctx, options.region);
  const names = resourceNames(options.name);
  const observed: Observed = await progress.run(`reading gateway ${options.name}`, () => observe(ctx, { names, region: options.region, zones }));
  const plan = planDestroy(options.name, observed, { address: names.address, firewalls: [names.firewallClients, names.firewallHealth, names.firewallIap], instance: names.instance, route: names.route });
  const commands = gcloudDestroyCommands(options.project, options.region, observed, plan);
  const summary = { command: 'destroy', dryRun: options.dryRun, project: options.project, region: options.region, gateway: options.name, changes: plan.changes, gcloud: commands };
  const deletions = plan.changes.filter((change) => change.action === 'delete');
  if (!options.json) io.stdout.write(`Gateway ${options.name} (project ${options.project}, region ${options.region}):\n${plan.changes.length === 0 ? '  nothing of it exists' : renderPlan(plan)}\n`);
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
    if (io.stdin.isTTY !== true) throw new UsageError('refusing to destroy without confirmation: there is no terminal to ask on; re-run with --yes');
    if (!(await confirm(io, `Delete these ${deletions.length} resources? VMs tagged for this gateway lose internet egress.`))) {
      io.stderr.write('Cancelled; nothing was changed.\n');
      return 1;
    }
  }
  const applied = await applyDestroy(ctx, options.region, observed, plan, progress);
  if (options.json) io.stdout.write(`${JSON.stringify({ ...summary, result: { applied } }, null, 2)}\n`);
  else io.stdout.write(`Destroyed ${applied.length} resources of ${options.name}.\n`);
  return 0;
}

export async function runProvisionCommand(command: Command, argv: string[], io: Io): Promise<number> {
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
  const progress = new Progress(io.stderr);
  let clients: ComputeClients | undefined;
  try {
    clients = await connectCompute(options.endpoint, { requestTimeoutMs: 60_000 });
    const ctx = callContext(clients, options, progress);
    switch (command) {
      case 'provision':
        return await provision(options, io, ctx, progress);
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
      return 1;
    }
    throw error;
  } finally {
    await clients?.close();
  }
}

export async function runProvisionCli(command: 'provision' | 'status' | 'destroy', argv: string[]): Promise<number> {
  return runProvisionCommand(command, argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
}
