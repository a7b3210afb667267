// The stateful HA executor. Up: the three addresses first (their IPs go into the agent config, the template and the
// return rule, so the rest is re-planned with them), firewalls, health checks, template, the two groups and their VMs
// (each pinned to its internal address), both backend services, both forwarding rules, then — once a backend is
// healthy — the route. A new template replaces the standby (b) first, then a, each healthy and resynced before the next.
import {
  findChange,
  findChangeOf,
  pollUntil,
  reserveAddress,
  rollBackOnRefusal,
  type ApplyOptions,
  type CreatedThisRun,
} from '../apply-shared.js';
import { addressBody } from '../kinds/address.js';
import { applyFirewallChanges } from '../kinds/firewall.js';
import { applyBackendServiceChange } from '../kinds/backend-service.js';
import { applyForwardingRuleChange } from '../kinds/forwarding-rule.js';
import { applyMigChange } from '../kinds/mig.js';
import { ProvisionError, type CallContext } from '../gcp/call.js';
import {
  createMigInstances,
  deleteMigInstances,
  deletePerInstanceConfigs,
  listManagedInstances,
  listPerInstanceConfigs,
  replaceMigInstances,
} from '../gcp/instance-groups.js';
import { readNatgwAttributes } from '../gcp/instances.js';
import { deleteForwardingRule } from '../gcp/load-balancing.js';
import { deleteRoute } from '../gcp/routes.js';
import { lastSegment } from '../model.js';
import { isVmCreate, type Change, type ChangeOf, type Plan } from '../plan.js';
import { perInstanceConfig } from '../kinds/vm.js';
import type { Progress } from '../progress.js';
import {
  all,
  applyChecksAndTemplate,
  createRouteOnceHealthy,
  deleteSupersededTemplates,
  waitBackends,
  waitMigCreates,
  waitMigDeletes,
  waitRecreated,
  type BackendTarget,
  type MigRef,
} from './apply.js';
import type { ObservedHa } from './gateway.js';
import { syncStateOf, type DesiredMember, type DesiredStateful } from './stateful.js';
import { GUEST_ATTRIBUTE, SYNC_PORT } from '../../common/protocol.js';

export interface StatefulApplyResult {
  natIp: string;
  healthy: string[];
  applied: { kind: string; name: string; action: string }[];
}

/** Re-reads the gateway and re-plans once the addresses exist (their IPs are part of what is desired). */
export type Replan = () => Promise<{ desired: DesiredStateful; observed: ObservedHa; plan: Plan }>;

export const memberMigRef = (desired: DesiredStateful, member: DesiredMember): MigRef => ({
  region: desired.ha.region,
  name: member.mig.name,
  machineType: desired.ha.template.machineType,
  template: desired.ha.template.name,
});

export const ilbTarget = (desired: DesiredStateful): BackendTarget => ({
  region: desired.ha.region,
  backendService: desired.ha.backendService.name,
  groups: desired.members.map((member) => member.instanceGroup),
  migs: desired.members.map((member) => member.mig.name),
});

export function applyStateful(
  ctx: CallContext,
  first: { desired: DesiredStateful; observed: ObservedHa; plan: Plan },
  replan: Replan,
  progress: Progress,
  options: ApplyOptions,
): Promise<StatefulApplyResult> {
  return rollBackOnRefusal(progress, first.desired.ha.gateway, (created) => applySteps(ctx, first, replan, progress, options, created));
}

async function applySteps(
  ctx: CallContext,
  first: { desired: DesiredStateful; observed: ObservedHa; plan: Plan },
  replan: Replan,
  progress: Progress,
  options: ApplyOptions,
  created: CreatedThisRun,
): Promise<StatefulApplyResult> {
  const applied: StatefulApplyResult['applied'] = [];
  const record = (change: Change) => applied.push({ kind: change.kind, name: change.name, action: change.action });
  let { desired, observed, plan } = first;
  const region = desired.ha.region;

  // ---- addresses: the NAT IP (EXTERNAL) and each VM's internal IP, then everything else is planned with their IPs ----
  const addressChanges = plan.changes.filter(
    (change): change is ChangeOf<'address'> & { action: 'create' } => change.kind === 'address' && change.action === 'create',
  );
  for (const change of addressChanges) {
    const member = desired.members.find((candidate) => candidate.syncAddress.name === change.name);
    await reserveAddress(
      ctx,
      region,
      progress,
      `reserving ${member === undefined ? 'the NAT IP' : `the internal IP of NAT VM ${member.member}`} ${change.name}`,
      addressBody(change.want),
      created,
    );
    record(change);
  }
  if (addressChanges.length > 0) {
    ({ desired, observed, plan } = await progress.run('re-planning with the reserved IPs', replan));
    if (plan.conflicts.length > 0)
      throw new ProvisionError(
        `cannot proceed after reserving the addresses:\n${plan.conflicts.map((change) => `  ${change.kind} ${change.name}: ${change.note}`).join('\n')}`,
      );
  }
  const ha = desired.ha;

  await applyFirewallChanges(ctx, plan, progress, record, created);
  await applyChecksAndTemplate(ctx, ha, plan, progress, record, created);

  // ---- what must be replaced goes first: the route (clients fall back to the internet route), then the rules ----
  const routeChange = findChange(plan, 'route');
  const ruleChange = findChangeOf(plan, 'forwardingRule', ha.forwardingRule.name);
  const natRuleChange = findChangeOf(plan, 'forwardingRule', desired.natForwardingRule.name);
  if (routeChange?.action === 'replace')
    await progress.run(`deleting route ${routeChange.name} (to replace it)`, () => deleteRoute(ctx, routeChange.name));
  for (const change of [ruleChange, natRuleChange])
    if (change?.action === 'replace')
      await progress.run(`deleting forwarding rule ${change.name} (to replace it)`, () => deleteForwardingRule(ctx, region, change.name));

  // ---- the two groups, each created empty; their VMs come with createInstances, pinned to their internal IPs ----
  for (const member of desired.members)
    await applyMigChange(ctx, region, findChangeOf(plan, 'mig', member.mig.name), [member.zone], progress, record, created);
  for (const member of desired.members) {
    const change = plan.changes.filter(isVmCreate).find((candidate) => candidate.payload.address === member.syncAddress.name);
    if (change === undefined) continue;
    const migRef = memberMigRef(desired, member);
    const config = perInstanceConfig(ha.project, region, change);
    await progress.run(`creating NAT VM ${change.name} (${member.member}) in ${member.zone}`, () =>
      createMigInstances(ctx, region, member.mig.name, [config]),
    );
    created.add(`NAT VM ${change.name} (and its stateful config)`, async () => {
      // A refused create is retried by the group forever: take the VM out of it, then its config.
      const links = (await listManagedInstances(ctx, region, member.mig.name))
        .filter((vm) => lastSegment(vm.instance) === change.name && (vm.instanceStatus ?? '') !== '')
        .map((vm) => vm.instance ?? '')
        .filter((link) => link !== '');
      if (links.length > 0) {
        await deleteMigInstances(ctx, region, member.mig.name, links);
        await waitMigDeletes(ctx, progress, migRef, [change.name], options);
      }
      const left = (await listPerInstanceConfigs(ctx, region, member.mig.name))
        .map((item) => item.name ?? '')
        .filter((name) => name === change.name);
      if (left.length > 0) await deletePerInstanceConfigs(ctx, region, member.mig.name, left);
    });
    await waitMigCreates(ctx, progress, migRef, [change.name], options);
    record(change);
  }

  // ---- load balancers: ILB (route next hop) and NLB (holds the NAT IP), then their rules ----
  await applyBackendServiceChange(
    ctx,
    region,
    findChangeOf(plan, 'backendService', ha.backendService.name),
    progress,
    record,
    `INTERNAL, a primary, b failover, NEVER_PERSIST`,
    created,
  );
  await applyBackendServiceChange(
    ctx,
    region,
    findChangeOf(plan, 'backendService', desired.nlb.name),
    progress,
    record,
    `EXTERNAL, protocol UNSPECIFIED, a primary, b failover, NEVER_PERSIST`,
    created,
  );
  await applyForwardingRuleChange(ctx, region, ruleChange, 'INTERNAL, TCP, all ports', progress, record, created);
  await applyForwardingRuleChange(
    ctx,
    region,
    natRuleChange,
    `EXTERNAL, L3_DEFAULT, all ports, on ${desired.natIp}`,
    progress,
    record,
    created,
  );

  // ---- planned replacement: the standby (b) first, then the primary (a); never both at once ----
  const rolling = all(plan, 'vm', 'replace');
  for (const member of [...desired.members].reverse()) {
    const change = rolling.find((candidate) => member.mig.name === migOfVm(observed, candidate.name, desired));
    if (change === undefined) continue;
    await replaceMember(ctx, progress, desired, observed, member, change.name, options);
    record(change);
  }

  // ---- route: only once the internal load balancer has a healthy backend ----
  if (routeChange?.action === 'create' || routeChange?.action === 'replace')
    // Clients' replies come back through the NLB: routing them before it answers for a backend would lose them.
    await waitBackends(
      ctx,
      progress,
      { ...ilbTarget(desired), backendService: desired.nlb.name },
      options,
      `waiting for a healthy backend in ${desired.nlb.name}`,
      (list) => list.some((status) => status.healthState === 'HEALTHY'),
      {
        what: `no NAT VM of the gateway turned healthy in ${desired.nlb.name}`,
        consequence: 'The route was not created, so no client traffic goes to the load balancers.',
      },
    );
  const statuses = await createRouteOnceHealthy(ctx, progress, ha, ilbTarget(desired), routeChange, options, record);
  await deleteSupersededTemplates(ctx, plan, progress, record);
  return {
    natIp: desired.natIp ?? '?',
    healthy: statuses.filter((status) => status.healthState === 'HEALTHY').map((status) => lastSegment(status.instance)),
    applied,
  };
}

const migOfVm = (observed: ObservedHa, vm: string, desired: DesiredStateful): string | undefined =>
  desired.members.find((member) => observed.stateful?.members[member.member].vms.some((candidate) => candidate.name === vm))?.mig.name;

/**
 * One member's VM rebuilt from the new template: drained by its agent (the load balancers move to the other VM),
 * recreated with the same name and internal IP, healthy in the internal load balancer, and its conntrack table resynced
 * from the peer (guest attribute natgw/sync: resynced) before anything else is touched.
 */
async function replaceMember(
  ctx: CallContext,
  progress: Progress,
  desired: DesiredStateful,
  observed: ObservedHa,
  member: DesiredMember,
  vmName: string,
  options: ApplyOptions,
): Promise<void> {
  const region = desired.ha.region;
  const vm = observed.stateful!.members[member.member].vms.find((candidate) => candidate.name === vmName)!;
  const role = member.member === 'a' ? 'primary' : 'standby';
  progress.line(`rolling replacement, step ${member.member === 'b' ? 1 : 2} of 2: ${role} ${vm.name} (${member.member}) in ${vm.zone}`);
  await progress.run(`replacing ${vm.name} with template ${desired.ha.template.name} (its agent drains it to the other VM first)`, () =>
    replaceMigInstances(ctx, region, member.mig.name, [`projects/${desired.ha.project}/${vm.link}`]),
  );
  await waitRecreated(ctx, progress, memberMigRef(desired, member), vm.name, options);
  await waitBackends(
    ctx,
    progress,
    { ...ilbTarget(desired), groups: [member.instanceGroup], migs: [member.mig.name] },
    options,
    `waiting for ${vm.name} to be healthy in ${desired.ha.backendService.name}`,
    (statuses) => statuses.some((status) => lastSegment(status.instance) === vm.name && status.healthState === 'HEALTHY'),
    {
      what: `the rolling replacement stopped: ${vm.name} did not turn healthy`,
      consequence: 'The other NAT VM keeps serving with the old template; it was not replaced.',
      only: vm.name,
    },
  );
  await progress.run(`waiting for ${vm.name} to resync its connection state from its peer (natgw/sync resynced)`, async (step) => {
    let last = 'not reported';
    await pollUntil(
      ctx,
      options,
      async () => {
        const read = await readNatgwAttributes(ctx, vm.zone, vm.name);
        const sync = syncStateOf(read.values.sync, read.values.health);
        if (sync?.resynced === true) return true;
        last = read.error ?? read.values.sync ?? 'not reported';
        step.update(read.error ?? (sync === undefined ? 'natgw/sync not reported yet' : `sync ${JSON.stringify(sync)}`));
        return undefined;
      },
      () => {
        throw new ProvisionError(
          `the rolling replacement stopped: ${vm.name} did not report resynced (guest attribute ${GUEST_ATTRIBUTE.sync}) within ${Math.round(options.healthTimeoutMs / 1000)}s (last: ${last}). ` +
            `The other NAT VM was not replaced and keeps every connection; check conntrackd on both (the sync firewall rule, udp/${SYNC_PORT}) and re-run provision.`,
        );
      },
    );
  });
}
