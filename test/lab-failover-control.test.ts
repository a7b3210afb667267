// natgw-test: exclusive — it measures a failover against its health-check timing.
// The control for test/lab-failover.test.ts: the same failure with state sync off must lose the flows, or the
// measurement could not tell a working failover from a broken one.
import t from 'tap';
import { failoverCli, failoverToolsMissing } from '../lab/failover.js';
import { Lab } from '../lab/lab.js';

const FLOWS = 100;

t.test('natgw lab failover --no-sync: without state sync the flows are lost', { skip: failoverToolsMissing() }, async (t) => {
  const { exitCode, report, output } = await failoverCli(['--flows', String(FLOWS), '--no-sync']);
  if (!t.equal(exitCode, 0, 'natgw lab failover exits 0')) t.comment(output);
  if (report === undefined) return t.fail(`no JSON report: ${output}`);
  t.comment(JSON.stringify(report));
  t.equal(report.sync, false);
  t.equal(report.flows, FLOWS);
  t.equal(report.standbyHeld, 0, 'the standby knew no translation');
  t.ok(report.survived <= 5, `only ${report.survived} of ${report.flows} flows survived without sync (at most a handful)`);
  t.not(report.newFlowsRecoveredMs, null, 'new connections still work through the survivor');
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
