// Static routes: next hop instance, internal load balancer (forwarding rule or its IP), gateway or IP.
import ipaddr from 'ipaddr.js';
import { handler, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, invalid, notFound, relativePath, type Json } from '../store.js';

export function routeHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  /** GCE keeps a next-hop-instance route whose VM is stopped or gone, and says so in warnings[] (computed on read). */
  const withWarnings = (route: Json): Json => {
    if (route.nextHopInstance === undefined) return route;
    const path = String(route.nextHopInstance).replace(API_BASE, '');
    const instance = s.getByPath(path);
    if (instance === undefined) {
      return {
        ...route,
        warnings: [
          {
            code: 'NEXT_HOP_INSTANCE_NOT_FOUND',
            message: `Next hop instance '${path}' does not exist.`,
            data: [{ key: 'instance', value: path }],
          },
        ],
      };
    }
    if (instance.status !== 'RUNNING') {
      return {
        ...route,
        warnings: [
          {
            code: 'NEXT_HOP_NOT_RUNNING',
            message: `Next hop instance '${path}' is not running.`,
            data: [{ key: 'instance', value: path }],
          },
        ],
      };
    }
    return route;
  };
  return [
    handler('Routes', 'Get', (ctx) => withWarnings(s.require(ctx.project, 'global', 'routes', ctx.params.route!))),
    handler('Routes', 'List', (ctx) => kit.listOf(ctx, 'routes', 'route', s.list(ctx.project, 'global', 'routes').map(withWarnings))),
    handler('Routes', 'Insert', (ctx) =>
      kit.insert(ctx, 'routes', (body) => {
        const network = kit.requireNetwork(ctx, body.network, 'resource.network');
        const destRange = String(body.destRange ?? '');
        if (!ipaddr.IPv4.isValidCIDR(destRange))
          throw invalid(`Invalid value for field 'resource.destRange': '${destRange}'. Should be a CIDR range.`);
        const hops = ['nextHopInstance', 'nextHopIp', 'nextHopGateway', 'nextHopIlb', 'nextHopVpnTunnel'].filter(
          (key) => body[key] !== undefined,
        );
        if (hops.length !== 1)
          throw invalid(`Invalid value for field 'resource': exactly one next hop must be specified, got ${hops.length}`);
        let nextHopIlb: string | undefined;
        if (body.nextHopIlb !== undefined) {
          // A forwarding rule URL, or its IP address (then kept as given, like the real API).
          const hop = String(body.nextHopIlb);
          const rule = /^\d+\.\d+\.\d+\.\d+$/.test(hop)
            ? s.all('forwardingRules').find((entry) => entry.resource.IPAddress === hop)?.resource
            : s.getByPath(relativePath(hop, ctx.project, 'global', 'forwardingRules'));
          if (rule === undefined)
            throw invalid(`Invalid value for field 'resource.nextHopIlb': '${hop}'. The forwarding rule was not found.`);
          if (rule.loadBalancingScheme !== 'INTERNAL')
            throw invalid(
              `Invalid value for field 'resource.nextHopIlb': '${hop}'. Only internal passthrough load balancers can be a next hop.`,
            );
          nextHopIlb = /^\d/.test(hop) ? hop : String(rule.selfLink);
        }
        let nextHopInstance: string | undefined;
        if (body.nextHopInstance !== undefined) {
          const path = relativePath(String(body.nextHopInstance), ctx.project, 'global', 'instances');
          if (s.getByPath(path) === undefined) throw notFound(path);
          nextHopInstance = `${API_BASE}${path}`;
        }
        const priority = body.priority === undefined ? 1000 : Number(body.priority);
        if (priority < 0 || priority > 65535)
          throw invalid(`Invalid value for field 'resource.priority': '${priority}'. Must be between 0 and 65535.`);
        return {
          ...body,
          network: network.selfLink,
          priority,
          routeType: 'STATIC',
          ...(nextHopInstance === undefined ? {} : { nextHopInstance }),
          ...(nextHopIlb === undefined ? {} : { nextHopIlb }),
          ...(body.nextHopGateway === undefined
            ? {}
            : { nextHopGateway: `${API_BASE}${relativePath(String(body.nextHopGateway), ctx.project, 'global', 'routes')}` }),
        };
      }),
    ),
    handler('Routes', 'Delete', (ctx) => kit.remove(ctx, 'routes', ctx.params.route!)),
  ];
}
