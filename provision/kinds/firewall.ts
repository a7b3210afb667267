// Firewall rules (global): owned through the description marker, as they have no labels.
import { quote } from '../gcloud-shared.js';
import { deleteFirewall } from '../gcp/firewalls.js';
import type { KindModule } from './kind.js';

export const firewall: KindModule<'firewall'> = {
  deleting: (_, change) => `deleting firewall rule ${change.name}`,
  remove: (where, change) => deleteFirewall(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute firewall-rules delete ${change.name} --project ${quote(where.project)} --quiet`],
};
