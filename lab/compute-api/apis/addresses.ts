// Regional addresses: reserve (EXTERNAL, or INTERNAL in a subnetwork), label, release (refused while a VM or a
// forwarding rule uses one).
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
        if (addressType !== 'EXTERNAL' && addressType !== 'INTERNAL')
          throw invalid(`Invalid value for field 'resource.addressType': '${addressType}'. Must be EXTERNAL or INTERNAL.`);
        if (body.address !== undefined && !ipaddr.IPv4.isValidFourPartDecimal(String(body.address)))
          throw invalid(`Invalid value for field 'resource.address': '${String(body.address)}'.`);
        const common = { labels: body.labels ?? {}, labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}), ipVersion: 'IPV4' };
        if (addressType === 'INTERNAL') {
          // An internal address is taken from a subnetwork's primary range; GCE_ENDPOINT is the purpose for a VM's IP.
          if (body.subnetwork === undefined)
            throw invalid(`Invalid value for field 'resource.subnetwork': ''. An INTERNAL address needs a subnetwork.`);
          const subnet = kit.requireRef(body.subnetwork, ctx, ctx.scope, 'subnetworks', 'resource.subnetwork');
          const purpose = String(body.purpose ?? 'GCE_ENDPOINT');
          if (purpose !== 'GCE_ENDPOINT')
            throw invalid(`fake: only purpose GCE_ENDPOINT is modelled for INTERNAL addresses, got ${purpose}`);
          const range = String(subnet.ipCidrRange);
          const used = kit.usedInternalIps();
          let address = body.address === undefined ? undefined : String(body.address);
          if (address === undefined) address = s.allocateInternalIp(range, used);
          else {
            if (!ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parseCIDR(range)))
              throw invalid(
                `Invalid value for field 'resource.address': '${address}'. The IP address must be in the subnetwork's range ${range}.`,
              );
            if (used.has(address)) throw invalid(`IP address '${address}' is already being used by another resource.`);
          }
          return {
            ...body,
            ...common,
            addressType,
            purpose,
            subnetwork: subnet.selfLink,
            network: subnet.network,
            address,
            status: 'RESERVED',
          };
        }
        if (body.subnetwork !== undefined || body.purpose !== undefined)
          throw invalid(`Invalid value for field 'resource.subnetwork': an EXTERNAL address takes no subnetwork or purpose.`);
        s.checkQuota(ctx.project, ctx.scope.replace(/^regions\//, ''), { STATIC_ADDRESSES: 1 });
        return {
          ...body,
          ...common,
          addressType,
          networkTier: body.networkTier ?? 'PREMIUM',
          address: body.address ?? s.allocateExternalIp(),
          status: 'RESERVED',
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
