// Firewall rules: insert, patch, delete, with the real API's checks of ranges and protocols.
import ipaddr from 'ipaddr.js';
import { handler, type Handler, type HandlerKit } from '../handler-kit.js';
import { invalid, type Json } from '../store.js';

export function firewallHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Firewalls', 'Get', (ctx) => s.require(ctx.project, 'global', 'firewalls', ctx.params.firewall!)),
    handler('Firewalls', 'List', (ctx) => kit.listOf(ctx, 'firewalls', 'firewall')),
    handler('Firewalls', 'Insert', (ctx) =>
      kit.insert(ctx, 'firewalls', (body) => {
        const network = kit.requireNetwork(ctx, body.network ?? 'global/networks/default', 'resource.network');
        checkFirewall(body);
        return { direction: 'INGRESS', priority: 1000, disabled: false, logConfig: { enable: false }, ...body, network: network.selfLink };
      }),
    ),
    handler('Firewalls', 'Patch', (ctx) => {
      const name = ctx.params.firewall!;
      const current = s.require(ctx.project, 'global', 'firewalls', name);
      if (ctx.body.name !== undefined && ctx.body.name !== name)
        throw invalid(`Invalid value for field 'resource.name': '${String(ctx.body.name)}'. Resource name cannot be changed.`);
      checkFirewall({ ...current, ...ctx.body });
      return kit.mutate(ctx, 'patch', String(current.selfLink), () =>
        s.update(ctx.project, 'global', 'firewalls', name, (resource) => {
          for (const [key, value] of Object.entries(ctx.body)) if (key !== 'network') resource[key] = value;
        }),
      );
    }),
    handler('Firewalls', 'Delete', (ctx) => kit.remove(ctx, 'firewalls', ctx.params.firewall!)),
  ];
}

function checkFirewall(body: Json): void {
  for (const field of ['sourceRanges', 'destinationRanges'] as const) {
    ((body[field] as string[] | undefined) ?? []).forEach((range, index) => {
      if (!ipaddr.isValidCIDR(range) && !ipaddr.isValid(range))
        throw invalid(`Invalid value for field 'resource.${field}[${index}]': '${range}'. Must be a CIDR address range.`);
    });
  }
  ((body.sourceTags as string[] | undefined) ?? []).forEach((tag, index) => {
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(tag))
      throw invalid(`Invalid value for field 'resource.sourceTags[${index}]': '${tag}'. Must be a network tag.`);
  });
  if (body.direction === 'EGRESS' && ((body.sourceTags as string[] | undefined) ?? []).length > 0)
    throw invalid(`Invalid value for field 'resource.sourceTags': source tags cannot be set for an EGRESS rule.`);
  const allowed = (body.allowed as Json[] | undefined) ?? [];
  const denied = (body.denied as Json[] | undefined) ?? [];
  if (allowed.length === 0 && denied.length === 0)
    throw invalid(`Invalid value for field 'resource.allowed': ''. Must specify at least one rule.`);
  for (const rule of [...allowed, ...denied]) {
    const protocol = String(rule.IPProtocol ?? '');
    if (!['all', 'tcp', 'udp', 'icmp', 'esp', 'ah', 'sctp', 'ipip'].includes(protocol) && !/^\d+$/.test(protocol)) {
      throw invalid(`Invalid value for field 'resource.allowed[0].IPProtocol': '${protocol}'. Invalid IP protocol specification.`);
    }
    if (rule.ports !== undefined && !['tcp', 'udp', 'sctp'].includes(protocol))
      throw invalid(`Invalid value for field 'resource.allowed[0].ports': ports can only be set for tcp, udp or sctp.`);
  }
}
