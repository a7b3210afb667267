// Regional managed instance groups, their managed instances and stateful per-instance configs.
import type { protos } from '@google-cloud/compute';
import { describeFailure, getOrUndefined, mutate, withRetry, type CallContext } from './call.js';

export type InstanceGroupManager = protos.google.cloud.compute.v1.IInstanceGroupManager;
export type ManagedInstance = protos.google.cloud.compute.v1.IManagedInstance;
export type PerInstanceConfig = protos.google.cloud.compute.v1.IPerInstanceConfig;

export const getMig = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<InstanceGroupManager>(ctx, `read instance group manager ${name}`, () =>
    ctx.clients.regionInstanceGroupManagers.get({ project: ctx.project, region, instanceGroupManager: name }),
  );

export const insertMig = (ctx: CallContext, region: string, mig: InstanceGroupManager) =>
  mutate(ctx, `create managed instance group ${mig.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionInstanceGroupManagers.insert({ project: ctx.project, region, instanceGroupManagerResource: mig, requestId }),
  );

export const patchMig = (ctx: CallContext, region: string, name: string, mig: InstanceGroupManager) =>
  mutate(ctx, `update managed instance group ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionInstanceGroupManagers.patch({
      project: ctx.project,
      region,
      instanceGroupManager: name,
      instanceGroupManagerResource: mig,
      requestId,
    }),
  );

export const deleteMig = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete managed instance group ${name} and its VMs`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionInstanceGroupManagers.delete({ project: ctx.project, region, instanceGroupManager: name, requestId }),
  );

/** Creates VMs with chosen names and their stateful config (here: the reserved external IP of each). */
export const createMigInstances = (ctx: CallContext, region: string, name: string, instances: PerInstanceConfig[]) =>
  mutate(ctx, `create ${instances.map((instance) => instance.name).join(', ')} in ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionInstanceGroupManagers.createInstances({
      project: ctx.project,
      region,
      instanceGroupManager: name,
      regionInstanceGroupManagersCreateInstancesRequestResource: { instances },
      requestId,
    }),
  );

/** instances: zones/Z/instances/N links. */
export const deleteMigInstances = (ctx: CallContext, region: string, name: string, instances: string[]) =>
  mutate(ctx, `delete ${instances.map((link) => link.split('/').pop()).join(', ')} from ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionInstanceGroupManagers.deleteInstances({
      project: ctx.project,
      region,
      instanceGroupManager: name,
      regionInstanceGroupManagersDeleteInstancesRequestResource: { instances, skipInstancesOnValidationError: true },
      requestId,
    }),
  );

export const deletePerInstanceConfigs = (ctx: CallContext, region: string, name: string, names: string[]) =>
  mutate(ctx, `delete stateful configs ${names.join(', ')} of ${name}`, { kind: 'region', region }, () =>
    ctx.clients.regionInstanceGroupManagers.deletePerInstanceConfigs({
      project: ctx.project,
      region,
      instanceGroupManager: name,
      regionInstanceGroupManagerDeleteInstanceConfigReqResource: { names },
    }),
  );

/** Replaces the listed VMs (same names, same zones, same stateful IPs) with the MIG's current template. */
export const replaceMigInstances = (ctx: CallContext, region: string, name: string, instances: string[]) =>
  mutate(ctx, `replace ${instances.map((link) => link.split('/').pop()).join(', ')} in ${name}`, { kind: 'region', region }, () =>
    ctx.clients.regionInstanceGroupManagers.applyUpdatesToInstances({
      project: ctx.project,
      region,
      instanceGroupManager: name,
      regionInstanceGroupManagersApplyUpdatesRequestResource: {
        instances,
        minimalAction: 'REPLACE',
        mostDisruptiveAllowedAction: 'REPLACE',
      },
    }),
  );

export async function listManagedInstances(ctx: CallContext, region: string, name: string): Promise<ManagedInstance[]> {
  try {
    const [items] = await withRetry(ctx, `list instances of ${name}`, () =>
      ctx.clients.regionInstanceGroupManagers.listManagedInstances({ project: ctx.project, region, instanceGroupManager: name }),
    );
    return items;
  } catch (error) {
    throw describeFailure(`list instances of managed instance group ${name}`, error);
  }
}

export async function listPerInstanceConfigs(ctx: CallContext, region: string, name: string): Promise<PerInstanceConfig[]> {
  try {
    const [items] = await withRetry(ctx, `list stateful configs of ${name}`, () =>
      ctx.clients.regionInstanceGroupManagers.listPerInstanceConfigs({ project: ctx.project, region, instanceGroupManager: name }),
    );
    return items;
  } catch (error) {
    throw describeFailure(`list stateful configs of managed instance group ${name}`, error);
  }
}

export type MigError = protos.google.cloud.compute.v1.IInstanceManagedByIgmError;

/** The group's recent errors (quota, stockout, bad template): where a failed create shows its cause. */
export async function listMigErrors(ctx: CallContext, region: string, name: string): Promise<MigError[]> {
  try {
    const [items] = await withRetry(ctx, `list errors of ${name}`, () =>
      ctx.clients.regionInstanceGroupManagers.listErrors({ project: ctx.project, region, instanceGroupManager: name }),
    );
    return items;
  } catch (error) {
    throw describeFailure(`list errors of managed instance group ${name}`, error);
  }
}
