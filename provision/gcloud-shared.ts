import { METADATA } from '../common/protocol.js';
export const quote = (value: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
export const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

// These keys hold scripts, config or agent chunks too long or too awkward for a command line, so they go through files.
const fromFile = (key: string) => key === 'startup-script' || key === METADATA.config || key.startsWith(METADATA.bundleChunkPrefix);

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
