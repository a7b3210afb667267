// Overflow attribution without per-connection events: the learner's NFLOG line parsed into a first packet, a listing
// woken by it, listings repeated only while overflow connections are open, and none at all otherwise.
import { pino } from 'pino';
import t from 'tap';
import { waitUntil } from '../common/wait.js';
import { OverflowAttribution, nextListingAt, parseNflogLine } from '../agent/overflow-attribution.js';
import type { CommandRunner } from '../agent/runner.js';

t.test('a learner line is the first packet of a connection: when, and its original tuple', async (t) => {
  t.same(parseNflogLine('1764533000.123456 IP 10.10.0.11.40000 > 198.51.100.10.80: tcp 0'), {
    time: 1_764_533_000_123,
    protocol: 'tcp',
    src: '10.10.0.11',
    sport: '40000',
    dst: '198.51.100.10',
    dport: '80',
  });
  t.match(parseNflogLine('1764533000.5 IP 10.10.0.12.5353 > 203.0.113.7.53: UDP, length 8'), {
    time: 1_764_533_000_500,
    protocol: 'udp',
    dport: '53',
  });
  t.equal(parseNflogLine('listening on nflog:4210, link-type NFLOG'), undefined);
  t.equal(parseNflogLine('1764533000.1 IP 10.10.0.12 > 203.0.113.7: ICMP echo request'), undefined, 'ICMP never takes an overflow port');
});

function harness(listing: () => string) {
  const listings: number[] = [];
  const run: CommandRunner = async (_purpose, file, args) => {
    if (file !== 'conntrack' || !args.includes('--mark')) throw new Error(`unexpected ${file} ${args.join(' ')}`);
    listings.push(Date.now());
    return { stdout: listing(), stderr: '', exitCode: 0 };
  };
  const clients: string[] = [];
  const attribution = new OverflowAttribution({
    run,
    log: pino({ level: 'silent' }),
    now: Date.now,
    natIp: () => '192.0.2.1',
    onClient: (vm) => clients.push(vm),
    settleMs: 5,
    pollMs: 30,
    minGapMs: 0,
  });
  return { attribution, listings, clients };
}

const entry = `tcp      6 117 TIME_WAIT src=10.10.0.11 dst=198.51.100.10 sport=40000 dport=80 src=198.51.100.10 dst=10.10.0.2 sport=80 dport=61500 [ASSURED] mark=1313275904 use=1`;

t.test('listings: one when started, one woken by a first packet, repeated while a connection is open, then none', async (t) => {
  let open = false;
  const { attribution, listings, clients } = harness(() => (open ? `${entry}\n` : ''));
  t.teardown(() => attribution.stop());
  attribution.start();
  await waitUntil('the first listing', () => listings.length === 1, { timeoutMs: 5000, everyMs: 2 });
  await attribution.settled();
  open = true;
  attribution.firstPacket({ time: Date.now(), protocol: 'tcp', src: '10.10.0.11', sport: '40000', dst: '198.51.100.10', dport: '80' });
  await waitUntil('the listing the first packet woke', () => attribution.records().length === 1, { timeoutMs: 5000, everyMs: 2 });
  t.same(clients, ['10.10.0.11'], 'the VM found on the overflow ports is handed to the learner');
  t.match(attribution.records()[0], { vm: '10.10.0.11', first: 61500, natIp: '192.0.2.1', destination: '198.51.100.10:80/tcp' });
  const whileOpen = listings.length;
  await waitUntil('two more listings while the connection is open', () => listings.length >= whileOpen + 2, {
    timeoutMs: 5000,
    everyMs: 2,
  });
  open = false;
  await waitUntil('the listing that no longer shows it', () => attribution.records()[0]?.until !== undefined, {
    timeoutMs: 5000,
    everyMs: 2,
  });
  await attribution.settled();
  t.equal(attribution.listingPending, false, 'nothing open and no first packet: no listing is due');
  t.equal(attribution.found, 1, 'the same connection in several listings is one record');
});

t.test('a stopped attribution lists nothing, even when a first packet comes', async (t) => {
  const { attribution, listings } = harness(() => `${entry}\n`);
  attribution.start();
  await waitUntil('the first listing', () => listings.length === 1, { timeoutMs: 5000, everyMs: 2 });
  await attribution.settled();
  attribution.stop();
  const before = listings.length;
  attribution.firstPacket({ time: Date.now(), protocol: 'tcp', src: '10.10.0.11', sport: '40000', dst: '198.51.100.10', dport: '80' });
  t.equal(attribution.listingPending, false, 'no listing is due');
  t.equal(listings.length, before);
});

t.test('when the next listing starts: the sooner one stands, never closer than the least gap to the last', async (t) => {
  const now = 1_000_000;
  t.equal(nextListingAt(now, 50, 0, 500), now + 50, 'woken: after the settle time');
  t.equal(nextListingAt(now, 50, now - 100, 500), now + 400, 'but not sooner than the least gap after the last listing');
  t.equal(
    nextListingAt(now, 50, 0, 500, now + 20),
    undefined,
    'a listing already due sooner stands: a stream of first packets does not postpone it',
  );
  t.equal(nextListingAt(now, 2000, 0, 500, now + 50), undefined, 'the next poll does not push back a listing a first packet woke');
  t.equal(nextListingAt(now, 50, 0, 500, now + 2000), now + 50, 'a first packet brings the next poll forward');
});
