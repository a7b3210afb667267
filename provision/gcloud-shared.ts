// What the single-VM and the HA dry run print alike: one copy, so both modes quote and spell these commands the same.
import type { DesiredFirewall } from './model.js';
import type { Change } from './plan.js';

export const quote = (value: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
export const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

// These keys hold scripts, config or agent chunks too long or too awkward for a command line, so they go through files.
const fromFile = (key: string) => key === 'startup-script' || key === 'natgw-config' || key.startsWith('natgw-agent-');

/** `files` for --metadata-from-file, `plain` for --metadata. */
export function metadataFlags(metadata: Record<string, string>): { files: string; plain: string } {
  const files = Object.keys(metadata)
    .filter((key) => fromFile(key))
    .map((key) => `${key}=${key}.txt`)
    .join(',');
  const plain = Object.entries(metadata)
    .filter(([key]) => !fromFile(key))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return { files, plain };
}

/** For a firewall change of any action; `projectFlag` is the `--project …` flag. */
/** gcloud cannot label an address at creation, so labelling is a second command. */
export function addressCreateCommands(
  address: { name: string; description: string; labels: Record<string, string> },
  projectFlag: string,
  region: string,
): string[] {
  return [
    `gcloud compute addresses create ${address.name} ${projectFlag} --region ${region} --network-tier PREMIUM --description ${quote(address.description)}`,
    `gcloud compute addresses update ${address.name} ${projectFlag} --region ${region} --update-labels ${labelText(address.labels)}`,
  ];
}

export function firewallCommands(change: Change, firewalls: DesiredFirewall[], network: string, projectFlag: string): string[] {
  const p = projectFlag;
  if (change.action === 'delete') return [`gcloud compute firewall-rules delete ${change.name} ${p} --quiet`];
  const commands: string[] = [];
  const firewall = firewalls.find((candidate) => candidate.name === change.name)!;
  const rules = firewall.allowed
    .map((rule) => (rule.ports === undefined ? rule.IPProtocol : rule.ports.map((port) => `${rule.IPProtocol}:${port}`).join(',')))
    .join(',');
  const verb = change.action === 'update' ? 'update' : 'create';
  if (change.action === 'replace') commands.push(`gcloud compute firewall-rules delete ${change.name} ${p} --quiet`);
  commands.push(
    `gcloud compute firewall-rules ${verb} ${change.name} ${p}${verb === 'create' ? ` --network ${network} --direction INGRESS --action ALLOW` : ''} --priority ${firewall.priority} ` +
      `--rules ${rules}${firewall.sourceRanges.length > 0 ? ` --source-ranges ${firewall.sourceRanges.join(',')}` : ''}${(firewall.sourceTags ?? []).length > 0 ? ` --source-tags ${(firewall.sourceTags ?? []).join(',')}` : ''}` +
      `${(firewall.destinationRanges ?? []).length > 0 ? ` --destination-ranges ${(firewall.destinationRanges ?? []).join(',')}` : ''} --target-tags ${firewall.targetTags.join(',')} --description ${quote(firewall.description)}`,
  );
  return commands;
}
