// The steps every provisioning mode goes through, in one place: agent payload, preflight, plan checks and dry run,
// confirmation, destroy. A mode (single/, ha/) supplies observe → desired → plan → apply; this drives it.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../common/errors.js';
import { bundleMetadata, loadAgentBundle, repoFile, startupScript } from './agent-bundle.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import type { Discovery } from './gateway.js';
import type { ObservedHa } from './ha/gateway.js';
import type { ImageFamily } from './model.js';
import type { Options } from './options.js';
import type { Change, Plan } from './plan.js';
import type { Output, Progress } from './progress.js';
import { preflight, type MachineCheck, type PreflightReport, type QuotaNeeds } from './preflight.js';

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

/** What status and destroy read before they know the mode: the region's zones and whatever HA resources exist. */
export interface Found {
  zones: string[];
  ha: ObservedHa;
}

/** One provisioning mode: provision (observe → desired → plan → preflight → confirm → apply → health), status, destroy. */
export interface Mode {
  provision(run: Run): Promise<number>;
  status(run: Run, found: Found): Promise<number>;
  destroy(run: Run, found: Found): Promise<number>;
}

/** The preflight of either mode: they differ in zones, VM shape and what the plan adds. */
export function runPreflight(
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

export const findCreate = (plan: Plan, kind: Change['kind']) =>
  plan.changes.filter((change) => change.kind === kind && change.action === 'create').length;

export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
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
