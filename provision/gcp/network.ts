// Read-only lookups: the network, its subnets and firewall rules, the region (zones, quotas), machine and disk types,
// and the boot image.
import type { protos } from '@google-cloud/compute';
import { describeFailure, getOrUndefined, withRetry, type CallContext } from './call.js';

export type Network = protos.google.cloud.compute.v1.INetwork;
export type Subnetwork = protos.google.cloud.compute.v1.ISubnetwork;
export type Region = protos.google.cloud.compute.v1.IRegion;
export type Image = protos.google.cloud.compute.v1.IImage;
export type MachineType = protos.google.cloud.compute.v1.IMachineType;
export type DiskType = protos.google.cloud.compute.v1.IDiskType;
export type Firewall = protos.google.cloud.compute.v1.IFirewall;

export const getMachineType = (ctx: CallContext, zone: string, name: string) =>
  getOrUndefined<MachineType>(ctx, `read machine type ${name} in ${zone}`, () =>
    ctx.clients.machineTypes.get({ project: ctx.project, zone, machineType: name }),
  );

export const getDiskType = (ctx: CallContext, zone: string, name: string) =>
  getOrUndefined<DiskType>(ctx, `read disk type ${name} in ${zone}`, () =>
    ctx.clients.diskTypes.get({ project: ctx.project, zone, diskType: name }),
  );

/** Every firewall rule of the project (the caller filters by network: the list filter syntax is not worth the risk). */
export async function listFirewalls(ctx: CallContext): Promise<Firewall[]> {
  try {
    const [items] = await withRetry(ctx, 'list firewall rules', () => ctx.clients.firewalls.list({ project: ctx.project }));
    return items;
  } catch (error) {
    throw describeFailure('list firewall rules', error);
  }
}

export const getNetwork = (ctx: CallContext, name: string) =>
  getOrUndefined<Network>(ctx, `read network ${name}`, () => ctx.clients.networks.get({ project: ctx.project, network: name }));

export const getRegion = (ctx: CallContext, region: string) =>
  getOrUndefined<Region>(ctx, `read region ${region}`, () => ctx.clients.regions.get({ project: ctx.project, region }));

export async function listSubnetworks(ctx: CallContext, region: string): Promise<Subnetwork[]> {
  try {
    const [items] = await withRetry(ctx, 'list subnetworks', () => ctx.clients.subnetworks.list({ project: ctx.project, region }));
    return items;
  } catch (error) {
    throw describeFailure(`list subnetworks in ${region}`, error);
  }
}

export async function getImageFromFamily(ctx: CallContext, project: string, family: string): Promise<Image | undefined> {
  return getOrUndefined<Image>({ ...ctx, project }, `read image family ${project}/${family}`, () =>
    ctx.clients.images.getFromFamily({ project, family }),
  );
}
