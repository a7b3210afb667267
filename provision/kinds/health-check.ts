// Regional HTTP health checks: the load balancer's (/healthz) and autohealing's (/livez). Created, patched and
// rendered from the change's `want` for HA and stateful HA alike.
import type { CreatedThisRun } from '../apply-shared.js';
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteHealthCheck, insertHealthCheck, patchHealthCheck, type HealthCheck } from '../gcp/health-checks.js';
import type { DesiredHealthCheck } from '../model.js';
import type { Change, ChangeOf } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

declare module '../plan.js' {
  interface Wants {
    healthCheck: DesiredHealthCheck;
  }
}

export const healthCheck: KindModule<'healthCheck'> = {
  deleting: (_, change) => `deleting health check ${change.name}`,
  remove: (where, change) => deleteHealthCheck(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute health-checks delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

export const healthCheckBody = (check: DesiredHealthCheck): HealthCheck => ({
  name: check.name,
  description: check.description,
  type: 'HTTP',
  checkIntervalSec: check.checkIntervalSec,
  timeoutSec: check.timeoutSec,
  healthyThreshold: check.healthyThreshold,
  unhealthyThreshold: check.unhealthyThreshold,
  httpHealthCheck: { port: check.port, requestPath: check.requestPath, portSpecification: 'USE_FIXED_PORT', proxyHeader: 'NONE' },
});

/** Creates or patches one health check as planned; one this run creates is deleted again if the run is rolled back. */
export async function applyHealthCheckChange(
  ctx: CallContext,
  region: string,
  change: ChangeOf<'healthCheck'>,
  progress: Progress,
  record: (change: Change) => void,
  created: CreatedThisRun,
): Promise<void> {
  if (change.action === 'create') {
    const want = change.want;
    await progress.run(`creating health check ${want.name} (${want.requestPath} every ${want.checkIntervalSec}s)`, () =>
      insertHealthCheck(ctx, region, healthCheckBody(want)),
    );
    created.add(`health check ${want.name}`, () => deleteHealthCheck(ctx, region, want.name));
  } else if (change.action === 'update') {
    const want = change.want;
    await progress.run(`updating health check ${want.name}`, () => patchHealthCheck(ctx, region, want.name, healthCheckBody(want)));
  } else return;
  record(change);
}

/** The gcloud command of a health check to create or update; `p` and `r` are the --project and --region flags. */
export function healthCheckCommands(change: ChangeOf<'healthCheck'>, p: string, r: string): string[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const check = change.want;
  const verb = change.action;
  return [
    `gcloud compute health-checks ${verb} http ${check.name} ${p} ${r} --port ${check.port} --request-path ${quote(check.requestPath)} --check-interval ${check.checkIntervalSec}s ` +
      `--timeout ${check.timeoutSec}s --healthy-threshold ${check.healthyThreshold} --unhealthy-threshold ${check.unhealthyThreshold}${verb === 'create' ? ` --description ${quote(check.description)}` : ''}`,
  ];
}
