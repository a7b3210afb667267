// Stateful HA on the NAT VM: runs and supervises conntrackd (its config, socket, lock and log under the VM root), asks
// the peer for its table at start, follows the resync to completion, and tells which VM the load balancer is using.
// Everything it learns comes from the kernel (nft counters, conntrack) and from the peer agent's /sync/summary, never
// from conntrackd's own idea of its peer.
import { mkdir, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { type Clock, realClock } from '../common/clock.js';
import { readRuleCounters, type RuleCounter } from './collectors/rules.js';
import { SupervisedReader } from './collectors/supervised.js';
import { splitHostPort } from '../common/host-port.js';
import { statefulRoles, type AgentConfig, type LocalAddresses, type StatefulRoles } from './config.js';
import { CONNTRACKD_DIR, conntrackdConfig, conntrackdFiles } from './conntrackd.js';
import type { Logger } from './log.js';
import type { MetadataClient } from './metadata.js';
import { ResyncTracker } from './resync.js';
import { STATEFUL_COUNTER } from './ruleset.js';
import { CommandError, type CommandRunner, type LineSpawner } from './runner.js';
import { GUEST_ATTRIBUTE, SYNC_LOOPBACK } from '../common/protocol.js';
import { generateSyncKeyPair, type SyncKeyPair } from './sync-channel.js';
import { type ForgedReason, type PeerKeyFetcher, type RelaySocketFactory, SyncRelay } from './sync-relay.js';

/** The peer counts as up while its conntrackd's messages keep arriving: FTFW sends an ALIVE every second when idle. */
export const PEER_SILENT_AFTER_MS = 5000;
/** Active = the load balancer sent this VM packets for the NAT IP this recently. */
export const ACTIVE_WITHIN_MS = 3000;
const TICK_MS = 1000;
const INSTALL_RECHECK_MS = 30_000;
/** After the resync the peer's count only feeds the ratio metric: no need to ask every second. */
const PEER_POLL_AFTER_RESYNC_MS = 5000;
/** natgw/sync is written on change, but never more often than GCE's advised guest-attribute rate allows. */
const SYNC_ATTRIBUTE_MIN_INTERVAL_MS = 6000;
const SYNC_ATTRIBUTE_REFRESH_MS = 50_000;

export interface SyncSummary {
  flows: number;
}

export type PeerSummaryFetcher = (url: string, timeoutMs: number) => Promise<SyncSummary>;

const fetchPeerSummary: PeerSummaryFetcher = async (url, timeoutMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const body = (await response.json()) as { flows?: unknown };
  if (typeof body.flows !== 'number') throw new Error(`${url} answered without a flow count`);
  return { flows: body.flows };
};

export interface StatefulDeps {
  run: CommandRunner;
  spawn: LineSpawner;
  log: Logger;
  /** Prefix for the conntrackd directory (the lab gives each VM its own). */
  root?: string;
  localAddresses: LocalAddresses;
  clock?: Clock;
  fetchPeer?: PeerSummaryFetcher;
  readCounters?: () => Promise<Map<string, RuleCounter>>;
  guestAttributes?: MetadataClient;
  /** Tests call tick() themselves (default: every second on a timer). */
  autoTick?: boolean;
  /** The sync relay's sockets and its fetch of the peer's key (tests wire relays together in memory). */
  relaySocket?: RelaySocketFactory;
  fetchPeerKey?: PeerKeyFetcher;
}

export interface SyncStatus {
  peerUp: boolean;
  resynced: boolean;
  role: 'active' | 'standby';
}

interface Setup {
  roles: StatefulRoles;
  natIp: string;
  peerUrl: string;
  relayKey: string;
  configText: string;
  files: ReturnType<typeof conntrackdFiles>;
}

export class StatefulSync {
  private setup: Setup | undefined;
  private conntrackd: SupervisedReader | undefined;
  private installed: boolean | undefined;
  private installCheckedAt = 0;
  private resyncRequested = false;
  /** conntrackd's own cache has taken in the kernel's table since this VM last turned active. */
  private adopted = false;
  private tracker = new ResyncTracker();
  private timer: NodeJS.Timeout | undefined;
  private lastPeerPoll = 0;
  private counters = new Map<string, number>();
  private lastReceivedAt: number | undefined;
  private lastNatIpPacketAt: number | undefined;
  private localFlowsCache: { flows: number; at: number; minAgeMs: number } | undefined;
  private localFlowsPending: Promise<number> | undefined;
  /** The peer's latest count, for the ratio metric. */
  peerFlows: number | undefined;
  peerError: string | undefined;
  private published: { value: string; at: number } | undefined;
  private readonly clock: Clock;
  /** In memory only: a restarted agent makes a new pair, and its peer fetches the new public key. */
  private keyPair: SyncKeyPair = generateSyncKeyPair();
  private relay: SyncRelay | undefined;
  private relayError: string | undefined;
  /** Frames from the wire the relay dropped, by reason, for natgw_sync_forged_total; kept across relays. */
  readonly forged = new Map<ForgedReason, number>();

  constructor(private readonly deps: StatefulDeps) {
    this.clock = deps.clock ?? realClock;
  }

  /** What `/sync/key` serves to the peer: this agent's X25519 public key; undefined without stateful sync. */
  get publicKey(): string | undefined {
    return this.setup === undefined ? undefined : this.keyPair.publicKey.toString('base64');
  }

  /** The peer's internal IP in stateful mode. */
  get peerIp(): string | undefined {
    return this.setup?.roles.peer.ip;
  }

  get enabled(): boolean {
    return this.setup !== undefined;
  }

  get conntrackdRunning(): boolean {
    return this.conntrackd?.ok === true;
  }

  get resynced(): boolean {
    return this.tracker.resynced;
  }

  /** Seconds since the last sync packet from the peer arrived; undefined before the first. */
  lastReceivedAgeSeconds(): number | undefined {
    return this.lastReceivedAt === undefined ? undefined : (this.clock.now() - this.lastReceivedAt) / 1000;
  }

  status(): SyncStatus {
    const now = this.clock.now();
    return {
      peerUp: this.lastReceivedAt !== undefined && now - this.lastReceivedAt < PEER_SILENT_AFTER_MS,
      resynced: this.tracker.resynced,
      role: this.lastNatIpPacketAt !== undefined && now - this.lastNatIpPacketAt < ACTIVE_WITHIN_MS ? 'active' : 'standby',
    };
  }

  /** Starts, reconfigures or (config without `stateful`) stops the sync; idempotent for an unchanged config. */
  async configure(config: AgentConfig, egressInterface: string): Promise<void> {
    const stateful = config.stateful;
    if (stateful === undefined) {
      this.stop();
      return;
    }
    const roles = statefulRoles(stateful, this.deps.localAddresses, 'config');
    const dir = path.join(this.deps.root ?? '/', CONNTRACKD_DIR);
    const files = conntrackdFiles(dir);
    // conntrackd talks to the relay on loopback; the egress interface still sizes its datagrams (its MTU).
    const configText = conntrackdConfig({
      dir,
      localIp: SYNC_LOOPBACK.conntrackd,
      peerIp: SYNC_LOOPBACK.relay,
      interfaceName: egressInterface,
      syncPort: stateful.syncPort,
      // The NAT IP is not an interface address, so it is never in this list: its translations are what we replicate.
      ignoreAddresses: this.deps.localAddresses().filter((address) => address !== stateful.natIp),
    });
    const { port } = splitHostPort(config.listen);
    const peerUrl = `http://${roles.peer.ip}:${port}/sync/summary`;
    const peerKeyUrl = `http://${roles.peer.ip}:${port}/sync/key`;
    const relayKey = `${roles.self.ip} ${roles.peer.ip} ${stateful.syncPort} ${peerKeyUrl}`;
    const changed = this.setup?.configText !== configText;
    const relayChanged = this.setup?.relayKey !== relayKey || this.relay === undefined;
    this.setup = { roles, natIp: stateful.natIp, peerUrl, relayKey, configText, files };
    if (relayChanged) await this.startRelay(roles, stateful.syncPort, peerKeyUrl);
    if (!changed && this.conntrackd !== undefined) return;
    await mkdir(dir, { recursive: true });
    await writeFile(files.config, configText);
    await this.startConntrackd(files);
    this.schedule(0);
  }

  /** Before conntrackd, so its first datagrams find the relay listening. */
  private async startRelay(roles: StatefulRoles, syncPort: number, peerKeyUrl: string): Promise<void> {
    this.relay?.stop();
    // A new relay counts from 0 with an empty replay window: under the old keys the peer would refuse its frames as
    // replays, and it would accept the peer's old frames again. A new key pair makes it a new session, as a restart
    // does: the peer's tags stop verifying, it refetches /sync/key and derives new keys.
    this.keyPair = generateSyncKeyPair();
    const relay = new SyncRelay({
      keyPair: this.keyPair,
      selfIp: roles.self.ip,
      peerIp: roles.peer.ip,
      syncPort,
      peerKeyUrl,
      forged: this.forged,
      log: this.deps.log,
      clock: this.clock,
      ...(this.deps.relaySocket === undefined ? {} : { socket: this.deps.relaySocket }),
      ...(this.deps.fetchPeerKey === undefined ? {} : { fetchKey: this.deps.fetchPeerKey }),
    });
    this.relay = relay;
    try {
      await relay.start();
      this.relayError = undefined;
    } catch (error) {
      relay.stop();
      this.relay = undefined;
      this.relayError = (error as Error).message;
      this.deps.log.error({ event: 'sync_relay_failed', error: this.relayError }, 'the sync relay could not start: no state sync');
    }
  }

  /** The relay knows the peer's key: sync flows both ways. */
  get relayReady(): boolean {
    return this.relay?.ready === true;
  }

  private async startConntrackd(files: Setup['files']): Promise<void> {
    this.conntrackd?.stop();
    this.conntrackd = undefined;
    this.installCheckedAt = this.clock.now();
    this.installed = await this.deps.run('check that conntrackd is installed', 'conntrackd', ['-v']).then(
      () => true,
      (error: unknown) => !(error instanceof CommandError && error.exitCode === undefined),
    );
    if (!this.installed) {
      this.deps.log.error({ event: 'conntrackd_missing' }, 'conntrackd is not installed: no state sync, /healthz stays red');
      return;
    }
    // A conntrackd left behind by an agent that was killed holds the lock and the sync port: ask it to go first.
    await this.deps
      .run('stop a leftover conntrackd', 'conntrackd', ['-C', files.config, '-k'], { okExitCodes: [1], timeoutMs: 5000 })
      .catch(() => undefined);
    const spawnConntrackd: LineSpawner = (purpose, file, args, onLine) => {
      // conntrackd refuses to start over the lock file of one that died without cleaning up (SIGKILL, OOM).
      rmSync(files.lock, { force: true });
      this.resyncRequested = false;
      return this.deps.spawn(purpose, file, args, onLine);
    };
    this.conntrackd = new SupervisedReader(
      { collector: 'conntrackd', purpose: 'run conntrackd (state sync)', file: 'conntrackd', args: ['-C', files.config] },
      spawnConntrackd,
      this.deps.log,
      (line) => {
        if (line.trim() !== '') this.deps.log.info({ event: 'conntrackd', line }, 'conntrackd');
      },
      this.clock,
    );
    this.conntrackd.start();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.setup === undefined || this.deps.autoTick === false) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(TICK_MS));
    }, delayMs);
    this.timer.unref();
  }

  /** One observation round; exported for tests, which drive it on a fake clock. */
  async tick(): Promise<void> {
    const setup = this.setup;
    if (setup === undefined) return;
    const now = this.clock.now();
    // Installed after the agent started (the startup script's apt-get finishing late, an operator): picked up here.
    if (this.installed === false && now - this.installCheckedAt >= INSTALL_RECHECK_MS) await this.startConntrackd(setup.files);
    await this.observeCounters(now);
    await this.adoptWhenActive(setup.files.config);
    if (this.conntrackdRunning && !this.resyncRequested) {
      try {
        // StartupResync asks too, but only once at its own start and without telling us whether it got through.
        await this.deps.run('ask the peer for its conntrack table', 'conntrackd', ['-C', setup.files.config, '-n'], { timeoutMs: 5000 });
        this.resyncRequested = true;
        this.tracker.asked(now);
        this.deps.log.info({ event: 'resync_requested', peer: setup.roles.peer.ip }, 'asked the peer for its conntrack table');
      } catch {
        // conntrackd opens its socket a moment after it starts: asked again next round.
      }
    }
    this.tracker.conntrackd(this.conntrackdRunning, this.resyncRequested, now);
    if (!this.tracker.resynced || now - this.lastPeerPoll >= PEER_POLL_AFTER_RESYNC_MS) {
      this.lastPeerPoll = now;
      const wasResynced = this.tracker.resynced;
      try {
        const peer = await (this.deps.fetchPeer ?? fetchPeerSummary)(setup.peerUrl, TICK_MS);
        this.peerFlows = peer.flows;
        this.peerError = undefined;
        this.tracker.local(await this.localFlows(), now);
        this.tracker.peerAnswered(peer.flows, now);
      } catch (error) {
        this.peerFlows = undefined;
        this.peerError = (error as Error).message;
        this.tracker.peerUnreachable(now);
      }
      const state = this.tracker.current;
      if (!wasResynced && state.phase === 'resynced')
        this.deps.log.info({ event: 'resynced', how: state.how, detail: state.detail }, `resync complete: ${state.detail}`);
      if (this.tracker.shouldAskAgain(now)) {
        this.resyncRequested = false;
        this.deps.log.warn(
          { event: 'resync_stalled', detail: state.phase === 'waiting' ? state.detail : '' },
          `resync stalled (${state.phase === 'waiting' ? state.detail : ''}): asking the peer again`,
        );
      }
    }
    await this.publish();
  }

  /**
   * With DisableExternalCache the flows learned from the peer live in the kernel only, and a resync request is answered
   * from conntrackd's own cache: a VM that took over such flows would never hand them to a (re)started peer, and a
   * rolling replacement would fail back to a VM without them. Taking the kernel's table into the cache (-R) once this
   * VM turns active, and sending it (-B) to a peer that is already listening, closes that gap.
   */
  private async adoptWhenActive(config: string): Promise<void> {
    if (this.status().role !== 'active') {
      this.adopted = false;
      return;
    }
    if (this.adopted || !this.conntrackdRunning) return;
    try {
      await this.deps.run('take the kernel table into conntrackd', 'conntrackd', ['-C', config, '-R'], { timeoutMs: 10_000 });
      await this.deps.run('send the table to the peer', 'conntrackd', ['-C', config, '-B'], { timeoutMs: 10_000 });
      this.adopted = true;
      this.deps.log.info({ event: 'flows_adopted' }, 'active: conntrackd took in the kernel table and sent it to the peer');
    } catch {
      // conntrackd opens its socket a moment after it starts: tried again next round.
    }
  }

  private async observeCounters(now: number): Promise<void> {
    let counters: Map<string, RuleCounter>;
    try {
      counters = await (this.deps.readCounters ?? (() => readRuleCounters(this.deps.run)))();
    } catch {
      return;
    }
    const rose = (name: string) => {
      const current = counters.get(name)?.packets;
      if (current === undefined) return false;
      const previous = this.counters.get(name);
      this.counters.set(name, current);
      // The first reading is the baseline; a replaced table starts from zero, and any packet since counts.
      return previous === undefined ? false : current > previous || (current < previous && current > 0);
    };
    if (rose(STATEFUL_COUNTER.syncReceived)) this.lastReceivedAt = now;
    if (rose(STATEFUL_COUNTER.natIpIn)) this.lastNatIpPacketAt = now;
  }

  /**
   * This VM's conntrack entries translated to the NAT IP (reply destination = NAT IP). A dump of the matching entries,
   * so its cost grows with the table: a result is reused for 20× the time the dump took (at least a second), which
   * bounds the cost to ~5 % of a core while the peer polls every second during its resync.
   */
  async localFlows(): Promise<number> {
    const setup = this.setup;
    if (setup === undefined) return 0;
    const now = this.clock.now();
    if (this.localFlowsCache !== undefined && now - this.localFlowsCache.at < this.localFlowsCache.minAgeMs)
      return this.localFlowsCache.flows;
    this.localFlowsPending ??= (async () => {
      const started = this.clock.now();
      const { stdout } = await this.deps.run('count the flows translated to the NAT IP', 'conntrack', ['-L', '--reply-dst', setup.natIp], {
        okExitCodes: [1],
      });
      const flows = stdout.split('\n').filter((line) => line.trim() !== '').length;
      const took = this.clock.now() - started;
      this.localFlowsCache = { flows, at: this.clock.now(), minAgeMs: Math.max(1000, took * 20) };
      return flows;
    })().finally(() => {
      this.localFlowsPending = undefined;
    });
    return this.localFlowsPending;
  }

  /** The last count, without dumping: what a scrape may read (the supervisor recounts every few seconds). */
  get lastLocalFlows(): number | undefined {
    return this.localFlowsCache?.flows;
  }

  async summary(): Promise<SyncSummary | undefined> {
    if (this.setup === undefined) return undefined;
    return { flows: await this.localFlows() };
  }

  /** The `sync` check of /healthz: never red because this VM is the standby, only for what breaks a failover onto it. */
  check(): { ok: boolean; detail: string } {
    if (this.setup === undefined) return { ok: false, detail: 'stateful sync not configured yet' };
    if (this.relayError !== undefined) return { ok: false, detail: `the sync relay could not start: ${this.relayError}` };
    if (this.installed === false)
      return {
        ok: false,
        detail: 'conntrackd is not installed (apt-get install conntrackd): stateful mode without state sync is not stateful',
      };
    if (!this.conntrackdRunning)
      return {
        ok: false,
        detail: `conntrackd is not running${this.conntrackd?.lastError === undefined ? '' : `: ${this.conntrackd.lastError}`}`,
      };
    const state = this.tracker.current;
    if (state.phase !== 'resynced') return { ok: false, detail: `resync from ${this.setup.roles.peer.ip} incomplete: ${state.detail}` };
    const { peerUp, role } = this.status();
    return { ok: true, detail: `resynced (${state.detail}); peer ${this.setup.roles.peer.ip} ${peerUp ? 'up' : 'silent'}; ${role}` };
  }

  /** Guest attribute natgw/sync: { peerUp, resynced, role }, for `status` to show the roles. */
  private async publish(): Promise<void> {
    const guest = this.deps.guestAttributes;
    // A round that was under way when the agent stopped: natgw/sync stays as the last running round left it.
    if (guest === undefined || this.setup === undefined) return;
    const value = JSON.stringify(this.status());
    const now = this.clock.now();
    const last = this.published;
    if (
      last !== undefined &&
      (value === last.value ? now - last.at < SYNC_ATTRIBUTE_REFRESH_MS : now - last.at < SYNC_ATTRIBUTE_MIN_INTERVAL_MS)
    )
      return;
    try {
      await guest.putGuestAttribute(GUEST_ATTRIBUTE.sync, value);
      this.published = { value, at: now };
    } catch (error) {
      this.deps.log.warn({ event: 'guest_attribute_failed', error: (error as Error).message }, 'could not publish natgw/sync');
    }
  }

  /** conntrackd statistics over its UNIX socket (`conntrackd -s`, `-s queue`). */
  async conntrackdStats(): Promise<{ general: string; queue: string } | undefined> {
    const setup = this.setup;
    if (setup === undefined || !this.conntrackdRunning) return undefined;
    const read = (args: string[]) =>
      this.deps.run('read conntrackd statistics', 'conntrackd', ['-C', setup.files.config, '-s', ...args], { timeoutMs: 5000 });
    const [general, queue] = await Promise.all([read([]), read(['queue'])]);
    return { general: general.stdout, queue: queue.stdout };
  }

  /**
   * Stops conntrackd (the agent calls this last, after the drain) and the polling. Stopped is unconfigured: one state
   * instead of a flag beside the setup that could disagree with it.
   */
  stop(): void {
    this.setup = undefined;
    clearTimeout(this.timer);
    this.conntrackd?.stop();
    this.conntrackd = undefined;
    this.relay?.stop();
    this.relay = undefined;
  }
}
