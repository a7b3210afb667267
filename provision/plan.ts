// The planner's vocabulary, shared by every mode and kind: changes and field diffs. Pure: no I/O, no clock.
import type { Kind } from './model.js';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'unchanged' | 'conflict' | 'keep';

export interface FieldDiff {
  field: string;
  have: string;
  want: string;
}

interface ChangeFields<K extends Kind> {
  kind: K;
  name: string;
  action: Action;
  diffs: FieldDiff[];
  /** Why, for people: shown next to the action. No code reads it; what code needs is in a payload. */
  note?: string;
}

/**
 * A VM a group is to create carries its group and the reserved address its per-instance config pins: its NAT IP
 * (external) in HA mode, its sync IP (internal) in stateful HA. Its name alone says neither: a re-created VM keeps the
 * name GCE gave it.
 */
export type VmCreate = Omit<ChangeFields<'vm'>, 'action'> & {
  action: 'create';
  payload: { mig: string; address: string; ip: 'external' | 'internal' };
};

/** The actions that make a resource look like `want`. */
export type Converging = 'create' | 'update' | 'replace';

/**
 * A kind whose changes carry the desired resource: what create, update and replace need, so the executor and the
 * gcloud renderer take it from the change instead of finding it again by name.
 */
type Carrying<K extends Kind, W> =
  | (Omit<ChangeFields<K>, 'action'> & { action: Converging; want: W })
  | (Omit<ChangeFields<K>, 'action'> & { action: Exclude<Action, Converging> });

/**
 * What a change of each kind carries to converge: filled in by the kind's own module (kinds/*.ts) with
 * `declare module '../plan.js' { interface Wants { … } }`, so that a kind's desired shape is declared where it is
 * created, updated and rendered, and this vocabulary needs to know no kind.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging from provision/kinds/*.ts
export interface Wants {}

type Carried = keyof Wants & Kind;

/** One change, discriminated by kind (and, where a payload differs by action, by action). */
export type Change =
  | { [K in Exclude<Kind, Carried | 'vm'>]: ChangeFields<K> }[Exclude<Kind, Carried | 'vm'>]
  | { [K in Carried]: Carrying<K, Wants[K]> }[Carried]
  | (Omit<ChangeFields<'vm'>, 'action'> & { action: Exclude<Action, 'create'> })
  | VmCreate;

export type ChangeOf<K extends Kind> = Extract<Change, { kind: K }>;

export const isVmCreate = (change: Change): change is VmCreate => change.kind === 'vm' && change.action === 'create';

/** A change as the commands print it in --json: the payload is the executors' business, not part of the report. */
export const changeReport = ({ kind, name, action, diffs, note }: Change) => ({
  kind,
  name,
  action,
  diffs,
  ...(note === undefined ? {} : { note }),
});

export interface Plan {
  changes: Change[];
  /** Resources with our names that natgw does not own: nothing may proceed while they exist. */
  conflicts: Change[];
  upToDate: boolean;
}

/** A plan with nothing to do: no conflict, every change unchanged or kept. */
export const isUpToDate = (changes: Change[], conflicts: Change[]) =>
  conflicts.length === 0 && changes.every((change) => change.action === 'unchanged' || change.action === 'keep');

export const setText = (values: string[]) => [...values].sort().join(',');
const short = (value: string) => (value.length > 40 ? `${value.slice(0, 16)}…(${value.length} chars)` : value);

export function diffField(diffs: FieldDiff[], field: string, have: string, want: string): void {
  if (have !== want) diffs.push({ field, have, want });
}

/** Compares the keys natgw owns: those it wants, plus any stale key matching `owned` (others belong to the user). */
export function diffMaps(
  diffs: FieldDiff[],
  field: string,
  have: Record<string, string>,
  want: Record<string, string>,
  owned: RegExp = /^$/,
): void {
  const keys = new Set([...Object.keys(want), ...Object.keys(have).filter((key) => owned.test(key))]);
  for (const key of [...keys].sort()) {
    if (have[key] !== want[key])
      diffs.push({ field: `${field}.${key}`, have: short(have[key] ?? '(none)'), want: short(want[key] ?? '(none)') });
  }
}
