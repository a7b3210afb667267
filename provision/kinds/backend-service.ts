// Regional backend services: the internal load balancer (next hop), and stateful HA's external one (the NAT IP).
import { quote } from '../gcloud-shared.js';
import { deleteBackendService } from '../gcp/load-balancing.js';
import type { KindModule } from './kind.js';

export const backendService: KindModule<'backendService'> = {
  deleting: (_, change) => `deleting backend service ${change.name}`,
  remove: (where, change) => deleteBackendService(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute backend-services delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};
