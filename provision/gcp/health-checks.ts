import type { protos } from '@google-cloud/compute';
import { getOrUndefined, mutate, type CallContext } from './call.js';

export type HealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

export const getHealthCheck = (ctx: CallContext, region: string, name: string) =>
  getOrUndefined<HealthCheck>(ctx, `read health check ${name}`, () =>
    ctx.clients.regionHealthChecks.get({ project: ctx.project, region, healthCheck: name }),
  );

export const insertHealthCheck = (ctx: CallContext, region: string, check: HealthCheck) =>
  mutate(ctx, `create health check ${check.name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionHealthChecks.insert({ project: ctx.project, region, healthCheckResource: check, requestId }),
  );

export const patchHealthCheck = (ctx: CallContext, region: string, name: string, check: HealthCheck) =>
  mutate(ctx, `update health check ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionHealthChecks.patch({ project: ctx.project, region, healthCheck: name, healthCheckResource: check, requestId }),
  );

export const deleteHealthCheck = (ctx: CallContext, region: string, name: string) =>
  mutate(ctx, `delete health check ${name}`, { kind: 'region', region }, (requestId) =>
    ctx.clients.regionHealthChecks.delete({ project: ctx.project, region, healthCheck: name, requestId }),
  );
