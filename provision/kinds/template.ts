// Instance templates (global), named by a hash of their properties: a new one per change, the old one deleted once no
// group uses it. Planned, created and rendered here from the change's `want`, for HA and stateful HA alike.
import type { CreatedThisRun } from '../apply-shared.js';
import { labelText, metadataFlags, quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteInstanceTemplate, insertInstanceTemplate, type InstanceTemplate } from '../gcp/templates.js';
import { lastSegment, ownerFromDescription, type ImageFamily, type Kind } from '../model.js';
import type { Change, ChangeOf } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

/** A NAT VM template: the properties GCE gets, and the facts the dry run and preflight show. */
export interface DesiredTemplate {
  name: string;
  properties: NonNullable<InstanceTemplate['properties']>;
  description: string;
  machineType: string;
  image: ImageFamily;
  bootDiskType: string;
  bootDiskGb: number;
  metadata: Record<string, string>;
}

declare module '../plan.js' {
  interface Wants {
    template: DesiredTemplate;
  }
}

export const template: KindModule<'template'> = {
  deleting: (_, change) => `deleting instance template ${change.name}`,
  remove: (where, change) => deleteInstanceTemplate(where.ctx, change.name),
  gcloudDelete: (where, change) => [`gcloud compute instance-templates delete ${change.name} --project ${quote(where.project)} --quiet`],
};

const mine = (gateway: string, description: string | null | undefined) => ownerFromDescription(description) === gateway;

/** The wanted template: created when missing (templates are immutable, a change is a new name). */
export function planTemplate(
  gateway: string,
  want: DesiredTemplate,
  observed: { templates: InstanceTemplate[] },
  changes: Change[],
  conflict: (kind: Kind, name: string, note: string) => void,
): void {
  const have = observed.templates.find((candidate) => candidate.name === want.name);
  if (have === undefined) changes.push({ kind: 'template', name: want.name, action: 'create', diffs: [], want });
  else if (!mine(gateway, have.description))
    conflict('template', want.name, "an instance template with this name exists but is not marked as this gateway's");
  else changes.push({ kind: 'template', name: want.name, action: 'unchanged', diffs: [] });
}

/** Templates of ours other than the wanted one: deleted at the end of the run, once no group uses them. */
export function planStaleTemplates(gateway: string, wanted: string, observed: { templates: InstanceTemplate[] }, changes: Change[]): void {
  for (const have of observed.templates) {
    if (have.name === wanted || !mine(gateway, have.description)) continue;
    changes.push({
      kind: 'template',
      name: have.name ?? '',
      action: 'delete',
      diffs: [],
      note: 'superseded; deleted once no VM group uses it',
    });
  }
}

/** Creates the planned template; deleted again if the run is rolled back. */
export async function applyTemplateChange(
  ctx: CallContext,
  change: ChangeOf<'template'>,
  progress: Progress,
  record: (change: Change) => void,
  created: CreatedThisRun,
): Promise<void> {
  if (change.action !== 'create') return;
  const want = change.want;
  await progress.run(`creating instance template ${want.name} (${want.machineType})`, () =>
    insertInstanceTemplate(ctx, { name: want.name, description: want.description, properties: want.properties }),
  );
  created.add(`instance template ${want.name}`, () => deleteInstanceTemplate(ctx, want.name));
  record(change);
}

/** The gcloud command of a template to create; `p` is the --project flag. */
export function templateCommands(change: ChangeOf<'template'>, p: string, region: string): string[] {
  if (change.action === 'delete') return [`gcloud compute instance-templates delete ${change.name} ${p} --quiet`];
  if (change.action !== 'create') return [];
  const want = change.want;
  const { files, plain } = metadataFlags(want.metadata);
  const subnetwork = want.properties.networkInterfaces?.[0]?.subnetwork;
  return [
    `gcloud compute instance-templates create ${want.name} ${p} --machine-type ${want.machineType} --image-family ${want.image.family} --image-project ${want.image.project} ` +
      `--boot-disk-size ${want.bootDiskGb}GB --boot-disk-type ${want.bootDiskType} --subnet ${lastSegment(subnetwork)} --region ${region} --network-tier PREMIUM --can-ip-forward ` +
      `--tags ${(want.properties.tags?.items ?? []).join(',')} --labels ${labelText(want.properties.labels as Record<string, string>)} ` +
      `--shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata ${plain} --metadata-from-file ${files} ` +
      `--description ${quote(want.description)}`,
  ];
}
