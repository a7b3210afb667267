// The README's first command, as a newcomer runs it.
import t from 'tap';
import { Lab, repoRoot } from '../lab/lab.js';
import { runCommand } from '../agent/runner.js';

t.test('natgw lab demo runs end to end and leaves nothing behind', async (t) => {
  const result = await runCommand('run the demo', 'node', [`${repoRoot()}/bin/natgw.js`, 'lab', 'demo'], { okExitCodes: [1, 2] });
  t.equal(result.exitCode, 0, result.stdout + result.stderr);
  t.match(result.stdout, /TCP seen from 203\.0\.113\.10, UDP seen from 203\.0\.113\.10, ICMP answered/);
  t.match(result.stdout, /other-team \(outside sourceRanges\) → internet: dropped and counted/);
  t.match(result.stdout, /demo passed/);
  t.same(Lab.leftovers(), [], 'no lab namespace left');
});
