import type { protos } from '@google-cloud/compute';
import { describeFailure, mutate, withRetry, type CallContext } from './call.js';

export type InstanceTemplate = protos.google.cloud.compute.v1.IInstanceTemplate;

export async function listInstanceTemplates(ctx: CallContext): Promise<InstanceTemplate[]> {
  try {
    const [items] = await withRetry(ctx, 'list instance templates', () => ctx.clients.instanceTemplates.list({ project: ctx.project }));
    return items;
  } catch (error) {
    throw describeFailure('list instance templates', error);
  }
}

export const insertInstanceTemplate = (ctx: CallContext, template: InstanceTemplate) =>
  mutate(ctx, `create instance template ${template.name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.instanceTemplates.insert({ project: ctx.project, instanceTemplateResource: template, requestId }),
  );

export const deleteInstanceTemplate = (ctx: CallContext, name: string) =>
  mutate(ctx, `delete instance template ${name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.instanceTemplates.delete({ project: ctx.project, instanceTemplate: name, requestId }),
  );
