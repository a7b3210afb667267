// What the single-VM and the HA executor do alike: one copy, so a fix to firewall handling or polling reaches both modes.
import type { CallContext } from './gcp/call.js';
import { deleteFirewall, insertFirewall, patchFirewall, type Firewall } from './gcp/firewalls.js';
import type { DesiredFirewall } from './model.js';
import type { Change, Plan } from './plan.js';
import type { Progress } from './progress.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const findChange = (plan: Plan, kind: Change['kind'], name?: string) => plan.changes.find((change) => change.kind === kind && (name === undefined || change.name === name));

const firewallBody = (firewall: DesiredFirewall): Firewall => ({
  name: firewall.name,
  network: firewall.network,
  direction: 'INGRESS',
  priority: firewall.priority,
  sourceRanges: firewall.sourceRanges,
  targetTags: firewall.targetTags,
  allowed: firewall.allowed,
  description: firewall.description,
  disabled: false,
});

export async function applyFirewallChanges(ctx: CallContext, plan: Plan, firewalls: DesiredFirewall[], progress: Progress, record: (change: Change) => void): Promise<void> {
  for (const change of plan.changes.filter((candidate) => candidate.kind === 'firewall')) {
    const want = firewalls.find((firewall) => firewall.name === change.name);
    if (change.action === 'create' && want !== undefined) await progress.run(`creating firewall rule ${change.name}`, () => insertFirewall(ctx, firewallBody(want)));
    else if (change.action === 'update' && want !== undefined) await progress.run(`updating firewall rule ${change.name}`, () => patchFirewall(ctx, change.name, firewallBody(want)));
    else if (change.action === 'replace' && want !== undefined) {
      await progress.run(`replacing firewall rule ${change.name}`, async () => {
        await deleteFirewall(ctx, change.name);
        await insertFirewall(ctx, firewallBody(want));
      });
    } else if (change.action === 'delete') await progress.run(`deleting firewall rule ${change.name}`, () => deleteFirewall(ctx, change.name));
    else continue;
    record(change);
  }
}
