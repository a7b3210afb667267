// Firewall rules (global): owned through the description marker, as they have no labels. Every mode converges its
// rules the same way, so planning, creating, updating, replacing and their gcloud live here, from the change's `want`.
import type { CreatedThisRun } from '../apply-shared.js';
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteFirewall, insertFirewall, patchFirewall, type Firewall } from '../gcp/firewalls.js';
import { lastSegment, ownerFromDescription, type DesiredFirewall, type Observed } from '../model.js';
import { diffField, setText, type Change, type ChangeOf, type FieldDiff, type Plan } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

declare module '../plan.js' {
  interface Wants {
    firewall: DesiredFirewall;
  }
}

export const firewall: KindModule<'firewall'> = {
  deleting: (_, change) => `deleting firewall rule ${change.name}`,
  remove: (where, change) => deleteFirewall(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute firewall-rules delete ${change.name} --project ${quote(where.project)} --quiet`],
};

const firewallBody = (want: DesiredFirewall): Firewall => ({
  name: want.name,
  network: want.network,
  direction: 'INGRESS',
  priority: want.priority,
  sourceRanges: want.sourceRanges,
  sourceTags: want.sourceTags ?? [],
  destinationRanges: want.destinationRanges ?? [],
  targetTags: want.targetTags,
  allowed: want.allowed,
  description: want.description,
  disabled: false,
});

/** Applies the plan's firewall changes; a rule this run creates is deleted again if the run is rolled back. */
export async function applyFirewallChanges(
  ctx: CallContext,
  plan: Plan,
  progress: Progress,
  record: (change: Change) => void,
  created: CreatedThisRun,
): Promise<void> {
  for (const change of plan.changes) {
    if (change.kind !== 'firewall') continue;
    if (change.action === 'create') {
      const body = firewallBody(change.want);
      await progress.run(`creating firewall rule ${change.name}`, () => insertFirewall(ctx, body));
    } else if (change.action === 'update') {
      const body = firewallBody(change.want);
      await progress.run(`updating firewall rule ${change.name}`, () => patchFirewall(ctx, change.name, body));
    } else if (change.action === 'replace') {
      const body = firewallBody(change.want);
      await progress.run(`replacing firewall rule ${change.name}`, async () => {
        await deleteFirewall(ctx, change.name);
        await insertFirewall(ctx, body);
      });
    } else if (change.action === 'delete')
      await progress.run(`deleting firewall rule ${change.name}`, () => deleteFirewall(ctx, change.name));
    else continue;
    record(change);
    if (change.action === 'create') created.add(`firewall rule ${change.name}`, () => deleteFirewall(ctx, change.name));
  }
}

/** The gcloud commands of one firewall change of any action; `projectFlag` is the `--project …` flag. */
export function firewallCommands(change: ChangeOf<'firewall'>, projectFlag: string): string[] {
  const p = projectFlag;
  if (change.action === 'delete') return [`gcloud compute firewall-rules delete ${change.name} ${p} --quiet`];
  if (change.action !== 'create' && change.action !== 'update' && change.action !== 'replace') return [];
  const commands: string[] = [];
  const want = change.want;
  const rules = want.allowed
    .map((rule) => (rule.ports === undefined ? rule.IPProtocol : rule.ports.map((port) => `${rule.IPProtocol}:${port}`).join(',')))
    .join(',');
  const verb = change.action === 'update' ? 'update' : 'create';
  if (change.action === 'replace') commands.push(`gcloud compute firewall-rules delete ${change.name} ${p} --quiet`);
  commands.push(
    `gcloud compute firewall-rules ${verb} ${change.name} ${p}${verb === 'create' ? ` --network ${lastSegment(want.network)} --direction INGRESS --action ALLOW` : ''} --priority ${want.priority} ` +
      `--rules ${rules}${want.sourceRanges.length > 0 ? ` --source-ranges ${want.sourceRanges.join(',')}` : ''}${(want.sourceTags ?? []).length > 0 ? ` --source-tags ${(want.sourceTags ?? []).join(',')}` : ''}` +
      `${(want.destinationRanges ?? []).length > 0 ? ` --destination-ranges ${(want.destinationRanges ?? []).join(',')}` : ''} --target-tags ${want.targetTags.join(',')} --description ${quote(want.description)}`,
  );
  return commands;
}

function firewallText(rules: DesiredFirewall['allowed']): string {
  return rules
    .map((rule) => `${rule.IPProtocol}${rule.ports === undefined || rule.ports.length === 0 ? '' : `:${[...rule.ports].sort().join('/')}`}`)
    .sort()
    .join(',');
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
