// The gcloud commands equivalent to an HA plan (--dry-run): reviewable, and runnable by hand if someone must.
import { addressCreateCommands, firewallCommands, labelText, metadataFlags, quote } from '../gcloud-shared.js';
import { haNames, type DesiredHa, type ObservedHa } from './gateway.js';
import { lastSegment } from '../model.js';
import type { Plan } from '../plan.js';

export function gcloudHaCommands(desired: DesiredHa, observed: ObservedHa, plan: Plan): string[] {
  const p = `--project ${quote(desired.project)}`;
  const r = `--region ${desired.region}`;
  const names = haNames(desired.gateway);
  const commands: string[] = [];
  const template = desired.template;
  const route = desired.route;
  const routeCreate =
    `gcloud compute routes create ${route.name} ${p} --network ${desired.network} --destination-range ${route.destRange} ` +
    `--next-hop-ilb ${desired.forwardingRule.name} --next-hop-ilb-region ${desired.region} --tags ${route.tags.join(',')} --priority ${route.priority} --description ${quote(route.description)}`;
  const checkCommand = (verb: 'create' | 'update', name: string) => {
    const check = [desired.healthChecks.traffic, desired.healthChecks.autoheal].find((candidate) => candidate.name === name)!;
    return (
      `gcloud compute health-checks ${verb} http ${name} ${p} ${r} --port ${check.port} --request-path ${check.requestPath} --check-interval ${check.checkIntervalSec}s ` +
      `--timeout ${check.timeoutSec}s --healthy-threshold ${check.healthyThreshold} --unhealthy-threshold ${check.unhealthyThreshold}${verb === 'create' ? ` --description ${quote(check.description)}` : ''}`
    );
  };
  const mig = desired.mig;
  const policy = mig.updatePolicy!;
  const createForwardingRule =
    `gcloud compute forwarding-rules create ${desired.forwardingRule.name} ${p} ${r} --load-balancing-scheme internal --ip-protocol TCP --ports ALL ` +
    `--backend-service ${desired.backendService.name} --backend-service-region ${desired.region} --network ${desired.network} --subnet ${lastSegment(desired.subnetwork)} ` +
    `--description ${quote(String(desired.forwardingRule.description))}`;
  const migUpdate =
    `gcloud compute instance-groups managed update ${mig.name} ${p} ${r} --update-policy-type opportunistic --update-policy-minimal-action replace ` +
    `--update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable ${String(policy.maxUnavailable!.fixed)} --instance-redistribution-type none`;

  for (const change of plan.changes) {
    switch (`${change.kind}:${change.action}`) {
      case 'address:create':
        commands.push(...addressCreateCommands(desired.addresses.find((candidate) => candidate.name === change.name)!, p, desired.region));
        break;
      case 'firewall:create':
      case 'firewall:update':
      case 'firewall:replace':
      case 'firewall:delete':
        commands.push(...firewallCommands(change, desired.firewalls, desired.network, p));
        break;
      case 'healthCheck:create':
        commands.push(checkCommand('create', change.name));
        break;
      case 'healthCheck:update':
        commands.push(checkCommand('update', change.name));
        break;
      case 'template:create': {
        const { files, plain } = metadataFlags(template.metadata);
        commands.push(
          `gcloud compute instance-templates create ${template.name} ${p} --machine-type ${template.machineType} --image-family ${template.image.family} --image-project ${template.image.project} ` +
            `--boot-disk-size ${template.bootDiskGb}GB --boot-disk-type ${template.bootDiskType} --subnet ${lastSegment(desired.subnetwork)} --region ${desired.region} --network-tier PREMIUM --can-ip-forward ` +
            `--tags ${(template.properties.tags?.items ?? []).join(',')} --labels ${labelText(template.properties.labels as Record<string, string>)} ` +
            `--shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring --no-service-account --no-scopes --metadata ${plain} --metadata-from-file ${files} ` +
            `--description ${quote(template.description)}`,
        );
        break;
      }
      case 'template:delete':
        commands.push(`gcloud compute instance-templates delete ${change.name} ${p} --quiet`);
        break;
      case 'mig:create':
        commands.push(
          `gcloud compute instance-groups managed create ${mig.name} ${p} ${r} --zones ${desired.zones.join(',')} --template ${template.name} --size 0 ` +
            `--base-instance-name ${mig.baseInstanceName} --health-check projects/${desired.project}/regions/${desired.region}/healthChecks/${names.healthAutoheal} ` +
            `--initial-delay ${String(mig.autoHealingPolicies![0]!.initialDelaySec)}s --stateful-external-ip interface-name=nic0,auto-delete=never --description ${quote(String(mig.description))}`,
        );
        commands.push(migUpdate);
        break;
      case 'mig:update':
        if (change.diffs.some((diff) => diff.field === 'instanceTemplate')) {
          commands.push(`gcloud compute instance-groups managed set-instance-template ${mig.name} ${p} ${r} --template ${template.name}`);
        }
        if (change.diffs.some((diff) => diff.field !== 'instanceTemplate')) commands.push(migUpdate);
        break;
      case 'vm:create': {
        const address = desired.addresses.find(
          (candidate) => candidate.vm === change.name || change.note === `NAT IP from ${candidate.name}`,
        )!;
        commands.push(
          `gcloud compute instance-groups managed create-instance ${mig.name} ${p} ${r} --instance ${change.name} ` +
            `--stateful-external-ip interface-name=nic0,address=projects/${desired.project}/regions/${desired.region}/addresses/${address.name},auto-delete=never`,
        );
        break;
      }
      case 'vm:replace': {
        const vm = observed.vms.find((candidate) => candidate.name === change.name);
        commands.push(
          `# one at a time, after the previous VM is HEALTHY in 'gcloud compute backend-services get-health ${desired.backendService.name} ${r}':`,
        );
        commands.push(
          `gcloud compute instance-groups managed update-instances ${mig.name} ${p} ${r} --instances ${vm?.name ?? change.name} --minimal-action replace --most-disruptive-allowed-action replace`,
        );
        break;
      }
      case 'vm:delete':
        commands.push(`gcloud compute instance-groups managed delete-instances ${mig.name} ${p} ${r} --instances ${change.name}`);
        break;
      case 'address:delete':
        commands.push(`gcloud compute addresses delete ${change.name} ${p} ${r} --quiet`);
        break;
      case 'backendService:create':
        commands.push(
          `gcloud compute backend-services create ${desired.backendService.name} ${p} ${r} --load-balancing-scheme internal --protocol tcp --network ${desired.network} ` +
            `--health-checks ${names.healthTraffic} --health-checks-region ${desired.region} --connection-draining-timeout ${String(desired.drainSeconds)}s --description ${quote(String(desired.backendService.description))}`,
        );
        commands.push(
          `gcloud compute backend-services add-backend ${desired.backendService.name} ${p} ${r} --instance-group ${mig.name} --instance-group-region ${desired.region} --balancing-mode connection`,
        );
        break;
      case 'backendService:update':
        commands.push(
          `gcloud compute backend-services update ${desired.backendService.name} ${p} ${r} --health-checks ${names.healthTraffic} --health-checks-region ${desired.region} --connection-draining-timeout ${String(desired.drainSeconds)}s`,
        );
        break;
      case 'forwardingRule:replace':
        commands.push(`gcloud compute routes delete ${route.name} ${p} --quiet`);
        commands.push(`gcloud compute forwarding-rules delete ${change.name} ${p} ${r} --quiet`);
        commands.push(createForwardingRule);
        break;
      case 'forwardingRule:create':
        commands.push(createForwardingRule);
        break;
      case 'route:create':
        commands.push(
          `# once 'gcloud compute backend-services get-health ${desired.backendService.name} ${p} ${r}' shows a HEALTHY backend:`,
        );
        commands.push(routeCreate);
        break;
      case 'route:replace':
        if (!commands.includes(`gcloud compute routes delete ${route.name} ${p} --quiet`))
          commands.push(`gcloud compute routes delete ${route.name} ${p} --quiet`);
        commands.push(routeCreate);
        break;
    }
  }
  return commands;
}

export function gcloudDestroyHaCommands(project: string, region: string, observed: ObservedHa, plan: Plan): string[] {
  const p = `--project ${quote(project)}`;
  const r = `--region ${region}`;
  const commands: string[] = [];
  for (const change of plan.changes) {
    if (change.action !== 'delete') continue;
    switch (change.kind) {
      case 'route':
        commands.push(`gcloud compute routes delete ${change.name} ${p} --quiet`);
        break;
      case 'forwardingRule':
        commands.push(`gcloud compute forwarding-rules delete ${change.name} ${p} ${r} --quiet`);
        break;
      case 'backendService':
        commands.push(`gcloud compute backend-services delete ${change.name} ${p} ${r} --quiet`);
        break;
      case 'mig':
        commands.push(`gcloud compute instance-groups managed delete ${change.name} ${p} ${r} --quiet`);
        break;
      case 'instance':
        commands.push(`gcloud compute instances delete ${change.name} ${p} --zone ${lastSegment(observed.singleInstance?.zone)} --quiet`);
        break;
      case 'healthCheck':
        commands.push(`gcloud compute health-checks delete ${change.name} ${p} ${r} --quiet`);
        break;
      case 'template':
        commands.push(`gcloud compute instance-templates delete ${change.name} ${p} --quiet`);
        break;
      case 'firewall':
        commands.push(`gcloud compute firewall-rules delete ${change.name} ${p} --quiet`);
        break;
      case 'address':
        commands.push(`gcloud compute addresses delete ${change.name} ${p} ${r} --quiet`);
        break;
    }
  }
  return commands;
}
