// The one reporter of both modes: the plan table, route warnings and preflight notes, as text for people; the same
// facts go out as JSON by the commands.
import { NEXT_HOP_DOWN } from './model.js';
import type { Options } from './options.js';
import type { Change, Plan } from './plan.js';
import type { PreflightReport } from './preflight.js';
import type { Output } from './progress.js';

/** GCE's own words on a route that sends nowhere; NEXT_HOP_* ones mean clients have no egress through it. */
export const routeWarningLines = (warnings: { code: string; message: string }[]) =>
  warnings.map(
    (warning) =>
      `  route     WARNING ${warning.code}: ${warning.message}${NEXT_HOP_DOWN.has(warning.code) ? ' (clients of this route have no internet egress)' : ''}`,
  );

const SYMBOL: Record<Change['action'], string> = {
  create: '+',
  update: '~',
  replace: '±',
  delete: '-',
  unchanged: '=',
  conflict: '!',
  keep: '=',
};

export function renderPlan(plan: Plan): string {
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

/** Warnings and notes on stderr (not in --json mode: they are in the JSON). */
export function printPreflight(options: Options, io: { stderr: Output }, report: PreflightReport): void {
  if (options.json) return;
  for (const warning of report.warnings) io.stderr.write(`warning: ${warning}\n`);
  for (const note of report.notes) io.stderr.write(`note: ${note}\n`);
}
