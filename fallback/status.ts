// What `natgw status` adds for the Cloud NAT fallback: which path serves the client tag, and since when, read from the
// routes alone, so it is right whether or not a watcher runs. One hook in provision/cli.ts calls it around any mode's
// status.
import type { Run } from '../provision/pipeline.js';
import { demotedRouteName } from '../provision/kinds/route.js';
import { DEMOTED_ROUTE_PRIORITY, pathReport, readGatewayRoutes, type PathReport } from './routes.js';

export interface ServingPathReport {
  /** natgw: its route is in place; fallback: demoted, the default route and Cloud NAT serve; none: no natgw route. */
  path: 'natgw' | 'fallback' | 'none';
  since: string | null;
}

export function servingPathReport(report: PathReport): ServingPathReport {
  return { path: report.path ?? 'none', since: report.since?.toISOString() ?? null };
}

export function servingPathLine(gateway: string, report: PathReport): string | undefined {
  if (report.path === 'fallback')
    return `  path      ${'serving clients'.padEnd(32)}Cloud NAT fallback since ${report.since?.toISOString() ?? '(unknown)'} (route ${demotedRouteName(gateway)}, priority ${DEMOTED_ROUTE_PRIORITY}: natgw's route, demoted by the fallback watcher)`;
  if (report.path === 'natgw') return `  path      ${'serving clients'.padEnd(32)}natgw`;
  return undefined;
}

/**
 * Runs a mode's status and adds the serving path: a line after its text, or `servingPath` in its JSON. The mode's
 * exit code stands (on the fallback natgw is not serving, and says so).
 */
export async function withServingPath(run: Run, status: (run: Run) => Promise<number>): Promise<number> {
  const report = pathReport(await readGatewayRoutes(run.ctx, run.options.name));
  if (!run.options.json) {
    const code = await status(run);
    const line = servingPathLine(run.options.name, report);
    if (line !== undefined) run.io.stdout.write(`${line}\n`);
    return code;
  }
  let captured = '';
  const code = await status({ ...run, io: { ...run.io, stdout: { write: (text: string) => (captured += text) } } });
  const parsed = JSON.parse(captured) as Record<string, unknown>;
  run.io.stdout.write(`${JSON.stringify({ ...parsed, servingPath: servingPathReport(report) }, null, 2)}\n`);
  return code;
}
