// Instance templates (global), named by a hash of their properties: a new one per change, the old deleted after.
import { quote } from '../gcloud-shared.js';
import { deleteInstanceTemplate } from '../gcp/templates.js';
import type { KindModule } from './kind.js';

export const template: KindModule<'template'> = {
  deleting: (_, change) => `deleting instance template ${change.name}`,
  remove: (where, change) => deleteInstanceTemplate(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute instance-templates delete ${change.name} --project ${quote(where.project)} --quiet`],
};
