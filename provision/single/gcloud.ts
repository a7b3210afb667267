// The gcloud commands equivalent to a plan, for --dry-run: reviewable, and runnable by hand if someone must.
import { labelText, metadataFlags, quote } from '../gcloud-shared.js';
import { addressCommands } from '../kinds/address.js';
import { firewallCommands } from '../kinds/firewall.js';
import { routeCreateCommand } from '../kinds/route.js';
import { lastSegment, type Desired, type Observed } from '../model.js';
import type { Plan } from '../plan.js';
import { GUEST_ATTRIBUTE, METADATA } from '../../common/protocol.js';

export function gcloudCommands(desired: Desired, observed: Observed, plan: Plan): string[] {
  const p = `--project ${quote(desired.project)}`;
  const commands: string[] = [];
  const route = desired.route;
  const instance = desired.instance;
  const routeDelete = `gcloud compute routes delete ${route.name} ${p} --quiet`;
  const instanceCreate = () => {
    const { files, plain } = metadataFlags(instance.metadata);
    return [
      `gcloud compute instances create ${instance.name} ${p} --zone ${instance.zone} --machine-type ${instance.machineType}`,
      `--image-family ${instance.image.family} --image-project ${instance.image.project} --boot-disk-size ${instance.bootDiskGb}GB --boot-disk-type ${instance.bootDiskType}`,
      `--subnet ${lastSegment(instance.subnetwork)} --address ${observed.address?.address ?? desired.address.name} --network-tier PREMIUM --can-ip-forward`,
      `--tags ${instance.tags.join(',')} --labels ${labelText(instance.labels)} --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring`,
      `--no-service-account --no-scopes --metadata ${plain} --metadata-from-file ${files}`,
    ].join(' ');
  };
  for (const change of plan.changes) {
    switch (`${change.kind}:${change.action}`) {
      case 'address:create':
      case 'address:update':
        if (change.kind === 'address') commands.push(...addressCommands(change, p, desired.region));
        break;
      case 'firewall:create':
      case 'firewall:update':
      case 'firewall:replace':
      case 'firewall:delete':
        if (change.kind === 'firewall') commands.push(...firewallCommands(change, p));
        break;
      case 'instance:create':
        commands.push(instanceCreate());
        break;
      case 'instance:replace':
        commands.push(routeDelete);
        commands.push(`gcloud compute instances delete ${instance.name} ${p} --zone ${observed.instance?.zone ?? instance.zone} --quiet`);
        commands.push(instanceCreate());
        break;
      case 'instance:update': {
        const fields = new Set(change.diffs.map((diff) => diff.field.split('.')[0]));
        if (fields.has('metadata'))
          commands.push(
            `gcloud compute instances add-metadata ${instance.name} ${p} --zone ${instance.zone} --metadata-from-file ${METADATA.config}=${METADATA.config}.txt,…`,
          );
        if (fields.has('labels'))
          commands.push(
            `gcloud compute instances update ${instance.name} ${p} --zone ${instance.zone} --update-labels ${labelText(instance.labels)}`,
          );
        if (fields.has('tags'))
          commands.push(
            `gcloud compute instances add-tags ${instance.name} ${p} --zone ${instance.zone} --tags ${instance.tags.join(',')}`,
          );
        break;
      }
      case 'route:create':
        commands.push(
          `# once 'gcloud compute instances get-guest-attributes ${instance.name} --zone ${instance.zone} --query-path ${GUEST_ATTRIBUTE.health}' says ok:`,
        );
        if (change.kind === 'route') commands.push(...routeCreateCommand(change, p));
        break;
      case 'route:replace':
        if (!commands.includes(routeDelete)) commands.push(routeDelete);
        if (change.kind === 'route') commands.push(...routeCreateCommand(change, p));
        break;
      case 'route:delete':
        commands.push(routeDelete);
        break;
      case 'instance:delete':
        commands.push(`gcloud compute instances delete ${change.name} ${p} --zone ${observed.instance?.zone ?? instance.zone} --quiet`);
        break;
      case 'address:delete':
        commands.push(`gcloud compute addresses delete ${change.name} ${p} --region ${desired.region} --quiet`);
        break;
    }
  }
  return commands;
}
