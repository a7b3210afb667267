// What every resource kind supplies, so that adding a kind is its own module plus the modes that use it: the table in
// index.ts is typed over every Kind, and the compiler refuses one without its module.
import type { CallContext } from '../gcp/call.js';
import type { Kind } from '../model.js';
import type { ChangeOf } from '../plan.js';

/** Where a gateway's resources live, as deleting and rendering them needs it. */
export interface Where {
  ctx: CallContext;
  project: string;
  region: string;
  /** The standalone NAT VM's zone (single mode, or its leftover under HA): instances are zonal, the rest is not. */
  instanceZone: string;
  /** How many VMs a managed instance group takes with it when deleted: said before the long wait, not after. */
  vmsOf(mig: string): number;
}

export interface KindModule<K extends Kind> {
  /** What the progress line says while one is deleted. */
  deleting(where: Where, change: ChangeOf<K>): string;
  /** Deletes one; undefined for a kind that goes only with its owner (a VM with its group). */
  remove: ((where: Where, change: ChangeOf<K>) => Promise<unknown>) | undefined;
  /** The gcloud equivalent of `remove`, for dry runs; none for a kind that goes with its owner. */
  gcloudDelete(where: Omit<Where, 'ctx' | 'vmsOf'>, change: ChangeOf<K>): string[];
}

export type KindTable = { [K in Kind]: KindModule<K> };
