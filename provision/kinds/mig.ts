// Regional managed instance groups: HA's one, stateful HA's two; deleting one deletes its VMs.
import { quote } from '../gcloud-shared.js';
import { deleteMig } from '../gcp/instance-groups.js';
import type { KindModule } from './kind.js';

export const mig: KindModule<'mig'> = {
  deleting: (where, change) => `deleting managed instance group ${change.name} and its ${where.vmsOf(change.name)} VMs`,
  remove: (where, change) => deleteMig(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute instance-groups managed delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};
