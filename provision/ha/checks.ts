// The load balancers' traffic health checks, one per HA flavour: pure data, so that the lab's CLI can check its
// --failure-delay-ms against them without loading the provisioner.

export interface CheckTiming {
  checkIntervalSec: number;
  timeoutSec: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  requestPath: string;
}

/**
 * Traffic health (load balancer): the agent's /healthz, which includes the egress probe and draining. A dead or
 * draining VM is out after unhealthyThreshold failed probes: ≈ 2 × 2 s (+ up to 2 s timeout) ≈ 4–6 s, inside the
 * 10 s failover target together with load-balancer programming.
 */
export const TRAFFIC_CHECK: CheckTiming = {
  checkIntervalSec: 2,
  timeoutSec: 2,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  requestPath: '/healthz',
};

/**
 * GCE's minimums (1 s interval and timeout, unhealthy after 1): detection is the failover gap, so as fast as GCE allows.
 * The agent holds each probe 850 ms before it answers, so a probe is in flight 85 % of the time and a host that dies is
 * seen within 1.15 s instead of up to 2 s: soon enough for the clients' TCP retransmission at ~1.4 s to get through
 * (docs/stateful-ha.md). 150 ms are left for the answer to beat the 1 s timeout; a late answer costs one needless
 * failover, which the synced state makes harmless. Healthy after 2 keeps a flapping VM from taking the traffic back at once.
 */
export const STATEFUL_TRAFFIC_CHECK: CheckTiming = {
  checkIntervalSec: 1,
  timeoutSec: 1,
  healthyThreshold: 2,
  unhealthyThreshold: 1,
  requestPath: '/healthz/hold/850',
};
