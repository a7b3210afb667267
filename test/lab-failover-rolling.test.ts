// natgw-test: exclusive — it measures pauses during a rolling replacement.
// Planned replacement in stateful mode: `natgw provision --ha --stateful` run again with another machine type replaces
// both NAT VMs (the standby first, then the active, each only once its successor holds the flows) while 100
// long-lived flows run; none may be lost.
import t from 'tap';
import { failoverToolsMissing, runFailover } from '../lab/failover.js';
import { Lab } from '../lab/lab.js';
import { buildProvisionedPair } from '../lab/stateful/provisioned-pair.js';

const FLOWS = 100;
const NEW_MACHINE_TYPE = 'e2-medium';

t.test('a rolling replacement of both NAT VMs loses none of 100 long-lived flows', { skip: failoverToolsMissing() }, async (t) => {
  const pair = await buildProvisionedPair({ sync: true, say: (line) => t.comment(line) });
  t.teardown(() => pair.close());
  const before = pair.natVms().map((vm) => vm.name);
  const instanceIds = () =>
    pair.cloud.store
      .all('instances')
      .filter((entry) => before.includes(entry.name))
      .map((entry) => `${entry.name}:${String(entry.resource.id)}:${String(entry.resource.machineType).split('/').at(-1)}`);
  const idsBefore = instanceIds();
  let replacing: { exitCode: number; stdout: string; stderr: string } | undefined;
  const report = await runFailover(pair, {
    flows: FLOWS,
    say: (line) => t.comment(line),
    disruption: {
      describe: () => `natgw provision --ha --stateful --machine-type ${NEW_MACHINE_TYPE} ran (exit ${replacing?.exitCode})`,
      run: async () => {
        replacing = await pair.provision(['--machine-type', NEW_MACHINE_TYPE]);
        await pair.cloud.settled();
      },
    },
  });
  t.comment(`the replacing provision's output:\n${replacing?.stdout}${replacing?.stderr}`);
  t.comment(JSON.stringify(report));
  // CI shows a failed assertion's name but may cut the comments around it: the name carries provision's own reason.
  const provisionFailure =
    replacing?.exitCode === 0
      ? ''
      : `: ${(replacing?.stderr ?? '')
          .split('\n')
          .filter((line) => /natgw provision:|its agent reports/.test(line))
          .map((line) => line.trim())
          .join(' | ')}`;
  t.equal(replacing?.exitCode, 0, `the replacing provision succeeded${provisionFailure}`);
  const idsAfter = instanceIds();
  t.equal(idsAfter.length, 2, 'two NAT VMs after the replacement');
  t.ok(
    idsAfter.every((id) => !idsBefore.includes(id) && id.endsWith(`:${NEW_MACHINE_TYPE}`)),
    `both NAT VMs were replaced with ${NEW_MACHINE_TYPE} (${idsBefore.join(', ')} → ${idsAfter.join(', ')})`,
  );
  if (replacing?.exitCode !== 0) {
    // What the API knew of each NAT VM when provision gave up: its natgw/* guest attributes (health, sync: the check
    // it failed and why) and the lab's lines on its serial port (the guest's boot, or why it did not boot).
    for (const entry of pair.cloud.store.all('instances').filter((candidate) => before.includes(candidate.name))) {
      const zone = entry.scope.replace(/^zones\//, '');
      const attributes = Object.fromEntries(pair.cloud.store.guestAttributesOf(entry.project, zone, entry.name));
      const serial = pair.cloud.store
        .serialOutputOf(entry.project, zone, entry.name)
        .split('\n')
        .filter((line) => line.includes(' lab: '))
        .slice(-8);
      t.comment(`${entry.name} (${String(entry.resource.status)}): guest attributes ${JSON.stringify(attributes)}\n${serial.join('\n')}`);
    }
  }
  if (replacing?.exitCode !== 0 || report.survived < FLOWS || report.resets > 0) {
    // What each recreated VM's agent saw of its resync (how many of the peer's flows it held when it called itself
    // resynced), and how many translations each kernel holds now: a lost flow names the VM that lacked it.
    for (const vm of pair.natVms()) {
      // Diagnostics only: a guest that cannot answer must not hide the assertions below.
      try {
        const journal = await pair.cloud.lab.exec(vm.name, ['journalctl', '--unit=natgw-agent.service', '--output=cat', '--no-pager'], {
          okExitCodes: [1],
        });
        const events = journal.stdout
          .split('\n')
          .filter((line) => /resync|flows_adopted|role|drain|conntrackd|health/.test(line))
          .slice(-30);
        const count = await pair.cloud.lab.exec(vm.name, ['conntrack', '-C'], { okExitCodes: [1] });
        const failed = await pair.cloud.lab.exec(vm.name, ['systemctl', 'list-units', '--failed', '--no-legend', '--plain'], {
          okExitCodes: [1],
        });
        // A flow's packets dropped as invalid (one direction's window unseen) or unsolicited at the NAT IP say which VM lost it.
        const drops = journal.stdout.split('\n').filter((line) => line.includes('"event":"dropped"'));
        t.comment(
          `${vm.name}: ${count.stdout.trim()} conntrack entries; failed units: ${failed.stdout.trim() || 'none'}; its agent's sync events:\n${events.join('\n')}\n${drops.length} drops logged${drops.length === 0 ? '' : `, the last ones:\n${drops.slice(-4).join('\n')}`}`,
        );
      } catch (error) {
        t.comment(`${vm.name}: no diagnostics (${(error as Error).message})`);
      }
    }
  }
  t.equal(report.survived, FLOWS, `${report.survived} of ${FLOWS} flows came through the replacement`);
  t.equal(report.resets, 0, 'no flow was reset');
  t.equal(report.serverResets, 0, 'the echo server saw no reset either');
  t.comment(
    `longest pause ${report.maxGapMs} ms; ${report.newFlows.failed} of ${report.newFlows.attempts} new connections failed meanwhile`,
  );
  // Last, so the summary at the end of CI's log keeps it: who sent the first RST, and from which NAT port.
  if (report.resetEvidence !== undefined)
    t.comment(`the reset flows' packets (times from the disruption):\n${report.resetEvidence.join('\n')}`);
});

t.test('the lab is gone afterwards', async (t) => {
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
