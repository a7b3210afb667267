// Regional managed instance groups: HA's one over its zones, stateful HA's two of one zone each. A group starts empty
// (its VMs come with createInstances, each pinned to its address) and never rolls by itself: natgw replaces its VMs one
// at a time. Planned, created, patched and rendered here from the group itself (its zones, template, autohealing,
// which IP its per-instance configs keep and its update policy).
import type { CreatedThisRun } from '../apply-shared.js';
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteMig, insertMig, patchMig, type InstanceGroupManager } from '../gcp/instance-groups.js';
import { lastSegment, ownerFromDescription, type Kind } from '../model.js';
import { diffField, type Change, type ChangeOf, type FieldDiff } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

export type DesiredMig = InstanceGroupManager & { name: string };

declare module '../plan.js' {
  interface Wants {
    mig: DesiredMig;
  }
}

export const mig: KindModule<'mig'> = {
  deleting: (where, change) => `deleting managed instance group ${change.name} and its ${where.vmsOf(change.name)} VMs`,
  remove: (where, change) => deleteMig(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute instance-groups managed delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

const mine = (gateway: string, description: string | null | undefined) => ownerFromDescription(description) === gateway;

export function diffMig(have: InstanceGroupManager, want: DesiredMig): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  diffField(
    diffs,
    'instanceTemplate',
    lastSegment(have.versions?.[0]?.instanceTemplate ?? have.instanceTemplate),
    lastSegment(want.versions![0]!.instanceTemplate),
  );
  const heal = have.autoHealingPolicies?.[0];
  const wantHeal = want.autoHealingPolicies![0]!;
  diffField(diffs, 'autoHealingPolicies.healthCheck', lastSegment(heal?.healthCheck), lastSegment(wantHeal.healthCheck));
  diffField(diffs, 'autoHealingPolicies.initialDelaySec', String(heal?.initialDelaySec ?? '(none)'), String(wantHeal.initialDelaySec));
  for (const kind of ['externalIPs', 'internalIPs'] as const) {
    const wanted = want.statefulPolicy?.preservedState?.[kind]?.nic0?.autoDelete;
    const had = have.statefulPolicy?.preservedState?.[kind]?.nic0?.autoDelete;
    if (wanted !== undefined || (had !== undefined && had !== null))
      diffField(diffs, `statefulPolicy.${kind}.nic0`, String(had ?? '(none)'), String(wanted ?? '(none)'));
  }
  const policy = have.updatePolicy ?? {};
  const wantPolicy = want.updatePolicy!;
  for (const key of ['type', 'minimalAction', 'mostDisruptiveAllowedAction', 'replacementMethod', 'instanceRedistributionType'] as const) {
    diffField(diffs, `updatePolicy.${key}`, String(policy[key] ?? '(none)'), String(wantPolicy[key]));
  }
  diffField(diffs, 'updatePolicy.maxSurge', String(policy.maxSurge?.fixed ?? '(none)'), String(wantPolicy.maxSurge!.fixed));
  diffField(
    diffs,
    'updatePolicy.maxUnavailable',
    String(policy.maxUnavailable?.fixed ?? '(none)'),
    String(wantPolicy.maxUnavailable!.fixed),
  );
  return diffs;
}

/** An existing group of ours: zones are fixed, the rest is patched. Returns whether its template changes. */
export function planMig(
  gateway: string,
  want: DesiredMig,
  zones: string[],
  have: InstanceGroupManager | undefined,
  changes: Change[],
  conflict: (kind: Kind, name: string, note: string) => void,
): boolean {
  if (have === undefined) {
    changes.push({ kind: 'mig', name: want.name, action: 'create', diffs: [], note: `zones ${zones.join(', ')}`, want });
    return false;
  }
  if (!mine(gateway, have.description)) {
    conflict('mig', want.name, "a managed instance group with this name exists but is not marked as this gateway's");
    return false;
  }
  const haveZones = (have.distributionPolicy?.zones ?? []).map((zone) => lastSegment(zone.zone)).sort();
  if (haveZones.join(',') !== [...zones].sort().join(',')) {
    conflict(
      'mig',
      want.name,
      `its zones are ${haveZones.join(', ')} and GCE cannot change a regional group's zones; keep --zones ${haveZones.join(',')}, or destroy and re-provision (the NAT IPs change)`,
    );
  }
  const diffs = diffMig(have, want);
  const templateChanges = diffs.some((diff) => diff.field === 'instanceTemplate');
  if (diffs.length === 0) changes.push({ kind: 'mig', name: want.name, action: 'unchanged', diffs });
  else
    changes.push({
      kind: 'mig',
      name: want.name,
      action: 'update',
      diffs,
      ...(templateChanges ? { note: 'new template: VMs are replaced one at a time, each drained first' } : {}),
      want,
    });
  return templateChanges;
}

/** A group created (empty: VMs come with createInstances) or patched (template, policies; never its zones). */
export async function applyMigChange(
  ctx: CallContext,
  region: string,
  change: ChangeOf<'mig'> | undefined,
  zones: string[],
  progress: Progress,
  record: (change: Change) => void,
  created: CreatedThisRun,
): Promise<void> {
  if (change?.action === 'create') {
    const want = change.want;
    await progress.run(`creating managed instance group ${want.name} over ${zones.join(', ')}`, () => insertMig(ctx, region, want));
    created.add(`managed instance group ${want.name}`, () => deleteMig(ctx, region, want.name));
    record(change);
  } else if (change?.action === 'update') {
    const { name: _name, targetSize: _size, distributionPolicy: _zones, baseInstanceName: _base, ...patch } = change.want;
    await progress.run(`updating managed instance group ${change.want.name}`, () => patchMig(ctx, region, change.want.name, patch));
    record(change);
  }
}

/** The gcloud commands of a group to create or patch; `p`, `r`: the --project and --region flags. */
export function migCommands(change: ChangeOf<'mig'>, p: string, r: string): string[] {
  if (change.action !== 'create' && change.action !== 'update') return [];
  const want = change.want;
  const template = lastSegment(want.instanceTemplate);
  const update =
    `gcloud compute instance-groups managed update ${want.name} ${p} ${r} --update-policy-type opportunistic --update-policy-minimal-action replace ` +
    `--update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable ${String(want.updatePolicy?.maxUnavailable?.fixed)} --instance-redistribution-type none`;
  if (change.action === 'update')
    return [
      ...(change.diffs.some((diff) => diff.field === 'instanceTemplate')
        ? [`gcloud compute instance-groups managed set-instance-template ${want.name} ${p} ${r} --template ${template}`]
        : []),
      ...(change.diffs.some((diff) => diff.field !== 'instanceTemplate') ? [update] : []),
    ];
  const heal = want.autoHealingPolicies?.[0];
  const keeps = want.statefulPolicy?.preservedState?.internalIPs === undefined ? 'external' : 'internal';
  const zones = (want.distributionPolicy?.zones ?? []).map((zone) => lastSegment(zone.zone)).join(',');
  return [
    `gcloud compute instance-groups managed create ${want.name} ${p} ${r} --zones ${zones} --template ${template} --size 0 ` +
      `--base-instance-name ${want.baseInstanceName} --health-check ${heal?.healthCheck} ` +
      `--initial-delay ${String(heal?.initialDelaySec)}s --stateful-${keeps}-ip interface-name=nic0,auto-delete=never --description ${quote(String(want.description))}`,
    update,
  ];
}
