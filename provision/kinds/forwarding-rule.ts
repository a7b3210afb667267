// Regional forwarding rules: the route's next hop (internal), and stateful HA's NAT IP in front of the external load
// balancer. They cannot be changed in place: a difference replaces them. Planned, created and rendered here.
import type { CreatedThisRun } from '../apply-shared.js';
import { quote } from '../gcloud-shared.js';
import type { CallContext } from '../gcp/call.js';
import { deleteForwardingRule, insertForwardingRule, type ForwardingRule } from '../gcp/load-balancing.js';
import { lastSegment, ownerFromDescription, type Kind } from '../model.js';
import { diffField, type Change, type ChangeOf, type FieldDiff } from '../plan.js';
import type { Progress } from '../progress.js';
import type { KindModule } from './kind.js';

export interface DesiredForwardingRule {
  rule: ForwardingRule & { name: string };
  /** The reserved address it holds, by name: gcloud takes the name, and its IP may not be known when planning. */
  address?: string;
}

declare module '../plan.js' {
  interface Wants {
    forwardingRule: DesiredForwardingRule;
  }
}

export const forwardingRule: KindModule<'forwardingRule'> = {
  deleting: (_, change) => `deleting forwarding rule ${change.name}`,
  remove: (where, change) => deleteForwardingRule(where.ctx, where.region, change.name),
  gcloudDelete: (where, change) => [
    `gcloud compute forwarding-rules delete ${change.name} --project ${quote(where.project)} --region ${where.region} --quiet`,
  ],
};

const mine = (gateway: string, description: string | null | undefined) => ownerFromDescription(description) === gateway;

/** Forwarding rules cannot be changed in place. Returns whether the rule is (re)created by this plan. */
export function planForwardingRule(
  gateway: string,
  rule: ForwardingRule & { name: string },
  have: ForwardingRule | undefined,
  changes: Change[],
  conflict: (kind: Kind, name: string, note: string) => void,
  replaceNote = 'forwarding rules cannot be changed in place; the route goes meanwhile',
  /** The reserved address the rule holds, when it holds one (stateful HA's NAT IP). */
  address?: string,
): boolean {
  const want: DesiredForwardingRule = { rule, ...(address === undefined ? {} : { address }) };
  if (have === undefined) {
    changes.push({ kind: 'forwardingRule', name: rule.name, action: 'create', diffs: [], want });
    return true;
  }
  if (!mine(gateway, have.description)) {
    conflict('forwardingRule', rule.name, "a forwarding rule with this name exists but is not marked as this gateway's");
    return false;
  }
  const diffs: FieldDiff[] = [];
  diffField(diffs, 'loadBalancingScheme', String(have.loadBalancingScheme ?? ''), String(rule.loadBalancingScheme));
  diffField(diffs, 'IPProtocol', String(have.IPProtocol ?? ''), String(rule.IPProtocol));
  diffField(diffs, 'allPorts', String(have.allPorts === true), 'true');
  diffField(diffs, 'backendService', lastSegment(have.backendService), lastSegment(rule.backendService));
  if (rule.subnetwork !== undefined && rule.subnetwork !== null)
    diffField(diffs, 'subnetwork', lastSegment(have.subnetwork), lastSegment(rule.subnetwork));
  // An unknown IP (its address not reserved yet) is not a difference: the address is then created and the rule with it.
  if (rule.IPAddress !== undefined && rule.IPAddress !== null && rule.IPAddress !== '')
    diffField(diffs, 'IPAddress', String(have.IPAddress ?? ''), rule.IPAddress);
  const replaced = diffs.length > 0;
  if (replaced) changes.push({ kind: 'forwardingRule', name: rule.name, action: 'replace', diffs, note: replaceNote, want });
  else changes.push({ kind: 'forwardingRule', name: rule.name, action: 'unchanged', diffs });
  return replaced;
}

/** A forwarding rule created (or created again after its replacement's delete); `what` describes it for progress. */
export async function applyForwardingRuleChange(
  ctx: CallContext,
  region: string,
  change: ChangeOf<'forwardingRule'> | undefined,
  what: string,
  progress: Progress,
  record: (change: Change) => void,
  created: CreatedThisRun,
): Promise<void> {
  if (change?.action !== 'create' && change?.action !== 'replace') return;
  const { rule } = change.want;
  await progress.run(`creating forwarding rule ${rule.name} (${what})`, () => insertForwardingRule(ctx, region, rule));
  created.add(`forwarding rule ${rule.name}`, () => deleteForwardingRule(ctx, region, rule.name));
  record(change);
}

/** The gcloud commands of a rule to create or replace (its delete first); `p`, `r`: the --project, --region flags. */
export function forwardingRuleCommands(change: ChangeOf<'forwardingRule'>, p: string, r: string, region: string): string[] {
  if (change.action !== 'create' && change.action !== 'replace') return [];
  const { rule, address } = change.want;
  const create =
    rule.loadBalancingScheme === 'EXTERNAL'
      ? `gcloud compute forwarding-rules create ${rule.name} ${p} ${r} --load-balancing-scheme external --ip-protocol=L3_DEFAULT --ports=ALL ` +
        `--address ${address} --backend-service ${lastSegment(rule.backendService)} --backend-service-region ${region} --network-tier PREMIUM --description ${quote(String(rule.description))}`
      : `gcloud compute forwarding-rules create ${rule.name} ${p} ${r} --load-balancing-scheme internal --ip-protocol TCP --ports ALL ` +
        `--backend-service ${lastSegment(rule.backendService)} --backend-service-region ${region} --network ${lastSegment(rule.network)} --subnet ${lastSegment(rule.subnetwork)} ` +
        `--description ${quote(String(rule.description))}`;
  return [...(change.action === 'replace' ? [`gcloud compute forwarding-rules delete ${change.name} ${p} ${r} --quiet`] : []), create];
}
