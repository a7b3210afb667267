// The one way to wait for a condition: look, and look again every `everyMs` until it holds or `timeoutMs` has passed.
// Bounded by construction (a deadline, never a loop without one), and the timeout names what was awaited and, with
// `detail`, what was seen instead, so a failing test says why.
import { type Clock, realClock } from './clock.js';

export interface WaitOptions {
  timeoutMs: number;
  /** Between looks (default 100 ms). */
  everyMs?: number;
  /** What was seen instead, for the timeout's message. */
  detail?: () => string;
  clock?: Clock;
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    detail?: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting until ${what}${detail === undefined || detail === '' ? '' : ` (${detail})`}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Resolves with the first value of `check` that is neither false, undefined nor null; rejects with a WaitTimeoutError
 * once `timeoutMs` has passed without one. `check` runs at least once, even with a timeout of 0.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  options: WaitOptions,
): Promise<Exclude<T, false | undefined | null>> {
  const clock = options.clock ?? realClock;
  const everyMs = options.everyMs ?? 100;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
    if (clock.now() >= deadline) throw new WaitTimeoutError(what, options.timeoutMs, options.detail?.());
    await clock.sleep(Math.min(everyMs, Math.max(0, deadline - clock.now())), options.signal);
  }
}

/** Like waitUntil, but answers false on timeout instead of throwing (for measurements that report a miss). */
export async function waitFor(check: () => boolean | Promise<boolean>, options: WaitOptions): Promise<boolean> {
  try {
    await waitUntil('', check, options);
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return false;
    throw error;
  }
}
