// natgw-test: exclusive — it asserts that a burst of 2,000 new flows is translated and attributed while the agent learns; next to another lab the learner fell seconds behind and the overflow ports named no VM for 578 of them.
// Port blocks never drop a packet (issue 23): 50 client addresses each open 30 one-packet UDP flows 5 ms apart and 10
// TCP connections right after the agent starts, and again after every block was released. Every UDP packet is
// answered (none is re-sent), no TCP SYN is retransmitted, and every translated port — in a block or in the shared
// overflow range — names the right VM, in static and in dynamic mode.
import path from 'node:path';
import t, { type Test } from 'tap';
import { parseConntrackLine } from '../agent/collectors/conntrack-table.js';
import { OVERFLOW_PORTS } from '../agent/config.js';
import { whoHeldAll, type PortBlockRecord } from '../agent/port-blocks.js';
import { INTERNET, repoRoot } from '../lab/lab.js';
import { LISTEN, NAT_EXTERNAL_IP, NAT_IP, createNatLab, startHealthyAgent, type NatLab } from './helpers/nat-lab.js';

const CLIENTS = Array.from({ length: 50 }, (_, index) => `10.10.0.${100 + index}`);
const UDP_FLOWS = 30;
const TCP_CONNECTIONS = 10;

interface PortTable {
  blocks: PortBlockRecord[];
  history: PortBlockRecord[];
  overflow: PortBlockRecord[];
}

const portTable = async (natLab: NatLab): Promise<PortTable> =>
  JSON.parse((await natLab.lab.exec('nat', ['curl', '-sS', '-m', '10', `http://${LISTEN}/port-blocks`])).stdout);

/** TCP segments the clients' kernel retransmitted so far (the namespace's own /proc/net/snmp). */
const retransmittedSegments = async (natLab: NatLab) => {
  const { stdout } = await natLab.lab.exec('many', ['cat', '/proc/net/snmp']);
  const [header, values] = stdout.split('\n').filter((line) => line.startsWith('Tcp:'));
  const names = header?.split(/\s+/) ?? [];
  return Number(values?.split(/\s+/)[names.indexOf('RetransSegs')] ?? Number.NaN);
};

/** Every translated flow of the clients now in conntrack: VM, NAT port, destination. */
const translatedFlows = async (natLab: NatLab) => {
  const flows: { vm: string; port: number; destination: string }[] = [];
  for (const protocol of ['udp', 'tcp'] as const) {
    const { stdout } = await natLab.lab.exec('nat', ['conntrack', '-L', '-p', protocol, '--src-nat'], { okExitCodes: [1] });
    for (const entry of stdout.split('\n').map(parseConntrackLine)) {
      if (entry === undefined || !CLIENTS.includes(entry.original.src) || entry.reply.dport === undefined) continue;
      flows.push({ vm: entry.original.src, port: Number(entry.reply.dport), destination: `${entry.original.dst}:${entry.original.dport}` });
    }
  }
  return flows;
};

async function burst(t: Test, natLab: NatLab, label: string): Promise<void> {
  const retransmittedBefore = await retransmittedSegments(natLab);
  const { stdout } = await natLab.lab.exec(
    'many',
    [
      'node',
      path.join(repoRoot(), 'dist/lab/bin/first-packet-burst.js'),
      INTERNET.server,
      String(INTERNET.udpPort),
      String(INTERNET.httpPort),
      String(UDP_FLOWS),
      String(TCP_CONNECTIONS),
      ...CLIENTS,
    ],
    { timeoutMs: 60_000 },
  );
  const results = JSON.parse(stdout) as { address: string; udp: number; tcp: number }[];
  const udp = results.reduce((sum, result) => sum + result.udp, 0);
  const tcp = results.reduce((sum, result) => sum + result.tcp, 0);
  t.equal(udp, CLIENTS.length * UDP_FLOWS, `${label}: every one-packet UDP flow was answered (${udp})`, {
    short: results.filter((result) => result.udp < UDP_FLOWS),
  });
  t.equal(tcp, CLIENTS.length * TCP_CONNECTIONS, `${label}: every TCP connection completed (${tcp})`);
  const retransmitted = (await retransmittedSegments(natLab)) - retransmittedBefore;
  t.equal(retransmitted, 0, `${label}: no TCP segment was retransmitted (a refused SYN would be, after 1 s)`);

  const flows = await translatedFlows(natLab);
  const overflow = flows.filter((flow) => flow.port >= OVERFLOW_PORTS.first);
  // Short timeouts let some entries go before they are listed: what is asserted is every flow that is seen.
  t.ok(flows.length > 0, `${label}: ${flows.length} flows still in conntrack`);
  t.comment(`${label}: ${overflow.length} of ${flows.length} flows left from the overflow ports before their block was in place`);
  // Attribution is read after the fact, as an operator would: the time a port was seen is now. The agent records an
  // overflow connection from a listing of the overflow-marked entries that the client's NFLOG line wakes, 50 ms to a
  // few seconds after the burst on a loaded box: the records must all be there within a bound, not at the instant the
  // burst ends.
  const now = new Date();
  const misnamedIn = (table: PortTable) => {
    const records = [...table.blocks, ...table.history, ...table.overflow];
    return flows.filter((flow) => {
      const held = whoHeldAll(records, { port: flow.port, at: now, destination: flow.destination });
      return held.length === 0 || held.some((record) => record.vm !== flow.vm);
    });
  };
  const attributionStarted = Date.now();
  let table = await portTable(natLab);
  let misnamed = misnamedIn(table);
  while (misnamed.length > 0 && Date.now() - attributionStarted < 15_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    table = await portTable(natLab);
    misnamed = misnamedIn(table);
  }
  t.comment(`${label}: every seen flow was attributed ${Date.now() - attributionStarted} ms after the burst ended`);
  const records = [...table.blocks, ...table.history, ...table.overflow];
  t.same(
    misnamed.slice(0, 5),
    [],
    `${label}: every translated port names its VM within 15 s (${misnamed.length} of ${flows.length} do not)`,
    {
      named: misnamed
        .slice(0, 5)
        .map((flow) =>
          whoHeldAll(records, { port: flow.port, at: now }).map(
            (record) => `${record.vm} ${record.destination} ${record.since}-${record.until}`,
          ),
        ),
    },
  );
  const drops = [...(await natLab.metrics())].filter(([name, value]) => name.startsWith('natgw_dropped_packets_total') && value > 0);
  t.same(drops, [], `${label}: nothing was dropped`);
}

for (const [mode, portAllocation] of [
  ['static', { mode: 'static', portsPerVm: 64, releaseAfterIdleSeconds: 1 }],
  ['dynamic', { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 256, releaseAfterIdleSeconds: 1 }],
] as const) {
  t.test(`${mode} blocks: no packet dropped for want of a block, at the start and after every block was released`, async (t) => {
    const natLab = await createNatLab(t, { withOutsider: false });
    const { lab } = natLab;
    await lab.addVm({ name: 'many', ip: CLIENTS[0]!, defaultVia: NAT_IP, canIpForward: true });
    for (const address of CLIENTS.slice(1))
      await lab.run('add a client address', lab.vm('many').namespace, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'ens4']);
    const agent = await startHealthyAgent(natLab, {
      sourceRanges: ['10.10.0.0/24'],
      reconcileIntervalSeconds: 1,
      logging: 'none',
      portAllocation,
      perVmMetrics: { minIntervalSeconds: 1 },
      // Short timeouts so that every block can be released within the test; TIME_WAIT long enough that the burst's
      // last connections are still listed after it on a loaded box (with 2 s, a slow listing once found none).
      timeouts: { udp: 2, tcpTransitory: 2, tcpTimeWait: 10 },
    });
    t.teardown(() => agent.stop());
    t.equal(await natLab.udpWhoami('private'), NAT_EXTERNAL_IP, 'the NAT works');

    await burst(t, natLab, 'right after the agent started');
    await natLab.waitUntil('every block was released', async () => (await portTable(natLab)).blocks.length === 0, 60_000);
    t.pass('every block was released');
    await burst(t, natLab, 'after every block was released');

    // The command itself, for a sample of the overflow ports (they need the destination).
    const table = await portTable(natLab);
    const sample = table.overflow.filter((_, index) => index % Math.max(1, Math.ceil(table.overflow.length / 5)) === 0);
    t.ok(sample.length > 0, `some connections left from the overflow ports (${table.overflow.length})`);
    for (const record of sample) {
      const destination = record.destination?.split('/')[0] ?? '';
      const { stdout, stderr, exitCode } = await lab.exec(
        'nat',
        [
          'node',
          natLab.natgw,
          'whois',
          `${NAT_IP}:${record.first}`,
          '--at',
          new Date(Date.parse(record.since) + 1).toISOString(),
          '--dest',
          destination,
          '--agent',
          `http://${LISTEN}`,
        ],
        { okExitCodes: [1] },
      );
      t.equal(stdout.split('\n')[0], record.vm, `whois ${record.first} --dest ${destination} → ${record.vm} ${stderr}`);
      t.equal(exitCode, 0);
    }
  });
}
