// Reserved addresses (regional): the NAT IPs (external), and stateful HA's sync IPs (internal, in the VMs' subnet).
// What to reserve and its gcloud come from the change's `want`; each mode says on its progress line what the address
// is for, and single mode labels an address it already has.
import { addressCreateCommands, labelText, quote } from '../gcloud-shared.js';
import { deleteAddress, type Address } from '../gcp/addresses.js';
import { lastSegment } from '../model.js';
import type { ChangeOf } from '../plan.js';
import type { KindModule } from './kind.js';

export interface DesiredAddressOf {
  name: string;
  labels: Record<string, string>;
  description: string;
  /** An internal address in this subnetwork (stateful HA's sync IPs); external (a NAT IP) without. */
  subnetwork?: string;
}

declare module '../plan.js' {
  interface Wants {
    address: DesiredAddressOf;
  }
}

export const address: KindModule<'address'> = {
  deleting: (_, change) => `releasing address ${change.name}`,
  remove: (where, change) => deleteAddress(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute addresses delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

/** What addresses.insert gets for an address to reserve. */
export function addressBody(want: DesiredAddressOf): Address & { name: string } {
  if (want.subnetwork === undefined)
    return { name: want.name, description: want.description, labels: want.labels, addressType: 'EXTERNAL', networkTier: 'PREMIUM' };
  return {
    name: want.name,
    description: want.description,
    labels: want.labels,
    addressType: 'INTERNAL',
    purpose: 'GCE_ENDPOINT',
    subnetwork: want.subnetwork,
  };
}

/** The gcloud commands of an address to reserve or relabel; `p` is the --project flag. */
export function addressCommands(change: ChangeOf<'address'>, p: string, region: string): string[] {
  if (change.action === 'update')
    return [`gcloud compute addresses update ${change.name} ${p} --region ${region} --update-labels ${labelText(change.want.labels)}`];
  if (change.action !== 'create') return [];
  const want = change.want;
  if (want.subnetwork === undefined) return addressCreateCommands(want, p, region);
  return [
    `gcloud compute addresses create ${want.name} ${p} --region ${region} --subnet ${lastSegment(want.subnetwork)} --purpose GCE_ENDPOINT --description ${quote(want.description)}`,
    `gcloud compute addresses update ${want.name} ${p} --region ${region} --update-labels ${labelText(want.labels)}`,
  ];
}
