// The standalone NAT VM of single mode (zonal).
import { quote } from '../gcloud-shared.js';
import { deleteInstance } from '../gcp/instances.js';
import type { KindModule } from './kind.js';

export const instance: KindModule<'instance'> = {
  deleting: (where, change) => `deleting instance ${change.name} in ${where.instanceZone}`,
  remove: (where, change) => deleteInstance(where.ctx, where.instanceZone, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute instances delete ${change.name} --project ${quote(where.project)} --zone ${where.instanceZone} --quiet`,
  ],
};
