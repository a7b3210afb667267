// Regions, zones and images: read-only resources a fresh project already has.
import { handler, type Handler, type HandlerKit } from '../handler-kit.js';
import { notFound } from '../store.js';

export function catalogHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Regions', 'Get', (ctx) => s.require(ctx.project, 'global', 'regions', ctx.params.region!)),
    handler('Zones', 'Get', (ctx) => s.require(ctx.project, 'global', 'zones', ctx.params.zone!)),
    handler('Images', 'Get', (ctx) => s.require(ctx.project, 'global', 'images', ctx.params.image!)),
    handler('Images', 'GetFromFamily', (ctx) => {
      const image = s.imageFromFamily(ctx.project, ctx.params.family!);
      if (image === undefined) throw notFound(`projects/${ctx.project}/global/images/family/${ctx.params.family}`);
      return image;
    }),
  ];
}
