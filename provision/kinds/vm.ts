// A VM of a managed instance group: created through its group with a per-instance config that pins its address,
// recreated and scaled away by the HA executors, and deleted with its group on destroy (no delete of its own here).
import type { PerInstanceConfig } from '../gcp/instance-groups.js';
import type { VmCreate } from '../plan.js';
import type { KindModule } from './kind.js';

export const vm: KindModule<'vm'> = {
  deleting: (_, change) => `deleting VM ${change.name} with its group`,
  remove: undefined,
  gcloudDelete: () => [],
};

const addressLink = (project: string, region: string, address: string) => `projects/${project}/regions/${region}/addresses/${address}`;

/** The per-instance config that creates the VM with its address: kept when the VM is recreated, never deleted with it. */
export function perInstanceConfig(project: string, region: string, change: VmCreate): PerInstanceConfig {
  const nic0 = { nic0: { autoDelete: 'NEVER', ipAddress: { address: addressLink(project, region, change.payload.address) } } };
  return { name: change.name, preservedState: change.payload.ip === 'internal' ? { internalIPs: nic0 } : { externalIPs: nic0 } };
}

/** `gcloud … create-instance` for a VM to create; `p`, `r`: the --project and --region flags. */
export const vmCreateCommand = (change: VmCreate, p: string, r: string, project: string, region: string) =>
  `gcloud compute instance-groups managed create-instance ${change.payload.mig} ${p} ${r} --instance ${change.name} ` +
  `--stateful-${change.payload.ip}-ip interface-name=nic0,address=${addressLink(project, region, change.payload.address)},auto-delete=never`;
