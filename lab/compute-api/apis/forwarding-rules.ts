// Regional forwarding rules: INTERNAL (an internal passthrough load balancer, a route's next hop) and EXTERNAL (an
// external passthrough Network Load Balancer on a reserved external address).
import ipaddr from 'ipaddr.js';
import { handler, inUse, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import { ComputeStore, invalid, notFound, relativePath, type Json } from '../store.js';

export function forwardingRuleHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const regionOf = (ctx: Ctx) => ctx.scope.replace(/^regions\//, '');
  /** The reserved EXTERNAL address of this region that holds `ip`. */
  const externalAddressOf = (ctx: Ctx, ip: string): Json | undefined =>
    s.list(ctx.project, ctx.scope, 'addresses').find((address) => address.addressType !== 'INTERNAL' && address.address === ip);

  /**
   * An external passthrough Network Load Balancer's rule: its backend service must be EXTERNAL (protocol UNSPECIFIED for
   * L3_DEFAULT) and its IPAddress a reserved EXTERNAL address of the same region (literal IP or address URL) that no
   * other resource uses.
   */
  const externalRule = (ctx: Ctx, body: Json): Json => {
    const protocol = String(body.IPProtocol ?? 'TCP');
    if (!['TCP', 'UDP', 'L3_DEFAULT'].includes(protocol))
      throw invalid(
        `Invalid value for field 'resource.IPProtocol': '${protocol}'. External passthrough forwarding rules support TCP, UDP or L3_DEFAULT here.`,
      );
    const service = kit.requireRef(body.backendService, ctx, ctx.scope, 'backendServices', 'resource.backendService');
    if (service.loadBalancingScheme !== 'EXTERNAL')
      throw invalid(
        `Invalid value for field 'resource.backendService': the backend service's loadBalancingScheme is ${String(service.loadBalancingScheme)}, an EXTERNAL forwarding rule needs an EXTERNAL one.`,
      );
    const serviceProtocol = String(service.protocol);
    if (protocol === 'L3_DEFAULT' ? serviceProtocol !== 'UNSPECIFIED' : serviceProtocol !== protocol)
      throw invalid(
        `Invalid value for field 'resource.IPProtocol': '${protocol}'. It does not match the backend service protocol ${serviceProtocol}${protocol === 'L3_DEFAULT' ? ' (L3_DEFAULT needs UNSPECIFIED)' : ''}.`,
      );
    if (protocol === 'L3_DEFAULT' && (body.allPorts !== true || body.ports !== undefined || body.portRange !== undefined))
      throw invalid(`Invalid value for field 'resource.allPorts': L3_DEFAULT requires allPorts and no ports or portRange.`);
    if (body.subnetwork !== undefined || body.network !== undefined)
      throw invalid(`Invalid value for field 'resource.subnetwork': an EXTERNAL forwarding rule takes no network or subnetwork.`);
    const given = body.IPAddress === undefined ? undefined : String(body.IPAddress);
    let address: Json | undefined;
    if (given === undefined) address = undefined;
    else if (ipaddr.IPv4.isValidFourPartDecimal(given)) address = externalAddressOf(ctx, given);
    else {
      const path = relativePath(given, ctx.project, ctx.scope, 'addresses');
      address = s.getByPath(path);
      if (address === undefined) throw notFound(path);
      if (!path.startsWith(`projects/${ctx.project}/${ctx.scope}/`))
        throw invalid(`Invalid value for field 'resource.IPAddress': '${given}'. The address must be in region ${regionOf(ctx)}.`);
    }
    if (given !== undefined && address === undefined)
      throw invalid(
        `Invalid value for field 'resource.IPAddress': '${given}'. The specified IP address was not found among the reserved EXTERNAL addresses of region ${regionOf(ctx)}.`,
      );
    if (address !== undefined && address.addressType === 'INTERNAL')
      throw invalid(`Invalid value for field 'resource.IPAddress': '${given}'. An EXTERNAL forwarding rule needs an EXTERNAL address.`);
    if (address !== undefined && ((address.users as string[] | undefined) ?? []).length > 0)
      throw invalid(`IP address '${String(address.address)}' is already being used by '${String((address.users as string[])[0])}'.`);
    return {
      ...body,
      IPAddress: address === undefined ? s.allocateExternalIp() : String(address.address),
      IPProtocol: protocol,
      loadBalancingScheme: 'EXTERNAL',
      backendService: service.selfLink,
      networkTier: body.networkTier ?? 'PREMIUM',
      ipVersion: 'IPV4',
      labels: body.labels ?? {},
      labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
      fingerprint: ComputeStore.fingerprint(body),
    };
  };
  return [
    handler('ForwardingRules', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'forwardingRules', ctx.params.forwarding_rule!)),
    handler('ForwardingRules', 'List', (ctx) => kit.listOf(ctx, 'forwardingRules', 'forwardingRule')),
    handler('ForwardingRules', 'Insert', (ctx) =>
      kit.insert(
        ctx,
        'forwardingRules',
        (body) => {
          const scheme = String(body.loadBalancingScheme ?? 'EXTERNAL');
          if (scheme === 'EXTERNAL') return externalRule(ctx, body);
          if (scheme !== 'INTERNAL') throw invalid(`fake: only INTERNAL and EXTERNAL forwarding rules are modelled, got ${scheme}`);
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
        },
        (stored) => {
          // An EXTERNAL rule holds its regional address as a VM would: IN_USE, not deletable while the rule exists.
          if (stored.loadBalancingScheme !== 'EXTERNAL') return;
          const address = externalAddressOf(ctx, String(stored.IPAddress));
          if (address !== undefined) {
            address.status = 'IN_USE';
            address.users = [stored.selfLink];
          }
        },
      ),
    ),
    handler('ForwardingRules', 'Delete', (ctx) => {
      const name = ctx.params.forwarding_rule!;
      const rule = s.require(ctx.project, ctx.scope, 'forwardingRules', name);
      const user = s
        .all('routes')
        .find((entry) => entry.resource.nextHopIlb === rule.selfLink || entry.resource.nextHopIlb === rule.IPAddress);
      if (user !== undefined) throw inUse('forwarding_rule', name, user.resource.selfLink);
      return kit.remove(ctx, 'forwardingRules', name, () => {
        for (const entry of s.all('addresses')) {
          const users = ((entry.resource.users as string[] | undefined) ?? []).filter((candidate) => candidate !== rule.selfLink);
          if (users.length === ((entry.resource.users as string[] | undefined) ?? []).length) continue;
          if (users.length === 0) {
            delete entry.resource.users;
            entry.resource.status = 'RESERVED';
          } else entry.resource.users = users;
        }
      });
    }),
  ];
}
