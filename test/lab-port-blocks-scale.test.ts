// natgw-test: exclusive — 20,000 connections against a deadline.
// Port blocks at scale on the real kernel: 250 client addresses, 20,000 TCP connections, logging off. Every translated
// port lies in its VM's block, whois names the right VM for every sampled (port, time), and an agent restart keeps
// every block and every connection.
import t from 'tap';
import { parseConntrackLine } from '../agent/collectors/conntrack-table.js';
import { OVERFLOW_PORTS } from '../agent/config.js';
import { whoHeldAll, type PortBlockRecord } from '../agent/port-blocks.js';
import { INTERNET } from '../lab/lab.js';
import { LISTEN, NAT_IP, createNatLab, startHealthyAgent, type NatLab } from './helpers/nat-lab.js';

const CLIENT_VM_IP = '10.10.0.20';
/** 250 addresses of the lab's /24, leaving out the gateway, the NAT VM and the lab's private VM. */
const CLIENTS = Array.from({ length: 254 }, (_, index) => `10.10.0.${index + 1}`)
  .filter((address) => !['10.10.0.1', NAT_IP, '10.10.0.11'].includes(address))
  .slice(0, 250);
const CONNECTIONS = 20_000;

/**
 * One worker per source address, each opening its share of connections one after another (the first leaves from the
 * overflow ports while the agent gives the address its block). Bounded in count and time; prints the outcome as JSON.
 */
const LOAD = `
const net = require('node:net');
const [host, port, total, deadlineMs, ...sources] = process.argv.slice(1);
const stopAt = Date.now() + Number(deadlineMs);
const perSource = Math.ceil(Number(total) / sources.length);
let ok = 0, failed = 0;
const once = (localAddress) => new Promise((resolve) => {
  const socket = net.connect({ host, port: Number(port), localAddress, timeout: 5000 });
  let answer = '';
  socket.on('data', (chunk) => { answer += chunk; });
  socket.on('connect', () => socket.write('GET /whoami HTTP/1.0\\r\\n\\r\\n'));
  socket.on('timeout', () => socket.destroy(new Error('timeout')));
  socket.on('error', () => { failed++; resolve(); });
  socket.on('close', (hadError) => { if (!hadError) { if (/^HTTP\\/1\\.[01] 200/.test(answer)) ok++; else failed++; } resolve(); });
});
Promise.all(sources.map(async (source) => {
  for (let i = 0; i < perSource && Date.now() < stopAt; i++) await once(source);
})).then(() => process.stdout.write(JSON.stringify({ ok, failed })));
`;

const portBlocks = async (
  natLab: NatLab,
): Promise<{ blocks: PortBlockRecord[]; history: PortBlockRecord[]; overflow: PortBlockRecord[] }> => {
  const { stdout } = await natLab.lab.exec('nat', ['curl', '-sS', '-m', '10', `http://${LISTEN}/port-blocks`]);
  return JSON.parse(stdout);
};

t.test(
  '250 client addresses, 20,000 connections, static blocks of 128 (80 connections per address, each kept 600 s in TIME_WAIT)',
  async (t) => {
    const natLab = await createNatLab(t, { withOutsider: false });
    const { lab } = natLab;
    const vm = await lab.addVm({ name: 'many', ip: CLIENT_VM_IP, defaultVia: NAT_IP, canIpForward: true });
    for (const address of CLIENTS.filter((address) => address !== CLIENT_VM_IP))
      await lab.run('add a client address', vm.namespace, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'ens4']);
    let agent = await startHealthyAgent(natLab, {
      sourceRanges: ['10.10.0.0/24'],
      reconcileIntervalSeconds: 1,
      logging: 'none',
      portAllocation: { mode: 'static', portsPerVm: 128 },
      timeouts: { tcpTimeWait: 600 },
    });

    const started = Date.now();
    const { stdout } = await lab.exec(
      'many',
      ['node', '-e', LOAD, INTERNET.server, String(INTERNET.httpPort), String(CONNECTIONS), '120000', ...CLIENTS],
      {
        timeoutMs: 180_000,
      },
    );
    const outcome = JSON.parse(stdout) as { ok: number; failed: number };
    t.ok(
      outcome.ok >= CONNECTIONS * 0.99,
      `${outcome.ok} of ${CONNECTIONS} connections answered (${outcome.failed} failed) in ${Math.round((Date.now() - started) / 1000)} s`,
    );

    const table = await portBlocks(natLab);
    t.equal(table.blocks.length, 250, 'every client address holds one block');
    const sorted = [...table.blocks].sort((a, b) => a.first - b.first);
    t.ok(
      sorted.every((block, index) => index === 0 || block.first > (sorted[index - 1]?.last ?? 0)),
      'the blocks are disjoint',
    );

    const { stdout: listing } = await lab.exec('nat', ['conntrack', '-L', '-p', 'tcp', '--src-nat']);
    const flows = listing
      .split('\n')
      .map(parseConntrackLine)
      .flatMap((entry) =>
        entry === undefined || entry.reply.dport === undefined ? [] : [{ vm: entry.original.src, port: Number(entry.reply.dport) }],
      )
      .filter((flow) => CLIENTS.includes(flow.vm));
    t.ok(flows.length >= CONNECTIONS * 0.99, `${flows.length} translated connections still in conntrack (TIME_WAIT)`);
    const blockOf = new Map(table.blocks.map((block) => [block.vm, block]));
    // Each address's first connection was made before its block existed: it left from the overflow ports.
    const outside = flows.filter((flow) => {
      const block = blockOf.get(flow.vm);
      return flow.port < OVERFLOW_PORTS.first && (block === undefined || flow.port < block.first || flow.port > block.last);
    });
    t.same(
      outside.slice(0, 5),
      [],
      `no translated port outside its VM's block or the overflow ports (${outside.length} of ${flows.length})`,
    );
    const now = new Date();
    const records = [...table.blocks, ...table.history, ...table.overflow];
    const misnamed = flows.filter((flow) => {
      const held = whoHeldAll(records, { port: flow.port, at: now, destination: `${INTERNET.server}:${INTERNET.httpPort}` });
      return held.length === 0 || held.some((record) => record.vm !== flow.vm);
    });
    t.equal(misnamed.length, 0, `the port table names the right VM for all ${flows.length} (port, time) pairs`);
    // The command itself, for a sample spread over all VMs.
    for (const flow of flows.filter((_, index) => index % Math.ceil(flows.length / 25) === 0)) {
      const { stdout: answer } = await lab.exec('nat', [
        'node',
        natLab.natgw,
        'whois',
        `${NAT_IP}:${flow.port}`,
        '--dest',
        `${INTERNET.server}:${INTERNET.httpPort}`,
        '--agent',
        `http://${LISTEN}`,
      ]);
      t.equal(answer.split('\n')[0], flow.vm, `whois ${flow.port} → ${flow.vm}`);
    }

    await t.test('restarting the agent keeps every block and every connection', async (t) => {
      // The clients' translated flows, each with the seconds conntrack still gives it. Only these are the claim: the
      // namespace's whole count also holds the lab's own short-lived loopback connections (the whois and curl calls
      // above, 30 s in FIN_WAIT/CLOSE_WAIT), which expire on their own while the agent restarts on a busy box.
      const translatedFlows = async () => {
        const { stdout } = await lab.exec('nat', ['conntrack', '-L', '-p', 'tcp', '--src-nat']);
        const flows = new Map<string, { state: string; expiresInSeconds: number }>();
        for (const line of stdout.split('\n')) {
          const entry = parseConntrackLine(line);
          if (entry === undefined || !CLIENTS.includes(entry.original.src)) continue;
          const [, , seconds, state] = line.trim().split(/\s+/);
          flows.set(`${entry.original.src}:${entry.original.sport} ${entry.reply.dport}`, {
            state: state ?? '?',
            expiresInSeconds: Number(seconds),
          });
        }
        return flows;
      };
      const wholeTable = async () => (await lab.exec('nat', ['conntrack', '-L'], { okExitCodes: [1] })).stdout.split('\n').filter(Boolean);
      const tableBefore = await wholeTable();
      const before = await translatedFlows();
      const restartedAt = Date.now();
      await agent.stop('SIGTERM');
      agent = natLab.startAgent();
      await natLab.waitUntil('the agent is healthy again', async () => (await natLab.healthz()).status === 200, 60_000);
      const after = await portBlocks(natLab);
      const key = (blocks: PortBlockRecord[]) => blocks.map(({ vm, first, last, since }) => `${vm} ${first}-${last} ${since}`).sort();
      t.same(key(after.blocks), key(table.blocks), 'all 250 blocks, unchanged');
      const now = await translatedFlows();
      // Evidence for whoever reads a failure: what else left the table meanwhile, by source and state.
      const tableAfter = new Set(
        (await wholeTable()).map((line) =>
          line
            .split(/\s+/)
            .filter((_, i) => i !== 2)
            .join(' '),
        ),
      );
      const vanished = new Map<string, number>();
      for (const line of tableBefore) {
        const words = line.split(/\s+/);
        if (tableAfter.has(words.filter((_, i) => i !== 2).join(' '))) continue;
        const what = `${words[0]} ${words[3]} from ${parseConntrackLine(line)?.original.src}`;
        vanished.set(what, (vanished.get(what) ?? 0) + 1);
      }
      t.comment(
        `whole table: ${tableBefore.length} entries before, ${tableAfter.size} after; gone: ${JSON.stringify(Object.fromEntries(vanished))}`,
      );
      // A flow whose own timeout ran out during the restart is gone by design; with 600 s in TIME_WAIT there are none
      // unless the box stalled for minutes, and the count of those is printed.
      const elapsedSeconds = Math.ceil((Date.now() - restartedAt) / 1000) + 1;
      const shouldLive = [...before].filter(([, flow]) => flow.expiresInSeconds > elapsedSeconds);
      const lost = shouldLive.filter(([flowKey]) => !now.has(flowKey));
      // What a count of the whole table mixed up (the old form of this check failed twice in CI this way): client
      // flows in short-lived states, which expire on their own while the agent restarts.
      const states = new Map<string, { flows: number; leastSeconds: number }>();
      for (const flow of before.values()) {
        const state = states.get(flow.state) ?? { flows: 0, leastSeconds: Number.POSITIVE_INFINITY };
        states.set(flow.state, { flows: state.flows + 1, leastSeconds: Math.min(state.leastSeconds, flow.expiresInSeconds) });
      }
      t.comment(`client flows before the restart, by state: ${JSON.stringify(Object.fromEntries(states))}`);
      t.same(lost.slice(0, 5), [], `every translated flow is still there with its NAT port (${lost.length} of ${shouldLive.length} lost)`, {
        expiredOnTheirOwn: before.size - shouldLive.length,
        restartSeconds: elapsedSeconds,
        agentLog: agent.text.split('\n').slice(-15).join('\n'),
      });
    });
    await agent.stop('SIGTERM');
  },
);
