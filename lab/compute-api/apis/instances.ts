// VM instances: insert (with boot image, subnet, static or ephemeral external IP), delete, metadata, labels, tags,
// guest attributes and serial port output. The MIG module creates its VMs through prepareInstance too.
import ipaddr from 'ipaddr.js';
import { handler, checkMetadata, lastSegment, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, ApiError, ComputeStore, diskTypesForSeries, invalid, notFound, relativePath, type Json, type Scope } from '../store.js';

export function instanceHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  return [
    handler('Instances', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!)),
    handler('Instances', 'List', (ctx) => kit.listOf(ctx, 'instances', 'instance')),
    handler('Instances', 'Insert', (ctx) => kit.insert(ctx, 'instances', (body) => prepareInstance(kit, ctx, body))),
    handler('Instances', 'Delete', (ctx) =>
      // The instance's static address goes back to RESERVED when the instance goes.
      kit.remove(ctx, 'instances', ctx.params.instance!, (instance) => releaseInstance(s, ctx.project, ctx.scope, instance)),
    ),
    // Stopped = TERMINATED: the ephemeral external IP goes back to the pool; a static one stays bound (and IN_USE).
    handler('Instances', 'Stop', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      const staticIps = new Set(s.all('addresses').map((entry) => String(entry.resource.address)));
      return kit.mutate(ctx, 'stop', String(instance.selfLink), () =>
        s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
          resource.status = 'TERMINATED';
          for (const config of accessConfigsOf(resource)) if (!staticIps.has(String(config.natIP))) delete config.natIP;
        }),
      );
    }),
    handler('Instances', 'Start', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      if (instance.status === 'RUNNING') return kit.mutate(ctx, 'start', String(instance.selfLink), () => instance);
      const region = lastSegment(s.require(ctx.project, 'global', 'zones', ctx.zone).region);
      return kit.mutate(ctx, 'start', String(instance.selfLink), () => {
        const cpus = Number(s.get(ctx.project, ctx.scope, 'machineTypes', lastSegment(instance.machineType))?.guestCpus ?? 0);
        s.checkQuota(ctx.project, region, {
          CPUS: cpus,
          ...(lastSegment(instance.machineType).startsWith('e2-') ? { E2_CPUS: cpus } : {}),
        });
        return s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
          resource.status = 'RUNNING';
          for (const config of accessConfigsOf(resource)) if (config.natIP === undefined) config.natIP = s.allocateExternalIp();
        });
      });
    }),
    handler('Instances', 'SetMetadata', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      const metadata = instance.metadata as Json;
      if (ctx.body.fingerprint !== metadata.fingerprint)
        throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.');
      checkMetadata(ctx.body);
      return kit.mutate(ctx, 'setMetadata', String(instance.selfLink), () =>
        s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
          const items = (ctx.body.items as Json[] | undefined) ?? [];
          resource.metadata = { kind: 'compute#metadata', items, fingerprint: ComputeStore.fingerprint(items) };
        }),
      );
    }),
    handler('Instances', 'SetLabels', (ctx) => kit.setLabels(ctx, 'instances', ctx.params.instance!)),
    handler('Instances', 'SetTags', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      if (ctx.body.fingerprint !== (instance.tags as Json).fingerprint)
        throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current tags fingerprint.');
      return kit.mutate(ctx, 'setTags', String(instance.selfLink), () =>
        s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
          const items = (ctx.body.items as string[] | undefined) ?? [];
          resource.tags = { items, fingerprint: ComputeStore.fingerprint(items) };
        }),
      );
    }),
    handler('Instances', 'GetGuestAttributes', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      const items = ((instance.metadata as Json).items as { key: string; value: string }[] | undefined) ?? [];
      if (!items.some((item) => item.key === 'enable-guest-attributes' && item.value.toUpperCase() === 'TRUE')) {
        throw new ApiError(
          400,
          'badRequest',
          'Guest attributes are disabled for this instance. Set metadata enable-guest-attributes=TRUE.',
        );
      }
      const attributes = s.readGuestAttributes(ctx.project, ctx.zone, ctx.params.instance!);
      const selfLink = `${String(instance.selfLink)}/guestAttributes/`;
      if (ctx.query.variableKey !== undefined) {
        const value = attributes.get(ctx.query.variableKey);
        if (value === undefined)
          throw notFound(`${String(instance.selfLink).replace(API_BASE, '')}/guestAttributes/${ctx.query.variableKey}`);
        return { kind: 'compute#guestAttributes', variableKey: ctx.query.variableKey, variableValue: value, selfLink };
      }
      const queryPath = ctx.query.queryPath ?? '';
      const matching = [...attributes.entries()].filter(([path]) => path.startsWith(queryPath));
      if (matching.length === 0) throw notFound(`${String(instance.selfLink).replace(API_BASE, '')}/guestAttributes/${queryPath}`);
      return {
        kind: 'compute#guestAttributes',
        queryPath,
        queryValue: {
          items: matching.map(([path, value]) => ({ namespace: path.split('/')[0], key: path.split('/').slice(1).join('/'), value })),
        },
        selfLink,
      };
    }),
    handler('Instances', 'GetSerialPortOutput', (ctx) => {
      const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
      const contents = s.serialOutputOf(ctx.project, ctx.zone, ctx.params.instance!);
      const start = Math.max(0, Number(ctx.query.start ?? 0));
      return {
        kind: 'compute#serialPortOutput',
        contents: contents.slice(start),
        start: String(start),
        next: String(contents.length),
        selfLink: `${String(instance.selfLink)}/serialPort`,
      };
    }),
  ];
}

/** What deleting a VM does to its static address: back to RESERVED when no one else uses it. Also drops its guest attributes. */
export function releaseInstance(s: ComputeStore, project: string, scope: Scope, instance: Json): void {
  for (const address of s.all('addresses')) {
    const users = (address.resource.users as string[] | undefined) ?? [];
    if (users.includes(String(instance.selfLink))) {
      address.resource.users = users.filter((user) => user !== instance.selfLink);
      if ((address.resource.users as string[]).length === 0) {
        delete address.resource.users;
        address.resource.status = 'RESERVED';
      }
    }
  }
  s.forgetGuestAttributes(ComputeStore.key(project, scope, 'instances', String(instance.name)));
}

/** An instances.insert body made into the stored instance: validated, addresses bound, server-side fields filled in. */
export function prepareInstance(kit: HandlerKit, ctx: Ctx, body: Json): Json {
  const s = kit.store;
  const zone = ctx.scope.replace(/^zones\//, '');
  const zoneResource = s.get(ctx.project, 'global', 'zones', zone);
  if (zoneResource === undefined) throw notFound(`projects/${ctx.project}/zones/${zone}`);
  const region = lastSegment(zoneResource.region);
  const machineType = String(body.machineType ?? '');
  if (!/^(https:\/\/.*\/)?(projects\/[^/]+\/)?zones\/[^/]+\/machineTypes\/[a-z0-9-]+$|^[a-z0-9-]+$/.test(machineType)) {
    throw invalid(`Invalid value for field 'resource.machineType': '${machineType}'. Invalid machine type.`);
  }
  const disks = (body.disks as Json[] | undefined) ?? [];
  const boot = disks.find((disk) => disk.boot === true);
  if (boot === undefined) throw invalid(`Invalid value for field 'resource.disks': ''. Boot disk must be specified.`);
  const sourceImage = String((boot.initializeParams as Json | undefined)?.sourceImage ?? '');
  const imagePath = relativePath(sourceImage, ctx.project, 'global', 'images');
  const family = /^projects\/([^/]+)\/global\/images\/family\/([^/]+)$/.exec(imagePath);
  const image = family !== null ? s.imageFromFamily(family[1]!, family[2]!) : s.getByPath(imagePath);
  if (image === undefined) throw notFound(imagePath);
  checkMetadata((body.metadata as Json | undefined) ?? {});
  const type = checkMachineAndDisk(kit, ctx, zone, lastSegment(machineType), boot, disks.indexOf(boot), image);

  const interfaces = (body.networkInterfaces as Json[] | undefined) ?? [];
  if (interfaces.length !== 1) throw invalid(`fake: exactly one network interface is modelled, got ${interfaces.length}`);
  const nic = interfaces[0]!;
  let subnet: Json | undefined;
  if (nic.subnetwork !== undefined) {
    const path = relativePath(String(nic.subnetwork), ctx.project, `regions/${region}`, 'subnetworks');
    subnet = s.getByPath(path);
    if (subnet === undefined) throw notFound(path);
    if (!path.includes(`/regions/${region}/`))
      throw invalid(
        `Invalid value for field 'resource.networkInterfaces[0].subnetwork': '${String(nic.subnetwork)}'. Subnetwork must be in region ${region}.`,
      );
  } else {
    const network = kit.requireNetwork(ctx, nic.network ?? 'global/networks/default', 'resource.networkInterfaces[0].network');
    subnet = s.list(ctx.project, `regions/${region}`, 'subnetworks').find((candidate) => candidate.network === network.selfLink);
    if (subnet === undefined)
      throw invalid(`Invalid value for field 'resource.networkInterfaces[0].network': no subnetwork in region ${region}.`);
  }
  const wantsExternalIp = ((nic.accessConfigs as Json[] | undefined) ?? []).length > 0;
  checkOrgPolicies(kit, ctx, String(body.name), wantsExternalIp, body.canIpForward === true);
  const cpus = Number(type.guestCpus);
  s.checkQuota(ctx.project, region, {
    INSTANCES: 1,
    CPUS: cpus,
    ...(String(type.name).startsWith('e2-') ? { E2_CPUS: cpus } : {}),
    ...(wantsExternalIp ? { IN_USE_ADDRESSES: 1 } : {}),
  });
  const selfLink = `${API_BASE}${ComputeStore.key(ctx.project, ctx.scope, 'instances', String(body.name))}`;
  const networkIP = pinnedOrFreeInternalIp(kit, region, subnet, nic.networkIP, selfLink);

  const accessConfigs = ((nic.accessConfigs as Json[] | undefined) ?? []).map((config, index) => {
    const natIP = config.natIP === undefined ? s.allocateExternalIp() : String(config.natIP);
    if (config.natIP !== undefined) {
      const address = s.list(ctx.project, `regions/${region}`, 'addresses').find((candidate) => candidate.address === natIP);
      if (address === undefined) {
        throw invalid(
          `Invalid value for field 'resource.networkInterfaces[0].accessConfigs[${index}].natIP': '${natIP}'. The specified external IP address '${natIP}' was not found in region '${region}'.`,
        );
      }
      if (address.status === 'IN_USE') throw invalid(`IP address '${natIP}' is already being used by another resource.`);
      address.status = 'IN_USE';
      address.users = [selfLink];
    }
    return { kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', networkTier: 'PREMIUM', ...config, natIP };
  });
  const metadataItems = ((body.metadata as Json | undefined)?.items as Json[] | undefined) ?? [];
  const tagItems = ((body.tags as Json | undefined)?.items as string[] | undefined) ?? [];
  s.appendSerialOutput(
    ctx.project,
    zone,
    String(body.name),
    `[    0.000000] Linux version 6.12.0-cloud-amd64 (fake)\n${String(body.name)} google_metadata_script_runner[1]: Starting startup scripts.\n`,
  );
  return {
    ...body,
    machineType: `${API_BASE}projects/${ctx.project}/zones/${zone}/machineTypes/${lastSegment(machineType)}`,
    status: 'RUNNING',
    canIpForward: body.canIpForward ?? false,
    cpuPlatform: 'Intel Broadwell',
    labels: body.labels ?? {},
    labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
    fingerprint: ComputeStore.fingerprint(body.name),
    metadata: { kind: 'compute#metadata', items: metadataItems, fingerprint: ComputeStore.fingerprint(metadataItems) },
    tags: { items: tagItems, fingerprint: ComputeStore.fingerprint(tagItems) },
    disks: disks.map((disk, index) => ({
      kind: 'compute#attachedDisk',
      type: 'PERSISTENT',
      mode: 'READ_WRITE',
      source: `${API_BASE}projects/${ctx.project}/zones/${zone}/disks/${String(body.name)}${index === 0 ? '' : `-${index}`}`,
      deviceName: (disk.deviceName as string | undefined) ?? 'persistent-disk-0',
      index,
      boot: disk.boot ?? false,
      autoDelete: disk.autoDelete ?? false,
      interface: 'SCSI',
      diskSizeGb: String((disk.initializeParams as Json | undefined)?.diskSizeGb ?? image.diskSizeGb ?? '10'),
      licenses: [],
    })),
    networkInterfaces: [
      {
        kind: 'compute#networkInterface',
        name: 'nic0',
        network: subnet.network,
        subnetwork: subnet.selfLink,
        networkIP,
        stackType: 'IPV4_ONLY',
        fingerprint: ComputeStore.fingerprint(networkIP),
        accessConfigs,
      },
    ],
  };
}

/**
 * nic0's internal IP: the one asked for (a MIG's per-instance config pins a reserved internal address this way) or a
 * free one. An asked-for IP must be in the subnetwork and unused; a reserved internal address holding it becomes IN_USE.
 */
function pinnedOrFreeInternalIp(kit: HandlerKit, region: string, subnet: Json, asked: unknown, selfLink: string): string {
  const s = kit.store;
  const range = String(subnet.ipCidrRange);
  if (asked === undefined || asked === null || asked === '') return s.allocateInternalIp(range, kit.usedInternalIps());
  const ip = String(asked);
  const field = "Invalid value for field 'resource.networkInterfaces[0].networkIP'";
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip) || !ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parseCIDR(range)))
    throw invalid(`${field}: '${ip}'. The IP address must be in the subnetwork's range ${range}.`);
  const reserved = s
    .all('addresses')
    .find((entry) => entry.scope === `regions/${region}` && entry.resource.addressType === 'INTERNAL' && entry.resource.address === ip);
  const taken =
    s.all('instances').some((entry) => String(((entry.resource.networkInterfaces as Json[])[0] as Json).networkIP) === ip) ||
    s.all('forwardingRules').some((entry) => entry.resource.loadBalancingScheme === 'INTERNAL' && entry.resource.IPAddress === ip) ||
    ((reserved?.resource.users as string[] | undefined) ?? []).length > 0;
  if (taken) throw invalid(`${field}: '${ip}'. IP address '${ip}' is already being used by another resource.`);
  if (reserved !== undefined) {
    reserved.resource.status = 'IN_USE';
    reserved.resource.users = [selfLink];
  }
  return ip;
}

/** The zone must offer the machine type; the boot image's architecture and the boot disk type must fit it. */
function checkMachineAndDisk(
  kit: HandlerKit,
  ctx: Ctx,
  zone: string,
  machineTypeName: string,
  boot: Json,
  bootIndex: number,
  image: Json,
): Json {
  const type = kit.store.get(ctx.project, `zones/${zone}`, 'machineTypes', machineTypeName);
  if (type === undefined) {
    throw invalid(
      `Invalid value for field 'resource.machineType': 'zones/${zone}/machineTypes/${machineTypeName}'. Machine type with name '${machineTypeName}' does not exist in zone '${zone}'.`,
    );
  }
  const imageArchitecture = String(image.architecture ?? 'X86_64');
  if (imageArchitecture !== type.architecture) {
    throw invalid(
      `Invalid value for field 'resource.disks[${bootIndex}].initializeParams.sourceImage': '${String(image.selfLink)}'. The image architecture ${imageArchitecture} is not compatible with machine type ${machineTypeName} (${String(type.architecture)}).`,
    );
  }
  const diskTypeRef = String((boot.initializeParams as Json | undefined)?.diskType ?? 'pd-standard');
  const diskType = lastSegment(diskTypeRef);
  if (kit.store.get(ctx.project, `zones/${zone}`, 'diskTypes', diskType) === undefined) {
    throw invalid(
      `Invalid value for field 'resource.disks[${bootIndex}].initializeParams.diskType': '${diskTypeRef}'. Disk type '${diskType}' does not exist in zone '${zone}'.`,
    );
  }
  if (!diskTypesForSeries(machineTypeName).includes(diskType)) {
    throw invalid(
      `Invalid value for field 'resource.disks[${bootIndex}].initializeParams.diskType': '${diskTypeRef}'. Machine type ${machineTypeName} does not support disk type ${diskType}; it takes ${diskTypesForSeries(machineTypeName).join(', ')}.`,
    );
  }
  return type;
}

/** Organization policies refuse at insert time with 412 conditionNotMet, the message naming the constraint. */
function checkOrgPolicies(kit: HandlerKit, ctx: Ctx, name: string, wantsExternalIp: boolean, canIpForward: boolean): void {
  const instance = `projects/${ctx.project}/${ctx.scope}/instances/${name}`;
  if (wantsExternalIp && kit.store.orgPolicyEnforced(ctx.project, 'constraints/compute.vmExternalIpAccess')) {
    throw orgPolicyRefusal(
      'constraints/compute.vmExternalIpAccess',
      ctx.project,
      `Add instance ${instance} to the constraint to use external IP with it.`,
    );
  }
  if (canIpForward && kit.store.orgPolicyEnforced(ctx.project, 'constraints/compute.vmCanIpForward')) {
    throw orgPolicyRefusal('constraints/compute.vmCanIpForward', ctx.project, `Enabling IP forwarding is not allowed for ${instance}.`);
  }
}

export function orgPolicyRefusal(constraint: string, project: string, detail: string): ApiError {
  return new ApiError(412, 'conditionNotMet', `Constraint ${constraint} violated for project ${project}. ${detail}`);
}

const accessConfigsOf = (instance: Json): Json[] =>
  ((instance.networkInterfaces as Json[] | undefined)?.[0]?.accessConfigs as Json[] | undefined) ?? [];
