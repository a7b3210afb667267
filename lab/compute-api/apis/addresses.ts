// Regional external addresses: reserve, label, release (refused while a VM uses one).
import ipaddr from 'ipaddr.js';
import { handler, lastSegment, type Handler, type HandlerKit } from '../handler-kit.js';
import { ApiError, ComputeStore, invalid } from '../store.js';

export function addressHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Addresses', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'addresses', ctx.params.address!)),
    handler('Addresses', 'List', (ctx) => kit.listOf(ctx, 'addresses', 'address')),
    handler('Addresses', 'Insert', (ctx) =>
      kit.insert(ctx, 'addresses', (body) => {
        const addressType = String(body.addressType ?? 'EXTERNAL');
        if (addressType !== 'EXTERNAL') throw invalid(`fake: only EXTERNAL addresses are modelled, got ${addressType}`);
        if (body.address !== undefined && !ipaddr.IPv4.isValidFourPartDecimal(String(body.address)))
          throw invalid(`Invalid value for field 'resource.address': '${String(body.address)}'.`);
        s.checkQuota(ctx.project, ctx.scope.replace(/^regions\//, ''), { STATIC_ADDRESSES: 1 });
        return {
          ...body,
          addressType,
          networkTier: body.networkTier ?? 'PREMIUM',
          ipVersion: 'IPV4',
          address: body.address ?? s.allocateExternalIp(),
          status: 'RESERVED',
          labels: body.labels ?? {},
          labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
        };
      }),
    ),
    handler('Addresses', 'Delete', (ctx) =>
      kit.remove(ctx, 'addresses', ctx.params.address!, (address) => {
        const users = (address.users as string[] | undefined) ?? [];
        if (users.length > 0) {
          throw new ApiError(
            400,
            'resourceInUseByAnotherResource',
            `The address resource '${lastSegment(address.selfLink)}' is already being used by '${users[0]}'`,
          );
        }
      }),
    ),
    handler('Addresses', 'SetLabels', (ctx) => kit.setLabels(ctx, 'addresses', ctx.params.resource!)),
  ];
}
