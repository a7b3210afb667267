// Regional backend services (internal and external passthrough load balancing, with failover) and getHealth.
import { handler, inUse, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, ComputeStore, invalid, notFound, relativePath, type Json } from '../store.js';

/** A backend's instance-group reference as the full URL the API stores. */
export const groupLink = (ctx: Ctx, ref: unknown) =>
  `${API_BASE}${relativePath(String(ref ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers')}`;

export function backendServiceHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const checkBackendService = (ctx: Ctx, service: Json) => {
    const scheme = String(service.loadBalancingScheme);
    if (!['INTERNAL', 'EXTERNAL', 'INTERNAL_MANAGED', 'EXTERNAL_MANAGED'].includes(scheme))
      throw invalid(`Invalid value for field 'resource.loadBalancingScheme': '${scheme}'.`);
    const checks = (service.healthChecks as string[] | undefined) ?? [];
    // Regional INTERNAL and EXTERNAL backend services are passthrough load balancers: one health check, CONNECTION
    // balancing, and the only ones with failover (failoverPolicy, backends[].failover).
    const passthrough = scheme === 'INTERNAL' || scheme === 'EXTERNAL';
    if (passthrough) {
      if (!['TCP', 'UDP', 'UNSPECIFIED'].includes(String(service.protocol)))
        throw invalid(
          `Invalid value for field 'resource.protocol': '${String(service.protocol)}'. Passthrough load balancers support TCP, UDP or UNSPECIFIED.`,
        );
      if (checks.length !== 1)
        throw invalid(
          `Invalid value for field 'resource.healthChecks': exactly one health check is required for an ${scheme} backend service, got ${checks.length}.`,
        );
    }
    for (const [index, check] of checks.entries()) kit.requireRef(check, ctx, ctx.scope, 'healthChecks', `resource.healthChecks[${index}]`);
    const backends = (service.backends as Json[] | undefined) ?? [];
    for (const [index, backend] of backends.entries()) {
      if (s.migForGroup(relativePath(String(backend.group ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers')) === undefined)
        throw notFound(relativePath(String(backend.group ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers'));
      if (passthrough && backend.balancingMode !== undefined && backend.balancingMode !== 'CONNECTION') {
        throw invalid(
          `Invalid value for field 'resource.backends[${index}].balancingMode': '${String(backend.balancingMode)}'. ${scheme} backend services support only CONNECTION.`,
        );
      }
      if (backend.failover === true && !passthrough)
        throw invalid(
          `Invalid value for field 'resource.backends[${index}].failover': failover backends are only supported by passthrough (INTERNAL or EXTERNAL) backend services, not ${scheme}.`,
        );
    }
    const policy = service.failoverPolicy as Json | undefined;
    if (policy !== undefined && policy !== null && Object.keys(policy).length > 0) {
      if (!passthrough)
        throw invalid(
          `Invalid value for field 'resource.failoverPolicy': failover policies are only supported by passthrough (INTERNAL or EXTERNAL) backend services, not ${scheme}.`,
        );
      const ratio = Number(policy.failoverRatio ?? 0);
      if (!(ratio >= 0 && ratio <= 1))
        throw invalid(`Invalid value for field 'resource.failoverPolicy.failoverRatio': '${ratio}'. Must be between 0 and 1.`);
    }
    if (backends.length > 0 && backends.every((backend) => backend.failover === true))
      throw invalid(`Invalid value for field 'resource.backends': at least one backend must be a primary (failover: false).`);
    const tracking = service.connectionTrackingPolicy as Json | undefined;
    if (tracking !== undefined && tracking !== null && Object.keys(tracking).length > 0) {
      if (!passthrough)
        throw invalid(
          `Invalid value for field 'resource.connectionTrackingPolicy': only passthrough (INTERNAL or EXTERNAL) backend services take one.`,
        );
      const persistence = tracking.connectionPersistenceOnUnhealthyBackends;
      if (persistence !== undefined && !['DEFAULT_FOR_PROTOCOL', 'NEVER_PERSIST', 'ALWAYS_PERSIST'].includes(String(persistence)))
        throw invalid(
          `Invalid value for field 'resource.connectionTrackingPolicy.connectionPersistenceOnUnhealthyBackends': '${String(persistence)}'.`,
        );
    }
    if (scheme === 'EXTERNAL' && service.network !== undefined)
      throw invalid(`Invalid value for field 'resource.network': an EXTERNAL backend service takes no network.`);
  };

  return [
    handler('RegionBackendServices', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'backendServices', ctx.params.backend_service!)),
    handler('RegionBackendServices', 'List', (ctx) => kit.listOf(ctx, 'backendServices', 'backendService')),
    handler('RegionBackendServices', 'Insert', (ctx) =>
      kit.insert(ctx, 'backendServices', (body) => {
        const service: Json = {
          loadBalancingScheme: 'EXTERNAL',
          protocol: 'TCP',
          sessionAffinity: 'NONE',
          timeoutSec: 30,
          connectionDraining: { drainingTimeoutSec: 0 },
          ...body,
        };
        checkBackendService(ctx, service);
        service.healthChecks = ((service.healthChecks as string[] | undefined) ?? []).map(
          (ref) => `${API_BASE}${relativePath(ref, ctx.project, ctx.scope, 'healthChecks')}`,
        );
        service.backends = ((service.backends as Json[] | undefined) ?? []).map((backend) => ({
          balancingMode: 'CONNECTION',
          ...backend,
          group: groupLink(ctx, backend.group),
        }));
        if (service.network !== undefined) service.network = kit.requireNetwork(ctx, service.network, 'resource.network').selfLink;
        service.fingerprint = ComputeStore.fingerprint(service);
        return service;
      }),
    ),
    handler('RegionBackendServices', 'Patch', (ctx) =>
      kit.patch(ctx, 'backendServices', ctx.params.backend_service!, (merged) => {
        checkBackendService(ctx, merged);
        merged.healthChecks = ((merged.healthChecks as string[] | undefined) ?? []).map(
          (ref) => `${API_BASE}${relativePath(ref, ctx.project, ctx.scope, 'healthChecks')}`,
        );
        merged.backends = ((merged.backends as Json[] | undefined) ?? []).map((backend) => ({
          balancingMode: 'CONNECTION',
          ...backend,
          group: groupLink(ctx, backend.group),
        }));
      }),
    ),
    handler('RegionBackendServices', 'Delete', (ctx) => {
      const name = ctx.params.backend_service!;
      const service = s.require(ctx.project, ctx.scope, 'backendServices', name);
      const user = s
        .all('forwardingRules')
        .find(
          (entry) =>
            `${API_BASE}${relativePath(String(entry.resource.backendService ?? ''), entry.project, entry.scope, 'backendServices')}` ===
            service.selfLink,
        );
      if (user !== undefined) throw inUse('backend_service', name, user.resource.selfLink);
      return kit.remove(ctx, 'backendServices', name);
    }),
    handler('RegionBackendServices', 'GetHealth', (ctx) => {
      const service = s.require(ctx.project, ctx.scope, 'backendServices', ctx.params.backend_service!);
      const group = groupLink(ctx, ctx.body.group);
      if (!((service.backends as Json[] | undefined) ?? []).some((backend) => backend.group === group)) {
        throw invalid(
          `Invalid value for field 'resourceGroupReference.group': '${String(ctx.body.group)}'. Instance group is not a backend of ${String(service.name)}.`,
        );
      }
      const mig = s.migForGroup(group.replace(API_BASE, ''));
      if (mig === undefined) throw notFound(group.replace(API_BASE, ''));
      const rule = s.all('forwardingRules').find((entry) => entry.resource.backendService === service.selfLink)?.resource;
      const check = s.getByPath(String((service.healthChecks as string[] | undefined)?.[0] ?? '').replace(API_BASE, ''));
      const port = Number(((check?.httpHealthCheck as Json | undefined)?.port as number | undefined) ?? 80);
      const members = s.managedInstances(mig);
      return {
        kind: 'compute#backendServiceGroupHealth',
        ...(members.length === 0
          ? {}
          : {
              healthStatus: members.map((instance) => ({
                instance: instance.selfLink,
                ipAddress: ((instance.networkInterfaces as Json[])[0] as Json).networkIP,
                port,
                healthState: s.healthOf(instance),
                ...(rule === undefined ? {} : { forwardingRule: rule.selfLink, forwardingRuleIp: rule.IPAddress }),
              })),
            }),
      };
    }),
  ];
}
