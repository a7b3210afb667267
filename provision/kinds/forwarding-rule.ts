// Regional forwarding rules: the route's next hop, and stateful HA's NAT IP in front of the external load balancer.
import { quote } from '../gcloud-shared.js';
import { deleteForwardingRule } from '../gcp/load-balancing.js';
import type { KindModule } from './kind.js';

export const forwardingRule: KindModule<'forwardingRule'> = {
  deleting: (_, change) => `deleting forwarding rule ${change.name}`,
  remove: (where, change) => deleteForwardingRule(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute forwarding-rules delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};
