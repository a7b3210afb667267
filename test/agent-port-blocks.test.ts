// Port blocks without root: the buddy layout of the port space, and the manager against the in-memory netfilter
// (learning, the NAT map's elements, persistence across a restart, repair, release, a full space, dynamic resizing).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { TableSummary } from '../agent/collectors/conntrack-table.js';
import { FAILING_AFTER_RESTARTS } from '../agent/collectors/supervised.js';
import { validateAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { Dataplane } from '../agent/dataplane.js';
import { PORT_BLOCK_STATE_FILE, PortBlockManager, learntAddress } from '../agent/port-block-manager.js';
import { PortSpace, blockSize as blockSizeOf, recordsFromLog, whoHeld, whoHeldAll } from '../agent/port-blocks.js';
import { FakeNetfilter, MemorySysctls } from './helpers/fake-netfilter.js';

t.test('the port space: lowest aligned free block first, whole blocks only, full is full', async (t) => {
  const space = new PortSpace();
  t.equal(space.totalPorts, 60_416, '1024-61439: the top 4,096 ports are the overflow ports');
  t.same(space.take(64), { first: 1024, last: 1087 });
  t.same(space.take(128), { first: 1152, last: 1279 }, 'a 128-block starts on its own alignment, not in the 64-gap');
  t.same(space.take(64), { first: 1088, last: 1151 }, 'the gap is used by the next 64-block');
  t.equal(space.usedPorts, 256);
  space.free({ first: 1024, last: 1087 });
  t.same(space.take(64), { first: 1024, last: 1087 }, 'a freed block is reused');
  t.notOk(space.claim({ first: 1088, last: 1151 }), 'claiming a used block fails');
  const big = new PortSpace();
  t.same(big.take(32_768), { first: 1024, last: 33_791 });
  t.equal(big.take(32_768), undefined, 'only one block of 32768 fits in 63488 ports');
  t.ok(big.hasRoomFor(16_384), 'smaller blocks still fit');
});

t.test('the learning NFLOG line names the client', async (t) => {
  t.equal(learntAddress('1764533000.123456 IP 10.10.0.11.40000 > 198.51.100.10.80: tcp 0'), '10.10.0.11');
  t.equal(learntAddress('1764533000.123456 IP 10.10.0.12.5353 > 198.51.100.10.7007: UDP, length 8'), '10.10.0.12');
  t.equal(learntAddress('listening on nflog:4210'), undefined);
});

function setup(t: Test, input: AgentConfigInput) {
  const netfilter = new FakeNetfilter();
  const root = t.testdir();
  const logLines: Record<string, unknown>[] = [];
  const rawLogLines: string[] = [];
  // The agent's own timestamp, as createLogger writes it: an event field of the same name would duplicate the key.
  const log = pino(
    { base: null, timestamp: pino.stdTimeFunctions.isoTime },
    {
      write: (line: string) => {
        rawLogLines.push(line);
        logLines.push(JSON.parse(line));
      },
    },
  );
  let clock = Date.parse('2026-11-30T12:00:00Z');
  const noReader = () => ({ done: new Promise<number | undefined>(() => undefined), stop: () => undefined });
  const dataplane = new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root });
  const config = validateAgentConfig(input, 'test');
  const start = async () => {
    const manager = new PortBlockManager({ run: netfilter.run, dataplane, spawn: noReader, log, root, now: () => clock });
    await manager.configure(config, 'ens4');
    const desired = await dataplane.desiredState(config, 'ens4');
    if (!(await dataplane.inspect(desired)).inSync) await dataplane.apply(desired);
    return manager;
  };
  const mapElements = () =>
    netfilter.tables.find((table) => table.name === 'natgw')?.maps?.find((map) => map.name === 'port_blocks')?.elements ?? {};
  return { netfilter, root, logLines, rawLogLines, start, mapElements, advance: (seconds: number) => (clock += seconds * 1000) };
}

const events = (lines: Record<string, unknown>[], event: string) => lines.filter((line) => line.event === event);

t.test(
  'overflow ports: each connection a VM makes before its block is attributed from listings of the overflow-marked entries',
  async (t) => {
    const { netfilter, logLines, start, advance } = setup(t, {
      sourceRanges: ['10.10.0.0/24'],
      portAllocation: { mode: 'static', portsPerVm: 64 },
    });
    const manager = await start();
    const entry = (src: string, sport: number, dst: string, natPort: number) =>
      `udp      17 29 src=${src} dst=${dst} sport=${sport} dport=53 [UNREPLIED] src=${dst} dst=10.10.0.2 sport=53 dport=${natPort} mark=1313275904 use=1`;
    const at = (time: string) => Date.parse(`2026-11-30T${time}Z`);
    const attribution = manager.overflow;
    // A listing at 12:00:00 with nothing in it: whatever the next one finds began after it.
    await attribution.dump();
    const eleven = entry('10.10.0.11', 40000, '198.51.100.10', 64512);
    const twelve = entry('10.10.0.12', 40001, '203.0.113.7', 64512);
    advance(3);
    // tcpdump stamps an NFLOG packet when it reads it: the record starts a second before, never before the last listing.
    attribution.firstPacket({
      time: at('12:00:02.980'),
      protocol: 'udp',
      src: '10.10.0.11',
      sport: '40000',
      dst: '198.51.100.10',
      dport: '53',
    });
    netfilter.overflowListing = `${eleven}\n${twelve}\n`;
    await attribution.dump();
    netfilter.overflowListing = `${twelve}\n`;
    advance(2);
    await attribution.dump();
    const overflow = manager.table().overflow;
    t.same(
      overflow.map(({ vm, first, last, destination, since, until }) => [vm, first, last, destination, since, until]),
      [
        ['10.10.0.11', 64512, 64512, '198.51.100.10:53/udp', '2026-11-30T12:00:01.980Z', '2026-11-30T12:00:05.000Z'],
        ['10.10.0.12', 64512, 64512, '203.0.113.7:53/udp', '2026-11-30T12:00:00.000Z', undefined],
      ],
      'one record per connection: from a second before NFLOG saw its first packet (or the last listing without it), until the first listing without it',
    );
    t.equal(attribution.found, 2);
    t.same(
      events(logLines, 'port_block_assigned')
        .filter((line) => line.destination !== undefined)
        .map((line) => [line.vm, line.first_port, line.destination]),
      [
        ['10.10.0.11', 64512, '198.51.100.10:53/udp'],
        ['10.10.0.12', 64512, '203.0.113.7:53/udp'],
      ],
      'and logged, so whois --log can name them too',
    );
    const recovered = recordsFromLog(logLines.map((line) => JSON.stringify(line)).join('\n')).filter((r) => r.destination !== undefined);
    t.same(
      recovered.map(({ vm, until }) => [vm, until]),
      [
        ['10.10.0.11', '2026-11-30T12:00:05.000Z'],
        ['10.10.0.12', undefined],
      ],
    );
    const both = new Date('2026-11-30T12:00:02.500Z');
    t.same(
      whoHeldAll(overflow, { port: 64512, at: both })
        .map((record) => record.vm)
        .sort(),
      ['10.10.0.11', '10.10.0.12'],
      'without a destination the port is ambiguous',
    );
    t.equal(whoHeld(overflow, { port: 64512, at: both, destination: '203.0.113.7:53' })?.vm, '10.10.0.12');
    t.equal(whoHeld(overflow, { port: 64512, at: new Date('2026-11-30T12:00:06Z') })?.vm, '10.10.0.12', 'after the first ended');

    // Between two listings the connection ended and another VM's took the same reply tuple: the old record ends where
    // the new one starts, so no instant names both for one port and destination.
    advance(5);
    attribution.firstPacket({
      time: at('12:00:09.500'),
      protocol: 'udp',
      src: '10.10.0.13',
      sport: '41000',
      dst: '203.0.113.7',
      dport: '53',
    });
    netfilter.overflowListing = `${entry('10.10.0.13', 41000, '203.0.113.7', 64512)}\n`;
    await attribution.dump();
    const records = manager.table().overflow;
    t.same(
      [records.find((record) => record.vm === '10.10.0.12')?.until, records.find((record) => record.vm === '10.10.0.13')?.since],
      ['2026-11-30T12:00:08.500Z', '2026-11-30T12:00:08.500Z'],
    );
    for (const time of ['12:00:08.400', '12:00:08.600'])
      t.equal(whoHeldAll(records, { port: 64512, at: new Date(at(time)), destination: '203.0.113.7:53' }).length, 1, `one VM at ${time}`);
    // Each listing also taught the manager a client: let those blocks be written before the test directory goes.
    await manager.settled();
    t.same(
      manager
        .table()
        .blocks.map((block) => block.vm)
        .sort(),
      ['10.10.0.11', '10.10.0.12', '10.10.0.13'],
      'and every client a listing named got its block',
    );
    // Nothing watches the overflow ports once the manager stops: the open record ends then, not at some later listing.
    advance(1);
    manager.stop();
    t.equal(manager.table().overflow.find((record) => record.vm === '10.10.0.13')?.until, '2026-11-30T12:00:11.000Z');
  },
);

t.test('static blocks: learnt clients get disjoint blocks in the map, kept across a restart, repaired, released when idle', async (t) => {
  const { netfilter, root, logLines, rawLogLines, start, mapElements, advance } = setup(t, {
    sourceRanges: ['10.10.0.0/24'],
    portAllocation: { mode: 'static', portsPerVm: 64, releaseAfterIdleSeconds: 60 },
  });
  let manager = await start();
  const transactionsBefore = netfilter.commands.filter((line) => line.startsWith('nft -f')).length;
  for (const vm of ['10.10.0.11', '10.10.0.12', '10.10.0.11', '10.10.0.13']) manager.learn(vm);
  await manager.settled();
  t.same(mapElements(), {
    '10.10.0.11': '10.10.0.2 . 1024-1087',
    '10.10.0.12': '10.10.0.2 . 1088-1151',
    '10.10.0.13': '10.10.0.2 . 1152-1215',
  });
  t.equal(netfilter.commands.filter((line) => line.startsWith('nft -f')).length - transactionsBefore, 1, 'one transaction for the burst');
  t.same(
    events(logLines, 'port_block_assigned').map((line) => [line.vm, line.first_port, line.last_port]),
    [
      ['10.10.0.11', 1024, 1087],
      ['10.10.0.12', 1088, 1151],
      ['10.10.0.13', 1152, 1215],
    ],
  );
  t.match(events(logLines, 'port_block_assigned')[0], { nat_ip: '10.10.0.2', at: '2026-11-30T12:00:00.000Z' });
  t.same(
    rawLogLines.filter((line) => line.split('"time":').length > 2),
    [],
    'no log line carries the key "time" twice',
  );
  const saved = JSON.parse(readFileSync(path.join(root, PORT_BLOCK_STATE_FILE), 'utf8'));
  t.equal(saved.current.length, 3, 'the state file holds every block');

  manager.stop();
  manager = await start();
  t.same(
    manager.table().blocks.map((block) => [block.vm, block.first]),
    [
      ['10.10.0.11', 1024],
      ['10.10.0.12', 1088],
      ['10.10.0.13', 1152],
    ],
  );
  t.equal(events(logLines, 'port_block_assigned').length, 3, 'a restart assigns nothing new');
  manager.learn('10.10.0.14');
  await manager.settled();
  t.equal(mapElements()['10.10.0.14'], '10.10.0.2 . 1216-1279', 'the next client gets the next free block, not one already held');

  netfilter.run('test', 'nft', ['-f', '-'], { input: 'delete element ip natgw port_blocks { 10.10.0.12 }\n' });
  netfilter.connections.set('10.10.0.11', [1030]);
  await manager.tick();
  t.equal(mapElements()['10.10.0.12'], '10.10.0.2 . 1088-1151', 'a removed element is put back');
  t.equal(events(logLines, 'port_block_repaired').length, 1);

  advance(61);
  await manager.tick();
  t.same(Object.keys(mapElements()).sort(), ['10.10.0.11'], 'idle VMs lose their blocks; the VM with a connection keeps its own');
  t.same(
    events(logLines, 'port_block_released').map((line) => line.vm),
    ['10.10.0.12', '10.10.0.13', '10.10.0.14'],
  );
  t.match(manager.table().history[0], { vm: '10.10.0.12', first: 1088, until: '2026-11-30T12:01:01.000Z' });
});

t.test('a full port space refuses new clients, counts them once, and says so', async (t) => {
  const { start, mapElements, logLines } = setup(t, {
    sourceRanges: ['10.10.0.0/24'],
    portAllocation: { mode: 'static', portsPerVm: 32_768 },
  });
  const manager = await start();
  manager.learn('10.10.0.11');
  await manager.settled();
  t.same(manager.warnings.length, 1);
  t.match(manager.warnings[0], /port space of 10\.10\.0\.2 is full/);
  manager.learn('10.10.0.12');
  await manager.settled();
  manager.learn('10.10.0.12');
  await manager.settled();
  t.same(Object.keys(mapElements()), ['10.10.0.11'], 'never a shared port for the refused client');
  t.equal(manager.refusedClients, 1, 'counted once while it keeps trying');
  t.equal(events(logLines, 'port_block_refused').length, 1);
});

t.test('dynamic blocks grow with use up to the maximum and shrink back after idle', async (t) => {
  const { netfilter, start, mapElements, advance } = setup(t, {
    sourceRanges: ['10.10.0.0/24'],
    portAllocation: { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 1024, releaseAfterIdleSeconds: 30 },
  });
  const manager = await start();
  manager.learn('10.10.0.11');
  await manager.settled();
  const sizes: number[] = [];
  const size = () => {
    const [first, last] = (mapElements()['10.10.0.11'] ?? '').split(' . ')[1]!.split('-').map(Number);
    return last! - first! + 1;
  };
  const busy = (portUsage: number): TableSummary => ({
    translated: portUsage,
    vms: [{ vm: '10.10.0.11', openConnections: portUsage, portUsage }],
  });
  sizes.push(size());
  for (let round = 0; round < 6; round++) {
    await manager.tick(busy(size()));
    sizes.push(size());
  }
  t.same(sizes, [64, 128, 256, 512, 1024, 1024, 1024], 'doubles while full, stops at maxPortsPerVm');
  await manager.tick(busy(0));
  t.equal(size(), 1024, 'not at the first idle sample');
  advance(31);
  await manager.tick(busy(0));
  t.equal(size(), 64, 'back to minPortsPerVm after releaseAfterIdleSeconds at low use');
  const current = manager.table().blocks.find((block) => block.vm === '10.10.0.11' && blockSizeOf(block) === 64)!;
  netfilter.connections.set('10.10.0.11', [current.first + 3]);
  advance(31);
  await manager.tick(busy(1));
  t.same(
    manager.table().blocks.map((block) => [block.vm, block.first, block.last]),
    [['10.10.0.11', current.first, current.last]],
    'the old blocks went once their flows had; the VM keeps its current block while it has a flow there',
  );
  t.equal(manager.table().history.length, 5, 'each old block is in the history');
});

t.test('dynamic blocks: a notice that a connection spilled over the block doubles it at once; notices from before it do not', async (t) => {
  const { netfilter, logLines, start, mapElements, advance } = setup(t, {
    sourceRanges: ['10.10.0.0/24'],
    portAllocation: { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 256, releaseAfterIdleSeconds: 30 },
  });
  const vm = '10.10.0.11';
  const manager = await start();
  const classOf = () =>
    netfilter.tables.find((table) => table.name === 'natgw')?.maps?.find((map) => map.name === 'port_block_class')?.elements[vm];
  const size = () => {
    const [first, last] = (mapElements()[vm] ?? '').split(' . ')[1]!.split('-').map(Number);
    return last! - first! + 1;
  };
  // The client's first packet: the learn rule's notice, sent before the VM had a block.
  const firstPacketAt = Date.parse('2026-11-30T12:00:00Z') - 5;
  manager.noticed(vm, firstPacketAt);
  await manager.settled();
  t.equal(size(), 64, 'a new client gets minPortsPerVm');
  t.equal(classOf(), 'jump port_block_64', 'and its connections are counted against 64 per destination');
  manager.noticed(vm, firstPacketAt + 1);
  await manager.settled();
  t.equal(size(), 64, 'a notice sent before the block existed (queued behind the first) does not grow it');
  // The manager's clock is the test's: a block assigned now has `since` = now.
  let grownAt = advance(1);
  manager.noticed(vm, grownAt + 400);
  await manager.settled();
  t.equal(size(), 128, 'a spill after the block was in place doubles it, without waiting for a conntrack sample');
  t.equal(classOf(), 'jump port_block_128');
  manager.noticed(vm, grownAt - 1);
  await manager.settled();
  t.equal(size(), 128, "the smaller block's last spills, sent before the new block, do not double it again");
  for (let round = 0; round < 3; round++) {
    const sentAt = grownAt + 1;
    grownAt = advance(1);
    manager.noticed(vm, sentAt + 1000);
    await manager.settled();
  }
  t.equal(size(), 256, 'it stops at maxPortsPerVm (the port-block-full rule refuses past it)');
  t.equal(classOf(), 'jump port_block_256');
  t.same(
    events(logLines, 'port_block_assigned').map((line) => [line.first_port, line.last_port, line.why]),
    [
      [1024, 1087, undefined],
      [1152, 1279, 'a connection did not fit the smaller block'],
      [1280, 1535, 'a connection did not fit the smaller block'],
    ].map(([first, last, why]) => [first, last, why]),
    'each block logged, the grown ones with why',
  );
  t.same(
    manager
      .table()
      .blocks.filter((block) => block.vm === vm)
      .map(blockSizeOf)
      .sort((a, b) => a - b),
    [64, 128, 256],
    'the smaller blocks retire with their flows',
  );
});

t.test('a learner that is not running is a /healthz warning and a failing collector', async (t) => {
  const netfilter = new FakeNetfilter();
  const log = pino({ level: 'silent' });
  const dies = () => ({ done: Promise.resolve(1), stop: () => undefined });
  const manager = new PortBlockManager({
    run: netfilter.run,
    dataplane: new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root: t.testdir() }),
    spawn: dies,
    log,
    root: t.testdir(),
  });
  await manager.configure(
    validateAgentConfig({ sourceRanges: ['10.10.0.0/24'], portAllocation: { mode: 'static', portsPerVm: 64 } }, 'test'),
    'ens4',
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(manager.learnerOk);
  t.match(manager.warnings, [/NFLOG group 4210 \(tcpdump\) is not running: new clients get no port block/]);
  manager.stop();
});

t.test('overflow listings that fail (conntrack exits 1) are a /healthz warning and a failing collector, not only a log line', async (t) => {
  const { netfilter, logLines, start } = setup(t, {
    sourceRanges: ['10.10.0.0/24'],
    portAllocation: { mode: 'static', portsPerVm: 64 },
  });
  const manager = await start();
  // Exit code 1 is conntrack's failure, not "no entry" (that is 0): it must not end every open record unnoticed.
  netfilter.overflowListingError = 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted';
  await manager.overflow.dump();
  t.notOk(manager.overflow.ok);
  t.match(manager.warnings, [/the overflow connections cannot be listed \(conntrack -L failed 1 time\(s\) in a row\)/]);
  t.match(
    logLines.find((line) => line.event === 'port_block_overflow_scan_failed'),
    { level: 50 },
  );
  t.notOk(manager.overflow.failing, 'one failure is retried, not yet failing /healthz');
  await manager.overflow.dump();
  await manager.overflow.dump();
  t.ok(manager.overflow.failing, `failing after ${FAILING_AFTER_RESTARTS} in a row, as a reader that keeps exiting`);
  netfilter.overflowListingError = undefined;
  await manager.overflow.dump();
  t.ok(manager.overflow.ok, 'the next listing that works clears it');
  t.notOk(manager.overflow.failing);
  t.same(manager.warnings, []);
  manager.stop();
});

t.test('the data plane is the only writer: the manager runs no nft, its elements ride in every table replacement', async (t) => {
  const netfilter = new FakeNetfilter();
  const root = t.testdir();
  const log = pino({ level: 'silent' });
  const noReader = () => ({ done: new Promise<number | undefined>(() => undefined), stop: () => undefined });
  const managerCommands: string[] = [];
  const readsOnly: typeof netfilter.run = async (purpose, file, args, options) => {
    managerCommands.push(`${file} ${args.join(' ')}`);
    return netfilter.run(purpose, file, args, options);
  };
  const dataplane = new Dataplane({ run: netfilter.run, sysctlFs: new MemorySysctls(), root });
  const manager = new PortBlockManager({ run: readsOnly, dataplane, spawn: noReader, log, root });
  t.teardown(() => manager.stop());
  const config = validateAgentConfig({ sourceRanges: ['10.10.0.0/24'], portAllocation: { mode: 'static', portsPerVm: 64 } }, 'test');
  await manager.configure(config, 'ens4');
  const desired = await dataplane.desiredState(config, 'ens4');
  await dataplane.apply(desired);
  manager.learn('10.10.0.11');
  await manager.settled();
  await manager.tick();
  t.same(
    managerCommands.filter((command) => command.startsWith('nft')),
    [],
    'the manager itself runs no nft',
  );
  const map = () => netfilter.table('ip', 'natgw')?.maps?.find((entry) => entry.name === 'port_blocks')?.elements ?? {};
  t.same(map(), { '10.10.0.11': '10.10.0.2 . 1024-1087' }, 'the element was added through the data plane');
  // A repair replaces the whole table: the block must come back in that same transaction.
  netfilter.run('test', 'nft', ['-f', '-'], { input: 'delete table ip natgw\n' });
  await dataplane.apply(desired);
  t.same(map(), { '10.10.0.11': '10.10.0.2 . 1024-1087' }, 'the replacement carries the manager’s elements');
});
