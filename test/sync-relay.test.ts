// The authenticated sync channel (issue #24, docs/security.md "State sync a client cannot forge"): the pure parts
// (key derivation, framing, tag, replay window) directly, and the relay between two fake NAT VMs over an in-memory UDP
// network, with a fake conntrackd on each side's loopback and a forger on the wire. No socket, no real network.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { SYNC_LOOPBACK, SYNC_PORT } from '../common/protocol.js';
import {
  admitCounter,
  deriveSyncKeys,
  EMPTY_REPLAY_WINDOW,
  generateSyncKeyPair,
  openSyncFrame,
  parsePeerPublicKey,
  REPLAY_WINDOW_SIZE,
  type ReplayWindow,
  SYNC_FRAME_OVERHEAD,
  sealSyncFrame,
  type SyncKeyPair,
} from '../agent/sync-channel.js';
import { type ForgedReason, SyncRelay } from '../agent/sync-relay.js';
import { FakeClock } from './fixtures/provision/fake-clock.js';
import { FakeUdpNetwork } from './helpers/fake-udp.js';

const A = '10.10.0.2';
const B = '10.10.0.3';
const keyUrl = (ip: string) => `http://${ip}:9731/sync/key`;

t.test('both sides derive the same keys, one per direction', async (t) => {
  const a = generateSyncKeyPair();
  const b = generateSyncKeyPair();
  const ab = deriveSyncKeys(a, b.publicKey);
  const ba = deriveSyncKeys(b, a.publicKey);
  t.same(ab.send, ba.receive, "a's sending key is b's receiving key");
  t.same(ab.receive, ba.send);
  t.notSame(ab.send, ab.receive, 'each direction has its own key');
  t.throws(() => deriveSyncKeys(a, a.publicKey), /the peer's public key is this VM's own/);
});

t.test('a sealed frame opens under the same key and yields its counter and datagram', async (t) => {
  const key = randomBytes(32);
  const datagram = Buffer.from('conntrackd message');
  const frame = sealSyncFrame(key, 7n, datagram);
  t.equal(frame.length, datagram.length + SYNC_FRAME_OVERHEAD);
  t.same(openSyncFrame(key, frame), { ok: true, counter: 7n, payload: datagram });
  t.same(openSyncFrame(key, sealSyncFrame(key, 2n ** 64n - 1n, Buffer.alloc(0))), {
    ok: true,
    counter: 2n ** 64n - 1n,
    payload: Buffer.alloc(0),
  });
  t.throws(() => sealSyncFrame(key, 2n ** 64n, datagram), /counter: must fit 64 bits/);
});

t.test('forged tag, changed datagram or counter, wrong key: bad_tag', async (t) => {
  const key = randomBytes(32);
  const frame = sealSyncFrame(key, 1n, Buffer.from('conntrackd message'));
  const flipped = (index: number) => {
    const copy = Buffer.from(frame);
    copy[index] = (copy[index] ?? 0) ^ 1;
    return copy;
  };
  t.match(openSyncFrame(key, flipped(frame.length - 1)), { ok: false, reason: 'bad_tag' }, 'a tag bit flipped');
  t.match(openSyncFrame(key, flipped(12)), { ok: false, reason: 'bad_tag' }, 'a datagram bit flipped');
  t.match(openSyncFrame(key, flipped(8)), { ok: false, reason: 'bad_tag' }, 'a counter bit flipped');
  t.match(openSyncFrame(randomBytes(32), frame), { ok: false, reason: 'bad_tag' }, 'another key');
  // A forger who knows both public keys still lacks either private key: its own pair gives other keys.
  const a = generateSyncKeyPair();
  const b = generateSyncKeyPair();
  const forger = generateSyncKeyPair();
  const forged = sealSyncFrame(deriveSyncKeys(forger, b.publicKey).send, 1n, Buffer.from('forged'));
  t.match(openSyncFrame(deriveSyncKeys(b, a.publicKey).receive, forged), { ok: false, reason: 'bad_tag' }, "a forger's own key pair");
  // A frame of ours sent back to us as the peer's: the directions' keys differ.
  const ab = deriveSyncKeys(a, b.publicKey);
  t.match(
    openSyncFrame(ab.receive, sealSyncFrame(ab.send, 1n, Buffer.from('mine'))),
    { ok: false, reason: 'bad_tag' },
    'a reflected frame',
  );
});

t.test('truncated datagram: malformed when shorter than a frame, bad_tag when cut but longer; unknown version: malformed', async (t) => {
  const key = randomBytes(32);
  const frame = sealSyncFrame(key, 1n, Buffer.from('conntrackd message'));
  t.match(openSyncFrame(key, frame.subarray(0, SYNC_FRAME_OVERHEAD - 1)), {
    ok: false,
    reason: 'malformed',
    detail: /shorter than a frame's/,
  });
  t.match(openSyncFrame(key, Buffer.alloc(0)), { ok: false, reason: 'malformed' });
  t.match(openSyncFrame(key, frame.subarray(0, frame.length - 1)), { ok: false, reason: 'bad_tag' });
  const versioned = Buffer.from(frame);
  versioned[0] = 2;
  t.match(openSyncFrame(key, versioned), { ok: false, reason: 'malformed', detail: /version 2/ });
});

t.test('replay window: repeats and old counters refused, reordering within the window accepted', async (t) => {
  let window: ReplayWindow = EMPTY_REPLAY_WINDOW;
  const admit = (counter: bigint) => {
    const result = admitCounter(window, counter);
    window = result.window;
    return result.fresh;
  };
  t.ok(admit(0n), 'the first counter');
  t.ok(admit(5n));
  t.notOk(admit(5n), 'a repeat of the highest');
  t.ok(admit(3n), 'late, within the window');
  t.ok(admit(4n));
  t.notOk(admit(3n), 'a repeat of a late one');
  t.ok(admit(1n));
  t.ok(admit(2n));
  const highest = 5n + BigInt(REPLAY_WINDOW_SIZE) * 3n;
  t.ok(admit(highest), 'a jump beyond the window');
  t.notOk(admit(5n), 'a counter that was seen, now far behind');
  t.notOk(admit(highest - BigInt(REPLAY_WINDOW_SIZE)), 'older than the window, never seen: refused all the same');
  t.ok(admit(highest - BigInt(REPLAY_WINDOW_SIZE) + 1n), 'the oldest counter the window still holds');
  t.notOk(admit(highest - BigInt(REPLAY_WINDOW_SIZE) + 1n));
  const before = window;
  admitCounter(window, highest + 1n);
  t.same(window, before, 'pure: the window given is not changed');
});

t.test('the peer key as /sync/key serves it: refused with the field named', async (t) => {
  const pair = generateSyncKeyPair();
  t.same(parsePeerPublicKey(pair.publicKey.toString('base64')), pair.publicKey);
  t.throws(() => parsePeerPublicKey(undefined), /publicKey: expected base64 text/);
  t.throws(() => parsePeerPublicKey('not base64!'), /publicKey: expected base64 text/);
  t.throws(() => parsePeerPublicKey(Buffer.alloc(31).toString('base64')), /publicKey: an X25519 public key has 32 bytes, got 31/);
});

// --- the relay: two NAT VMs, a fake conntrackd on each loopback, the wire in memory ---

interface Vm {
  ip: string;
  keyPair: SyncKeyPair;
  relay: SyncRelay;
  forged: Map<ForgedReason, number>;
  /** What this VM's conntrackd received. */
  received: string[];
  /** conntrackd sends a datagram to its relay. */
  send(text: string): void;
}

function pairOnNetwork(t: Test, options: { keyUnavailable?: number } = {}) {
  const network = new FakeUdpNetwork();
  const clock = new FakeClock(1_000_000);
  const vms = new Map<string, Vm>();
  const fetches: string[] = [];
  let failures = options.keyUnavailable ?? 0;
  const startVm = async (ip: string, host: string): Promise<Vm> => {
    const peerIp = ip === A ? B : A;
    const keyPair = generateSyncKeyPair();
    const forged = new Map<ForgedReason, number>();
    const relay = new SyncRelay({
      keyPair,
      selfIp: ip,
      peerIp,
      syncPort: SYNC_PORT,
      peerKeyUrl: keyUrl(peerIp),
      forged,
      log: pino({ level: 'silent' }),
      socket: network.socketsFor(host),
      clock,
      fetchKey: async (url) => {
        fetches.push(`${ip} ← ${url}`);
        if (failures > 0) {
          failures--;
          throw new Error('connect ECONNREFUSED');
        }
        const peer = vms.get(peerIp);
        if (peer === undefined || url !== keyUrl(peer.ip)) throw new Error(`no agent at ${url}`);
        return peer.keyPair.publicKey;
      },
    });
    const conntrackd = network.socket(host);
    const received: string[] = [];
    conntrackd.onMessage((datagram, from) => {
      t.equal(from.address, SYNC_LOOPBACK.relay, 'conntrackd hears from its relay only');
      received.push(datagram.toString());
    });
    await conntrackd.bind(SYNC_LOOPBACK.conntrackd, SYNC_PORT);
    await relay.start();
    const vm: Vm = {
      ip,
      keyPair,
      relay,
      forged,
      received,
      send: (text) => conntrackd.send(Buffer.from(text), SYNC_PORT, SYNC_LOOPBACK.relay),
    };
    vms.set(ip, vm);
    t.teardown(() => {
      relay.stop();
      conntrackd.close();
    });
    return vm;
  };
  /** Until nothing is in flight and no key fetch runs: every datagram sent so far has been delivered or dropped. */
  const settled = async () => {
    for (let round = 0; round < 50; round++) {
      await network.drained();
      await Promise.all([...vms.values()].map((vm) => vm.relay.settled()));
      await network.drained();
    }
  };
  return { network, clock, vms, fetches, startVm, settled };
}

/** a and b on one network, one genuine datagram from a to b delivered, and that datagram's frame as it crossed the wire. */
async function pairWithGenuineFrame(pair: ReturnType<typeof pairOnNetwork>) {
  const a = await pair.startVm(A, 'a');
  const b = await pair.startVm(B, 'b');
  await pair.settled();
  a.send('genuine');
  await pair.settled();
  const genuine = pair.network.sent.find((entry) => entry.to === `${B}:${SYNC_PORT}`)!.datagram;
  return { a, b, genuine };
}

const counts = (vm: Vm) => Object.fromEntries(vm.forged);

t.test('relay: conntrackd datagrams reach the peer conntrackd, tagged on the wire, from address to address on the sync port', async (t) => {
  const { network, startVm, settled } = pairOnNetwork(t);
  const a = await startVm(A, 'a');
  const b = await startVm(B, 'b');
  await settled();
  t.ok(a.relay.ready && b.relay.ready, 'each relay knows its peer key');
  a.send('update 1');
  a.send('update 2');
  b.send('ack');
  await settled();
  t.same(b.received, ['update 1', 'update 2']);
  t.same(a.received, ['ack']);
  const wire = network.sent.filter((entry) => !entry.to.startsWith('127.'));
  t.same(
    wire.map((entry) => `${entry.from} → ${entry.to}`),
    [`${A}:${SYNC_PORT} → ${B}:${SYNC_PORT}`, `${A}:${SYNC_PORT} → ${B}:${SYNC_PORT}`, `${B}:${SYNC_PORT} → ${A}:${SYNC_PORT}`],
  );
  t.equal(wire[0]?.datagram.length, 'update 1'.length + SYNC_FRAME_OVERHEAD, 'a frame: counter and tag added');
  t.same(counts(a), {}, 'nothing dropped');
});

t.test('relay: datagrams from before the peer key is known wait for it (fetched with backoff)', async (t) => {
  const { startVm, settled, fetches, clock } = pairOnNetwork(t, { keyUnavailable: 3 });
  const a = await startVm(A, 'a');
  a.send('before the peer');
  const b = await startVm(B, 'b');
  await settled();
  t.same(b.received, ['before the peer']);
  t.ok(fetches.length >= 5, `asked again until the key came (${fetches.length} fetches)`);
  t.ok(clock.sleeps.includes(500) && clock.sleeps.includes(1000), `backing off between failed fetches (${clock.sleeps.join(', ')} ms)`);
});

t.test('relay: forged frames (raw conntrackd, wrong key, replayed, truncated) are dropped and counted by reason', async (t) => {
  const pair = pairOnNetwork(t);
  const { network, settled } = pair;
  const { a, b, genuine } = await pairWithGenuineFrame(pair);
  const asPeer = { address: A, port: SYNC_PORT };
  // What the lab's spoofer sends: conntrackd's own datagram, as the peer.
  network.inject(asPeer, B, SYNC_PORT, Buffer.from('0123456789abcdef0123456789abcdef'));
  network.inject(asPeer, B, SYNC_PORT, genuine.subarray(0, 10));
  const forger = generateSyncKeyPair();
  network.inject(asPeer, B, SYNC_PORT, sealSyncFrame(deriveSyncKeys(forger, b.keyPair.publicKey).send, 99n, Buffer.from('forged')));
  network.inject(asPeer, B, SYNC_PORT, genuine);
  await settled();
  t.same(b.received, ['genuine'], "b's conntrackd got nothing but the genuine datagram");
  t.same(counts(b), { malformed: 2, bad_tag: 1, replay: 1 });
  a.send('still flowing');
  await settled();
  t.same(b.received, ['genuine', 'still flowing'], 'the forgeries left the channel working');
});

t.test("relay: a frame from any address but the peer's is dropped before any work (no tag check, no count, no key fetch)", async (t) => {
  const pair = pairOnNetwork(t);
  const { network, settled, fetches } = pair;
  const { b, genuine } = await pairWithGenuineFrame(pair);
  const fetchesBefore = fetches.length;
  const elsewhere = { address: '10.10.0.99', port: SYNC_PORT };
  network.inject(elsewhere, B, SYNC_PORT, Buffer.from('0123456789abcdef0123456789abcdef'));
  network.inject(elsewhere, B, SYNC_PORT, genuine);
  await settled();
  t.same(b.received, ['genuine'], 'a genuine frame replayed from elsewhere is not delivered');
  t.same(counts(b), {}, 'nothing counted: the nft input chain is what refuses other senders');
  t.equal(fetches.length, fetchesBefore, 'no key refetch');
});

t.test('relay: frames reordered within the window are delivered, a repeat is not', async (t) => {
  const { network, startVm, settled } = pairOnNetwork(t);
  const a = await startVm(A, 'a');
  const b = await startVm(B, 'b');
  await settled();
  network.swallowed.add(`${B}:${SYNC_PORT}`);
  for (const text of ['x', 'y', 'z']) a.send(text);
  await settled();
  network.swallowed.clear();
  const [x, y, z] = network.sent.filter((entry) => entry.to === `${B}:${SYNC_PORT}`).map((entry) => entry.datagram);
  for (const frame of [z, x, y, x]) network.inject({ address: A, port: SYNC_PORT }, B, SYNC_PORT, frame!);
  await settled();
  t.same(b.received, ['z', 'x', 'y']);
  t.same(counts(b), { replay: 1 });
});

t.test('relay: a peer replaced with a new key is followed, both ways, nothing counted as forged', async (t) => {
  const { startVm, settled, vms } = pairOnNetwork(t);
  const a = await startVm(A, 'a');
  const b = await startVm(B, 'b');
  await settled();
  a.send('to the old peer');
  await settled();
  t.same(b.received, ['to the old peer']);
  // The same address, a new agent, a new key pair; a still holds the old peer's key.
  b.relay.stop();
  vms.delete(B);
  const replaced = await startVm(B, 'b2');
  t.notSame(replaced.keyPair.publicKey, b.keyPair.publicKey);
  replaced.send('from the new peer');
  await settled();
  t.same(a.received, ['from the new peer'], "a refetched the peer's key when its frames stopped verifying, and let the frame through");
  a.send('to the new peer');
  await settled();
  t.same(replaced.received, ['to the new peer']);
  t.same(counts(a), {}, 'nothing counted as forged');
});
