// What plain and stateful HA share about the two NAT VMs of stateful HA: their member keys, the names of the extra
// resources, and what observing them returns. A leaf, so the HA planner and the stateful planner can both use it.
import type { InstanceGroupManager, listManagedInstances, PerInstanceConfig } from '../gcp/instance-groups.js';
import type { BackendService, ForwardingRule } from '../gcp/load-balancing.js';
import { lastSegment, shortLink, type ObservedAddress, type ObservedFirewall } from '../model.js';

export const MEMBERS = ['a', 'b'] as const;
export type Member = (typeof MEMBERS)[number];

export interface StatefulNames {
  natAddress: string;
  syncAddress: Record<Member, string>;
  mig: Record<Member, string>;
  nlb: string;
  natForwardingRule: string;
  firewallSync: string;
  firewallReturn: string;
}

export function statefulNames(gateway: string): StatefulNames {
  return {
    natAddress: `${gateway}-nat-ip`,
    syncAddress: { a: `${gateway}-sync-a`, b: `${gateway}-sync-b` },
    mig: { a: `${gateway}-mig-a`, b: `${gateway}-mig-b` },
    nlb: `${gateway}-nlb`,
    natForwardingRule: `${gateway}-nat-fr`,
    firewallSync: `${gateway}-sync`,
    firewallReturn: `${gateway}-return`,
  };
}

export interface ObservedVm {
  name: string;
  zone: string;
  link: string;
  status: string;
  template: string;
}

export interface ObservedMember {
  mig?: InstanceGroupManager;
  configs: PerInstanceConfig[];
  vms: ObservedVm[];
}

export interface ObservedStateful {
  natAddress?: ObservedAddress;
  syncAddresses: Record<Member, ObservedAddress | undefined>;
  firewalls: Record<string, ObservedFirewall | undefined>;
  members: Record<Member, ObservedMember>;
  nlb?: BackendService;
  natForwardingRule?: ForwardingRule;
}

export const observedVms = (managed: Awaited<ReturnType<typeof listManagedInstances>>): ObservedVm[] =>
  managed
    .map((vm) => ({
      name: lastSegment(vm.instance),
      zone: /zones\/([^/]+)\//.exec(vm.instance ?? '')?.[1] ?? '',
      link: shortLink(vm.instance),
      status: String(vm.instanceStatus ?? ''),
      template: lastSegment(vm.version?.instanceTemplate),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
