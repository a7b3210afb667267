// What every `natgw lab failover` test with state sync on asserts about its report (test/lab-failover*.test.ts).
import type { Test } from 'tap';
import { slowestMoveMs, type FailoverReport } from '../../lab/failover.js';

export function assertFlowsCameThrough(t: Test, report: FailoverReport, flows: number): void {
  t.equal(report.flows, flows);
  t.equal(report.standbyHeld, flows, 'the standby held every translation before the failure');
  t.ok(report.survived >= Math.ceil(flows * 0.99), `${report.survived} of ${report.flows} flows survived (≥ 99 %)`);
  t.equal(report.resets, 0, 'no flow was reset');
  t.equal(report.serverResets, 0, 'the echo server saw no reset either');
  t.not(report.newFlowsRecoveredMs, null, 'new connections work again');
  t.ok((report.newFlowsRecoveredMs ?? Infinity) <= 5000, `new flows work ${report.newFlowsRecoveredMs} ms after the failure (≤ 5 s)`);
  // TCP retransmits ~0.2, 0.6, 1.4, 3.0, 6.2 s after a loss: a flow that needs nothing but the move resumes by the first
  // retransmission after it, so no pause exceeds twice the move (plus the 100 ms exchange interval and slack).
  const move = slowestMoveMs(report);
  t.not(
    move,
    null,
    `the load balancers moved to the survivor (${JSON.stringify(report.loadBalancersMovedAfterMs ?? report.clientsMovedAfterMs)})`,
  );
  // The probe in flight when the host died times out within 1.15 s (held 850 ms of the 1 s timeout, agent/app.ts); the
  // internal load balancer acts 200 ms later in the lab, and the measurement looks every 100 ms. Without the hold this
  // is up to 2.3 s, half the time over.
  t.ok(
    report.clientsMovedAfterMs !== null && report.clientsMovedAfterMs <= 1150 + 200 + 100 + 400,
    `the clients moved ${report.clientsMovedAfterMs} ms after the failure: within the held probe's timeout, the load balancer's programming delay, the look's interval and 400 ms of slack`,
  );
  // A flow through the failed VM cannot resume before the clients are moved to the survivor: a shorter longest pause
  // means the failed VM did not carry the flows, and the run measured nothing.
  t.ok(
    report.clientsMovedAfterMs !== null && report.maxGapMs >= report.clientsMovedAfterMs,
    `the flows paused ${report.maxGapMs} ms, at least until the clients moved (${report.clientsMovedAfterMs} ms): they went through the VM that failed`,
  );
  t.ok(
    report.maxGapMs <= 2 * (move ?? 0) + 500,
    `the longest pause, ${report.maxGapMs} ms, is within the first retransmission after the move (${move} ms); issue 14's target ≤ 3000 ms ${report.maxGapMs <= 3000 ? 'met' : 'missed'}`,
  );
}
