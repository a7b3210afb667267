// natgw-test: exclusive — it measures pauses and load-balancer moves in milliseconds.
// Issue 14's bar, as a user checks it: `natgw lab failover --flows 100 --json` kills the active NAT VM the way a host
// failure does while 100 long-lived TCP flows exchange a sequence number every 100 ms; the flows must carry on.
// The longest pause is reported with whether it met what the health-check timing allows (docs/lab-failover.md).
import t from 'tap';
import { failoverCli, failoverToolsMissing } from '../lab/failover.js';
import { Lab } from '../lab/lab.js';
import { assertFlowsCameThrough } from './helpers/failover.js';

const FLOWS = 100;

t.test('natgw lab failover --flows 100: the flows survive the active NAT VM dying', { skip: failoverToolsMissing() }, async (t) => {
  const { exitCode, report, output } = await failoverCli(['--flows', String(FLOWS)]);
  if (!t.equal(exitCode, 0, 'natgw lab failover exits 0')) t.comment(output);
  if (report === undefined) return t.fail(`no JSON report: ${output}`);
  t.comment(JSON.stringify(report));
  assertFlowsCameThrough(t, report, FLOWS);
  t.ok(report.syncBytes.sent > 0, `the active sent ${report.syncBytes.sent} bytes of state sync`);
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
