// Regional HTTP health checks: the load balancer's (/healthz) and autohealing's (/livez).
import { quote } from '../gcloud-shared.js';
import { deleteHealthCheck } from '../gcp/health-checks.js';
import type { KindModule } from './kind.js';

export const healthCheck: KindModule<'healthCheck'> = {
  deleting: (_, change) => `deleting health check ${change.name}`,
  remove: (where, change) => deleteHealthCheck(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute health-checks delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};
