// What `natgw status` adds for the Cloud NAT fallback: which path serves the client tag, and since when, read from the
// routes alone, so it is right whether or not a watcher runs. Each mode's status adds it from the routes readGateway
// (provision/found.ts) already read: natgw's route and its demoted copy.
import { demotedRouteName } from '../provision/kinds/route.js';
import { DEMOTED_ROUTE_PRIORITY, pathReport, type GatewayRoutes, type PathReport } from './routes.js';

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
 * The serving path as a mode's status shows it: `report` for its JSON (`servingPath`), `lines` after its text. The
 * mode's exit code does not change with it (on the fallback natgw is not serving, and says so).
 */
export function servingPath(gateway: string, routes: GatewayRoutes): { report: ServingPathReport; lines: string[] } {
  const path = pathReport(routes);
  const line = servingPathLine(gateway, path);
  return { report: servingPathReport(path), lines: line === undefined ? [] : [line] };
}
