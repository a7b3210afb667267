// Regional forwarding rules (INTERNAL only): the front of an internal passthrough load balancer.
import ipaddr from 'ipaddr.js';
import { handler, inUse, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import { ComputeStore, invalid, type Json } from '../store.js';

export function forwardingRuleHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const regionOf = (ctx: Ctx) => ctx.scope.replace(/^regions\//, '');
  return [
    handler('ForwardingRules', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'forwardingRules', ctx.params.forwarding_rule!)),
    handler('ForwardingRules', 'List', (ctx) => kit.listOf(ctx, 'forwardingRules', 'forwardingRule')),
    handler('ForwardingRules', 'Insert', (ctx) =>
      kit.insert(ctx, 'forwardingRules', (body) => {
        const scheme = String(body.loadBalancingScheme ?? 'EXTERNAL');
        if (scheme !== 'INTERNAL') throw invalid(`fake: only INTERNAL forwarding rules are modelled, got ${scheme}`);
        const protocol = String(body.IPProtocol ?? 'TCP');
        if (!['TCP', 'UDP', 'L3_DEFAULT'].includes(protocol))
          throw invalid(
            `Invalid value for field 'resource.IPProtocol': '${protocol}'. Internal passthrough forwarding rules support TCP, UDP or L3_DEFAULT.`,
          );
        const service = kit.requireRef(body.backendService, ctx, ctx.scope, 'backendServices', 'resource.backendService');
        if (service.loadBalancingScheme !== 'INTERNAL')
          throw invalid(`Invalid value for field 'resource.backendService': the backend service's loadBalancingScheme must be INTERNAL.`);
        const serviceProtocol = String(service.protocol);
        if (protocol === 'L3_DEFAULT' ? serviceProtocol !== 'UNSPECIFIED' : serviceProtocol !== protocol) {
          throw invalid(
            `Invalid value for field 'resource.IPProtocol': '${protocol}'. It does not match the backend service protocol ${serviceProtocol}.`,
          );
        }
        const ports = (body.ports as string[] | undefined) ?? [];
        if (body.allPorts === true && (ports.length > 0 || body.portRange !== undefined))
          throw invalid(`Invalid value for field 'resource.allPorts': allPorts cannot be combined with ports or portRange.`);
        if (body.allPorts !== true && ports.length === 0)
          throw invalid(`Invalid value for field 'resource.ports': specify 1 to 5 ports, or allPorts.`);
        if (protocol === 'L3_DEFAULT' && body.allPorts !== true)
          throw invalid(`Invalid value for field 'resource.allPorts': L3_DEFAULT requires allPorts.`);
        const region = regionOf(ctx);
        let subnet: Json | undefined;
        if (body.subnetwork !== undefined) subnet = kit.requireRef(body.subnetwork, ctx, ctx.scope, 'subnetworks', 'resource.subnetwork');
        else {
          const network = kit.requireNetwork(ctx, body.network ?? 'global/networks/default', 'resource.network');
          subnet = s.list(ctx.project, `regions/${region}`, 'subnetworks').find((candidate) => candidate.network === network.selfLink);
          if (subnet === undefined) throw invalid(`Invalid value for field 'resource.network': no subnetwork in region ${region}.`);
        }
        let address = body.IPAddress === undefined ? undefined : String(body.IPAddress);
        const used = kit.usedInternalIps();
        if (address === undefined) address = s.allocateInternalIp(String(subnet.ipCidrRange), used);
        else {
          if (
            !ipaddr.IPv4.isValidFourPartDecimal(address) ||
            !ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parseCIDR(String(subnet.ipCidrRange)))
          ) {
            throw invalid(
              `Invalid value for field 'resource.IPAddress': '${address}'. The IP address must be in the subnetwork's range ${String(subnet.ipCidrRange)}.`,
            );
          }
          if (used.has(address)) throw invalid(`IP address '${address}' is already being used by another resource.`);
        }
        return {
          ...body,
          IPAddress: address,
          IPProtocol: protocol,
          loadBalancingScheme: scheme,
          backendService: service.selfLink,
          network: subnet.network,
          subnetwork: subnet.selfLink,
          networkTier: 'PREMIUM',
          ipVersion: 'IPV4',
          allowGlobalAccess: body.allowGlobalAccess ?? false,
          labels: body.labels ?? {},
          labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
          fingerprint: ComputeStore.fingerprint(body),
        };
      }),
    ),
    handler('ForwardingRules', 'Delete', (ctx) => {
      const name = ctx.params.forwarding_rule!;
      const rule = s.require(ctx.project, ctx.scope, 'forwardingRules', name);
      const user = s
        .all('routes')
        .find((entry) => entry.resource.nextHopIlb === rule.selfLink || entry.resource.nextHopIlb === rule.IPAddress);
      if (user !== undefined) throw inUse('forwarding_rule', name, user.resource.selfLink);
      return kit.remove(ctx, 'forwardingRules', name);
    }),
  ];
}
