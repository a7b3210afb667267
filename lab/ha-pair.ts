// Plain HA as users get it: `natgw provision --ha` (the real provisioner) against the lab's Compute API, a regional
// group of two NAT VMs behind the internal passthrough load balancer that is the clients' next hop, each VM with its own
// NAT IP and no state shared. The failover measurement (lab/failover.ts, runHaFailover) runs on it.
import type { HaFailoverSetup } from './failover.js';
import { LAB_PROJECT, LAB_REGION, type LabCloud } from './gce.js';
import { bothHealthy, GATEWAY, loadBalancerMovesOf, natVmsOf, provisionedLab } from './stateful/provisioned-pair.js';

const MIGS = [`${GATEWAY}-mig`];
const INTERNAL_LB = `${GATEWAY}-fr`;

/** The interval of the health check provision gave the internal load balancer, as the lab's Compute API holds it. */
function trafficCheckIntervalMs(cloud: LabCloud): number {
  const at = (link: unknown) => cloud.store.getByPath(String(link ?? '').replace(/^https:\/\/[^/]+\/compute\/v1\//, ''));
  const rule = cloud.store.get(LAB_PROJECT, `regions/${LAB_REGION}`, 'forwardingRules', INTERNAL_LB);
  const service = at(rule?.backendService);
  const check = at(((service?.healthChecks as unknown[] | undefined) ?? [])[0]);
  const intervalMs = Number(check?.checkIntervalSec) * 1000;
  if (!(intervalMs > 0)) throw new Error(`no health check with an interval behind ${INTERNAL_LB}`);
  return intervalMs;
}

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
      healthCheckCycleMs: trafficCheckIntervalMs(cloud),
      close: () => cloud.close(),
    };
  });
}
