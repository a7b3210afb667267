import type { protos } from '@google-cloud/compute';
import { describeFailure, getOrUndefined, isNotFound, mutate, parseApiError, withRetry, type CallContext } from './call.js';
import { GUEST_ATTRIBUTE } from '../../common/protocol.js';

export type Instance = protos.google.cloud.compute.v1.IInstance;

export const getInstance = (ctx: CallContext, zone: string, name: string) =>
  getOrUndefined<Instance>(ctx, `read instance ${name}`, () => ctx.clients.instances.get({ project: ctx.project, zone, instance: name }));

export const insertInstance = (ctx: CallContext, zone: string, instance: Instance) =>
  mutate(ctx, `create instance ${instance.name}`, { kind: 'zone', zone }, (requestId) =>
    ctx.clients.instances.insert({ project: ctx.project, zone, instanceResource: instance, requestId }),
  );

export const deleteInstance = (ctx: CallContext, zone: string, name: string) =>
  mutate(ctx, `delete instance ${name}`, { kind: 'zone', zone }, (requestId) =>
    ctx.clients.instances.delete({ project: ctx.project, zone, instance: name, requestId }),
  );

export const setInstanceMetadata = (
  ctx: CallContext,
  zone: string,
  name: string,
  items: { key: string; value: string }[],
  fingerprint: string,
) =>
  mutate(ctx, `update metadata of instance ${name}`, { kind: 'zone', zone }, (requestId) =>
    ctx.clients.instances.setMetadata({ project: ctx.project, zone, instance: name, metadataResource: { items, fingerprint }, requestId }),
  );

export const setInstanceLabels = (ctx: CallContext, zone: string, name: string, labels: Record<string, string>, labelFingerprint: string) =>
  mutate(ctx, `label instance ${name}`, { kind: 'zone', zone }, (requestId) =>
    ctx.clients.instances.setLabels({
      project: ctx.project,
      zone,
      instance: name,
      instancesSetLabelsRequestResource: { labels, labelFingerprint },
      requestId,
    }),
  );

export const setInstanceTags = (ctx: CallContext, zone: string, name: string, items: string[], fingerprint: string) =>
  mutate(ctx, `set network tags of instance ${name}`, { kind: 'zone', zone }, (requestId) =>
    ctx.clients.instances.setTags({ project: ctx.project, zone, instance: name, tagsResource: { items, fingerprint }, requestId }),
  );

/** Guest attributes under a namespace; empty when none are written yet (the API answers 404 then). */
export async function getGuestAttributes(ctx: CallContext, zone: string, name: string, queryPath: string): Promise<Record<string, string>> {
  try {
    const [result] = await withRetry(ctx, `read guest attributes of ${name}`, () =>
      ctx.clients.instances.getGuestAttributes({ project: ctx.project, zone, instance: name, queryPath }),
    );
    const entries = (result.queryValue?.items ?? []).map(
      (item) => [`${item.namespace ?? ''}/${item.key ?? ''}`, item.value ?? ''] as const,
    );
    return Object.fromEntries(entries);
  } catch (error) {
    if (isNotFound(error)) return {};
    throw describeFailure(`read guest attributes of instance ${name}`, error);
  }
}

/**
 * One read of the natgw/ guest attributes for a wait loop (natgw/health, and natgw/sync in stateful mode). GCE's
 * advice: a reader treats any error but 404 as "not yet" (writes can be dropped, reads throttled). Only a denied
 * permission or missing credentials is final: waiting cannot fix it.
 */
export async function readNatgwAttributes(
  ctx: CallContext,
  zone: string,
  name: string,
): Promise<{ values: Record<string, string>; error?: string }> {
  try {
    const [result] = await withRetry(ctx, `read guest attributes of ${name}`, () =>
      ctx.clients.instances.getGuestAttributes({ project: ctx.project, zone, instance: name, queryPath: GUEST_ATTRIBUTE.namespace }),
    );
    const values: Record<string, string> = {};
    for (const item of result.queryValue?.items ?? [])
      if (item.namespace === 'natgw' && item.key !== undefined && item.key !== null && typeof item.value === 'string')
        values[item.key] = item.value;
    return { values };
  } catch (error) {
    if (isNotFound(error)) return { values: {} };
    const parsed = parseApiError(error);
    if (parsed.status === 401 || (parsed.status === 403 && !/rateLimit/i.test(parsed.reason ?? '')))
      throw describeFailure(`read guest attributes of instance ${name}`, error);
    return { values: {}, error: `${parsed.status === undefined ? (parsed.code ?? 'error') : `HTTP ${parsed.status}`}: ${parsed.message}` };
  }
}

/** One read of guest attribute natgw/health for a wait loop (see readNatgwAttributes). */
export async function readHealthAttribute(ctx: CallContext, zone: string, name: string): Promise<{ value?: string; error?: string }> {
  const read = await readNatgwAttributes(ctx, zone, name);
  const value = read.values.health;
  return { ...(value === undefined ? {} : { value }), ...(read.error === undefined ? {} : { error: read.error }) };
}

/** The serial console text, or a note why it could not be read: it only ever decorates another error. */
export async function getSerialOutput(ctx: CallContext, zone: string, name: string): Promise<string> {
  try {
    const [result] = await withRetry(ctx, `read serial output of ${name}`, () =>
      ctx.clients.instances.getSerialPortOutput({ project: ctx.project, zone, instance: name, port: 1 }),
    );
    return result.contents ?? '';
  } catch (error) {
    return `(serial output unavailable: ${parseApiError(error).message})`;
  }
}
