// The agent relays conntrackd's state sync: conntrackd talks to it on loopback only, and between the NAT VMs every
// datagram is a frame tagged under keys derived from the peer's public key (sync-channel.ts). Frames that do not verify,
// or repeat an earlier counter, never reach conntrackd; they are counted by reason (natgw_sync_forged_total).
//
// The peer's key comes from its agent (`/sync/key`, over TCP from its internal address). A peer that was replaced has a
// new key: frames that stop verifying make the relay ask again, and are judged under what it gets back.
import { createSocket, type Socket } from 'node:dgram';
import { type Clock, realClock } from '../common/clock.js';
import { SYNC_LOOPBACK, SYNC_SOCKET_BUFFER_BYTES } from '../common/protocol.js';
import type { Logger } from './log.js';
import {
  admitCounter,
  deriveSyncKeys,
  EMPTY_REPLAY_WINDOW,
  openSyncFrame,
  parsePeerPublicKey,
  type ReplayWindow,
  sealSyncFrame,
  type SyncKeyPair,
  type SyncKeys,
} from './sync-channel.js';

export const FORGED_REASONS = ['malformed', 'bad_tag', 'replay', 'unverified'] as const;
/** malformed: not a frame; bad_tag: fails the peer's key; replay: a counter seen or too old; unverified: dropped unchecked (no peer key in time, too many waiting). */
export type ForgedReason = (typeof FORGED_REASONS)[number];

/** Datagrams held while the peer's key is unknown or being refetched; beyond this the oldest go. */
export const MAX_WAITING_DATAGRAMS = 512;
const KEY_RETRY_FIRST_MS = 500;
const KEY_RETRY_MAX_MS = 30_000;
/** A flood of frames that fail is a forger as often as a new peer: the key is asked for at most this often. */
export const KEY_REFETCH_MIN_INTERVAL_MS = 1000;
const FORGED_LOG_INTERVAL_MS = 10_000;

/** The part of a UDP socket the relay uses, so tests can wire two relays together without a network. */
export interface RelaySocket {
  bind(address: string, port: number): Promise<void>;
  send(datagram: Buffer, port: number, address: string): void;
  onMessage(handler: (datagram: Buffer, from: { address: string; port: number }) => void): void;
  close(): void;
}

export type RelaySocketFactory = () => RelaySocket;
export type PeerKeyFetcher = (url: string, timeoutMs: number) => Promise<Buffer>;

export const udpRelaySocket: RelaySocketFactory = () => {
  // conntrackd's own buffer size: a bulk resync arrives in bursts, and the kernel's default (~208 KB) would drop them.
  const socket: Socket = createSocket({ type: 'udp4', recvBufferSize: SYNC_SOCKET_BUFFER_BYTES, sendBufferSize: SYNC_SOCKET_BUFFER_BYTES });
  return {
    bind: (address, port) =>
      new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address, port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      }),
    // A send that fails (the peer's address unreachable for a moment) is a lost datagram; FTFW resends it.
    send: (datagram, port, address) => socket.send(datagram, port, address, () => undefined),
    onMessage: (handler) => {
      socket.on('message', (datagram, from) => handler(datagram, from));
      socket.on('error', () => undefined);
    },
    close: () => socket.close(),
  };
};

export const fetchPeerKey: PeerKeyFetcher = async (url, timeoutMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parsePeerPublicKey(((await response.json()) as { publicKey?: unknown }).publicKey);
};

export interface SyncRelayOptions {
  keyPair: SyncKeyPair;
  /** This VM's internal address: the frames leave from it, to the peer's, both on the sync port. */
  selfIp: string;
  peerIp: string;
  syncPort: number;
  /** The peer agent's `/sync/key`. */
  peerKeyUrl: string;
  /** Counts of dropped frames, kept by the owner so they survive a new relay (a config change). */
  forged: Map<ForgedReason, number>;
  log: Logger;
  socket?: RelaySocketFactory;
  fetchKey?: PeerKeyFetcher;
  clock?: Clock;
}

interface Session {
  peerPublicKey: Buffer;
  keys: SyncKeys;
  nextCounter: bigint;
  window: ReplayWindow;
}

export class SyncRelay {
  private wire: RelaySocket | undefined;
  private local: RelaySocket | undefined;
  private session: Session | undefined;
  /** conntrackd's datagrams waiting for the peer's key. */
  private outbound: Buffer[] = [];
  /** Frames from the wire that could not be checked yet: no key, or one that may be stale. */
  private inbound: Buffer[] = [];
  private fetching: Promise<void> | undefined;
  private lastFetchAt: number | undefined;
  private readonly stopper = new AbortController();
  private loggedForgedAt: number | undefined;
  private forgedSinceLog = 0;
  private readonly clock: Clock;

  constructor(private readonly options: SyncRelayOptions) {
    this.clock = options.clock ?? realClock;
  }

  /** Binds both sockets (throws if either port is taken) and fetches the peer's key in the background. */
  async start(): Promise<void> {
    const factory = this.options.socket ?? udpRelaySocket;
    const wire = factory();
    const local = factory();
    this.wire = wire;
    this.local = local;
    // Only the nft input chain filters senders, and it is absent at boot or after a failed apply: anything else costs
    // no HMAC and no key refetch.
    wire.onMessage((frame, from) => {
      if (from.address === this.options.peerIp) this.fromPeer(frame);
    });
    local.onMessage((datagram, from) => {
      if (from.address === SYNC_LOOPBACK.conntrackd) this.toPeer(datagram);
    });
    await wire.bind(this.options.selfIp, this.options.syncPort);
    await local.bind(SYNC_LOOPBACK.relay, this.options.syncPort);
    this.requestPeerKey();
  }

  /** Whether the peer's key is known (frames flow both ways). */
  get ready(): boolean {
    return this.session !== undefined;
  }

  /** Resolves once the current key fetch (if any) is done: for tests. */
  async settled(): Promise<void> {
    while (this.fetching !== undefined) await this.fetching;
  }

  stop(): void {
    this.stopper.abort();
    this.wire?.close();
    this.local?.close();
    this.wire = undefined;
    this.local = undefined;
  }

  private toPeer(datagram: Buffer): void {
    const session = this.session;
    if (session === undefined) {
      hold(this.outbound, datagram, () => undefined);
      this.requestPeerKey();
      return;
    }
    this.wire?.send(sealSyncFrame(session.keys.send, session.nextCounter++, datagram), this.options.syncPort, this.options.peerIp);
  }

  private fromPeer(frame: Buffer): void {
    const session = this.session;
    const opened = session === undefined ? undefined : openSyncFrame(session.keys.receive, frame);
    if (opened?.ok === false && opened.reason === 'malformed') {
      this.forged('malformed', opened.detail);
      return;
    }
    if (session === undefined || opened === undefined || !opened.ok) {
      // No key yet, or the peer may have been replaced: judged once its key is (re)fetched.
      hold(this.inbound, frame, () => this.forged('unverified', 'too many frames waiting for the peer key'));
      this.requestPeerKey();
      return;
    }
    this.deliver(session, opened.counter, opened.payload);
  }

  private deliver(session: Session, counter: bigint, payload: Buffer): void {
    const admitted = admitCounter(session.window, counter);
    if (!admitted.fresh) {
      this.forged('replay', `counter ${counter} already seen or too old`);
      return;
    }
    session.window = admitted.window;
    this.local?.send(payload, this.options.syncPort, SYNC_LOOPBACK.conntrackd);
  }

  private forged(reason: ForgedReason, detail: string): void {
    this.options.forged.set(reason, (this.options.forged.get(reason) ?? 0) + 1);
    this.forgedSinceLog++;
    const now = this.clock.now();
    if (this.loggedForgedAt !== undefined && now - this.loggedForgedAt < FORGED_LOG_INTERVAL_MS) return;
    this.options.log.warn(
      { event: 'sync_forged', reason, detail, dropped: this.forgedSinceLog, peer: this.options.peerIp },
      `dropped ${this.forgedSinceLog} sync frame(s) that are not the peer's (last: ${reason}, ${detail})`,
    );
    this.loggedForgedAt = now;
    this.forgedSinceLog = 0;
  }

  private requestPeerKey(): void {
    if (this.fetching !== undefined || this.stopper.signal.aborted) return;
    this.fetching = this.fetchUntilKnown()
      .catch(() => undefined)
      .finally(() => {
        this.fetching = undefined;
      });
  }

  private async fetchUntilKnown(): Promise<void> {
    const signal = this.stopper.signal;
    const since = this.lastFetchAt === undefined ? Number.POSITIVE_INFINITY : this.clock.now() - this.lastFetchAt;
    if (since < KEY_REFETCH_MIN_INTERVAL_MS) await this.clock.sleep(KEY_REFETCH_MIN_INTERVAL_MS - since, signal);
    let retryMs = KEY_RETRY_FIRST_MS;
    for (;;) {
      this.lastFetchAt = this.clock.now();
      try {
        const key = await (this.options.fetchKey ?? fetchPeerKey)(this.options.peerKeyUrl, 2000);
        if (signal.aborted) return;
        this.useKey(key);
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.options.log.warn(
          { event: 'sync_key_unavailable', peer: this.options.peerIp, error: (error as Error).message, retryMs },
          "could not fetch the peer's sync key: sync waits",
        );
      }
      await this.clock.sleep(retryMs, signal);
      retryMs = Math.min(retryMs * 2, KEY_RETRY_MAX_MS);
    }
  }

  private useKey(peerPublicKey: Buffer): void {
    if (this.session === undefined || !this.session.peerPublicKey.equals(peerPublicKey)) {
      const renewed = this.session !== undefined;
      this.session = {
        peerPublicKey,
        keys: deriveSyncKeys(this.options.keyPair, peerPublicKey),
        nextCounter: 0n,
        window: EMPTY_REPLAY_WINDOW,
      };
      this.options.log.info(
        { event: renewed ? 'sync_key_changed' : 'sync_key_known', peer: this.options.peerIp },
        renewed ? 'the peer has a new sync key (it was replaced or restarted)' : "the peer's sync key is known: sync relayed",
      );
    }
    const session = this.session;
    const waiting = this.inbound;
    this.inbound = [];
    for (const frame of waiting) {
      const opened = openSyncFrame(session.keys.receive, frame);
      if (opened.ok) this.deliver(session, opened.counter, opened.payload);
      else this.forged(opened.reason, opened.detail);
    }
    const outbound = this.outbound;
    this.outbound = [];
    for (const datagram of outbound) this.toPeer(datagram);
  }
}

function hold(queue: Buffer[], datagram: Buffer, onDropped: () => void): void {
  queue.push(datagram);
  if (queue.length > MAX_WAITING_DATAGRAMS) {
    queue.shift();
    onDropped();
  }
}
