// natgw-test: exclusive — it measures pauses under 10 Gbit/s of bulk traffic.
// Failover under load: iperf3 pushes bulk traffic through the active NAT VM while it dies; the long-lived flows must
// still carry on, and the report states what the state sync cost on the wire.
import t from 'tap';
import { failoverCli, failoverToolsMissing } from '../lab/failover.js';
import { Lab } from '../lab/lab.js';
import { assertFlowsCameThrough } from './helpers/failover.js';

const FLOWS = 100;

t.test(
  'natgw lab failover --bulk: the flows survive with iperf3 bulk traffic going on',
  { skip: failoverToolsMissing({ bulk: true }) },
  async (t) => {
    const { exitCode, report, output } = await failoverCli(['--flows', String(FLOWS), '--bulk']);
    if (!t.equal(exitCode, 0, 'natgw lab failover exits 0')) t.comment(output);
    if (report === undefined) return t.fail(`no JSON report: ${output}`);
    t.comment(JSON.stringify(report));
    const bulk = report.bulk;
    if (bulk === undefined) return t.fail('no bulk result in the report');
    t.equal(bulk.error, undefined, 'the bulk transfer itself came through the failure');
    t.ok(bulk.bitsPerSecond > 0, `iperf3 moved ${(bulk.bitsPerSecond / 1e6).toFixed(0)} Mbit/s on average`);
    assertFlowsCameThrough(t, report, FLOWS);
    t.ok(
      report.syncBandwidthBps > 0,
      `state sync used ${report.syncBandwidthBps} B/s (${report.syncBytes.sent + report.syncBytes.received} B in ${report.syncBytes.seconds} s)`,
    );
    t.same(Lab.leftovers(), [], 'no lab namespace left');
  },
);
