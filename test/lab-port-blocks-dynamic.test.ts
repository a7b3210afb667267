// Dynamic port allocation on the real kernel: a VM's block doubles while its flows fill it, up to maxPortsPerVm, and
// goes back to minPortsPerVm once its flows are gone for releaseAfterIdleSeconds.
import path from 'node:path';
import t from 'tap';
import { INTERNET, repoRoot } from '../lab/lab.js';
import { holdUdpFlows } from './helpers/udp-flows.js';
import { NAT_EXTERNAL_IP, NAT_IP, baseConfig, createNatLab, startHealthyAgent, type NatLab } from './helpers/nat-lab.js';

const VM = '10.10.0.11';

/** The size of the VM's current block, as the NAT map holds it. */
const mappedSize = async (natLab: NatLab) => {
  const escaped = VM.replace(/\./g, '\\.');
  const match = new RegExp(`${escaped} : ${NAT_IP.replace(/\./g, '\\.')} \\. (\\d+)-(\\d+)`).exec(await natLab.natTable());
  return match === null ? 0 : Number(match[2]) - Number(match[1]) + 1;
};

t.test('dynamic port blocks grow from 64 to 1024 under load and shrink back after idle', async (t) => {
  const natLab = await createNatLab(t, { withOutsider: false });
  const agent = await startHealthyAgent(
    natLab,
    baseConfig({
      portAllocation: { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 1024, releaseAfterIdleSeconds: 3 },
      timeouts: { udp: 8 },
      perVmMetrics: { minIntervalSeconds: 1 },
      logging: 'none',
    }),
  );
  t.equal(
    await natLab.udpWhoami('private'),
    NAT_EXTERNAL_IP,
    "the client's first packet goes out (from the overflow ports) before it has a block",
  );
  await natLab.waitUntil('the VM has its first block', async () => (await mappedSize(natLab)) > 0);
  t.equal(await mappedSize(natLab), 64, 'it starts with minPortsPerVm');

  const opened = async () => (await natLab.metrics()).get('natgw_connections_opened_total') ?? Number.NaN;
  const openedBefore = await opened();
  // A burst over the block: 300 one-packet UDP flows to one destination, 5 ms apart, none re-sent. A block of 64 holds
  // 64 of them; the rest must leave from the overflow ports (before, the NAT failed them silently until a table sample
  // grew the block), and the first that did not fit makes the agent double the block at once.
  const burst = await natLab.lab.exec(
    'private',
    [
      'node',
      path.join(repoRoot(), 'dist/lab/bin/first-packet-burst.js'),
      INTERNET.server,
      String(INTERNET.udpPort),
      String(INTERNET.httpPort),
      '300',
      '0',
      VM,
    ],
    { timeoutMs: 60_000 },
  );
  const [result] = JSON.parse(burst.stdout) as { address: string; udp: number }[];
  t.equal(result?.udp, 300, `every one of 300 one-packet flows over a block of 64 was answered (${result?.udp})`);
  // The flows over the block leave through the spill chain, which counts them as new too (its own anonymous counter):
  // counted only where they are admitted into the block, the metric would rise by about 64. Not exactly 300: a burst
  // socket may get the source port of an earlier flow whose entry is still there, and that flow is not new.
  const openedByBurst = (await opened()) - openedBefore;
  t.ok(openedByBurst >= 290, `the burst's flows were counted as new connections, spilled ones too (${openedByBurst} of 300)`);
  await natLab.waitUntil('the block grew because a connection did not fit', async () =>
    agent.text.includes('"why":"a connection did not fit the smaller block"'),
  );
  t.ok((await mappedSize(natLab)) >= 128, `the block grew at the first spill: ${await mappedSize(natLab)} ports`);
  const drops = [...(await natLab.metrics())].filter(([name, value]) => name.startsWith('natgw_dropped_packets_total') && value > 0);
  t.same(drops, [], 'nothing was dropped');

  // One long-lived flow keeps the VM a client (an idle VM loses its block altogether): what goes is the extra ports.
  const keepalive = natLab.lab.spawn(
    'private',
    [
      'node',
      '-e',
      `const s = require('node:dgram').createSocket('udp4'); const stopAt = Date.now() + 150000;
       const send = () => { if (Date.now() < stopAt) { s.send('keepalive', ${INTERNET.udpPort}, '${INTERNET.server}'); setTimeout(send, 1000); } else s.close(); };
       s.bind(0, send);`,
    ],
    'keepalive flow',
  );
  t.teardown(() => keepalive.stop('SIGTERM'));
  // The load's flows keep sending until the block has grown: a flow that stopped once answered would let its entry
  // expire (udp: 8 s) before a late table sample counted it, and the block would stop growing short of 1024 on a
  // busy box, with every flow answered.
  const flows = holdUdpFlows(natLab, 'private', 1000, 90_000);
  const sizes = new Set<number>();
  const deadline = Date.now() + 60_000;
  while (!(sizes.has(1024) && flows.answered() === 1000) && Date.now() < deadline) {
    sizes.add(await mappedSize(natLab));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answered = await flows.stop();
  const grew = sizes.has(1024);
  t.ok(grew, `the block grew to 1024 (sizes seen: ${[...sizes].sort((a, b) => a - b).join(', ')})`);
  t.ok(answered >= 990, `the flows got through as it grew: ${answered} of 1000 answered`);
  if (!grew)
    t.comment(
      `the agent's port-block events:\n${agent.text
        .split('\n')
        .filter((line) => /port_block|collector/.test(line))
        .slice(-30)
        .join('\n')}`,
    );

  await natLab.waitUntil("the block is back to 64 after the load's flows expired", async () => (await mappedSize(natLab)) === 64, 60_000);
  t.match(agent.text, /"event":"port_block_released"/, 'the larger blocks were released, and logged');
  t.equal(await natLab.udpWhoami('private'), '203.0.113.10', 'the VM still has a way out');
  await agent.stop('SIGTERM');
});
