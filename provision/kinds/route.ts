// The 0.0.0.0/0 route for the client tag (global): what makes the gateway carry traffic, so destroyed first.
import { quote } from '../gcloud-shared.js';
import { deleteRoute } from '../gcp/routes.js';
import type { KindModule } from './kind.js';

export const route: KindModule<'route'> = {
  deleting: (_, change) => `deleting route ${change.name}`,
  remove: (where, change) => deleteRoute(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute routes delete ${change.name} --project ${quote(where.project)} --quiet`],
};
