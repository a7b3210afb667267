// The planner's vocabulary, shared by both modes: changes, field diffs, and firewall planning. Pure: no I/O, no clock.
import { lastSegment, ownerFromDescription, type DesiredFirewall, type DesiredHealthCheck, type Kind, type Observed } from './model.js';

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
 * A VM a group is to create carries the reserved address its per-instance config pins: its NAT IP in HA mode, its
 * internal (sync) IP in stateful HA. Its name alone does not say which: a re-created VM keeps the name GCE gave it.
 */
export type VmCreate = Omit<ChangeFields<'vm'>, 'action'> & { action: 'create'; payload: { address: string } };

/** The actions that make a resource look like `want`. */
export type Converging = 'create' | 'update' | 'replace';

/**
 * A kind whose changes carry the desired resource: what create, update and replace need, so the executor and the
 * gcloud renderer take it from the change instead of finding it again by name.
 */
type Carrying<K extends Kind, W> =
  | (Omit<ChangeFields<K>, 'action'> & { action: Converging; want: W })
  | (Omit<ChangeFields<K>, 'action'> & { action: Exclude<Action, Converging> });

/** The kinds whose changes carry their desired resource so far. */
type Carried = 'firewall' | 'healthCheck';

/** One change, discriminated by kind (and, where a payload differs by action, by action). */
export type Change =
  | { [K in Exclude<Kind, Carried | 'vm'>]: ChangeFields<K> }[Exclude<Kind, Carried | 'vm'>]
  | Carrying<'firewall', DesiredFirewall>
  | Carrying<'healthCheck', DesiredHealthCheck>
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

export const setText = (values: string[]) => [...values].sort().join(',');
const short = (value: string) => (value.length > 40 ? `${value.slice(0, 16)}…(${value.length} chars)` : value);

export function diffField(diffs: FieldDiff[], field: string, have: string, want: string): void {
  if (have !== want) diffs.push({ field, have, want });
}

function firewallText(rules: DesiredFirewall['allowed']): string {
  return rules
    .map((rule) => `${rule.IPProtocol}${rule.ports === undefined || rule.ports.length === 0 ? '' : `:${[...rule.ports].sort().join('/')}`}`)
    .sort()
    .join(',');
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

/** Firewall rules, shared by single and HA mode: create, update in place, replace (network change), delete stale ones. */
export function planFirewalls(
  gateway: string,
  wanted: DesiredFirewall[],
  observedFirewalls: Observed['firewalls'],
  changes: Change[],
  conflicts: Change[],
): void {
  for (const want of wanted) {
    const have = observedFirewalls[want.name];
    if (have === undefined) {
      changes.push({ kind: 'firewall', name: want.name, action: 'create', diffs: [], want });
      continue;
    }
    if (ownerFromDescription(have.description) !== gateway) {
      conflicts.push({
        kind: 'firewall',
        name: want.name,
        action: 'conflict',
        diffs: [],
        note: "a firewall rule with this name exists but is not marked as this gateway's; pick another --name or delete it",
      });
      continue;
    }
    const diffs: FieldDiff[] = [];
    diffField(diffs, 'network', lastSegment(have.network), lastSegment(want.network));
    diffField(diffs, 'sourceRanges', setText(have.sourceRanges), setText(want.sourceRanges));
    diffField(diffs, 'sourceTags', setText(have.sourceTags ?? []), setText(want.sourceTags ?? []));
    diffField(diffs, 'destinationRanges', setText(have.destinationRanges ?? []), setText(want.destinationRanges ?? []));
    diffField(diffs, 'targetTags', setText(have.targetTags), setText(want.targetTags));
    diffField(diffs, 'allowed', firewallText(have.allowed), firewallText(want.allowed));
    diffField(diffs, 'priority', String(have.priority), String(want.priority));
    diffField(diffs, 'description', have.description, want.description);
    diffField(diffs, 'disabled', String(have.disabled), 'false');
    // The network of a firewall rule cannot change in place.
    if (diffs.some((diff) => diff.field === 'network')) changes.push({ kind: 'firewall', name: want.name, action: 'replace', diffs, want });
    else if (diffs.length > 0) changes.push({ kind: 'firewall', name: want.name, action: 'update', diffs, want });
    else changes.push({ kind: 'firewall', name: want.name, action: 'unchanged', diffs });
  }
  for (const [name, have] of Object.entries(observedFirewalls)) {
    if (have === undefined || wanted.some((want) => want.name === name)) continue;
    if (ownerFromDescription(have.description) === gateway)
      changes.push({ kind: 'firewall', name, action: 'delete', diffs: [], note: 'no longer wanted' });
  }
}
