// Plain HA as users get it: `natgw provision --ha` (the real provisioner) against the lab's Compute API, a regional
// group of two NAT VMs behind the internal passthrough load balancer that is the clients' next hop, each VM with its own
// NAT IP and no state shared. The failover measurement (lab/failover.ts, runHaFailover) runs on it.
import type { HaFailoverSetup } from './failover.js';
import {
  bothHealthy,
  GATEWAY,
  loadBalancerMovesOf,
  natVmsOf,
  provisionedLab,
  trafficCheckIntervalMs,
} from './stateful/provisioned-pair.js';

const MIGS = [`${GATEWAY}-mig`];
const INTERNAL_LB = `${GATEWAY}-fr`;

export interface ProvisionedHaPair extends HaFailoverSetup {
  close(): Promise<void>;
}

/** Builds the lab, provisions `--ha --size 2` into it with two tagged client VMs, and waits until both NAT VMs are healthy. */
export function buildProvisionedHaPair(options: { say?: (line: string) => void } = {}): Promise<ProvisionedHaPair> {
  const say = options.say ?? (() => undefined);
  return provisionedLab(['--ha', '--size', '2'], say, async ({ cloud, client, bulkClient }) => {
    const vms = await bothHealthy(cloud, MIGS, [INTERNAL_LB], 120_000);
    // Healthy is the checker's view; the load balancer routes by it only after its programming delay.
    await cloud.lab.whenActive(INTERNAL_LB, (active) => vms.every((vm) => active.includes(vm.ip)), 10_000);
    say(`provisioned: NAT VMs ${vms.map((vm) => `${vm.name} ${vm.ip} (NAT IP ${vm.externalIp ?? '?'})`).join(', ')}, both healthy`);
    return {
      lab: cloud.lab,
      natVms: () => natVmsOf(cloud, MIGS),
      client,
      bulkClient,
      activeBackends: async () => cloud.lab.activeBackendsOf(INTERNAL_LB),
      failHost: (vm) => cloud.lab.failHost(vm.name),
      loadBalancerMoves: loadBalancerMovesOf(cloud, [INTERNAL_LB]),
      healthCheckCycleMs: trafficCheckIntervalMs(cloud, INTERNAL_LB),
      close: () => cloud.close(),
    };
  });
}
