// Live agent upgrades on a single NAT VM. `natgw provision` publishes a new bundle by changing instance metadata; the
// running agent notices that the published checksum is not its own and exits with UPGRADE_EXIT_CODE. systemd restarts
// it, and the unit's ExecStartPre (the startup script's `update-agent`) installs the verified new bundle first. The
// data plane stays in place across the restart, so forwarding never stops; only /healthz is briefly unanswered.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from './log.js';
import { AttributeMissingError, type MetadataClient } from './metadata.js';
import { METADATA } from '../common/protocol.js';

export const BUNDLE_CHECKSUM_ATTRIBUTE = METADATA.bundleChecksum;
/** EX_TEMPFAIL: "try again", which is what the service manager does. */
export const UPGRADE_EXIT_CODE = 75;

export interface UpgradeWatchOptions {
  /** The file this agent runs from (the installed bundle). */
  runningFile: string;
  signal: AbortSignal;
  /** After a failed watch, and before retrying an upgrade that did not take (the restart limit must never trip). */
  retryMs?: number;
  failedUpgradeRetryMs?: number;
}

/** Ends early, without an error, when the watch is aborted. */
const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * Resolves with the published checksum once it differs from the running bundle's (undefined if `signal` aborts
 * first). Compared with the file itself, not with a first reading, so a publish that raced the start, or an update
 * that failed, is retried, but only after `failedUpgradeRetryMs`.
 */
export async function waitForNewBundle(metadata: MetadataClient, log: Logger, options: UpgradeWatchOptions): Promise<string | undefined> {
  const { signal, retryMs = 30_000, failedUpgradeRetryMs = 300_000 } = options;
  let running: string;
  try {
    running = createHash('sha256')
      .update(await readFile(options.runningFile))
      .digest('hex');
  } catch (error) {
    log.warn({ event: 'upgrade_watch_failed', error: (error as Error).message }, 'cannot read the running bundle; live upgrades are off');
    return undefined;
  }
  let etag: string | undefined;
  let waitedToRetry = false;
  while (!signal.aborted) {
    try {
      const next = await metadata.getAttribute(BUNDLE_CHECKSUM_ATTRIBUTE, {
        signal,
        ...(etag === undefined ? {} : { lastEtag: etag, timeoutSeconds: 60 }),
      });
      const published = next.value.trim();
      const firstReading = etag === undefined;
      etag = next.etag;
      if (published === running || !/^[0-9a-f]{64}$/.test(published)) continue;
      if (!firstReading || waitedToRetry) return published;
      log.warn(
        { event: 'upgrade_pending', running, published, retryInMs: failedUpgradeRetryMs },
        'the published agent bundle is not the one running (its update failed, or raced this start); retrying the upgrade later',
      );
      await sleep(failedUpgradeRetryMs, signal);
      waitedToRetry = true;
      etag = undefined;
    } catch (error) {
      if (signal.aborted) break;
      // No bundle in metadata (an agent started by hand): nothing to upgrade to until a provision publishes one.
      if (!(error instanceof AttributeMissingError))
        log.warn(
          { event: 'upgrade_watch_failed', error: (error as Error).message, retryInMs: retryMs },
          'cannot watch for new agent bundles',
        );
      await sleep(retryMs, signal);
    }
  }
  return undefined;
}
