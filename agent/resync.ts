// When a (re)started NAT VM may take traffic: only once its kernel holds the peer's translations, or once it is clear
// there is no peer to take them from. Pure: the stateful supervisor feeds it observations with their time.

/** A resync is complete at this share of the peer's flows: entries keep coming and going while it runs. */
export const RESYNC_SHARE = 0.95;
/** A peer that never answered for this long is gone (first VM up, or the other one died): this VM serves alone. */
export const ALONE_AFTER_MS = 10_000;
/**
 * Between the share and all of the peer's flows the bulk transfer may still be arriving: resynced once the local count
 * has not grown for this long. Taking traffic at the share alone cost a rolling replacement 4 of 100 flows (the
 * recreated primary took the clients back while its last entries were in flight).
 */
export const SETTLE_MS = 2000;
/**
 * Below the share, with the gap to the peer's count not closing (by at least 1 % of the peer's flows) for this long
 * since the last request, the request is made again; each further time the wait doubles, up to ASK_AGAIN_MAX_MS.
 * FTFW resends a lost RESYNC only once the peer notices a gap in the sequence, and a peer that has not yet learned a
 * replaced VM's sync key drops what it cannot verify: a request lost at boot would keep this VM red until the
 * provisioner gives up. The gap, not the count: the peer's live updates keep the count growing while the bulk
 * transfer is missing.
 */
export const ASK_AGAIN_MS = 5000;
export const ASK_AGAIN_MAX_MS = 60_000;
/** The share of the peer's flows (at least one flow) by which the gap must close to count as progress. */
export const PROGRESS_SHARE = 0.01;

export type ResyncState =
  | { phase: 'waiting'; detail: string }
  | { phase: 'resynced'; how: 'from-peer' | 'alone'; detail: string; at: number };

export class ResyncTracker {
  private state: ResyncState = { phase: 'waiting', detail: 'no answer from the peer yet' };
  private unreachableSince: number | undefined;
  private conntrackdUp = false;
  private resyncRequested = false;
  private localFlows: number | undefined;
  private peerFlows: number | undefined;
  private grewAt: number | undefined;
  private askedAt: number | undefined;
  private asks = 0;
  private closedAt: number | undefined;
  private gapAtClose: number | undefined;

  get current(): ResyncState {
    return this.state;
  }

  get resynced(): boolean {
    return this.state.phase === 'resynced';
  }

  /** conntrackd up and asked for the peer's table (`conntrackd -n`); a restarted conntrackd asks again. */
  conntrackd(up: boolean, resyncRequested: boolean, now: number): void {
    this.conntrackdUp = up;
    this.resyncRequested = up && resyncRequested;
    this.evaluate(now);
  }

  /** conntrackd was asked (again) for the peer's table just now. */
  asked(now: number): void {
    this.askedAt = now;
    this.asks++;
  }

  /** How long after the last request or the last progress the next request is due: doubling, capped. */
  get askAgainAfterMs(): number {
    return Math.min(ASK_AGAIN_MAX_MS, ASK_AGAIN_MS * 2 ** Math.max(0, this.asks - 1));
  }

  /** Still short of the share, and the gap to the peer has not closed since the last request for askAgainAfterMs. */
  shouldAskAgain(now: number): boolean {
    if (this.state.phase === 'resynced' || !this.resyncRequested || this.peerFlows === undefined) return false;
    if ((this.localFlows ?? 0) >= RESYNC_SHARE * this.peerFlows) return false;
    return now - Math.max(this.askedAt ?? now, this.closedAt ?? 0) >= this.askAgainAfterMs;
  }

  local(flows: number, now: number): void {
    if (this.localFlows === undefined || flows > this.localFlows) this.grewAt = now;
    this.localFlows = flows;
    this.evaluate(now);
  }

  peerAnswered(flows: number, now: number): void {
    this.unreachableSince = undefined;
    this.peerFlows = flows;
    this.noteProgress(now);
    this.evaluate(now);
  }

  /** Measured when the peer's count arrives, against the local count of the same round (the supervisor reads it first). */
  private noteProgress(now: number): void {
    if (this.peerFlows === undefined) return;
    const gap = this.peerFlows - (this.localFlows ?? 0);
    if (this.gapAtClose === undefined || gap <= this.gapAtClose - Math.max(1, PROGRESS_SHARE * this.peerFlows)) {
      this.gapAtClose = gap;
      this.closedAt = now;
    } else if (gap > this.gapAtClose) this.gapAtClose = gap;
  }

  peerUnreachable(now: number): void {
    this.unreachableSince ??= now;
    this.peerFlows = undefined;
    this.evaluate(now);
  }

  /** Time alone passes without a new observation. */
  tick(now: number): void {
    this.evaluate(now);
  }

  private evaluate(now: number): void {
    // The initial resync happens once: afterwards the peer's changes arrive as they happen, and a standby that falls
    // behind is an alert (StandbyBehind), not a reason to stop serving.
    if (this.state.phase === 'resynced') return;
    if (this.unreachableSince !== undefined && now - this.unreachableSince >= ALONE_AFTER_MS) {
      this.state = {
        phase: 'resynced',
        how: 'alone',
        at: now,
        detail: `the peer has not answered for ${ALONE_AFTER_MS / 1000} s: serving alone`,
      };
      return;
    }
    if (this.peerFlows === undefined) {
      this.state = {
        phase: 'waiting',
        detail:
          this.unreachableSince === undefined
            ? 'no answer from the peer yet'
            : `the peer does not answer (for ${Math.round((now - this.unreachableSince) / 1000)} s)`,
      };
      return;
    }
    if (!this.conntrackdUp || !this.resyncRequested) {
      this.state = { phase: 'waiting', detail: 'conntrackd has not asked the peer for its table yet' };
      return;
    }
    const local = this.localFlows ?? 0;
    if (this.peerFlows === 0 || local >= this.peerFlows) {
      this.state = { phase: 'resynced', how: 'from-peer', at: now, detail: `holds ${local} of the peer's ${this.peerFlows} flows` };
      return;
    }
    if (local >= RESYNC_SHARE * this.peerFlows) {
      const settledMs = now - (this.grewAt ?? now);
      this.state =
        settledMs >= SETTLE_MS
          ? {
              phase: 'resynced',
              how: 'from-peer',
              at: now,
              detail: `holds ${local} of the peer's ${this.peerFlows} flows, none more for ${SETTLE_MS / 1000} s`,
            }
          : { phase: 'waiting', detail: `holds ${local} of the peer's ${this.peerFlows} flows, more may be arriving` };
      return;
    }
    this.state = { phase: 'waiting', detail: `holds ${local} of the peer's ${this.peerFlows} flows (needs ${RESYNC_SHARE * 100} %)` };
  }
}
