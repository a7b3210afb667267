import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { parseConntrackStatTable } from '../agent/collectors/conntrack-stats.js';
import { DestinationCounter, parseConntrackLine, summarizeTable } from '../agent/collectors/conntrack-table.js';
import { ConntrackEventWatcher, translationLogEntry } from '../agent/collectors/conntrack-events.js';
import { parseNflogLine } from '../agent/collectors/drop-log.js';
import { validateAgentConfig } from '../agent/config.js';
import { Observability } from '../agent/observability.js';
import { RateLimiter } from '../agent/rate-limit.js';
import { type LineSpawner, runCommand } from '../agent/runner.js';
import { repoRoot } from '../lab/lab.js';

const LISTING = `tcp      6 431999 ESTABLISHED src=10.10.0.11 dst=198.51.100.10 sport=40000 dport=80 src=198.51.100.10 dst=10.10.0.2 sport=80 dport=61000 [ASSURED] mark=0 use=1
tcp      6 431999 ESTABLISHED src=10.10.0.11 dst=198.51.100.10 sport=40001 dport=80 src=198.51.100.10 dst=10.10.0.2 sport=80 dport=61001 [ASSURED] mark=0 use=1
udp      17 29 src=10.10.0.11 dst=198.51.100.10 sport=5000 dport=7007 [UNREPLIED] src=198.51.100.10 dst=10.10.0.2 sport=7007 dport=5000 mark=0 use=1
icmp     1 29 src=10.10.0.12 dst=198.51.100.10 type=8 code=0 id=9 src=198.51.100.10 dst=10.10.0.2 type=0 code=0 id=9 mark=0 use=1
tcp      6 100 ESTABLISHED src=10.10.0.2 dst=169.254.169.254 sport=50000 dport=80 src=169.254.169.254 dst=10.10.0.2 sport=80 dport=50000 [ASSURED] mark=0 use=1
`;

t.test('conntrack listings and events parse into tuples', async (t) => {
  const entry = parseConntrackLine(
    '    [NEW] tcp      6 120 SYN_SENT src=10.10.0.11 dst=198.51.100.10 sport=40000 dport=80 [UNREPLIED] src=198.51.100.10 dst=10.10.0.2 sport=80 dport=61000',
  );
  t.same(entry, {
    event: 'NEW',
    protocol: 'tcp',
    original: { src: '10.10.0.11', dst: '198.51.100.10', sport: '40000', dport: '80' },
    reply: { src: '198.51.100.10', dst: '10.10.0.2', sport: '80', dport: '61000' },
  });
  t.equal(
    parseConntrackLine(' [DESTROY] udp      17 src=10.0.0.1 dst=1.2.3.4 sport=1 dport=2 src=1.2.3.4 dst=10.0.0.9 sport=2 dport=3')?.event,
    'DESTROY',
  );
  t.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.'), undefined);
  t.same(translationLogEntry(entry!, '203.0.113.10')?.connection, {
    src_ip: '10.10.0.11',
    src_port: 40000,
    nat_ip: '203.0.113.10',
    nat_port: 61000,
    dest_ip: '198.51.100.10',
    dest_port: 80,
    protocol: 'tcp',
  });
});

t.test('per-VM figures: open connections and port usage, translated flows only, busiest first', async (t) => {
  const summary = summarizeTable(LISTING);
  t.equal(summary.translated, 4, "the NAT VM's own untranslated connection is not counted");
  t.same(summary.vms, [
    { vm: '10.10.0.11', openConnections: 3, portUsage: 2 },
    { vm: '10.10.0.12', openConnections: 1, portUsage: 1 },
  ]);
});

t.test('the per-destination counter agrees with a Map through growth and colliding keys', async (t) => {
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed;
  };
  const counter = new DestinationCounter();
  const reference = new Map<number, number>();
  for (let i = 0; i < 50_000; i++) {
    // Few addresses and ports, so keys repeat; protocol in the top bits as the summarizer builds them.
    const key = (1 + (random() % 3)) * 2 ** 48 + (0xc6336400 + (random() % 64)) * 65_536 + (random() % 300);
    counter.add(key);
    reference.set(key, (reference.get(key) ?? 0) + 1);
  }
  t.equal(counter.distinct, reference.size);
  t.equal(counter.max, Math.max(...reference.values()));
});

t.test('kernel conntrack statistics sum over CPUs; the global entries column is skipped', async (t) => {
  const totals =
    parseConntrackStatTable(`entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
0000000a  00000000 00000000 00000000 00000002 00000000 00000000 00000000 00000000 00000001 00000010 00000000 00000000  00000000 00000000 00000000 00000000
0000000a  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000002 00000000 00000005 00000000  00000000 00000000 00000000 00000000
`);
  t.equal(totals.invalid, 5);
  t.equal(totals.insert_failed, 3);
  t.equal(totals.drop, 16);
  t.equal(totals.early_drop, 5);
  t.equal(totals.entries, undefined);
});

t.test('NFLOG lines from tcpdump become drop records with the reason of their group', async (t) => {
  t.same(
    parseNflogLine(
      '1795679039.483895 version 0, resource ID 4201, family IPv4 (2), length 80: 10.10.0.200.43210 > 198.51.100.10.80: Flags [S], seq 1, win 64240, length 0',
    ),
    {
      event: 'dropped',
      allocation_status: 'DROPPED',
      reason: 'source_not_allowed',
      connection: { src_ip: '10.10.0.200', src_port: 43210, dest_ip: '198.51.100.10', dest_port: 80, protocol: 'tcp' },
    },
  );
  t.equal(
    parseNflogLine(
      '1.0 version 0, resource ID 4202, family IPv4 (2), length 84: 10.10.0.11 > 198.51.100.10: ICMP echo request, id 1, seq 1, length 64',
    )?.reason,
    'per_vm_cap',
  );
  t.equal(
    parseNflogLine('1.0 version 0, resource ID 4203, family IPv4 (2), length 80: 10.0.0.1.5 > 1.2.3.4.6: UDP, length 3')?.connection
      .protocol,
    'udp',
  );
  t.equal(
    parseNflogLine('1.0 version 0, resource ID 4201, family IPv4 (2), length 148: 10.10.0.200.48660 > 198.51.100.10.7007:  UDP, length 8')
      ?.connection.dest_port,
    7007,
    'two spaces after the colon',
  );
  t.equal(
    parseNflogLine('1.0 version 0, resource ID 4201, IPv4, length 80: 10.0.0.1.5 > 1.2.3.4.80: tcp 0')?.connection.protocol,
    'tcp',
    'tcp in -q form',
  );
  t.same(
    parseNflogLine('1795679853.691841 version 0, resource ID 4201, IPv4, length 148: 10.10.0.200.57963 > 198.51.100.10.7007: UDP, length 8')
      ?.connection,
    { src_ip: '10.10.0.200', src_port: 57963, dest_ip: '198.51.100.10', dest_port: 7007, protocol: 'udp' },
    'udp in -q form, as seen in the lab',
  );
  t.equal(
    parseNflogLine('1.0 version 0, resource ID 99, family IPv4 (2), length 80: 10.0.0.1.5 > 1.2.3.4.6: UDP, length 3'),
    undefined,
    'not our group',
  );
});

t.test('translation logs are rate-limited and the suppressed ones counted', async (t) => {
  const lines: unknown[] = [];
  const log = { info: (record: unknown) => lines.push(record), warn: () => undefined } as never;
  // Frozen: a loaded box could let the real clock refill the bucket while the 100 lines are read.
  const frozenAt = Date.now();
  const watcher = new ConntrackEventWatcher({
    spawn: (() => undefined) as never,
    log,
    logTranslations: true,
    ratePerSecond: 10,
    now: () => frozenAt,
  });
  for (let port = 0; port < 100; port++) {
    watcher.handleLine(
      `[NEW] udp 17 30 src=10.0.0.5 dst=198.51.100.10 sport=${1000 + port} dport=53 [UNREPLIED] src=198.51.100.10 dst=10.0.0.2 sport=53 dport=${2000 + port}`,
      'stdout',
    );
  }
  watcher.handleLine(
    '[DESTROY] udp 17 src=10.0.0.5 dst=198.51.100.10 sport=1000 dport=53 src=198.51.100.10 dst=10.0.0.2 sport=53 dport=2000',
    'stdout',
  );
  watcher.handleLine('WARNING: We have hit ENOBUFS! We are losing events.', 'stderr');
  t.equal(lines.length, 10, `${lines.length} logged of 100 within one second's budget`);
  t.equal(watcher.counts.logged + watcher.counts.suppressed, 100);
  t.equal(watcher.counts.closed.get('udp'), 1);
  t.equal(watcher.counts.lost, 1);
});

t.test('rate limiter refills over time', async (t) => {
  const start = Date.now();
  const limiter = new RateLimiter(2);
  t.ok(limiter.take(start), 'a fresh limiter has a second’s worth of tokens');
  let taken = 1;
  for (let i = 0; i < 10; i++) if (limiter.take(start)) taken++;
  t.equal(taken, 2, 'no more than the budget within the same instant');
  t.notOk(limiter.take(start - 5000), 'a clock step backwards neither refills nor drains');
  t.ok(limiter.take(start + 1000), 'a token back after a second');
});

t.test('shipped alert rules pass promtool check and their unit tests', async (t) => {
  const dir = path.join(repoRoot(), 'observability');
  const check = await runCommand('check alert rules', 'promtool', ['check', 'rules', path.join(dir, 'alerts.yml')], { okExitCodes: [1] });
  t.equal(check.exitCode, 0, check.stdout + check.stderr);
  t.match(check.stdout, /SUCCESS: 20 rules found/);
  const test = await runCommand('unit-test alert rules', 'promtool', ['test', 'rules', path.join(dir, 'alerts.test.yml')], {
    okExitCodes: [1],
  });
  t.equal(test.exitCode, 0, test.stdout + test.stderr);
});

t.test('no conntrack event listener runs unless translation logs are on (any listener costs every new connection)', async (t) => {
  const running = new Set<string>();
  const spawn: LineSpawner = (_purpose, file, args) => {
    const name = `${file} ${args.join(' ')}`;
    running.add(name);
    return { done: new Promise<number | undefined>(() => undefined), stop: () => running.delete(name) };
  };
  const observability = new Observability({ spawn, log: pino({ level: 'silent' }) });
  t.teardown(() => observability.stop());
  const listeners = () => [...running].filter((name) => name.startsWith('conntrack -E'));
  const config = (logging: string) => validateAgentConfig({ sourceRanges: ['10.10.0.0/24'], logging }, 'test');
  for (const logging of ['errors', 'none']) {
    observability.configure(config(logging));
    t.same(listeners(), [], `logging: ${logging}`);
  }
  observability.configure(config('translations'));
  t.same(listeners(), ['conntrack -E -e NEW,DESTROY -f ipv4 --src-nat'], 'logging: translations');
  observability.configure(config('all'));
  t.equal(listeners().length, 1, 'logging: all (the same one, not a second)');
  observability.configure(config('errors'));
  t.same(listeners(), [], 'back to errors: stopped');
});
