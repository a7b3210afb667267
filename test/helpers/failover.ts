// What every `natgw lab failover` test with state sync on asserts about its report (test/lab-failover*.test.ts).
// Counts and the order of events are asserted; how many milliseconds something took on this box is reported, with
// whether it met the design's figure, never asserted (the box's load decides it, not the design).
import type { Test } from 'tap';
import { slowestMoveMs, type FailoverReport } from '../../lab/failover.js';

/** The exchange interval of the flows and of the new-connection loop (lab/failover.ts), the resolution of every figure. */
const LOOK_MS = 100;
/** The new-connection loop's timeout: an attempt started just before the move fails this much later. */
const CONNECT_TIMEOUT_MS = 1000;

export function assertFlowsCameThrough(t: Test, report: FailoverReport, flows: number): void {
  t.equal(report.flows, flows);
  t.equal(report.standbyHeld, flows, 'the standby held every translation before the failure');
  t.ok(report.survived >= Math.ceil(flows * 0.99), `${report.survived} of ${report.flows} flows survived (≥ 99 %)`);
  t.equal(report.resets, 0, 'no flow was reset');
  t.equal(report.serverResets, 0, 'the echo server saw no reset either');
  const move = slowestMoveMs(report);
  if (
    !t.not(
      move,
      null,
      `the load balancers moved to the survivor (${JSON.stringify(report.loadBalancersMovedAfterMs ?? report.clientsMovedAfterMs)})`,
    ) ||
    move === null ||
    report.clientsMovedAfterMs === null
  )
    return;
  const clientsMoved = report.clientsMovedAfterMs;
  t.not(report.newFlowsRecoveredMs, null, 'new connections work again');
  // A flow through the failed VM cannot resume before the clients are moved to the survivor: a shorter longest pause
  // means the failed VM did not carry the flows, and the run measured nothing.
  t.ok(
    report.maxGapMs >= clientsMoved,
    `the flows paused ${report.maxGapMs} ms, at least until the clients moved (${clientsMoved} ms): they went through the VM that failed`,
  );
  // Figures, not verdicts: how fast the lab's health checker acted, and how soon after its decision the namespaces'
  // routes changed, depend on this box's load (a loaded 2-core box once paused the flows 6.9 s after a 0.5 s move). The
  // design's numbers (docs/ha.md): the probe in flight when the host dies times out within 1.15 s (held 850 ms of the
  // 1 s timeout, agent/app.ts) and the internal load balancer acts 200 ms later in the lab; TCP retransmits ~0.2, 0.6,
  // 1.4, 3.0, 6.2 s after a loss, so a flow that needs nothing but the move resumes by the first retransmission after
  // it (≤ twice the move, plus the exchange interval); new connections work one connection timeout after the move.
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  t.comment(
    [
      `failover figures: clients moved ${clientsMoved} ms after the failure (design ≤ ${1150 + 200 + LOOK_MS} ms: ${met(clientsMoved <= 1150 + 200 + LOOK_MS)})`,
      `load balancers ${move} ms`,
      `new connections ${report.newFlowsRecoveredMs} ms (≤ move + ${CONNECT_TIMEOUT_MS} ms: ${met((report.newFlowsRecoveredMs ?? Infinity) <= move + CONNECT_TIMEOUT_MS)}; target ≤ 5000 ms: ${met((report.newFlowsRecoveredMs ?? Infinity) <= 5000)})`,
      `longest pause ${report.maxGapMs} ms (first retransmission after the move, ≤ ${2 * move + 5 * LOOK_MS} ms: ${met(report.maxGapMs <= 2 * move + 5 * LOOK_MS)}; issue 14's target ≤ 3000 ms: ${met(report.maxGapMs <= 3000)})`,
    ].join('; '),
  );
}
