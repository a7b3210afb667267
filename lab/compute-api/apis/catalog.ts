// What a fresh project already has, read-only: regions (with live quotas), zones, machine types and disk types per
// zone, and the public images.
import { handler, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, notFound } from '../store.js';

export function catalogHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Regions', 'Get', (ctx) => {
      const region = s.require(ctx.project, 'global', 'regions', ctx.params.region!);
      const quotas = s
        .quotas(ctx.project, ctx.params.region!)
        .map((quota) => ({ ...quota, owner: `${API_BASE}projects/${ctx.project}/regions/${ctx.params.region}` }));
      return { ...region, quotas };
    }),
    handler('Zones', 'Get', (ctx) => s.require(ctx.project, 'global', 'zones', ctx.params.zone!)),
    handler('MachineTypes', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'machineTypes', ctx.params.machine_type!)),
    handler('MachineTypes', 'List', (ctx) => kit.listOf(ctx, 'machineTypes', 'machineType')),
    handler('DiskTypes', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'diskTypes', ctx.params.disk_type!)),
    handler('DiskTypes', 'List', (ctx) => kit.listOf(ctx, 'diskTypes', 'diskType')),
    handler('Images', 'Get', (ctx) => s.require(ctx.project, 'global', 'images', ctx.params.image!)),
    handler('Images', 'GetFromFamily', (ctx) => {
      const image = s.imageFromFamily(ctx.project, ctx.params.family!);
      if (image === undefined) throw notFound(`projects/${ctx.project}/global/images/family/${ctx.params.family}`);
      return image;
    }),
  ];
}
