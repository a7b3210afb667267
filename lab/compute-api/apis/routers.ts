// Cloud Routers (regional) and their Cloud NAT configs (`nats[]`): insert, get, list, patch (a JSON merge patch:
// `nats` replaces the whole list; a Router has no fingerprint, so nothing makes a patch conditional), delete. The stored router is GCE's REST shape; the lab programs Cloud NAT's data
// path from `store.list(project, 'regions/R', 'routers')`, so `nats[]` here is that contract.
import { handler, lastSegment, NAME_REGEX, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import { API_BASE, ComputeStore, invalid, OperationFailure, relativePath, type Json } from '../store.js';

/** GCE's limit on Cloud Routers per VPC network per region. */
export const ROUTERS_PER_NETWORK_PER_REGION = 5;

const SUBNET_MODES = ['ALL_SUBNETWORKS_ALL_IP_RANGES', 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES', 'LIST_OF_SUBNETWORKS'];
const SUBNET_RANGE_MODES = ['ALL_IP_RANGES', 'PRIMARY_IP_RANGE', 'LIST_OF_SECONDARY_IP_RANGES'];
const LOG_FILTERS = ['ALL', 'ERRORS_ONLY', 'TRANSLATIONS_ONLY'];
/** What GCE fills in for a timeout the caller leaves out. */
export const NAT_TIMEOUT_DEFAULTS = {
  udpIdleTimeoutSec: 30,
  icmpIdleTimeoutSec: 30,
  tcpEstablishedIdleTimeoutSec: 1200,
  tcpTransitoryIdleTimeoutSec: 30,
  tcpTimeWaitTimeoutSec: 120,
} as const;

const isPowerOfTwo = (value: number) => Number.isInteger(value) && value > 0 && (value & (value - 1)) === 0;

/** Which ranges of which subnets a NAT config translates: `subnet#primary` and `subnet#<secondary range name>`. */
function coveredRanges(nat: Json, subnets: Json[]): Set<string> {
  const covered = new Set<string>();
  const secondaries = (subnet: Json) => ((subnet.secondaryIpRanges as Json[] | undefined) ?? []).map((range) => String(range.rangeName));
  const mode = String(nat.sourceSubnetworkIpRangesToNat);
  for (const subnet of subnets) {
    const name = String(subnet.name);
    if (mode === 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES' || mode === 'ALL_SUBNETWORKS_ALL_IP_RANGES') covered.add(`${name}#primary`);
    if (mode === 'ALL_SUBNETWORKS_ALL_IP_RANGES') for (const range of secondaries(subnet)) covered.add(`${name}#${range}`);
  }
  if (mode !== 'LIST_OF_SUBNETWORKS') return covered;
  for (const entry of (nat.subnetworks as Json[] | undefined) ?? []) {
    const subnet = subnets.find((candidate) => candidate.selfLink === entry.name);
    if (subnet === undefined) continue;
    const name = String(subnet.name);
    const modes = (entry.sourceIpRangesToNat as string[] | undefined) ?? [];
    if (modes.includes('ALL_IP_RANGES') || modes.includes('PRIMARY_IP_RANGE')) covered.add(`${name}#primary`);
    if (modes.includes('ALL_IP_RANGES')) for (const range of secondaries(subnet)) covered.add(`${name}#${range}`);
    if (modes.includes('LIST_OF_SECONDARY_IP_RANGES'))
      for (const range of (entry.secondaryIpRangeNames as string[] | undefined) ?? []) covered.add(`${name}#${range}`);
  }
  return covered;
}

export function routerHandlers(kit: HandlerKit): Handler[] {
  const s = kit.store;
  const regionOf = (ctx: Ctx) => ctx.scope.replace(/^regions\//, '');

  const subnetsOf = (ctx: Ctx, networkLink: string) =>
    s.list(ctx.project, ctx.scope, 'subnetworks').filter((subnet) => subnet.network === networkLink);

  /** One NAT config checked as GCE checks it, with the defaults GCE fills in; throws 400 naming the field. */
  const normalizeNat = (ctx: Ctx, raw: Json, at: string, networkLink: string): Json => {
    const nat: Json = { ...raw };
    const name = nat.name;
    if (!ComputeStore.validName(name))
      throw invalid(`Invalid value for field '${at}.name': '${String(name ?? '')}'. Must be a match of regex '${NAME_REGEX}'`);

    const allocate = nat.natIpAllocateOption;
    if (allocate !== 'AUTO_ONLY' && allocate !== 'MANUAL_ONLY')
      throw invalid(`Invalid value for field '${at}.natIpAllocateOption': '${String(allocate ?? '')}'. Must be AUTO_ONLY or MANUAL_ONLY.`);
    const natIps = ((nat.natIps as string[] | undefined) ?? []).map(String);
    if (allocate === 'AUTO_ONLY' && natIps.length > 0)
      throw invalid(`Invalid value for field '${at}.natIps': NAT IPs may only be specified with natIpAllocateOption MANUAL_ONLY.`);
    if (allocate === 'MANUAL_ONLY' && natIps.length === 0)
      throw invalid(`Invalid value for field '${at}.natIps': natIpAllocateOption MANUAL_ONLY needs at least one NAT IP.`);
    nat.natIps = natIps.map((ip, index) => {
      const address = s.getByPath(relativePath(ip, ctx.project, ctx.scope, 'addresses'));
      const sameRegion = address !== undefined && String(address.region) === `${API_BASE}projects/${ctx.project}/${ctx.scope}`;
      if (!sameRegion || address.addressType === 'INTERNAL')
        throw invalid(
          `Invalid value for field '${at}.natIps[${index}]': '${ip}'. The NAT IP must be a reserved external address in region ${regionOf(ctx)}.`,
        );
      return String(address.selfLink);
    });

    const mode = nat.sourceSubnetworkIpRangesToNat;
    if (typeof mode !== 'string' || !SUBNET_MODES.includes(mode))
      throw invalid(
        `Invalid value for field '${at}.sourceSubnetworkIpRangesToNat': '${String(mode ?? '')}'. Must be one of ${SUBNET_MODES.join(', ')}.`,
      );
    const entries = (nat.subnetworks as Json[] | undefined) ?? [];
    if (mode !== 'LIST_OF_SUBNETWORKS' && entries.length > 0)
      throw invalid(`Invalid value for field '${at}.subnetworks': subnetworks may only be listed with LIST_OF_SUBNETWORKS.`);
    if (mode === 'LIST_OF_SUBNETWORKS' && entries.length === 0)
      throw invalid(`Invalid value for field '${at}.subnetworks': LIST_OF_SUBNETWORKS needs at least one subnetwork.`);
    const seenSubnets = new Set<string>();
    nat.subnetworks = entries.map((entry, index) => {
      const field = `${at}.subnetworks[${index}]`;
      const subnet = s.getByPath(relativePath(String(entry.name ?? ''), ctx.project, ctx.scope, 'subnetworks'));
      if (subnet === undefined || subnet.network !== networkLink)
        throw invalid(
          `Invalid value for field '${field}.name': '${String(entry.name ?? '')}'. The subnetwork must exist in region ${regionOf(ctx)} and belong to the router's network.`,
        );
      if (seenSubnets.has(String(subnet.selfLink))) throw invalid(`Invalid value for field '${field}.name': subnetwork listed twice.`);
      seenSubnets.add(String(subnet.selfLink));
      const modes = ((entry.sourceIpRangesToNat as string[] | undefined) ?? []).map(String);
      if (modes.length === 0 || modes.some((value) => !SUBNET_RANGE_MODES.includes(value)))
        throw invalid(
          `Invalid value for field '${field}.sourceIpRangesToNat': '${modes.join(',')}'. Must be ALL_IP_RANGES, or PRIMARY_IP_RANGE and/or LIST_OF_SECONDARY_IP_RANGES.`,
        );
      if (modes.includes('ALL_IP_RANGES') && modes.length > 1)
        throw invalid(`Invalid value for field '${field}.sourceIpRangesToNat': ALL_IP_RANGES cannot be combined with other values.`);
      const rangeNames = ((entry.secondaryIpRangeNames as string[] | undefined) ?? []).map(String);
      if (modes.includes('LIST_OF_SECONDARY_IP_RANGES') !== rangeNames.length > 0)
        throw invalid(
          `Invalid value for field '${field}.secondaryIpRangeNames': secondary range names go with LIST_OF_SECONDARY_IP_RANGES, and only with it.`,
        );
      const existing = ((subnet.secondaryIpRanges as Json[] | undefined) ?? []).map((range) => String(range.rangeName));
      for (const rangeName of rangeNames)
        if (!existing.includes(rangeName))
          throw invalid(
            `Invalid value for field '${field}.secondaryIpRangeNames': '${rangeName}' is not a secondary range of subnetwork ${String(subnet.name)}.`,
          );
      return {
        name: String(subnet.selfLink),
        sourceIpRangesToNat: modes,
        ...(rangeNames.length === 0 ? {} : { secondaryIpRangeNames: rangeNames }),
      };
    });

    const dynamic = nat.enableDynamicPortAllocation === true;
    nat.enableDynamicPortAllocation = dynamic;
    if (dynamic && nat.enableEndpointIndependentMapping === true)
      throw invalid(
        `Invalid value for field '${at}.enableEndpointIndependentMapping': endpoint-independent mapping cannot be used with dynamic port allocation.`,
      );
    nat.enableEndpointIndependentMapping = nat.enableEndpointIndependentMapping === true;
    const minPorts = nat.minPortsPerVm === undefined ? (dynamic ? 32 : 64) : Number(nat.minPortsPerVm);
    if (
      dynamic
        ? !isPowerOfTwo(minPorts) || minPorts < 32 || minPorts > 65536
        : !Number.isInteger(minPorts) || minPorts < 2 || minPorts > 65536
    )
      throw invalid(
        `Invalid value for field '${at}.minPortsPerVm': '${String(nat.minPortsPerVm)}'. ${dynamic ? 'With dynamic port allocation it must be a power of 2 between 32 and 65536.' : 'Must be between 2 and 65536.'}`,
      );
    nat.minPortsPerVm = minPorts;
    if (!dynamic && nat.maxPortsPerVm !== undefined)
      throw invalid(`Invalid value for field '${at}.maxPortsPerVm': maxPortsPerVm can only be set with dynamic port allocation.`);
    if (dynamic) {
      const maxPorts = nat.maxPortsPerVm === undefined ? 65536 : Number(nat.maxPortsPerVm);
      if (!isPowerOfTwo(maxPorts) || maxPorts > 65536 || maxPorts < minPorts)
        throw invalid(
          `Invalid value for field '${at}.maxPortsPerVm': '${String(nat.maxPortsPerVm)}'. Must be a power of 2, at most 65536 and at least minPortsPerVm (${minPorts}).`,
        );
      nat.maxPortsPerVm = maxPorts;
    }

    for (const [field, fallback] of Object.entries(NAT_TIMEOUT_DEFAULTS)) {
      const value = nat[field] === undefined ? fallback : Number(nat[field]);
      if (!Number.isInteger(value) || value < 1)
        throw invalid(`Invalid value for field '${at}.${field}': '${String(nat[field])}'. Must be a whole number of seconds, at least 1.`);
      nat[field] = value;
    }

    const logConfig = (nat.logConfig as Json | undefined) ?? {};
    const filter = logConfig.filter ?? 'ALL';
    if (!LOG_FILTERS.includes(String(filter)))
      throw invalid(`Invalid value for field '${at}.logConfig.filter': '${String(filter)}'. Must be one of ${LOG_FILTERS.join(', ')}.`);
    nat.logConfig = { enable: logConfig.enable === true, filter };
    nat.type ??= 'PUBLIC';
    nat.endpointTypes ??= ['ENDPOINT_TYPE_VM'];
    nat.autoNetworkTier ??= 'PREMIUM';
    return nat;
  };

  /**
   * The router's NAT configs, checked one by one and against every other NAT config on the same network in the region
   * (a subnet range is translated by one NAT gateway at most, and a reserved NAT IP serves one).
   */
  const normalizeNats = (ctx: Ctx, router: Json): Json[] => {
    const networkLink = String(router.network);
    const nats = ((router.nats as Json[] | undefined) ?? []).map((nat, index) =>
      normalizeNat(ctx, nat, `resource.nats[${index}]`, networkLink),
    );
    const names = new Set<string>();
    for (const [index, nat] of nats.entries()) {
      if (names.has(String(nat.name)))
        throw invalid(
          `Invalid value for field 'resource.nats[${index}].name': '${String(nat.name)}'. NAT names must be unique in a router.`,
        );
      names.add(String(nat.name));
    }
    const subnets = subnetsOf(ctx, networkLink);
    const others = s
      .list(ctx.project, ctx.scope, 'routers')
      .filter((other) => other.name !== router.name && other.network === networkLink)
      .flatMap((other) => ((other.nats as Json[] | undefined) ?? []).map((nat) => ({ router: String(other.name), nat })));
    const claimed = [...others];
    for (const [index, nat] of nats.entries()) {
      const covered = coveredRanges(nat, subnets);
      for (const { router: owner, nat: other } of claimed) {
        const overlap = [...coveredRanges(other, subnets)].find((range) => covered.has(range));
        if (overlap !== undefined)
          throw invalid(
            `Invalid value for field 'resource.nats[${index}].sourceSubnetworkIpRangesToNat': subnetwork range ${overlap.replace('#', ' ')} is already translated by NAT '${String(other.name)}' of router '${owner}'.`,
          );
        const shared = ((nat.natIps as string[]) ?? []).find((ip) => ((other.natIps as string[] | undefined) ?? []).includes(ip));
        if (shared !== undefined)
          throw invalid(
            `Invalid value for field 'resource.nats[${index}].natIps': '${lastSegment(shared)}' is already used by NAT '${String(other.name)}' of router '${owner}'.`,
          );
      }
      claimed.push({ router: String(router.name), nat });
    }
    return nats;
  };

  /** A NAT config's reserved IPs are IN_USE by its router, as on GCE (and cannot be released meanwhile). */
  const syncNatIpUsers = (ctx: Ctx) => {
    const users = new Map<string, string[]>();
    for (const router of s.list(ctx.project, ctx.scope, 'routers'))
      for (const nat of (router.nats as Json[] | undefined) ?? [])
        for (const ip of (nat.natIps as string[] | undefined) ?? []) users.set(ip, [...(users.get(ip) ?? []), String(router.selfLink)]);
    for (const address of s.list(ctx.project, ctx.scope, 'addresses')) {
      const before = ((address.users as string[] | undefined) ?? []).filter((user) => !user.includes('/routers/'));
      const after = [...before, ...(users.get(String(address.selfLink)) ?? [])];
      const changed = after.join(' ') !== ((address.users as string[] | undefined) ?? []).join(' ');
      if (!changed) continue;
      s.update(ctx.project, ctx.scope, 'addresses', String(address.name), (resource) => {
        if (after.length === 0) delete resource.users;
        else resource.users = after;
        resource.status = after.length === 0 ? 'RESERVED' : 'IN_USE';
      });
    }
  };

  return [
    handler('Routers', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'routers', ctx.params.router!)),
    handler('Routers', 'List', (ctx) => kit.listOf(ctx, 'routers', 'router')),
    handler('Routers', 'Insert', (ctx) =>
      kit.insert(
        ctx,
        'routers',
        (body) => {
          const network = kit.requireNetwork(ctx, body.network, 'resource.network');
          const router: Json = { ...body, network: network.selfLink, bgpPeers: body.bgpPeers ?? [], interfaces: body.interfaces ?? [] };
          router.nats = normalizeNats(ctx, router);
          const onNetwork = s.list(ctx.project, ctx.scope, 'routers').filter((other) => other.network === network.selfLink).length;
          if (onNetwork >= ROUTERS_PER_NETWORK_PER_REGION)
            throw new OperationFailure({
              code: 'QUOTA_EXCEEDED',
              message: `Quota 'ROUTERS_PER_REGION_PER_NETWORK' exceeded. Limit: ${ROUTERS_PER_NETWORK_PER_REGION.toFixed(1)} in region ${regionOf(ctx)}.`,
              httpStatus: 403,
            });
          return router;
        },
        () => syncNatIpUsers(ctx),
      ),
    ),
    handler('Routers', 'Patch', (ctx) =>
      kit.patch(
        ctx,
        'routers',
        ctx.params.router!,
        (merged, current) => {
          if (
            ctx.body.network !== undefined &&
            relativePath(String(ctx.body.network), ctx.project, 'global', 'networks') !==
              relativePath(String(current.network), ctx.project, 'global', 'networks')
          )
            throw invalid(
              `Invalid value for field 'resource.network': '${String(ctx.body.network)}'. The network of a router cannot be changed.`,
            );
          merged.network = current.network;
          merged.nats = normalizeNats(ctx, merged);
        },
        () => syncNatIpUsers(ctx),
        // GCE's Router has no fingerprint: a patch is a JSON merge patch, never conditional.
        { fingerprinted: false },
      ),
    ),
    // PUT: the body replaces the router (the one way to empty `nats`: the client drops an empty list from a patch's body).
    handler('Routers', 'Update', (ctx) => {
      const seen = s.operationForRequestId(ctx.query.requestId);
      if (seen !== undefined) return seen;
      const name = ctx.params.router!;
      const current = s.require(ctx.project, ctx.scope, 'routers', name);
      if (ctx.body.name !== name)
        throw invalid(`Invalid value for field 'resource.name': '${String(ctx.body.name ?? '')}'. Must be the router's name, '${name}'.`);
      const network = kit.requireNetwork(ctx, ctx.body.network, 'resource.network');
      if (network.selfLink !== current.network)
        throw invalid(
          `Invalid value for field 'resource.network': '${String(ctx.body.network)}'. The network of a router cannot be changed.`,
        );
      const replacement: Json = {
        ...ctx.body,
        network: network.selfLink,
        bgpPeers: ctx.body.bgpPeers ?? [],
        interfaces: ctx.body.interfaces ?? [],
      };
      replacement.nats = normalizeNats(ctx, replacement);
      return kit.mutate(ctx, 'update', String(current.selfLink), () => {
        const updated = s.update(ctx.project, ctx.scope, 'routers', name, (resource) => {
          const server = {
            kind: resource.kind,
            id: resource.id,
            creationTimestamp: resource.creationTimestamp,
            selfLink: resource.selfLink,
            region: resource.region,
          };
          for (const key of Object.keys(resource)) delete resource[key];
          Object.assign(resource, replacement, server);
        });
        syncNatIpUsers(ctx);
        return updated;
      });
    }),
    handler('Routers', 'Delete', (ctx) => {
      const result = kit.remove(ctx, 'routers', ctx.params.router!);
      syncNatIpUsers(ctx);
      return result;
    }),
  ];
}

/** A router's NAT configs as the lab reads them (GCE's REST shape). */
export const natsOf = (router: Json): Json[] => (router.nats as Json[] | undefined) ?? [];
