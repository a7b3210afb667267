// Reserved addresses (regional): the NAT IPs, and stateful HA's internal sync IPs.
import { quote } from '../gcloud-shared.js';
import { deleteAddress } from '../gcp/addresses.js';
import type { KindModule } from './kind.js';

export const address: KindModule<'address'> = {
  deleting: (_, change) => `releasing address ${change.name}`,
  remove: (where, change) => deleteAddress(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute addresses delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};
