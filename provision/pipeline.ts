// The steps every provisioning mode goes through, in one place: agent payload, preflight, plan checks and dry run,
// confirmation, destroy. A mode (single/, ha/) supplies observe → desired → plan → apply; this drives it.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../common/errors.js';
import { bundleMetadata, loadAgentBundle, repoFile, startupScript } from './agent-bundle.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { discover, type Discovery } from './gateway.js';
import type { Found } from './found.js';

export type { Found } from './found.js';
import type { ImageFamily } from './model.js';
import type { Options } from './options.js';
import type { Change, Plan } from './plan.js';
import type { Output, Progress } from './progress.js';
import { preflight, readMachineType, type PreflightReport, type QuotaNeeds } from './preflight.js';
import { printPreflight } from './report.js';
import {
  applyFallback,
  applyFallbackFirst,
  desiredFallback,
  fallbackCommands,
  observeFallback,
  planFallback,
  withFallbackPlan,
} from './fallback.js';
import type { DesiredRouteOf } from './kinds/route.js';

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** One command's run: what every step of a mode needs. */
export interface Run {
  options: Options;
  io: Io;
  ctx: CallContext;
  progress: Progress;
}

/**
 * One provisioning mode: provision (observe → desired → plan → preflight → confirm → apply → health), status, destroy.
 * The CLI holds a list of modes and asks each whether it is the one: it knows none of them by name.
 */
export interface Mode {
  /** Whether `provision` with these options builds this mode's gateway. */
  chosenBy(options: Options): boolean;
  /** Whether what status and destroy found is this mode's gateway (asked most specific mode first). */
  runs(found: Found, gateway: string): boolean;
  provision(run: Run): Promise<number>;
  status(run: Run, found: Found): Promise<number>;
  destroy(run: Run, found: Found): Promise<number>;
}

/** The VM a mode's plan would create, as the preflight checks it. */
export interface PreflightVm {
  image: ImageFamily;
  bootDiskType: string;
  tags: string[];
}

/**
 * What a mode supplies to the run-up of its provision: how it reads its gateway, where its VMs go, what it wants.
 * The order is fixed by planAndPreflight(); each step may throw a UsageError or ProvisionError, and nothing has been
 * changed yet when one does.
 */
export interface PlanSteps<Observed, Zones extends string[], Built extends { plan: Plan }> {
  /** Checks of the options against the region, made before the gateway is read. */
  checkOptions?(discovery: Discovery): void;
  observe(discovery: Discovery): Promise<Observed>;
  /** Refuses to provision over a gateway that another mode runs: switching modes is not done in place. */
  refuseOtherMode?(): Promise<void>;
  zones(discovery: Discovery, observed: Observed): Zones;
  /** Desired state (with its metadata budget checked) and plan; stateful HA calls it again once its addresses exist. */
  build(observed: Observed, inputs: PlanInputs<Zones>): Built;
  preflight(built: Built): { vm: PreflightVm; needs: QuotaNeeds };
}

export interface PlanInputs<Zones extends string[]> {
  discovery: Discovery;
  zones: Zones;
  payload: Record<string, string>;
}

export interface Planned<Observed, Zones extends string[]> extends PlanInputs<Zones> {
  observed: Observed;
  checks: PreflightReport;
}

/** The run-up every mode's provision shares: agent payload, network, gateway, machine type, plan, preflight. */
export async function planAndPreflight<Observed, Zones extends string[], Built extends { plan: Plan }>(
  run: Run,
  steps: PlanSteps<Observed, Zones, Built>,
): Promise<Planned<Observed, Zones> & Built> {
  const { options, ctx, progress } = run;
  // Everything local first: a bad bundle or script fails before any API call.
  const payload = await agentPayload(options);
  const discovery = await progress.run(`reading network ${options.network} in ${options.project}/${options.region}`, () =>
    discover(ctx, options),
  );
  steps.checkOptions?.(discovery);
  const observed = await progress.run(`reading gateway ${options.name}`, () => steps.observe(discovery));
  await steps.refuseOtherMode?.();
  const zones = steps.zones(discovery, observed);
  const machine = await progress.run(`reading machine type ${options.machineType} in ${zones.join(', ')}`, () =>
    readMachineType(ctx, options.machineType, zones),
  );
  discovery.machineArchitecture = machine.architecture;
  const built = steps.build(observed, { discovery, zones, payload });
  const { vm, needs } = steps.preflight(built);
  const checks = await progress.run('preflight: machine type, image, disk type, quotas, firewall exposure', () =>
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
  return { ...built, payload, discovery, observed, zones, checks };
}

/**
 * What a mode supplies to `provision` besides its plan steps; provisionWith() runs them in the one order every mode
 * shares: plan and preflight, report (text or JSON), dry run or up to date, consent to disruption, apply, result.
 */
/** What every mode's executor reports it did. */
export interface Applied {
  applied: { kind: string; name: string; action: string }[];
}

export interface Provisioning<Observed, Zones extends string[], Built extends { plan: Plan }, Result extends Applied> {
  steps: PlanSteps<Observed, Zones, Built>;
  /** The tagged client route the mode wants: --fallback's probe route takes its next hop and priority. */
  clientRoute(planned: Planned<Observed, Zones> & Built): DesiredRouteOf;
  /** The gcloud commands equivalent to the plan. */
  gcloud(planned: Planned<Observed, Zones> & Built): string[];
  /** The facts of the run as --json prints them (the result is added once there is one). */
  summary(planned: Planned<Observed, Zones> & Built, commands: string[]): object;
  /** In text mode: what stdout says before the plan is acted on (plan table included), and notes for stderr. */
  intro(planned: Planned<Observed, Zones> & Built): { stdout: string; stderr: string[] };
  upToDate(planned: Planned<Observed, Zones> & Built, summary: object): Outcome;
  /** Changes that cut traffic, and how to ask about them. */
  disruption(plan: Plan): { changes: Change[]; texts: (what: string) => { refusal: string; question: string } };
  apply(planned: Planned<Observed, Zones> & Built): Promise<Result>;
  done(planned: Planned<Observed, Zones> & Built, result: Result, summary: object): Outcome;
}

/** A run's last word, in either output format. */
export interface Outcome {
  json: object;
  text: string;
}

export async function provisionWith<Observed, Zones extends string[], Built extends { plan: Plan }, Result extends Applied>(
  run: Run,
  mode: Provisioning<Observed, Zones, Built, Result>,
): Promise<number> {
  const { options, io, ctx, progress } = run;
  const planned = await planAndPreflight(run, mode.steps);
  // --fallback adds its own changes to what the mode shows and reports; the mode's renderer and executor keep seeing
  // only the mode's plan (its route changes are found by kind), and the fallback is applied around them.
  const fallback =
    options.fallback === undefined ? undefined : await planFallbackOf(run, planned.discovery, mode.clientRoute(planned), planned.plan);
  const shown = fallback === undefined ? planned : { ...planned, plan: withFallbackPlan(planned.plan, fallback) };
  const commands = [
    ...mode.gcloud(planned),
    ...(fallback === undefined ? [] : fallbackCommands(fallback, options.project, options.region)),
  ];
  const summary = mode.summary(shown, commands);
  const tell = (outcome: Outcome) => io.stdout.write(options.json ? `${JSON.stringify(outcome.json, null, 2)}\n` : outcome.text);
  if (!options.json) {
    const intro = mode.intro(shown);
    io.stdout.write(intro.stdout);
    for (const line of intro.stderr) io.stderr.write(`${line}\n`);
  }
  printPreflight(options, io, planned.checks);
  if (endsBeforeApply(options, io, shown.plan, summary, commands, planned.checks)) return 0;
  if (shown.plan.upToDate) {
    tell(mode.upToDate(shown, summary));
    return 0;
  }
  const { changes, texts } = mode.disruption(shown.plan);
  if (!(await acceptDisruption(options, io, changes, texts))) return 1;
  if (fallback !== undefined) await applyFallbackFirst(ctx, fallback, progress);
  const result = await mode.apply(planned);
  if (fallback !== undefined)
    await applyFallback(ctx, options.region, fallback, progress, ({ kind, name, action }) => result.applied.push({ kind, name, action }));
  tell(mode.done(shown, result, summary));
  return 0;
}

/** The fallback's plan for this run: its resources read, wanted for the mode's client route, compared. */
async function planFallbackOf(run: Run, discovery: Discovery, clientRoute: DesiredRouteOf, modePlan: Plan): Promise<Plan> {
  const { options, ctx, progress } = run;
  const observed = await progress.run(`reading the Cloud NAT fallback of ${options.name}`, () =>
    observeFallback(ctx, options.name, options.region),
  );
  const clientRouteAction = modePlan.changes.find((change) => change.kind === 'route' && change.name === clientRoute.name)?.action;
  return planFallback(options.name, desiredFallback(options, discovery, clientRoute), observed, clientRouteAction);
}

export const findCreate = (plan: Plan, kind: Change['kind']) =>
  plan.changes.filter((change) => change.kind === kind && change.action === 'create').length;

async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Asks before applying changes that cut traffic (none: nothing to ask); --yes accepts; without a terminal to ask on
 * it refuses. False when the user says no (and nothing was changed).
 */
export async function acceptDisruption(
  options: Options,
  io: Io,
  disruptive: Change[],
  texts: (what: string) => { refusal: string; question: string },
): Promise<boolean> {
  if (disruptive.length === 0 || options.yes) return true;
  const { refusal, question } = texts(disruptive.map((change) => `${change.kind} ${change.name} (${change.action})`).join(', '));
  if (io.stdin.isTTY !== true) throw new UsageError(refusal);
  if (await confirm(io, question)) return true;
  io.stderr.write('Cancelled; nothing was changed.\n');
  return false;
}

export async function agentPayload(options: Options): Promise<Record<string, string>> {
  const bundle = await loadAgentBundle(options.agentBundle);
  const version = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { version: string }).version;
  return { 'startup-script': startupScript(), ...bundleMetadata(bundle, version) };
}

/** True when a dry run has been reported and nothing is to be applied; throws on conflicts and preflight problems. */
export function endsBeforeApply(
  options: Options,
  io: Io,
  plan: Plan,
  summary: object,
  commands: string[],
  checks: PreflightReport,
): boolean {
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

export async function confirmAndDestroy(
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
