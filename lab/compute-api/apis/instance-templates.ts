// Global instance templates: what a managed instance group creates its VMs from. In use by a MIG = not deletable.
import { handler, checkMetadata, inUse, type Handler, type HandlerKit } from '../handler-kit.js';
import { ComputeStore, invalid, notFound, relativePath, type Json } from '../store.js';
import { templateOf } from './instance-group-managers.js';

export function instanceTemplateHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('InstanceTemplates', 'Get', (ctx) => s.require(ctx.project, 'global', 'instanceTemplates', ctx.params.instance_template!)),
    handler('InstanceTemplates', 'List', (ctx) => kit.listOf(ctx, 'instanceTemplates', 'instanceTemplate')),
    handler('InstanceTemplates', 'Insert', (ctx) =>
      kit.insert(ctx, 'instanceTemplates', (body) => {
        const props = (body.properties as Json | undefined) ?? {};
        const machineType = String(props.machineType ?? '');
        if (!/^[a-z0-9][-a-z0-9]*$/.test(machineType))
          throw invalid(`Invalid value for field 'resource.properties.machineType': '${machineType}'. Must be the name of a machine type.`);
        const disks = (props.disks as Json[] | undefined) ?? [];
        const boot = disks.find((disk) => disk.boot === true);
        if (boot === undefined) throw invalid(`Invalid value for field 'resource.properties.disks': ''. Boot disk must be specified.`);
        const sourceImage = relativePath(
          String((boot.initializeParams as Json | undefined)?.sourceImage ?? ''),
          ctx.project,
          'global',
          'images',
        );
        const family = /^projects\/([^/]+)\/global\/images\/family\/([^/]+)$/.exec(sourceImage);
        if ((family !== null ? s.imageFromFamily(family[1]!, family[2]!) : s.getByPath(sourceImage)) === undefined)
          throw notFound(sourceImage);
        const nics = (props.networkInterfaces as Json[] | undefined) ?? [];
        if (nics.length !== 1) throw invalid(`fake: exactly one network interface is modelled, got ${nics.length}`);
        if (
          nics[0]!.subnetwork !== undefined &&
          s.getByPath(relativePath(String(nics[0]!.subnetwork), ctx.project, 'global', 'subnetworks')) === undefined
        ) {
          throw notFound(relativePath(String(nics[0]!.subnetwork), ctx.project, 'global', 'subnetworks'));
        }
        checkMetadata((props.metadata as Json | undefined) ?? {});
        return { ...body, properties: { canIpForward: false, labels: {}, ...props } };
      }),
    ),
    handler('InstanceTemplates', 'Delete', (ctx) => {
      const name = ctx.params.instance_template!;
      const seen = s.operationForRequestId(ctx.query.requestId);
      if (seen !== undefined) return seen;
      const template = s.require(ctx.project, 'global', 'instanceTemplates', name);
      const user = s
        .all('instanceGroupManagers')
        .find(
          (entry) =>
            relativePath(templateOf(entry.resource), entry.project, 'global', 'instanceTemplates') ===
            ComputeStore.key(ctx.project, 'global', 'instanceTemplates', name),
        );
      if (user !== undefined) throw inUse('instance_template', name, user.resource.selfLink);
      return kit.mutate(ctx, 'delete', String(template.selfLink), () => s.remove(ctx.project, 'global', 'instanceTemplates', name));
    }),
  ];
}
