// natgw-test: exclusive — it measures pauses and recovery in milliseconds.
// What plain HA (`natgw provision --ha`, no state sync) does to established flows, as a user measures it:
// `natgw lab failover --mode ha --flows 100 --json`. The load balancer spreads the flows over both NAT VMs, each
// translating to its own NAT IP; one fails like a host. Its flows are lost (GCE keeps an established TCP flow on its
// unhealthy backend by default, and no other VM has its translation or its IP); the survivor's carry on untouched.
import t from 'tap';
import { failoverCli, failoverToolsMissing, type HaFailoverReport } from '../lab/failover.js';
import { Lab } from '../lab/lab.js';

const FLOWS = 100;

t.test(
  'natgw lab failover --mode ha: the failed NAT VM takes its flows with it, the survivor keeps its own',
  { skip: failoverToolsMissing({ mode: 'ha' }) },
  async (t) => {
    const { exitCode, report, output } = await failoverCli<HaFailoverReport>(['--mode', 'ha', '--flows', String(FLOWS)]);
    if (!t.equal(exitCode, 0, 'natgw lab failover --mode ha exits 0')) t.comment(output);
    if (report === undefined) return t.fail(`no JSON report: ${output}`);
    t.comment(JSON.stringify(report));
    t.equal(report.mode, 'ha');
    t.equal(report.flows, FLOWS);
    t.equal(report.unplaced, 0, "every flow was in one NAT VM's kernel table before the failure");
    // Without flows on both sides the run could not tell a lost flow from a kept one.
    t.ok(
      report.onFailedVm.flows > 0 && report.onSurvivor.flows > 0,
      `the load balancer spread the flows: ${report.onFailedVm.flows} through ${report.failed}, ${report.onSurvivor.flows} through ${report.survivor}`,
    );
    t.equal(report.onFailedVm.flows + report.onSurvivor.flows, FLOWS);
    t.equal(report.onFailedVm.survived, 0, `none of the failed VM's flows survived (${JSON.stringify(report.onFailedVm.failures)})`);
    t.equal(report.onSurvivor.survived, report.onSurvivor.flows, 'every flow through the survivor carried on');
    t.equal(report.survived, report.onSurvivor.flows, 'the survivors are exactly the flows that went through the survivor');
    t.not(report.clientsMovedAfterMs, null, 'the load balancer stopped sending new connections to the failed VM');
    t.not(report.newFlowsRecoveredMs, null, 'new connections work again');
    t.same(Lab.leftovers(), [], 'no lab namespace left');
  },
);
