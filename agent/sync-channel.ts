// The authenticated sync channel between two stateful NAT VMs, the pure half: key derivation, framing, the tag and the
// replay window. The relay (sync-relay.ts) moves the frames; nothing here touches a socket or a clock.
//
// A client VM with canIpForward may send with the peer's address, so the address proves nothing (docs/security.md,
// "State sync a client cannot forge"). What it cannot do is read what GCE delivers to the peer's address: the peer's
// public key, fetched over TCP from that address, is the peer's. Both sides derive the same keys from it (X25519, then
// HKDF-SHA256 over both public keys), and every datagram carries a counter and an HMAC-SHA256 tag under them.
import { createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';

export const SYNC_FRAME_VERSION = 1;
/** Bytes of HMAC-SHA256 kept (RFC 4868's HMAC-SHA-256-128): a forger must guess 128 bits, and each frame is 16 bytes shorter. */
export const SYNC_TAG_BYTES = 16;
const HEADER_BYTES = 1 + 8;
/** What the relay adds to each conntrackd datagram on the wire. */
export const SYNC_FRAME_OVERHEAD = HEADER_BYTES + SYNC_TAG_BYTES;
/** Counters this far behind the highest seen are still accepted once: UDP between two VMs of a zone rarely reorders more. */
export const REPLAY_WINDOW_SIZE = 1024;
const WINDOW_BITS = BigInt(REPLAY_WINDOW_SIZE);
const WINDOW_MASK = (1n << WINDOW_BITS) - 1n;
const MAX_COUNTER = 2n ** 64n - 1n;
const RAW_PUBLIC_KEY_BYTES = 32;
const HKDF_INFO = 'natgw state sync v1';

export interface SyncKeyPair {
  privateKey: KeyObject;
  /** Raw X25519 public key, what `/sync/key` serves. */
  publicKey: Buffer;
}

/** A fresh pair, kept in memory only: a restarted agent has a new one, and its peer refetches it. */
export function generateSyncKeyPair(): SyncKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

const rawPublicKey = (key: KeyObject) => Buffer.from(String(key.export({ format: 'jwk' }).x), 'base64url');

/** The peer's key as `/sync/key` serves it (base64 of the raw 32 bytes); throws naming what is wrong. */
export function parsePeerPublicKey(text: unknown): Buffer {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('publicKey: expected base64 text');
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== RAW_PUBLIC_KEY_BYTES)
    throw new Error(`publicKey: an X25519 public key has ${RAW_PUBLIC_KEY_BYTES} bytes, got ${raw.length}`);
  return raw;
}

export interface SyncKeys {
  /** Tags the frames this VM sends. */
  send: Buffer;
  /** Checks the frames the peer sends. */
  receive: Buffer;
}

/**
 * ECDH, then HKDF-SHA256 salted with both public keys in a fixed order, so both sides get the same 64 bytes. Each
 * direction has its own half: a frame of ours reflected back at us does not verify as the peer's.
 */
export function deriveSyncKeys(own: SyncKeyPair, peerPublicKey: Buffer): SyncKeys {
  if (own.publicKey.equals(peerPublicKey)) throw new Error("the peer's public key is this VM's own");
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublicKey.toString('base64url') }, format: 'jwk' });
  // OpenSSL refuses a low-order peer key (an all-zero secret): it throws here rather than derive a guessable key.
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: peer });
  const ownFirst = Buffer.compare(own.publicKey, peerPublicKey) < 0;
  const [low, high] = ownFirst ? [own.publicKey, peerPublicKey] : [peerPublicKey, own.publicKey];
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([low, high]), HKDF_INFO, 64));
  const fromLow = okm.subarray(0, 32);
  const fromHigh = okm.subarray(32, 64);
  return ownFirst ? { send: fromLow, receive: fromHigh } : { send: fromHigh, receive: fromLow };
}

const tagOf = (key: Buffer, signed: Buffer) => createHmac('sha256', key).update(signed).digest().subarray(0, SYNC_TAG_BYTES);

/** version ‖ counter (64-bit, big-endian) ‖ conntrackd's datagram ‖ tag over all that precedes it. */
export function sealSyncFrame(key: Buffer, counter: bigint, payload: Buffer): Buffer {
  if (counter < 0n || counter > MAX_COUNTER) throw new Error(`counter: must fit 64 bits unsigned, got ${counter}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(SYNC_FRAME_VERSION, 0);
  header.writeBigUInt64BE(counter, 1);
  const signed = Buffer.concat([header, payload]);
  return Buffer.concat([signed, tagOf(key, signed)]);
}

export type OpenedSyncFrame =
  | { ok: true; counter: bigint; payload: Buffer }
  | { ok: false; reason: 'malformed' | 'bad_tag'; detail: string };

/** The frame's datagram if its tag verifies under `key`; a short or unknown frame is malformed, any other a bad tag. */
export function openSyncFrame(key: Buffer, frame: Buffer): OpenedSyncFrame {
  if (frame.length < SYNC_FRAME_OVERHEAD)
    return { ok: false, reason: 'malformed', detail: `${frame.length} bytes, shorter than a frame's ${SYNC_FRAME_OVERHEAD}` };
  const version = frame.readUInt8(0);
  if (version !== SYNC_FRAME_VERSION)
    return { ok: false, reason: 'malformed', detail: `version ${version}, expected ${SYNC_FRAME_VERSION}` };
  const signed = frame.subarray(0, frame.length - SYNC_TAG_BYTES);
  if (!timingSafeEqual(tagOf(key, signed), frame.subarray(frame.length - SYNC_TAG_BYTES)))
    return { ok: false, reason: 'bad_tag', detail: 'the tag does not verify under the peer key' };
  return { ok: true, counter: frame.readBigUInt64BE(1), payload: Buffer.from(frame.subarray(HEADER_BYTES, signed.length)) };
}

/** The highest counter accepted and, bit i set, whether `highest - i` was. */
export interface ReplayWindow {
  readonly highest: bigint;
  readonly seen: bigint;
}

export const EMPTY_REPLAY_WINDOW: ReplayWindow = { highest: -1n, seen: 0n };

/**
 * Whether a verified frame's counter is new: higher than any seen, or within the window behind it and not seen yet
 * (reordering). A repeat, or one older than the window, is a replay. Call only after the tag verified: a forger must
 * not move the window.
 */
export function admitCounter(window: ReplayWindow, counter: bigint): { fresh: boolean; window: ReplayWindow } {
  if (counter > window.highest) {
    const shift = counter - window.highest;
    const seen = shift >= WINDOW_BITS ? 1n : ((window.seen << shift) | 1n) & WINDOW_MASK;
    return { fresh: true, window: { highest: counter, seen } };
  }
  const behind = window.highest - counter;
  if (behind >= WINDOW_BITS) return { fresh: false, window };
  const bit = 1n << behind;
  if ((window.seen & bit) !== 0n) return { fresh: false, window };
  return { fresh: true, window: { highest: window.highest, seen: window.seen | bit } };
}
