// What the single-VM and the HA executor do alike: one copy, so a fix to firewall handling or polling reaches both modes.
import { WaitTimeoutError, waitUntil } from '../common/wait.js';
import { deleteAddress, insertAddress, type Address } from './gcp/addresses.js';
import { ProvisionError, type CallContext } from './gcp/call.js';
import { getSerialOutput } from './gcp/instances.js';
import type { Change, ChangeOf, Plan } from './plan.js';
import type { Progress } from './progress.js';

/** How long an executor waits for VMs and health, and how often it looks. */
export interface ApplyOptions {
  healthTimeoutMs: number;
  pollIntervalMs: number;
}

/**
 * Calls `look` until it returns what it waits for (undefined: not yet); once healthTimeoutMs has passed, `timedOut`
 * throws why. Looks are pollIntervalMs apart (at most `maxIntervalMs`), the last one shorter to fall on the deadline.
 */
export async function pollUntil<T>(
  ctx: CallContext,
  options: ApplyOptions,
  look: () => Promise<T | undefined>,
  timedOut: () => never | Promise<never>,
  maxIntervalMs = Number.POSITIVE_INFINITY,
): Promise<T> {
  try {
    // Boxed, so that whatever `look` finds (even false or null) ends the wait; only undefined means "not yet".
    const { found } = await waitUntil(
      'the awaited state',
      async () => {
        const found = await look();
        return found === undefined ? undefined : { found };
      },
      { timeoutMs: options.healthTimeoutMs, everyMs: Math.min(maxIntervalMs, options.pollIntervalMs), clock: ctx.clock },
    );
    return found;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return timedOut();
    throw error;
  }
}

/** The last lines of a VM's serial console, indented for an error message. */
export async function serialTail(ctx: CallContext, zone: string, instance: string, lines: number): Promise<string> {
  const tail = (await getSerialOutput(ctx, zone, instance))
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => `    ${line}`)
    .join('\n');
  return tail || '    (empty)';
}

export const findChange = (plan: Plan, kind: Change['kind'], name?: string) =>
  plan.changes.find((change) => change.kind === kind && (name === undefined || change.name === name));

/** findChange typed by its kind, so that what the kind carries is there to read. */
export const findChangeOf = <K extends Change['kind']>(plan: Plan, kind: K, name: string) =>
  plan.changes.find((change): change is ChangeOf<K> => change.kind === kind && change.name === name);

/** A static external IP, as the NAT VMs of every mode use. */
export const externalAddress = (want: {
  name: string;
  description: string;
  labels: Record<string, string>;
}): Address & { name: string } => ({
  name: want.name,
  description: want.description,
  labels: want.labels,
  addressType: 'EXTERNAL',
  networkTier: 'PREMIUM',
});

/** Reserves an address; it is released again if the run is rolled back. */
export async function reserveAddress(
  ctx: CallContext,
  region: string,
  progress: Progress,
  label: string,
  body: Address & { name: string },
  created: CreatedThisRun,
): Promise<void> {
  await progress.run(label, () => insertAddress(ctx, region, body));
  created.add(`address ${body.name}`, () => deleteAddress(ctx, region, body.name));
}

/**
 * What this run created, newest last, with how to delete each. When GCE refuses an insert on a policy or quota
 * (seen only at insert time), the run deletes these again so no half-configured gateway and no orphan stays behind; a
 * re-run after the fix starts from where the previous run began.
 */
export class CreatedThisRun {
  private readonly undo: { label: string; remove: () => Promise<unknown> }[] = [];

  add(label: string, remove: () => Promise<unknown>): void {
    this.undo.push({ label, remove });
  }

  /** Deletes in reverse order of creation; returns the labels removed and the failures. */
  async rollBack(progress: Progress): Promise<{ removed: string[]; failed: string[] }> {
    const removed: string[] = [];
    const failed: string[] = [];
    for (const entry of [...this.undo].reverse()) {
      try {
        await progress.run(`rolling back: deleting ${entry.label}`, entry.remove);
        removed.push(entry.label);
      } catch (error) {
        failed.push(`${entry.label} (${(error as Error).message})`);
      }
    }
    this.undo.length = 0;
    return { removed, failed };
  }
}

/** Runs an executor; a policy or quota refusal rolls back this run's creations and says what was removed. */
export async function rollBackOnRefusal<T>(progress: Progress, gateway: string, run: (created: CreatedThisRun) => Promise<T>): Promise<T> {
  const created = new CreatedThisRun();
  try {
    return await run(created);
  } catch (error) {
    if (!(error instanceof ProvisionError) || error.refusal === undefined) throw error;
    const { removed, failed } = await created.rollBack(progress);
    const undone = removed.length === 0 ? 'This run had created nothing yet.' : `Rolled back what this run created: ${removed.join(', ')}.`;
    const left =
      failed.length === 0
        ? ` Nothing of gateway ${gateway} is left half-configured by this run; re-run provision after the fix.`
        : ` Could not delete: ${failed.join('; ')}. Run 'natgw destroy' for ${gateway}, or re-run provision after the fix (it converges).`;
    throw new ProvisionError(
      `${error.message}
${undone}${left}`,
      error.refusal,
    );
  }
}
