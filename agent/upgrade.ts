// Live agent upgrades on a single NAT VM. `natgw provision` publishes a new bundle by changing instance metadata; the
// running agent notices the new checksum and exits with UPGRADE_EXIT_CODE. systemd restarts it, and the unit's
// ExecStartPre (the startup script's `update-agent`) has installed the verified new bundle by then. The data plane stays
// in place across the restart, so forwarding never stops; only /healthz is briefly unanswered.
import type { Logger } from './log.js';
import { AttributeMissingError, type MetadataClient } from './metadata.js';

export const BUNDLE_CHECKSUM_ATTRIBUTE = 'natgw-agent-sha256';
/** EX_TEMPFAIL: "try again", which is what the service manager does. */
export const UPGRADE_EXIT_CODE = 75;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * Resolves with the new checksum once `natgw-agent-sha256` differs from what it was when the watch began (never, if
 * `signal` aborts first). The first value seen is the running bundle's: the unit installs it before it starts us.
 */
export async function waitForNewBundle(metadata: MetadataClient, log: Logger, signal: AbortSignal, retryMs = 30_000): Promise<string | undefined> {
  let seen: { value: string; etag: string } | undefined;
  while (!signal.aborted) {
    try {
      const next = await metadata.getAttribute(BUNDLE_CHECKSUM_ATTRIBUTE, { signal, ...(seen === undefined ? {} : { lastEtag: seen.etag, timeoutSeconds: 60 }) });
      const value = next.value.trim();
      if (seen !== undefined && value !== seen.value && /^[0-9a-f]{64}$/.test(value)) return value;
      seen = { value: seen?.value ?? value, etag: next.etag };
    } catch (error) {
      if (signal.aborted) break;
      // No bundle in metadata (an agent started by hand): nothing to upgrade to until a provision publishes one.
      if (!(error instanceof AttributeMissingError)) log.warn({ event: 'upgrade_watch_failed', error: (error as Error).message, retryInMs: retryMs }, 'cannot watch for new agent bundles');
      await sleep(retryMs, signal);
    }
  }
  return undefined;
}
