// natgw-test: cli-lab — natgw lab demo refuses to start while another CLI lab runs.
// The README's first command, as a newcomer runs it.
import t from 'tap';
import { Lab, repoRoot } from '../lab/lab.js';
import { runCommand } from '../agent/runner.js';

t.test('natgw lab demo runs end to end and leaves nothing behind', async (t) => {
  const result = await runCommand('run the demo', 'node', [`${repoRoot()}/bin/natgw.js`, 'lab', 'demo'], {
    okExitCodes: [1, 2],
    timeoutMs: 240_000,
  });
  t.equal(result.exitCode, 0, result.stdout + result.stderr);
  t.match(
    result.stdout,
    /app-1 \(tagged\) → internet 198\.51\.100\.10: TCP seen from 203\.0\.113\.\d+, UDP seen from 203\.0\.113\.\d+, ICMP answered/,
  );
  t.match(result.stdout, /app-2 \(untagged\) → internet: no way out/);
  t.match(result.stdout, /Prometheus \(in 'monitoring'\) after app-1 downloaded 20 MB: .*ingress 2\d\.\d MB/);
  t.match(
    result.stdout,
    /measured by Prometheus http:\/\/127\.0\.0\.1:9090: increase over the last 1m/,
    'natgw cost read the traffic from the real Prometheus in the lab',
  );
  t.match(result.stdout, /Cloud NAT {2,}\$\/month/);
  t.match(result.stdout, /natgw cost: us-central1, 1 VMs, [\d,.]+ GiB\/month processed/);
  t.match(result.stdout, /natgw destroy … --yes {3}\(exit 0\): app-1 → internet: no way out again/);
  t.match(result.stdout, /natgw lab exec natgw-us-central1 -- systemctl is-system-running\n {2}running\n/, 'the NAT VM is a real guest');
  t.match(
    result.stdout,
    /natgw-agent\.service active, main PID \d+ \(parent PID 1\), ProtectSystem=strict, StateDirectory=natgw/,
    'the agent runs under the unit the startup script wrote, in its sandbox',
  );
  t.match(result.stdout, /journalctl -u google-startup-scripts\.service {3}\(last lines\)\n(?: {2}.*\n)*? {2}.*natgw-startup: done\n/);
  t.match(result.stdout, /demo passed/);
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
