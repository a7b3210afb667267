import type { protos } from '@google-cloud/compute';
import { getOrUndefined, mutate, withRetry, describeFailure, type CallContext } from './call.js';

export type Address = protos.google.cloud.compute.v1.IAddress;

export const getAddress = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<Address>(ctx, `read address ${name}`, () => ctx.clients.addresses.get({ project: ctx.project, region, address: name }));

export async function listAddresses(ctx: CallContext, region: string): Promise<Address[]> {
  try {
    const [items] = await withRetry(ctx, 'list addresses', () => ctx.clients.addresses.list({ project: ctx.project, region }));
    return items;
  } catch (error) {
    throw describeFailure(`list addresses in ${region}`, error);
  }
}

export const insertAddress = (ctx: CallContext, region: string, address: Address) =>
  mutate(ctx, `create address ${address.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.addresses.insert({ project: ctx.project, region, addressResource: address, requestId }),
  );

export const setAddressLabels = (
  ctx: CallContext,
  region: string,
  name: string,
  labels: Record<string, string>,
  labelFingerprint: string,
) =>
  mutate(ctx, `label address ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.addresses.setLabels({
      project: ctx.project,
      region,
      resource: name,
      regionSetLabelsRequestResource: { labels, labelFingerprint },
      requestId,
    }),
  );

export const deleteAddress = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete address ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.addresses.delete({ project: ctx.project, region, address: name, requestId }),
  );
