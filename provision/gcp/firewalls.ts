import type { protos } from '@google-cloud/compute';
import { getOrUndefined, mutate, type CallContext } from './call.js';

export type Firewall = protos.google.cloud.compute.v1.IFirewall;

export const getFirewall = (ctx: CallContext, name: string) =>
  getOrUndefined<Firewall>(ctx, `read firewall rule ${name}`, () => ctx.clients.firewalls.get({ project: ctx.project, firewall: name }));

export const insertFirewall = (ctx: CallContext, firewall: Firewall) =>
  mutate(ctx, `create firewall rule ${firewall.name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.firewalls.insert({ project: ctx.project, firewallResource: firewall, requestId }),
  );

export const patchFirewall = (ctx: CallContext, name: string, firewall: Firewall) =>
  mutate(ctx, `update firewall rule ${name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.firewalls.patch({ project: ctx.project, firewall: name, firewallResource: firewall, requestId }),
  );

export const deleteFirewall = (ctx: CallContext, name: string) =>
  mutate(ctx, `delete firewall rule ${name}`, { kind: 'global' }, (requestId) =>
    ctx.clients.firewalls.delete({ project: ctx.project, firewall: name, requestId }),
  );
