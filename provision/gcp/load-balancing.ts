// The internal passthrough load balancer: a regional backend service (with getHealth) and its forwarding rule.
import type { protos } from '@google-cloud/compute';
import { describeFailure, getOrUndefined, mutate, withRetry, type CallContext } from './call.js';

export type BackendService = protos.google.cloud.compute.v1.IBackendService;
export type ForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
export type HealthStatus = protos.google.cloud.compute.v1.IHealthStatus;

export const getBackendService = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<BackendService>(ctx, `read backend service ${name}`, () =>
    ctx.clients.regionBackendServices.get({ project: ctx.project, region, backendService: name }),
  );

export const insertBackendService = (ctx: CallContext, region: string, service: BackendService) =>
  mutate(ctx, `create backend service ${service.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionBackendServices.insert({ project: ctx.project, region, backendServiceResource: service, requestId }),
  );

export const patchBackendService = (ctx: CallContext, region: string, name: string, service: BackendService) =>
  mutate(ctx, `update backend service ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionBackendServices.patch({
      project: ctx.project,
      region,
      backendService: name,
      backendServiceResource: service,
      requestId,
    }),
  );

export const deleteBackendService = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete backend service ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionBackendServices.delete({ project: ctx.project, region, backendService: name, requestId }),
  );

/** Per-VM health as the load balancer sees it (empty when the group has no VMs). */
export async function getBackendHealth(ctx: CallContext, region: string, name: string, group: string): Promise<HealthStatus[]> {
  try {
    const [result] = await withRetry(ctx, `read backend health of ${name}`, () =>
      ctx.clients.regionBackendServices.getHealth({
        project: ctx.project,
        region,
        backendService: name,
        resourceGroupReferenceResource: { group },
      }),
    );
    return result.healthStatus ?? [];
  } catch (error) {
    throw describeFailure(`read backend health of ${name}`, error);
  }
}

export const getForwardingRule = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<ForwardingRule>(ctx, `read forwarding rule ${name}`, () =>
    ctx.clients.forwardingRules.get({ project: ctx.project, region, forwardingRule: name }),
  );

export const insertForwardingRule = (ctx: CallContext, region: string, rule: ForwardingRule) =>
  mutate(ctx, `create forwarding rule ${rule.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.forwardingRules.insert({ project: ctx.project, region, forwardingRuleResource: rule, requestId }),
  );

export const deleteForwardingRule = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete forwarding rule ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.forwardingRules.delete({ project: ctx.project, region, forwardingRule: name, requestId }),
  );
