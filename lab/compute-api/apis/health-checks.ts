// Regional health checks, used by backend services and by MIG autohealing (then not deletable).
import { handler, inUse, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, invalid, relativePath, type Json } from '../store.js';

export function healthCheckHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const checkHealthCheck = (check: Json) => {
    const type = String(check.type ?? '');
    const field = {
      HTTP: 'httpHealthCheck',
      HTTPS: 'httpsHealthCheck',
      HTTP2: 'http2HealthCheck',
      TCP: 'tcpHealthCheck',
      SSL: 'sslHealthCheck',
      GRPC: 'grpcHealthCheck',
    }[type];
    if (field === undefined)
      throw invalid(`Invalid value for field 'resource.type': '${type}'. Must be one of HTTP, HTTPS, HTTP2, TCP, SSL, GRPC.`);
    if (check[field] === undefined) throw invalid(`Invalid value for field 'resource.${field}': ''. Must be specified for type ${type}.`);
    const interval = Number(check.checkIntervalSec);
    const timeout = Number(check.timeoutSec);
    if (interval < 1 || interval > 300)
      throw invalid(`Invalid value for field 'resource.checkIntervalSec': '${interval}'. Must be between 1 and 300.`);
    if (timeout < 1 || timeout > interval)
      throw invalid(`Invalid value for field 'resource.timeoutSec': '${timeout}'. TimeoutSec should be less than checkIntervalSec.`);
    for (const key of ['healthyThreshold', 'unhealthyThreshold']) {
      const value = Number(check[key]);
      if (value < 1 || value > 10) throw invalid(`Invalid value for field 'resource.${key}': '${value}'. Must be between 1 and 10.`);
    }
    const port = Number((check[field] as Json).port ?? 80);
    if (port < 1 || port > 65535) throw invalid(`Invalid value for field 'resource.${field}.port': '${port}'.`);
    const requestPath = (check[field] as Json).requestPath;
    // The API documents requestPath as taking no query parameters.
    if (typeof requestPath === 'string' && (!requestPath.startsWith('/') || requestPath.includes('?')))
      throw invalid(
        `Invalid value for field 'resource.${field}.requestPath': '${requestPath}'. Must be a path starting with '/', without query parameters.`,
      );
  };

  return [
    handler('RegionHealthChecks', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'healthChecks', ctx.params.health_check!)),
    handler('RegionHealthChecks', 'List', (ctx) => kit.listOf(ctx, 'healthChecks', 'healthCheck')),
    handler('RegionHealthChecks', 'Insert', (ctx) =>
      kit.insert(ctx, 'healthChecks', (body) => {
        const check: Json = { checkIntervalSec: 5, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 2, ...body };
        if (check.httpHealthCheck !== undefined)
          check.httpHealthCheck = { port: 80, requestPath: '/', proxyHeader: 'NONE', ...(check.httpHealthCheck as Json) };
        checkHealthCheck(check);
        return check;
      }),
    ),
    handler('RegionHealthChecks', 'Patch', (ctx) =>
      kit.patch(ctx, 'healthChecks', ctx.params.health_check!, (merged) => checkHealthCheck(merged)),
    ),
    handler('RegionHealthChecks', 'Delete', (ctx) => {
      const name = ctx.params.health_check!;
      const check = s.require(ctx.project, ctx.scope, 'healthChecks', name);
      const key = String(check.selfLink);
      const byService = s
        .all('backendServices')
        .find((entry) =>
          ((entry.resource.healthChecks as string[] | undefined) ?? []).some(
            (ref) => `${API_BASE}${relativePath(ref, entry.project, entry.scope, 'healthChecks')}` === key,
          ),
        );
      if (byService !== undefined) throw inUse('health_check', name, byService.resource.selfLink);
      const byMig = s
        .all('instanceGroupManagers')
        .find((entry) =>
          ((entry.resource.autoHealingPolicies as Json[] | undefined) ?? []).some(
            (policy) => `${API_BASE}${relativePath(String(policy.healthCheck), entry.project, entry.scope, 'healthChecks')}` === key,
          ),
        );
      if (byMig !== undefined) throw inUse('health_check', name, byMig.resource.selfLink);
      return kit.remove(ctx, 'healthChecks', name);
    }),
  ];
}
