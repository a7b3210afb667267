// The HA executor. Up: addresses, firewalls, health checks, template, MIG, VMs (each with its reserved IP), backend
// service, forwarding rule, then — only once a backend is healthy — the route. Down: the reverse dependency order.
import {
  findChange,
  findChangeOf,
  pollUntil,
  reserveAddress,
  rollBackOnRefusal,
  serialTail,
  type ApplyOptions,
  type CreatedThisRun,
} from '../apply-shared.js';
import { addressBody } from '../kinds/address.js';
import { applyFirewallChanges } from '../kinds/firewall.js';
import { applyHealthCheckChange } from '../kinds/health-check.js';
import { applyTemplateChange } from '../kinds/template.js';
import { applyBackendServiceChange } from '../kinds/backend-service.js';
import { applyForwardingRuleChange } from '../kinds/forwarding-rule.js';
import { applyMigChange } from '../kinds/mig.js';
import { routeBody } from '../kinds/route.js';
import { perInstanceConfig } from '../kinds/vm.js';
import type { Where } from '../kinds/index.js';
import { deleteAddress, getAddress } from '../gcp/addresses.js';
import { errorsText, ProvisionError, refusalIn, sentence, type CallContext, type ErrorEntry } from '../gcp/call.js';
import {
  createMigInstances,
  deleteMigInstances,
  deletePerInstanceConfigs,
  listManagedInstances,
  listMigErrors,
  listPerInstanceConfigs,
  replaceMigInstances,
  type ManagedInstance,
} from '../gcp/instance-groups.js';
import { readNatgwAttributes } from '../gcp/instances.js';
import { deleteForwardingRule, getBackendHealth, type HealthStatus } from '../gcp/load-balancing.js';
import { deleteRoute, insertRoute } from '../gcp/routes.js';
import { deleteInstanceTemplate } from '../gcp/templates.js';
import { configAddress, haNames, type DesiredHa, type ObservedHa } from './gateway.js';
import { lastSegment } from '../model.js';
import { isVmCreate, type Change, type Plan } from '../plan.js';
import type { Progress } from '../progress.js';

export interface HaApplyResult {
  natIps: string[];
  healthy: string[];
  applied: { kind: string; name: string; action: string }[];
}

/** What the health waits look at: one backend service, its instance groups, and the groups' MIGs (for serial tails). */
export interface BackendTarget {
  region: string;
  backendService: string;
  groups: string[];
  migs: string[];
}

export const haBackendTarget = (desired: DesiredHa): BackendTarget => ({
  region: desired.region,
  backendService: desired.backendService.name,
  groups: [desired.instanceGroup],
  migs: [desired.mig.name],
});

/** Health of every backend VM as the load balancer sees it (getHealth is per instance group). */
export async function backendHealth(ctx: CallContext, target: BackendTarget): Promise<HealthStatus[]> {
  const perGroup = await Promise.all(target.groups.map((group) => getBackendHealth(ctx, target.region, target.backendService, group)));
  return perGroup.flat();
}

/** The serial console tails of the groups' VMs, for an error message. */
async function serialTails(ctx: CallContext, region: string, migs: string[], only?: string): Promise<string> {
  const vms = (await Promise.all(migs.map((mig) => listManagedInstances(ctx, region, mig))))
    .flat()
    .filter((vm) => only === undefined || lastSegment(vm.instance) === only);
  const parts: string[] = [];
  for (const vm of vms) {
    const zone = /zones\/([^/]+)\//.exec(vm.instance ?? '')?.[1] ?? '';
    const name = lastSegment(vm.instance);
    // The agent's own view beside the load balancer's: an agent red on its sync check (waiting for its peer's table)
    // and one that says ok while the checks fail point at different causes.
    const own = await readNatgwAttributes(ctx, zone, name);
    const reports = own.error ?? ['health', 'sync'].map((key) => `natgw/${key} ${own.values[key] ?? 'not reported'}`).join('; ');
    parts.push(
      `  ${name} (${zone}), its agent reports ${reports}; last lines of its serial console:\n${await serialTail(ctx, zone, name, 15)}`,
    );
  }
  return parts.join('\n') || '  (the group has no VMs)';
}

/**
 * Polls getHealth until `ready(statuses)`; on timeout a ProvisionError with each backend's state and serial tails.
 */
export async function waitBackends(
  ctx: CallContext,
  progress: Progress,
  target: BackendTarget,
  options: ApplyOptions,
  label: string,
  ready: (statuses: HealthStatus[]) => boolean,
  failure: { what: string; consequence: string; only?: string },
): Promise<HealthStatus[]> {
  return progress.run(
    label,
    (step) => {
      let last: HealthStatus[] = [];
      return pollUntil(
        ctx,
        options,
        async () => {
          last = await backendHealth(ctx, target);
          if (ready(last)) return last;
          step.update(last.map((status) => `${lastSegment(status.instance)} ${status.healthState ?? '?'}`).join(', ') || 'no backends yet');
          return undefined;
        },
        async () => {
          const states =
            last.map((status) => `${lastSegment(status.instance)}: ${status.healthState ?? 'UNKNOWN'}`).join(', ') || 'no backends';
          throw new ProvisionError(
            `${failure.what} within ${Math.round(options.healthTimeoutMs / 1000)}s (load balancer says: ${states}).\n${failure.consequence}\n` +
              `${await serialTails(ctx, target.region, target.migs, failure.only)}\n` +
              `The agent answers the load balancer's check on /healthz (egress probe included); fix the cause and re-run provision: it resumes where it stopped.`,
          );
        },
      );
    },
    (statuses) => `${statuses.filter((status) => status.healthState === 'HEALTHY').length}/${statuses.length} healthy`,
  );
}

// listManagedInstances is an ordinary API read (not a guest attribute): a few seconds between reads keeps a failed
// create's cause seconds away without flooding the API.
const MIG_POLL_MS = 3000;

const managedName = (vm: ManagedInstance) => lastSegment(vm.instance) || (vm.name ?? '');

/** One managed instance group as the create/delete/recreate waits need it. */
export interface MigRef {
  region: string;
  name: string;
  machineType: string;
  template: string;
}

export const haMigRef = (desired: DesiredHa): MigRef => ({
  region: desired.region,
  name: desired.mig.name,
  machineType: desired.template.machineType,
  template: desired.template.name,
});

/** The cause of a failed MIG create, as one message: policy and quota are refusals (rolled back), the rest is not. */
function migCreateFailure(mig: MigRef, vms: string[], errors: ErrorEntry[]): ProvisionError {
  const what = `the managed instance group ${mig.name} could not create ${vms.join(', ')}`;
  const refusal = refusalIn(what, errors);
  if (refusal !== undefined) return refusal;
  const text = errorsText(errors);
  if (/RESOURCE_POOL_EXHAUSTED|STOCKOUT|does not have enough resources/i.test(text)) {
    return new ProvisionError(
      `${what}: ${sentence(text)} The zone is out of ${mig.machineType} capacity (a stockout): provision with other --zones or another --machine-type. ` +
        'The group keeps retrying meanwhile; a re-run converges.',
    );
  }
  return new ProvisionError(
    `${what}: ${sentence(text)} Check the instance template ${mig.template} (machine type, image, disk type, network) and re-run provision.`,
  );
}

/**
 * createInstances is DONE once GCE accepted it; the VMs come later or never. Follows listManagedInstances until every
 * VM runs, and fails as soon as GCE reports an attempt's error (lastAttempt, listErrors) instead of waiting out the
 * health timeout with no cause.
 */
export async function waitMigCreates(
  ctx: CallContext,
  progress: Progress,
  mig: MigRef,
  vms: string[],
  options: ApplyOptions,
): Promise<void> {
  await progress.run(`waiting for the group to create ${vms.join(', ')}`, async (step) => {
    // Compared with GCE's own timestamps, so wall-clock time, not the run's clock.
    const since = new Date(Date.now() - 60_000).toISOString();
    let pending = vms;
    await pollUntil(
      ctx,
      options,
      async () => {
        const managed = (await listManagedInstances(ctx, mig.region, mig.name)).filter((vm) => vms.includes(managedName(vm)));
        const attemptErrors = managed.flatMap((vm) => vm.lastAttempt?.errors?.errors ?? []);
        if (attemptErrors.length > 0) {
          const logged = (await listMigErrors(ctx, mig.region, mig.name).catch(() => []))
            .filter((entry) => (entry.timestamp ?? '') >= since)
            .map((entry) => entry.error ?? {})
            .filter((entry) => entry.code !== undefined || entry.message !== undefined);
          const causes = logged.length > 0 ? logged : attemptErrors;
          // Each VM reports the same cause: say it once.
          throw migCreateFailure(
            mig,
            vms,
            causes.filter(
              (cause, index) => causes.findIndex((other) => other.code === cause.code && other.message === cause.message) === index,
            ),
          );
        }
        pending = vms.filter((name) => {
          const vm = managed.find((candidate) => managedName(candidate) === name);
          return vm === undefined || String(vm.currentAction) !== 'NONE' || String(vm.instanceStatus) !== 'RUNNING';
        });
        if (pending.length === 0) return true;
        step.update(
          managed.map((vm) => `${managedName(vm)} ${String(vm.currentAction ?? '?')}/${String(vm.instanceStatus ?? '-')}`).join(', ') ||
            'not listed yet',
        );
        return undefined;
      },
      () => {
        throw new ProvisionError(
          `the managed instance group ${mig.name} did not create ${pending.join(', ')} within ${Math.round(options.healthTimeoutMs / 1000)}s and reported no error; re-run provision to resume.`,
        );
      },
      MIG_POLL_MS,
    );
  });
}

/** deleteInstances is DONE once accepted: the VM (and its hold on the NAT IP) goes later. */
export async function waitMigDeletes(
  ctx: CallContext,
  progress: Progress,
  mig: MigRef,
  vms: string[],
  options: ApplyOptions,
): Promise<void> {
  await progress.run(`waiting until ${vms.join(', ')} ${vms.length === 1 ? 'is' : 'are'} gone`, async (step) => {
    let left: ManagedInstance[] = [];
    await pollUntil(
      ctx,
      options,
      async () => {
        left = (await listManagedInstances(ctx, mig.region, mig.name)).filter((vm) => vms.includes(managedName(vm)));
        if (left.length === 0) return true;
        step.update(left.map((vm) => `${managedName(vm)} ${String(vm.currentAction ?? '?')}`).join(', '));
        return undefined;
      },
      () => {
        throw new ProvisionError(
          `scaling down: ${left.map(managedName).join(', ')} still exist after ${Math.round(options.healthTimeoutMs / 1000)}s; their NAT IPs were not released. Re-run provision to finish.`,
        );
      },
      MIG_POLL_MS,
    );
  });
}

/**
 * applyUpdatesToInstances only records the intent: waits until the MIG reports the VM rebuilt from the new template, so
 * the old VM's last HEALTHY answer is never taken for the new one's.
 */
export async function waitRecreated(ctx: CallContext, progress: Progress, mig: MigRef, vm: string, options: ApplyOptions): Promise<void> {
  await progress.run(`waiting for ${vm} to be recreated from ${mig.template}`, async (step) => {
    let state = '';
    await pollUntil(
      ctx,
      options,
      async () => {
        const current = (await listManagedInstances(ctx, mig.region, mig.name)).find((candidate) => lastSegment(candidate.instance) === vm);
        state =
          current === undefined
            ? 'absent'
            : `${String(current.currentAction ?? '?')}, ${String(current.instanceStatus ?? '?')}, ${lastSegment(current.version?.instanceTemplate)}`;
        if (
          current !== undefined &&
          String(current.currentAction) === 'NONE' &&
          String(current.instanceStatus) === 'RUNNING' &&
          lastSegment(current.version?.instanceTemplate) === mig.template
        )
          return true;
        step.update(state);
        return undefined;
      },
      () => {
        throw new ProvisionError(
          `the rolling update stopped: the group did not recreate ${vm} from ${mig.template} within ${Math.round(options.healthTimeoutMs / 1000)}s (now: ${state}). The VMs not yet replaced keep serving; re-run provision to resume.`,
        );
      },
    );
  });
}

type Record = (change: Change) => void;

/** Health checks (created or patched) and the instance template (created: templates are immutable). */
export async function applyChecksAndTemplate(
  ctx: CallContext,
  desired: Pick<DesiredHa, 'region' | 'healthChecks' | 'template'>,
  plan: Plan,
  progress: Progress,
  record: Record,
  created: CreatedThisRun,
): Promise<void> {
  const { region } = desired;
  for (const change of plan.changes)
    if (change.kind === 'healthCheck') await applyHealthCheckChange(ctx, region, change, progress, record, created);
  const templateChange = findChange(plan, 'template', desired.template.name);
  if (templateChange?.kind === 'template') await applyTemplateChange(ctx, templateChange, progress, record, created);
}

/** The route goes in only once the load balancer has a healthy backend; returns the health it saw ([] if no route change). */
export async function createRouteOnceHealthy(
  ctx: CallContext,
  progress: Progress,
  desired: Pick<DesiredHa, 'route' | 'forwardingRule' | 'backendService'>,
  target: BackendTarget,
  routeChange: Change | undefined,
  options: ApplyOptions,
  record: Record,
): Promise<HealthStatus[]> {
  if (routeChange?.kind !== 'route' || (routeChange.action !== 'create' && routeChange.action !== 'replace')) return [];
  const route = routeChange.want;
  const statuses = await waitBackends(
    ctx,
    progress,
    target,
    options,
    `waiting for a healthy backend in ${desired.backendService.name}`,
    (list) => list.some((status) => status.healthState === 'HEALTHY'),
    {
      what: 'no NAT VM of the gateway turned healthy',
      consequence: 'The route was not created, so no client traffic goes to the load balancer.',
    },
  );
  await progress.run(
    `creating route ${route.name} (0.0.0.0/0 for tag ${route.tags.join(',')} → ${desired.forwardingRule.name}, priority ${route.priority})`,
    () => insertRoute(ctx, routeBody(ctx.project, route)),
  );
  record(routeChange);
  return statuses;
}

export async function deleteSupersededTemplates(ctx: CallContext, plan: Plan, progress: Progress, record: Record): Promise<void> {
  for (const change of all(plan, 'template', 'delete')) {
    await progress.run(`deleting superseded instance template ${change.name}`, () => deleteInstanceTemplate(ctx, change.name));
    record(change);
  }
}

export const all = (plan: Plan, kind: Change['kind'], action?: Change['action']) =>
  plan.changes.filter((change) => change.kind === kind && (action === undefined || change.action === action));

export function applyHa(
  ctx: CallContext,
  desired: DesiredHa,
  observed: ObservedHa,
  plan: Plan,
  progress: Progress,
  options: ApplyOptions,
): Promise<HaApplyResult> {
  return rollBackOnRefusal(progress, desired.gateway, (created) => applyHaSteps(ctx, desired, observed, plan, progress, options, created));
}

async function applyHaSteps(
  ctx: CallContext,
  desired: DesiredHa,
  observed: ObservedHa,
  plan: Plan,
  progress: Progress,
  options: ApplyOptions,
  created: CreatedThisRun,
): Promise<HaApplyResult> {
  const applied: HaApplyResult['applied'] = [];
  const record = (change: Change) => applied.push({ kind: change.kind, name: change.name, action: change.action });
  const { region, project } = desired;
  const names = haNames(desired.gateway);
  const migRef = haMigRef(desired);
  const target = haBackendTarget(desired);

  // ---- addresses ----
  for (const change of plan.changes) {
    if (change.kind !== 'address' || change.action !== 'create') continue;
    await reserveAddress(ctx, region, progress, `creating address ${change.name}`, addressBody(change.want), created);
    record(change);
  }

  // ---- firewalls ----
  await applyFirewallChanges(ctx, plan, progress, record, created);

  await applyChecksAndTemplate(ctx, desired, plan, progress, record, created);

  // ---- route and forwarding rule that must be replaced go first (clients fall back to the internet route) ----
  const routeChange = findChange(plan, 'route');
  const ruleChange = findChangeOf(plan, 'forwardingRule', desired.forwardingRule.name);
  if (routeChange?.action === 'replace')
    await progress.run(`deleting route ${routeChange.name} (to replace it)`, () => deleteRoute(ctx, routeChange.name));
  if (ruleChange?.action === 'replace')
    await progress.run(`deleting forwarding rule ${ruleChange.name} (to replace it)`, () =>
      deleteForwardingRule(ctx, region, ruleChange.name),
    );

  await applyMigChange(ctx, region, findChangeOf(plan, 'mig', desired.mig.name), desired.zones, progress, record, created);

  // ---- VMs: scale down first (their IPs are released below), then create, then roll ----
  const removed = all(plan, 'vm', 'delete');
  if (removed.length > 0) {
    const links = removed
      .map((change) => observed.vms.find((vm) => vm.name === change.name)?.link)
      .filter((link): link is string => link !== undefined);
    if (links.length > 0) {
      await progress.run(`deleting ${removed.map((change) => change.name).join(', ')} (scaling down)`, () =>
        deleteMigInstances(
          ctx,
          region,
          names.mig,
          links.map((link) => `projects/${project}/${link}`),
        ),
      );
      // Their addresses are released at the end: only once no VM holds them any more.
      await waitMigDeletes(
        ctx,
        progress,
        migRef,
        removed.map((change) => change.name),
        options,
      );
    }
    const left = (await listPerInstanceConfigs(ctx, region, names.mig))
      .map((config) => config.name ?? '')
      .filter((name) => removed.some((change) => change.name === name));
    if (left.length > 0)
      await progress.run(`deleting stateful configs of ${left.join(', ')}`, () => deletePerInstanceConfigs(ctx, region, names.mig, left));
    removed.forEach(record);
  }
  const creates = plan.changes.filter(isVmCreate);
  if (creates.length > 0) {
    const configs = creates.map((change) => perInstanceConfig(project, region, change));
    const vmNames = creates.map((change) => change.name);
    await progress.run(`creating NAT VMs ${vmNames.join(', ')}`, () => createMigInstances(ctx, region, names.mig, configs));
    created.add(`NAT VMs ${vmNames.join(', ')} (and their stateful configs)`, async () => {
      // A refused create would be retried by the group forever: take the VMs out of it, then their configs.
      // Only VMs that came to exist: GCE refuses to delete a member whose create never got through.
      const links = (await listManagedInstances(ctx, region, names.mig))
        .filter((vm) => vmNames.includes(managedName(vm)) && (vm.instanceStatus ?? '') !== '')
        .map((vm) => vm.instance ?? '')
        .filter((link) => link !== '');
      if (links.length > 0) {
        await deleteMigInstances(ctx, region, names.mig, links);
        await waitMigDeletes(ctx, progress, migRef, vmNames, options);
      }
      const configsLeft = (await listPerInstanceConfigs(ctx, region, names.mig))
        .map((config) => config.name ?? '')
        .filter((name) => vmNames.includes(name));
      if (configsLeft.length > 0) await deletePerInstanceConfigs(ctx, region, names.mig, configsLeft);
    });
    await waitMigCreates(ctx, progress, migRef, vmNames, options);
    creates.forEach(record);
  }

  // ---- backend service and forwarding rule ----
  await applyBackendServiceChange(
    ctx,
    region,
    findChangeOf(plan, 'backendService', desired.backendService.name),
    progress,
    record,
    `INTERNAL, health check ${desired.healthChecks.traffic.name}`,
    created,
  );
  await applyForwardingRuleChange(ctx, region, ruleChange, 'INTERNAL, TCP, all ports', progress, record, created);

  // ---- rolling replacement: one VM at a time, each healthy again before the next ----
  const rolling = all(plan, 'vm', 'replace');
  for (const change of rolling) {
    const vm = observed.vms.find((candidate) => candidate.name === change.name)!;
    await progress.run(`replacing ${vm.name} in ${vm.zone} with template ${desired.template.name} (the agent drains it first)`, () =>
      replaceMigInstances(ctx, region, names.mig, [`projects/${project}/${vm.link}`]),
    );
    await waitRecreated(ctx, progress, migRef, vm.name, options);
    await waitBackends(
      ctx,
      progress,
      target,
      options,
      `waiting for ${vm.name} to be healthy in the load balancer`,
      (statuses) => statuses.some((status) => lastSegment(status.instance) === vm.name && status.healthState === 'HEALTHY'),
      {
        what: `the rolling update stopped: ${vm.name} did not turn healthy`,
        consequence: 'The VMs not yet replaced keep serving with the old template; nothing else was replaced.',
        only: vm.name,
      },
    );
    record(change);
  }

  // ---- route: only once the load balancer has a healthy backend ----
  let statuses = await createRouteOnceHealthy(ctx, progress, desired, target, routeChange, options, record);
  await deleteSupersededTemplates(ctx, plan, progress, record);
  for (const change of all(plan, 'address', 'delete')) {
    await progress.run(`releasing address ${change.name}`, () => deleteAddress(ctx, region, change.name));
    record(change);
  }

  const natIps: string[] = [];
  for (const address of desired.addresses) {
    const known = observed.addresses.find((candidate) => candidate.name === address.name)?.address;
    natIps.push(known ?? (await getAddress(ctx, region, address.name))?.address ?? '?');
  }
  if (statuses.length === 0 && observed.backendService !== undefined) statuses = await backendHealth(ctx, target).catch(() => []);
  return {
    natIps,
    healthy: statuses.filter((status) => status.healthState === 'HEALTHY').map((status) => lastSegment(status.instance)),
    applied,
  };
}

/** Where destroy finds an HA gateway's resources: its group VMs counted per group, a single-mode leftover's zone. */
export function haWhere(ctx: CallContext, region: string, observed: ObservedHa): Where {
  return {
    ctx,
    project: ctx.project,
    region,
    instanceZone: lastSegment(observed.singleInstance?.zone),
    vmsOf: (name) => {
      const member = (['a', 'b'] as const).find((key) => observed.stateful?.members[key].mig?.name === name);
      return (member === undefined ? observed.vms : (observed.stateful?.members[member].vms ?? [])).length;
    },
  };
}

/** For `status`: the addresses' IPs by VM name, from the stateful configs. */
export function natIpByVm(observed: ObservedHa): Map<string, string> {
  const byName = new Map(observed.addresses.map((address) => [address.name, address.address]));
  return new Map(observed.configs.map((config) => [config.name ?? '', byName.get(configAddress(config)) ?? '?']));
}
