// The gcloud commands equivalent to an HA plan (--dry-run): reviewable, and runnable by hand if someone must.
import { quote } from '../gcloud-shared.js';
import { addressCommands } from '../kinds/address.js';
import { firewallCommands } from '../kinds/firewall.js';
import { healthCheckCommands } from '../kinds/health-check.js';
import { templateCommands } from '../kinds/template.js';
import { backendServiceCommands } from '../kinds/backend-service.js';
import { forwardingRuleCommands } from '../kinds/forwarding-rule.js';
import { migCommands } from '../kinds/mig.js';
import { routeCreateCommand } from '../kinds/route.js';
import { vmCreateCommand } from '../kinds/vm.js';
import { haNames, type DesiredHa, type ObservedHa } from './gateway.js';
import type { DesiredStateful } from './stateful.js';
import { isVmCreate, type Plan } from '../plan.js';
import { GUEST_ATTRIBUTE } from '../../common/protocol.js';

export function gcloudHaCommands(desired: DesiredHa, observed: ObservedHa, plan: Plan): string[] {
  const p = `--project ${quote(desired.project)}`;
  const r = `--region ${desired.region}`;
  const _names = haNames(desired.gateway);
  const commands: string[] = [];
  const _template = desired.template;
  const route = desired.route;
  const mig = desired.mig;
  const policy = mig.updatePolicy!;
  const _migUpdate =
    `gcloud compute instance-groups managed update ${mig.name} ${p} ${r} --update-policy-type opportunistic --update-policy-minimal-action replace ` +
    `--update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable ${String(policy.maxUnavailable!.fixed)} --instance-redistribution-type none`;

  for (const change of plan.changes) {
    switch (`${change.kind}:${change.action}`) {
      case 'address:create':
        if (change.kind === 'address') commands.push(...addressCommands(change, p, desired.region));
        break;
      case 'firewall:create':
      case 'firewall:update':
      case 'firewall:replace':
      case 'firewall:delete':
        if (change.kind === 'firewall') commands.push(...firewallCommands(change, p));
        break;
      case 'healthCheck:create':
      case 'healthCheck:update':
        if (change.kind === 'healthCheck') commands.push(...healthCheckCommands(change, p, r));
        break;
      case 'template:create':
      case 'template:delete':
        if (change.kind === 'template') commands.push(...templateCommands(change, p, desired.region));
        break;
      case 'mig:create':
      case 'mig:update':
        if (change.kind === 'mig') commands.push(...migCommands(change, p, r));
        break;
      case 'vm:create': {
        if (isVmCreate(change)) commands.push(vmCreateCommand(change, p, r, desired.project, desired.region));
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
      case 'backendService:update':
        if (change.kind === 'backendService') commands.push(...backendServiceCommands(change, p, r, desired.region));
        break;
      case 'forwardingRule:replace':
      case 'forwardingRule:create':
        // The route's next hop goes: the route with it, first.
        if (change.action === 'replace') commands.push(`gcloud compute routes delete ${route.name} ${p} --quiet`);
        if (change.kind === 'forwardingRule') commands.push(...forwardingRuleCommands(change, p, r, desired.region));
        break;
      case 'route:create':
        commands.push(
          `# once 'gcloud compute backend-services get-health ${desired.backendService.name} ${p} ${r}' shows a HEALTHY backend:`,
        );
        if (change.kind === 'route') commands.push(...routeCreateCommand(change, p));
        break;
      case 'route:replace':
        if (!commands.includes(`gcloud compute routes delete ${route.name} ${p} --quiet`))
          commands.push(`gcloud compute routes delete ${route.name} ${p} --quiet`);
        if (change.kind === 'route') commands.push(...routeCreateCommand(change, p));
        break;
    }
  }
  return commands;
}

/**
 * The gcloud commands of a stateful HA plan: the shared kinds as for --ha, then the addresses, groups, VMs, backend
 * services and rules stateful HA adds. An IP not reserved yet is spelled as the gcloud call that reads it.
 */
export function gcloudStatefulCommands(desired: DesiredStateful, observed: ObservedHa, plan: Plan): string[] {
  const ha = desired.ha;
  const p = `--project ${quote(ha.project)}`;
  const r = `--region ${ha.region}`;
  const _names = haNames(ha.gateway);
  const commands: string[] = [];
  const memberOf = (name: string) =>
    desired.members.find(
      (member) =>
        member.mig.name === name ||
        member.syncAddress.name === name ||
        member.vm === name ||
        observed.stateful?.members[member.member].vms.some((vm) => vm.name === name),
    );
  const _migUpdate = (name: string) =>
    `gcloud compute instance-groups managed update ${name} ${p} ${r} --update-policy-type opportunistic --update-policy-minimal-action replace ` +
    '--update-policy-most-disruptive-action replace --update-policy-replacement-method recreate --update-policy-max-surge 0 --update-policy-max-unavailable 1 --instance-redistribution-type none';
  const rolling = plan.changes.filter((change) => change.kind === 'vm' && change.action === 'replace');

  for (const change of plan.changes) {
    const member = memberOf(change.name);
    switch (`${change.kind}:${change.action}`) {
      case 'address:create':
        if (change.kind === 'address') commands.push(...addressCommands(change, p, ha.region));
        break;
      case 'mig:create':
      case 'mig:update':
        if (member !== undefined && change.kind === 'mig') commands.push(...migCommands(change, p, r));
        break;
      case 'vm:create':
        if (member !== undefined && isVmCreate(change)) commands.push(vmCreateCommand(change, p, r, ha.project, ha.region));
        break;
      case 'vm:replace':
        break;
      case 'forwardingRule:create':
      case 'forwardingRule:replace':
        if (change.name !== desired.natForwardingRule.name)
          commands.push(...gcloudHaCommands(ha, observed, { ...plan, changes: [change] }));
        else if (change.kind === 'forwardingRule') commands.push(...forwardingRuleCommands(change, p, r, ha.region));
        break;
      default:
        commands.push(...gcloudHaCommands(ha, observed, { ...plan, changes: [change] }));
    }
  }
  // Planned replacement, in the order natgw runs it: the standby first; never both at once.
  for (const member of [...desired.members].reverse()) {
    const change = rolling.find((candidate) => memberOf(candidate.name)?.member === member.member);
    if (change === undefined) continue;
    commands.push(
      `# ${member.member === 'b' ? 'first the standby (b)' : 'then the primary (a)'}; before the next step wait until ${change.name} is HEALTHY in 'gcloud compute backend-services get-health ${ha.backendService.name} ${p} ${r}' and its guest attribute ${GUEST_ATTRIBUTE.sync} shows "resynced": true ('gcloud compute instances get-guest-attributes ${change.name} --zone ${member.zone} --query-path ${GUEST_ATTRIBUTE.namespace}'):`,
    );
    commands.push(
      `gcloud compute instance-groups managed update-instances ${member.mig.name} ${p} ${r} --instances ${change.name} --minimal-action replace --most-disruptive-allowed-action replace`,
    );
  }
  const natIpLookup = `$(gcloud compute addresses describe ${desired.natAddress.name} ${p} ${r} --format='value(address)')`;
  return commands.map((command) => command.replaceAll(`(${desired.natAddress.name})`, natIpLookup));
}
