// Per-VM port blocks on the real kernel: each VM's translated ports stay in its own block (its first connection, made
// before the block exists, leaves from the overflow ports instead of being dropped), a VM that fills its block is
// refused (and counted) alone, `natgw whois` names the VM, and a restart keeps every block and flow.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseConntrackLine } from '../agent/collectors/conntrack-table.js';
import { OVERFLOW_PORTS } from '../agent/config.js';
import { INTERNET } from '../lab/lab.js';
import { udpFlows } from './helpers/udp-flows.js';
import { LISTEN, NAT_EXTERNAL_IP, NAT_IP, baseConfig, createNatLab, startHealthyAgent, type NatLab } from './helpers/nat-lab.js';

const FIRST = '10.10.0.11';
const SECOND = '10.10.0.12';

interface Block {
  vm: string;
  natIp: string;
  first: number;
  last: number;
  since: string;
  until?: string;
}

const portBlocks = async (natLab: NatLab): Promise<{ blocks: Block[]; space: { totalPorts: number; usedPorts: number } }> => {
  const { stdout } = await natLab.lab.exec('nat', ['curl', '-sS', '-m', '10', `http://${LISTEN}/port-blocks`]);
  return JSON.parse(stdout);
};

/** The NAT ports the kernel gave a VM's translated flows, from the NAT VM's conntrack table. */
const translatedPorts = async (natLab: NatLab, vm: string, protocol: 'tcp' | 'udp') => {
  const { stdout } = await natLab.lab.exec('nat', ['conntrack', '-L', '-p', protocol, '--orig-src', vm, '--src-nat'], { okExitCodes: [1] });
  return stdout
    .split('\n')
    .map(parseConntrackLine)
    .flatMap((entry) => (entry?.reply.dport === undefined ? [] : [Number(entry.reply.dport)]));
};

const whois = (natLab: NatLab, args: string[]) => natLab.lab.exec('nat', ['node', natLab.natgw, 'whois', ...args], { okExitCodes: [1, 2] });

t.test('static port blocks of 64 in the lab', async (t) => {
  const natLab = await createNatLab(t, { withOutsider: false });
  const { lab } = natLab;
  await lab.addVm({ name: 'second', ip: SECOND, defaultVia: NAT_IP });
  const config = baseConfig({
    portAllocation: { mode: 'static', portsPerVm: 64 },
    timeouts: { udp: 120 },
    perVmMetrics: { minIntervalSeconds: 1 },
  });
  let agent = await startHealthyAgent(natLab, config);

  await t.test('a client gets a block on its first connection, which leaves from the overflow ports meanwhile', async (t) => {
    t.equal(await natLab.whoami('private', 5), NAT_EXTERNAL_IP, 'TCP from the first VM');
    t.equal(await natLab.whoami('second', 5), NAT_EXTERNAL_IP, 'TCP from the second VM');
    await natLab.waitUntil('both VMs hold a block', async () => (await portBlocks(natLab)).blocks.length === 2);
    const { blocks } = await portBlocks(natLab);
    const first = blocks.find((block) => block.vm === FIRST);
    const second = blocks.find((block) => block.vm === SECOND);
    t.ok(first !== undefined && second !== undefined, 'both VMs hold a block');
    t.equal(first!.last - first!.first + 1, 64);
    t.equal(second!.last - second!.first + 1, 64);
    t.ok(
      first!.last < second!.first || second!.last < first!.first,
      `blocks disjoint (${first!.first}-${first!.last}, ${second!.first}-${second!.last})`,
    );
    t.ok(first!.first >= 1024 && second!.last <= OVERFLOW_PORTS.first - 1, 'inside 1024-61439, below the overflow ports');
    t.match(agent.text, /"event":"port_block_assigned"/, 'the assignment is logged');
    const metrics = await natLab.metrics();
    t.ok((metrics.get('natgw_port_block_overflow_connections_total') ?? 0) >= 2, 'the first connections went out from the overflow ports');
    t.same(
      [...metrics].filter(([name, value]) => name.startsWith('natgw_dropped_packets_total') && value > 0),
      [],
      'nothing was dropped',
    );
    const firstTcp = (await translatedPorts(natLab, FIRST, 'tcp'))[0];
    t.ok(firstTcp !== undefined && firstTcp >= OVERFLOW_PORTS.first, `the first TCP connection left from overflow port ${firstTcp}`);
    const answer = await whois(natLab, [
      String(firstTcp),
      '--agent',
      `http://${LISTEN}`,
      '--dest',
      `${INTERNET.server}:${INTERNET.httpPort}`,
    ]);
    t.equal(answer.stdout.split('\n')[0], FIRST, `whois names its VM: ${answer.stderr}`);
  });

  await t.test('every translated port of each VM lies in its own block, and whois names the VM', async (t) => {
    t.equal(await udpFlows(natLab, 'second', 10), 10, 'ten UDP flows from the second VM');
    t.equal(await udpFlows(natLab, 'private', 10), 10, 'ten UDP flows from the first VM');
    const { blocks } = await portBlocks(natLab);
    for (const vm of [FIRST, SECOND]) {
      const block = blocks.find((candidate) => candidate.vm === vm)!;
      // The first connection (in TIME_WAIT) left from the overflow ports: checked in the subtest above.
      const ports = [...(await translatedPorts(natLab, vm, 'tcp')), ...(await translatedPorts(natLab, vm, 'udp'))].filter(
        (port) => port < OVERFLOW_PORTS.first,
      );
      t.ok(ports.length > 0, `${vm} has translated flows`);
      t.same(
        ports.filter((port) => port < block.first || port > block.last),
        [],
        `${vm}: ports ${ports.join(',')} all in ${block.first}-${block.last}`,
      );
      const answer = await whois(natLab, [String(ports[0]), '--agent', `http://${LISTEN}`]);
      t.equal(answer.exitCode, 0, answer.stderr);
      t.equal(answer.stdout.split('\n')[0], vm, `whois ${ports[0]} names ${vm}`);
      const json = await whois(natLab, [`${NAT_IP}:${ports.at(-1)}`, '--agent', `http://${LISTEN}`, '--json']);
      t.match(JSON.parse(json.stdout), { vm, ports: [block.first, block.last] });
      // The agent's own log is enough too.
      const logFile = path.join(lab.vm('nat').root, 'agent.log');
      writeFileSync(logFile, agent.text);
      const fromLog = await whois(natLab, [String(ports[0]), '--log', logFile]);
      t.equal(fromLog.stdout.split('\n')[0], vm, 'whois --log names the same VM');
    }
    const nobody = await whois(natLab, ['64000', '--agent', `http://${LISTEN}`]);
    t.equal(nobody.exitCode, 1, 'a port no VM held is an error');
    t.match(nobody.stderr, /no VM held port 64000/);
  });

  await t.test('a VM that fills its block to one destination is refused alone, and counted', async (t) => {
    // UDP flows of the earlier subtest to the same destination are still open and hold ports of the block.
    const open = (await translatedPorts(natLab, FIRST, 'udp')).length;
    const answered = await udpFlows(natLab, 'private', 80);
    // Earlier flows may expire (UDP timeout) while the new ones start, so the bound is on what is held at once.
    t.ok(answered <= 64, `at most 64 of 80 new flows answered: ${answered} (${open} ports of the block were in use before)`);
    const held = (await translatedPorts(natLab, FIRST, 'udp')).length;
    t.ok(held <= 64, `at most 64 translated flows held at once: ${held}`);
    t.ok(open + answered >= 60, `and nearly all of the block was usable (${open} + ${answered})`);
    let refusals = 0;
    await natLab.waitUntil('the refusals are counted for the first VM', async () => {
      refusals = (await natLab.metrics()).get(`natgw_vm_port_block_refusals_total{vm="${FIRST}"}`) ?? 0;
      return refusals > 0;
    });
    t.ok(refusals > 0, `refusals counted for ${FIRST}: ${refusals}`);
    t.equal((await natLab.metrics()).get(`natgw_vm_port_block_refusals_total{vm="${SECOND}"}`), undefined, 'none for the second VM');
    t.equal(await udpFlows(natLab, 'second', 5), 5, 'the second VM still opens new flows to the same destination');
    t.equal(await natLab.udpWhoami('second'), NAT_EXTERNAL_IP);
  });

  await t.test('the port-block metrics: block size and use per VM, port space use; promtool finds no problem', async (t) => {
    await natLab.waitUntil(
      'a per-VM sample shows the first VM at its block',
      async () => (await natLab.metrics()).get(`natgw_vm_port_block_used_ports{vm="${FIRST}"}`) === 64,
    );
    const metrics = await natLab.metrics();
    t.equal(metrics.get(`natgw_vm_port_block_size{vm="${FIRST}"}`), 64);
    t.equal(metrics.get('natgw_port_space_ports{state="used"}'), 128, 'two blocks of 64');
    t.equal(metrics.get('natgw_port_space_ports{state="total"}'), 60_416, 'ports 1024-61439');
    t.equal(metrics.get('natgw_port_blocks'), 2);
    t.equal(metrics.get('natgw_collector_success{collector="port_block_learn"}'), 1, 'the learner runs');
    const { stdout: scrape } = await lab.exec('nat', ['curl', '-sS', `http://${LISTEN}/metrics`]);
    const { runCommand } = await import('../agent/runner.js');
    const result = await runCommand('lint the scrape', 'promtool', ['check', 'metrics'], { input: scrape, okExitCodes: [1, 3] });
    t.equal((result.stdout + result.stderr).trim(), '', 'no lint findings');
  });

  await t.test('with the default logging, no process on the NAT VM listens to conntrack events (issue 23)', async (t) => {
    // Every process in the NAT VM's network namespace, this lab's alone (other labs' processes live in theirs).
    const commandLines = execFileSync('ip', ['netns', 'pids', lab.vm('nat').namespace], { encoding: 'utf8' })
      .split('\n')
      .filter((pid) => pid !== '')
      .flatMap((pid) => {
        try {
          return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')];
        } catch {
          return []; // ended between the listing and the read
        }
      });
    t.ok(
      commandLines.some((line) => /tcpdump .*nflog:4210/.test(line)),
      `the agent's learner is among them, so its readers are seen (${commandLines.join('; ')})`,
    );
    t.same(
      commandLines.filter((line) => /\bconntrack\b.* (-E|--event)\b/.test(line)),
      [],
      'no conntrack event listener: overflow ports are attributed from listings, and logging "errors" needs none',
    );
  });

  await t.test('restarting the agent keeps every block and every established flow', async (t) => {
    const before = await portBlocks(natLab);
    const flowsBefore = (await translatedPorts(natLab, FIRST, 'udp')).sort();
    await agent.stop('SIGTERM');
    agent = natLab.startAgent();
    await natLab.waitUntil('the agent is healthy again', async () => (await natLab.healthz()).status === 200);
    const after = await portBlocks(natLab);
    t.same(
      after.blocks.map(({ vm, first, last, since }) => ({ vm, first, last, since })),
      before.blocks.map(({ vm, first, last, since }) => ({ vm, first, last, since })),
      'the same blocks, held since the same time',
    );
    t.same((await translatedPorts(natLab, FIRST, 'udp')).sort(), flowsBefore, 'the flows and their ports are still there');
    t.match(
      await natLab.natTable(),
      new RegExp(
        `${FIRST.replace(/\./g, '\\.')} : ${NAT_IP.replace(/\./g, '\\.')} \\. ${before.blocks.find((block) => block.vm === FIRST)!.first}-`,
      ),
      "the map still holds the first VM's block",
    );
    t.equal(await natLab.whoami('second', 3), NAT_EXTERNAL_IP, 'new connections go through at once: no block to learn again');
  });

  await agent.stop('SIGTERM');
});
