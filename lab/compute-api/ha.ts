// The fake's HA collections: instance templates, regional health checks, regional managed instance groups (with
// stateful per-instance configs), regional backend services (with getHealth) and forwarding rules.
//
// A MIG here owns ordinary `instances` in the store (found by their `created-by` metadata), so every VM it creates or
// deletes emits the store's insert/delete events like a hand-made VM: the lab mirrors them without knowing about MIGs.
// A recreate (autohealing, applyUpdatesToInstances, recreateInstances) is a delete followed by an insert of the same
// name in the same zone, with the per-instance config's external IP as the accessConfig natIP.
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Ctx, FakeComputeApi, Handler } from './server.js';
import { checkMetadata } from './server.js';
import { API_BASE, ApiError, ComputeStore, invalid, notFound, relativePath, type Collection, type Json, type Scope } from './store.js';

type HandlerFactory = (service: string, method: string, handle: Handler['handle']) => Handler;

const segment = (url: unknown) => String(url ?? '').split('/').pop() ?? '';
const NAME_REGEX = '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)';
const inUse = (kind: string, name: string, user: unknown) =>
  new ApiError(400, 'resourceInUseByAnotherResource', `The ${kind} resource '${name}' is already being used by '${String(user).replace(API_BASE, '')}'`);

/** Reads a FixedOrPercent's fixed value, or undefined. */
const fixedOf = (value: unknown): number | undefined => {
  const fixed = (value as Json | undefined)?.fixed;
  return fixed === undefined || fixed === null ? undefined : Number(fixed);
};

export function haHandlers(api: FakeComputeApi, h: HandlerFactory): Handler[] {
  const s = api.store;
  const link = (project: string, scope: Scope, collection: Collection, name: string) => `${API_BASE}${ComputeStore.key(project, scope, collection, name)}`;
  const regionOf = (ctx: Ctx) => ctx.scope.replace(/^regions\//, '');

  /** Insert with validation before the operation exists (400s are synchronous) and an optional effect after the put. */
  const insert = (ctx: Ctx, collection: Collection, prepare: (body: Json) => Json, after?: (stored: Json) => void): Json => {
    const name = ctx.body.name;
    if (!ComputeStore.validName(name)) throw invalid(`Invalid value for field 'resource.name': '${String(name ?? '')}'. Must be a match of regex '${NAME_REGEX}'`);
    const path = ComputeStore.key(ctx.project, ctx.scope, collection, String(name));
    const seen = s.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    if (s.getByPath(path) !== undefined) throw new ApiError(409, 'alreadyExists', `The resource '${path}' already exists`);
    return api.mutate(ctx, 'insert', `${API_BASE}${path}`, () => {
      const stored = s.put(ctx.project, ctx.scope, collection, prepare(ctx.body));
      after?.(stored);
      return stored;
    });
  };

  /** A patch: merge the body into the resource (nested objects merged one level), after `check` saw the result. */
  const patch = (ctx: Ctx, collection: Collection, name: string, check: (merged: Json, current: Json) => void, after?: (updated: Json, before: Json) => void): Json => {
    const seen = s.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    const current = s.require(ctx.project, ctx.scope, collection, name);
    if (ctx.body.name !== undefined && ctx.body.name !== name) throw invalid(`Invalid value for field 'resource.name': '${String(ctx.body.name)}'. Resource name cannot be changed.`);
    if (ctx.body.fingerprint !== undefined && current.fingerprint !== undefined && ctx.body.fingerprint !== current.fingerprint) {
      throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current fingerprint.');
    }
    const merged: Json = structuredClone(current);
    for (const [key, value] of Object.entries(ctx.body)) {
      if (key === 'fingerprint') continue;
      const old = merged[key];
      merged[key] = value !== null && typeof value === 'object' && !Array.isArray(value) && old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...(old as Json), ...(value as Json) } : value;
    }
    check(merged, current);
    const before = structuredClone(current);
    return api.mutate(ctx, 'patch', String(current.selfLink), () => {
      const updated = s.update(ctx.project, ctx.scope, collection, name, (resource) => {
        for (const key of Object.keys(resource)) delete resource[key];
        Object.assign(resource, merged, { fingerprint: ComputeStore.fingerprint(merged) });
      });
      after?.(updated, before);
      return updated;
    });
  };

  const requireRef = (ref: unknown, ctx: Ctx, scope: Scope, collection: Collection, field: string): Json => {
    if (typeof ref !== 'string' || ref === '') throw invalid(`Invalid value for field '${field}': ''. Must be specified.`);
    const path = relativePath(ref, ctx.project, scope, collection);
    const found = s.getByPath(path);
    if (found === undefined) throw notFound(path);
    return found;
  };

  // ---- managed instances ----

  const migKey = (mig: Json) => String(mig.selfLink).replace(API_BASE, '');
  const configsOf = (mig: Json) => {
    let map = s.perInstanceConfigs.get(migKey(mig));
    if (map === undefined) {
      map = new Map();
      s.perInstanceConfigs.set(migKey(mig), map);
    }
    return map;
  };
  const templateOf = (mig: Json): string => String(((mig.versions as Json[] | undefined)?.[0]?.instanceTemplate as string | undefined) ?? mig.instanceTemplate ?? '');
  const migZones = (mig: Json): string[] => (((mig.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? []).map((zone) => segment(zone.zone));
  const metadataValue = (instance: Json, key: string) => (((instance.metadata as Json | undefined)?.items as { key: string; value: string }[] | undefined) ?? []).find((item) => item.key === key)?.value;
  const zoneOfInstance = (instance: Json) => segment(instance.zone);

  /** The external IP a per-instance config pins, resolved from the reserved address it names. */
  const configuredNatIp = (project: string, region: string, config: Json | undefined): string | undefined => {
    const ip = (((config?.preservedState as Json | undefined)?.externalIPs as Json | undefined)?.nic0 as Json | undefined)?.ipAddress as Json | undefined;
    if (ip === undefined) return undefined;
    if (typeof ip.literal === 'string' && ip.literal !== '') return ip.literal;
    const path = relativePath(String(ip.address ?? ''), project, `regions/${region}`, 'addresses');
    const address = s.getByPath(path);
    if (address === undefined) throw invalid(`Invalid value for field 'preservedState.externalIPs.nic0.ipAddress.address': '${String(ip.address)}'. The address was not found.`);
    return String(address.address);
  };

  const createManagedInstance = (mig: Json, name: string, zone: string, keepNatIp?: string): Json => {
    const project = String(mig.selfLink).replace(API_BASE, '').split('/')[1]!;
    const region = segment(mig.region);
    const templatePath = relativePath(templateOf(mig), project, 'global', 'instanceTemplates');
    const template = s.getByPath(templatePath);
    if (template === undefined) throw notFound(templatePath);
    const props = structuredClone((template.properties as Json | undefined) ?? {});
    const natIP = configuredNatIp(project, region, configsOf(mig).get(name)) ?? keepNatIp;
    const nics = ((props.networkInterfaces as Json[] | undefined) ?? []).map((nic, index) => ({
      ...nic,
      accessConfigs: ((nic.accessConfigs as Json[] | undefined) ?? []).map((config) => (index === 0 && natIP !== undefined ? { ...config, natIP } : config)),
    }));
    const items = [...(((props.metadata as Json | undefined)?.items as Json[] | undefined) ?? []), { key: 'instance-template', value: templatePath }, { key: 'created-by', value: migKey(mig) }];
    const body: Json = {
      ...props,
      name,
      machineType: `zones/${zone}/machineTypes/${segment(props.machineType)}`,
      metadata: { items },
      networkInterfaces: nics,
    };
    const ctx: Ctx = { params: {}, query: {}, body, project, scope: `zones/${zone}`, zone };
    return s.put(project, `zones/${zone}`, 'instances', api.prepareInstance(ctx, body));
  };

  const deleteManagedInstance = (instance: Json): void => {
    const project = String(instance.selfLink).replace(API_BASE, '').split('/')[1]!;
    const scope = `zones/${zoneOfInstance(instance)}`;
    api.releaseInstance(project, scope, instance);
    s.remove(project, scope, 'instances', String(instance.name));
  };

  /** Delete + insert under the same name and zone: the MIG's current template and the per-instance config win. */
  const recreate = (mig: Json, instance: Json): Json => {
    const zone = zoneOfInstance(instance);
    const natIp = (((instance.networkInterfaces as Json[] | undefined)?.[0]?.accessConfigs as Json[] | undefined)?.[0]?.natIP as string | undefined) ?? undefined;
    const preserves = (((mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined)?.externalIPs as Json | undefined)?.nic0 !== undefined;
    deleteManagedInstance(instance);
    return createManagedInstance(mig, String(instance.name), zone, preserves ? natIp : undefined);
  };

  const pickZone = (mig: Json): string => {
    const zones = migZones(mig);
    const counts = new Map(zones.map((zone) => [zone, 0]));
    for (const instance of s.managedInstances(mig)) counts.set(zoneOfInstance(instance), (counts.get(zoneOfInstance(instance)) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => a[1] - b[1] || zones.indexOf(a[0]) - zones.indexOf(b[0]))[0]![0];
  };

  const newName = (mig: Json): string => {
    const taken = new Set(s.all('instances').map((entry) => entry.name));
    for (;;) {
      const suffix = [...randomBytes(4)].map((byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('');
      const candidate = `${String(mig.baseInstanceName)}-${suffix}`;
      if (!taken.has(candidate)) return candidate;
    }
  };

  const refreshStatus = (mig: Json) => {
    const members = s.managedInstances(mig);
    const template = relativePath(templateOf(mig), '', 'global', 'instanceTemplates').replace(/^projects\/[^/]*\//, '');
    const reached = members.every((instance) => String(metadataValue(instance, 'instance-template') ?? '').endsWith(template));
    mig.currentActions = { abandoning: 0, creating: 0, creatingWithoutRetries: 0, deleting: 0, none: members.length, recreating: 0, refreshing: 0, restarting: 0, resuming: 0, starting: 0, stopping: 0, suspending: 0, verifying: 0 };
    mig.status = {
      isStable: true,
      versionTarget: { isReached: reached },
      stateful: { hasStatefulConfig: mig.statefulPolicy !== undefined || configsOf(mig).size > 0, perInstanceConfigs: { allEffective: true } },
    };
    return mig;
  };

  const resizeTo = (mig: Json, size: number) => {
    let members = s.managedInstances(mig);
    while (members.length < size) {
      createManagedInstance(mig, newName(mig), pickZone(mig));
      members = s.managedInstances(mig);
    }
    // Shrinking deletes VMs without a per-instance config first, newest names last.
    const configs = configsOf(mig);
    const victims = [...members].sort((a, b) => Number(configs.has(String(a.name))) - Number(configs.has(String(b.name))) || String(b.name).localeCompare(String(a.name)));
    for (const instance of victims.slice(0, Math.max(0, members.length - size))) {
      configs.delete(String(instance.name));
      deleteManagedInstance(instance);
    }
  };

  const memberByLink = (mig: Json, ref: unknown, index: number): Json => {
    const name = segment(ref);
    const instance = s.managedInstances(mig).find((candidate) => candidate.name === name);
    if (instance === undefined) throw invalid(`Invalid value for field 'instances[${index}]': '${String(ref)}'. Instance is not a member of ${String(mig.name)}.`);
    return instance;
  };

  const checkUpdatePolicy = (mig: Json, zones: string[]) => {
    const policy = (mig.updatePolicy as Json | undefined) ?? {};
    const surge = fixedOf(policy.maxSurge);
    const unavailable = fixedOf(policy.maxUnavailable);
    for (const [field, value] of [['maxSurge', surge], ['maxUnavailable', unavailable]] as const) {
      // A regional MIG splits a fixed value over its zones: 0 or at least one per zone.
      if (value !== undefined && value !== 0 && value < zones.length) {
        throw invalid(`Invalid value for field 'resource.updatePolicy.${field}.fixed': '${value}'. Fixed ${field} for a regional managed instance group must be 0 or at least the number of zones (${zones.length}).`);
      }
      const percent = (policy[field] as Json | undefined)?.percent;
      if (percent !== undefined && percent !== null && Number(mig.targetSize ?? 0) < 10) {
        throw invalid(`Invalid value for field 'resource.updatePolicy.${field}.percent': percent values are only allowed for regional managed instance groups with at least 10 instances.`);
      }
    }
    if (surge === 0 && unavailable === 0) throw invalid(`Invalid value for field 'resource.updatePolicy': maxSurge and maxUnavailable cannot both be 0.`);
    const preserved = (mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined;
    const stateful = preserved !== undefined && ['disks', 'externalIPs', 'internalIPs'].some((key) => Object.keys((preserved[key] as Json | undefined) ?? {}).length > 0);
    if (stateful) {
      if (policy.replacementMethod !== 'RECREATE') throw invalid(`Invalid value for field 'resource.updatePolicy.replacementMethod': '${String(policy.replacementMethod ?? 'SUBSTITUTE')}'. Stateful managed instance groups require replacementMethod RECREATE.`);
      if (surge !== 0) throw invalid(`Invalid value for field 'resource.updatePolicy.maxSurge.fixed': '${String(surge ?? zones.length)}'. maxSurge must be 0 when replacementMethod is RECREATE.`);
      if (policy.instanceRedistributionType !== 'NONE') throw invalid(`Invalid value for field 'resource.updatePolicy.instanceRedistributionType': '${String(policy.instanceRedistributionType ?? 'PROACTIVE')}'. Stateful regional managed instance groups require NONE.`);
    }
  };

  const checkMig = (ctx: Ctx, mig: Json) => {
    const region = regionOf(ctx);
    requireRef(templateOf(mig), ctx, 'global', 'instanceTemplates', 'resource.instanceTemplate');
    const regionZones = ((s.require(ctx.project, 'global', 'regions', region).zones as string[] | undefined) ?? []).map(segment);
    for (const zone of migZones(mig)) {
      if (!regionZones.includes(zone)) throw invalid(`Invalid value for field 'resource.distributionPolicy.zones': '${zone}'. Zone is not in region ${region}.`);
    }
    for (const [index, policy] of ((mig.autoHealingPolicies as Json[] | undefined) ?? []).entries()) {
      requireRef(policy.healthCheck, ctx, ctx.scope, 'healthChecks', `resource.autoHealingPolicies[${index}].healthCheck`);
      const delay = Number(policy.initialDelaySec ?? 0);
      if (delay < 0 || delay > 3600) throw invalid(`Invalid value for field 'resource.autoHealingPolicies[${index}].initialDelaySec': '${delay}'. Must be between 0 and 3600.`);
    }
    const nics = Object.keys(((((mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined)?.externalIPs as Json | undefined) ?? {}));
    for (const nic of nics) if (nic !== 'nic0') throw invalid(`Invalid value for field 'resource.statefulPolicy.preservedState.externalIPs': '${nic}'. The template has no such network interface.`);
    if (!Number.isInteger(Number(mig.targetSize)) || Number(mig.targetSize) < 0) throw invalid(`Invalid value for field 'resource.targetSize': '${String(mig.targetSize)}'. Must be specified and not negative.`);
    checkUpdatePolicy(mig, migZones(mig));
  };

  const usersOfGroup = (mig: Json) => s.all('backendServices').find((entry) => ((entry.resource.backends as Json[] | undefined) ?? []).some((backend) => String(backend.group) === String(mig.instanceGroup)))?.resource;

  // ---- health checks ----

  const checkHealthCheck = (check: Json) => {
    const type = String(check.type ?? '');
    const field = { HTTP: 'httpHealthCheck', HTTPS: 'httpsHealthCheck', HTTP2: 'http2HealthCheck', TCP: 'tcpHealthCheck', SSL: 'sslHealthCheck', GRPC: 'grpcHealthCheck' }[type];
    if (field === undefined) throw invalid(`Invalid value for field 'resource.type': '${type}'. Must be one of HTTP, HTTPS, HTTP2, TCP, SSL, GRPC.`);
    if (check[field] === undefined) throw invalid(`Invalid value for field 'resource.${field}': ''. Must be specified for type ${type}.`);
    const interval = Number(check.checkIntervalSec);
    const timeout = Number(check.timeoutSec);
    if (interval < 1 || interval > 300) throw invalid(`Invalid value for field 'resource.checkIntervalSec': '${interval}'. Must be between 1 and 300.`);
    if (timeout < 1 || timeout > interval) throw invalid(`Invalid value for field 'resource.timeoutSec': '${timeout}'. TimeoutSec should be less than checkIntervalSec.`);
    for (const key of ['healthyThreshold', 'unhealthyThreshold']) {
      const value = Number(check[key]);
      if (value < 1 || value > 10) throw invalid(`Invalid value for field 'resource.${key}': '${value}'. Must be between 1 and 10.`);
    }
    const port = Number((check[field] as Json).port ?? 80);
    if (port < 1 || port > 65535) throw invalid(`Invalid value for field 'resource.${field}.port': '${port}'.`);
  };

  // ---- backend services and forwarding rules ----

  const checkBackendService = (ctx: Ctx, service: Json) => {
    const scheme = String(service.loadBalancingScheme);
    if (!['INTERNAL', 'EXTERNAL', 'INTERNAL_MANAGED', 'EXTERNAL_MANAGED'].includes(scheme)) throw invalid(`Invalid value for field 'resource.loadBalancingScheme': '${scheme}'.`);
    const checks = (service.healthChecks as string[] | undefined) ?? [];
    if (scheme === 'INTERNAL') {
      if (!['TCP', 'UDP', 'UNSPECIFIED'].includes(String(service.protocol))) throw invalid(`Invalid value for field 'resource.protocol': '${String(service.protocol)}'. Internal passthrough load balancers support TCP, UDP or UNSPECIFIED.`);
      if (checks.length !== 1) throw invalid(`Invalid value for field 'resource.healthChecks': exactly one health check is required for an INTERNAL backend service, got ${checks.length}.`);
    }
    checks.forEach((check, index) => requireRef(check, ctx, ctx.scope, 'healthChecks', `resource.healthChecks[${index}]`));
    for (const [index, backend] of ((service.backends as Json[] | undefined) ?? []).entries()) {
      if (s.migForGroup(relativePath(String(backend.group ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers')) === undefined) throw notFound(relativePath(String(backend.group ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers'));
      if (scheme === 'INTERNAL' && backend.balancingMode !== undefined && backend.balancingMode !== 'CONNECTION') {
        throw invalid(`Invalid value for field 'resource.backends[${index}].balancingMode': '${String(backend.balancingMode)}'. INTERNAL backend services support only CONNECTION.`);
      }
    }
  };

  api.haOps = {
    recreate: (project, region, migName, instanceName) => {
      const mig = s.require(project, `regions/${region}`, 'instanceGroupManagers', migName);
      const instance = s.managedInstances(mig).find((candidate) => candidate.name === instanceName);
      if (instance === undefined) throw notFound(`${migKey(mig)}/instances/${instanceName}`);
      const created = recreate(mig, instance);
      refreshStatus(mig);
      return created;
    },
  };

  const groupLink = (ctx: Ctx, ref: unknown) => `${API_BASE}${relativePath(String(ref ?? ''), ctx.project, ctx.scope, 'instanceGroupManagers')}`;

  return [
    // ---- instance templates (global) ----
    h('InstanceTemplates', 'Get', (ctx) => s.require(ctx.project, 'global', 'instanceTemplates', ctx.params.instance_template!)),
    h('InstanceTemplates', 'List', (ctx) => api.listOf(ctx, 'instanceTemplates', 'instanceTemplate')),
    h('InstanceTemplates', 'Insert', (ctx) =>
      insert(ctx, 'instanceTemplates', (body) => {
        const props = (body.properties as Json | undefined) ?? {};
        const machineType = String(props.machineType ?? '');
        if (!/^[a-z0-9][-a-z0-9]*$/.test(machineType)) throw invalid(`Invalid value for field 'resource.properties.machineType': '${machineType}'. Must be the name of a machine type.`);
        const disks = (props.disks as Json[] | undefined) ?? [];
        const boot = disks.find((disk) => disk.boot === true);
        if (boot === undefined) throw invalid(`Invalid value for field 'resource.properties.disks': ''. Boot disk must be specified.`);
        const sourceImage = relativePath(String((boot.initializeParams as Json | undefined)?.sourceImage ?? ''), ctx.project, 'global', 'images');
        const family = /^projects\/([^/]+)\/global\/images\/family\/([^/]+)$/.exec(sourceImage);
        if ((family !== null ? s.imageFromFamily(family[1]!, family[2]!) : s.getByPath(sourceImage)) === undefined) throw notFound(sourceImage);
        const nics = (props.networkInterfaces as Json[] | undefined) ?? [];
        if (nics.length !== 1) throw invalid(`fake: exactly one network interface is modelled, got ${nics.length}`);
        if (nics[0]!.subnetwork !== undefined && s.getByPath(relativePath(String(nics[0]!.subnetwork), ctx.project, 'global', 'subnetworks')) === undefined) {
          throw notFound(relativePath(String(nics[0]!.subnetwork), ctx.project, 'global', 'subnetworks'));
        }
        checkMetadata((props.metadata as Json | undefined) ?? {});
        return { ...body, properties: { canIpForward: false, labels: {}, ...props } };
      }),
    ),
    h('InstanceTemplates', 'Delete', (ctx) => {
      const name = ctx.params.instance_template!;
      const seen = s.operationForRequestId(ctx.query.requestId);
      if (seen !== undefined) return seen;
      const template = s.require(ctx.project, 'global', 'instanceTemplates', name);
      const user = s.all('instanceGroupManagers').find((entry) => relativePath(templateOf(entry.resource), entry.project, 'global', 'instanceTemplates') === ComputeStore.key(ctx.project, 'global', 'instanceTemplates', name));
      if (user !== undefined) throw inUse('instance_template', name, user.resource.selfLink);
      return api.mutate(ctx, 'delete', String(template.selfLink), () => s.remove(ctx.project, 'global', 'instanceTemplates', name));
    }),

    // ---- regional health checks ----
    h('RegionHealthChecks', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'healthChecks', ctx.params.health_check!)),
    h('RegionHealthChecks', 'List', (ctx) => api.listOf(ctx, 'healthChecks', 'healthCheck')),
    h('RegionHealthChecks', 'Insert', (ctx) =>
      insert(ctx, 'healthChecks', (body) => {
        const check: Json = { checkIntervalSec: 5, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 2, ...body };
        if (check.httpHealthCheck !== undefined) check.httpHealthCheck = { port: 80, requestPath: '/', proxyHeader: 'NONE', ...(check.httpHealthCheck as Json) };
        checkHealthCheck(check);
        return check;
      }),
    ),
    h('RegionHealthChecks', 'Patch', (ctx) => patch(ctx, 'healthChecks', ctx.params.health_check!, (merged) => checkHealthCheck(merged))),
    h('RegionHealthChecks', 'Delete', (ctx) => {
      const name = ctx.params.health_check!;
      const check = s.require(ctx.project, ctx.scope, 'healthChecks', name);
      const key = String(check.selfLink);
      const byService = s.all('backendServices').find((entry) => ((entry.resource.healthChecks as string[] | undefined) ?? []).some((ref) => `${API_BASE}${relativePath(ref, entry.project, entry.scope, 'healthChecks')}` === key));
      if (byService !== undefined) throw inUse('health_check', name, byService.resource.selfLink);
      const byMig = s.all('instanceGroupManagers').find((entry) => ((entry.resource.autoHealingPolicies as Json[] | undefined) ?? []).some((policy) => `${API_BASE}${relativePath(String(policy.healthCheck), entry.project, entry.scope, 'healthChecks')}` === key));
      if (byMig !== undefined) throw inUse('health_check', name, byMig.resource.selfLink);
      return api.remove(ctx, 'healthChecks', name);
    }),

    // ---- regional managed instance groups ----
    h('RegionInstanceGroupManagers', 'Get', (ctx) => refreshStatus(s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!))),
    h('RegionInstanceGroupManagers', 'List', (ctx) => {
      for (const mig of s.list(ctx.project, ctx.scope, 'instanceGroupManagers')) refreshStatus(mig);
      return api.listOf(ctx, 'instanceGroupManagers', 'instanceGroupManager');
    }),
    h('RegionInstanceGroupManagers', 'Insert', (ctx) =>
      insert(
        ctx,
        'instanceGroupManagers',
        (body) => {
          const region = regionOf(ctx);
          const regionZones = ((s.require(ctx.project, 'global', 'regions', region).zones as string[] | undefined) ?? []).map(segment).sort();
          const given = (((body.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? []).map((zone) => segment(zone.zone));
          const zones = given.length > 0 ? given : regionZones.slice(0, 3);
          const preserved = (body.statefulPolicy as Json | undefined)?.preservedState !== undefined;
          const mig: Json = {
            ...body,
            baseInstanceName: body.baseInstanceName ?? body.name,
            targetSize: body.targetSize,
            instanceGroup: link(ctx.project, ctx.scope, 'instanceGroupManagers', String(body.name)).replace('/instanceGroupManagers/', '/instanceGroups/'),
            distributionPolicy: { targetShape: 'EVEN', ...((body.distributionPolicy as Json | undefined) ?? {}), zones: zones.map((zone) => ({ zone: `${API_BASE}projects/${ctx.project}/zones/${zone}` })) },
            updatePolicy: {
              type: 'PROACTIVE',
              minimalAction: 'REPLACE',
              replacementMethod: preserved ? 'RECREATE' : 'SUBSTITUTE',
              instanceRedistributionType: preserved ? 'NONE' : 'PROACTIVE',
              maxSurge: { fixed: preserved ? 0 : zones.length, calculated: preserved ? 0 : zones.length },
              maxUnavailable: { fixed: zones.length, calculated: zones.length },
              ...((body.updatePolicy as Json | undefined) ?? {}),
            },
            selfLink: link(ctx.project, ctx.scope, 'instanceGroupManagers', String(body.name)),
          };
          if (mig.instanceTemplate === undefined && Array.isArray(mig.versions) && mig.versions.length > 0) mig.instanceTemplate = (mig.versions[0] as Json).instanceTemplate;
          if (mig.versions === undefined && mig.instanceTemplate !== undefined) mig.versions = [{ instanceTemplate: mig.instanceTemplate, targetSize: { calculated: Number(mig.targetSize) } }];
          for (const field of ['maxSurge', 'maxUnavailable'] as const) {
            const value = (mig.updatePolicy as Json)[field] as Json;
            if (value.calculated === undefined) value.calculated = value.fixed;
          }
          checkMig(ctx, mig);
          // Templates are global; store the reference as a full URL, like the API returns it.
          mig.instanceTemplate = `${API_BASE}${relativePath(String(mig.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`;
          mig.versions = (mig.versions as Json[]).map((version) => ({ ...version, instanceTemplate: `${API_BASE}${relativePath(String(version.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}` }));
          mig.fingerprint = ComputeStore.fingerprint(mig);
          mig.targetSize = Number(mig.targetSize);
          delete mig.selfLink;
          return mig;
        },
        (stored) => {
          resizeTo(stored, Number(stored.targetSize));
          refreshStatus(stored);
        },
      ),
    ),
    h('RegionInstanceGroupManagers', 'Patch', (ctx) =>
      patch(
        ctx,
        'instanceGroupManagers',
        ctx.params.instance_group_manager!,
        (merged, current) => {
          const before = migZones(current).join(',');
          const after = (((merged.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? []).map((zone) => segment(zone.zone)).join(',');
          if (before !== after) throw invalid(`Invalid value for field 'resource.distributionPolicy.zones': the zones of a regional managed instance group cannot be changed.`);
          if (ctx.body.versions !== undefined && ctx.body.instanceTemplate === undefined) merged.instanceTemplate = (merged.versions as Json[])[0]?.instanceTemplate;
          if (ctx.body.instanceTemplate !== undefined && ctx.body.versions === undefined) merged.versions = [{ instanceTemplate: merged.instanceTemplate }];
          checkMig(ctx, merged);
          merged.instanceTemplate = `${API_BASE}${relativePath(String(merged.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`;
          merged.versions = (merged.versions as Json[]).map((version) => ({ ...version, instanceTemplate: `${API_BASE}${relativePath(String(version.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}` }));
          merged.targetSize = Number(merged.targetSize);
        },
        (updated, before) => {
          if (Number(updated.targetSize) !== Number(before.targetSize)) resizeTo(updated, Number(updated.targetSize));
          // PROACTIVE: the fake rolls the new template out at once (the real MIG paces it by maxUnavailable).
          if ((updated.updatePolicy as Json | undefined)?.type === 'PROACTIVE' && templateOf(updated) !== templateOf(before)) {
            for (const instance of s.managedInstances(updated)) recreate(updated, instance);
          }
          refreshStatus(updated);
        },
      ),
    ),
    h('RegionInstanceGroupManagers', 'Delete', (ctx) => {
      const name = ctx.params.instance_group_manager!;
      const seen = s.operationForRequestId(ctx.query.requestId);
      if (seen !== undefined) return seen;
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', name);
      const user = usersOfGroup(mig);
      if (user !== undefined) throw inUse('instance_group', name, user.selfLink);
      return api.mutate(ctx, 'delete', String(mig.selfLink), () => {
        for (const instance of s.managedInstances(mig)) deleteManagedInstance(instance);
        s.perInstanceConfigs.delete(migKey(mig));
        return s.remove(ctx.project, ctx.scope, 'instanceGroupManagers', name);
      });
    }),
    h('RegionInstanceGroupManagers', 'Resize', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const size = Number(ctx.query.size);
      if (!Number.isInteger(size) || size < 0) throw invalid(`Invalid value for field 'size': '${String(ctx.query.size)}'.`);
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.resize', String(mig.selfLink), () => {
        mig.targetSize = size;
        resizeTo(mig, size);
        return refreshStatus(mig);
      });
    }),
    h('RegionInstanceGroupManagers', 'CreateInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const wanted = (ctx.body.instances as Json[] | undefined) ?? [];
      const taken = new Set(s.all('instances').map((entry) => entry.name));
      wanted.forEach((config, index) => {
        if (!ComputeStore.validName(config.name)) throw invalid(`Invalid value for field 'instances[${index}].name': '${String(config.name ?? '')}'.`);
        if (taken.has(String(config.name))) throw new ApiError(409, 'alreadyExists', `The resource 'instances/${String(config.name)}' already exists`);
        configuredNatIp(ctx.project, regionOf(ctx), config);
      });
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.createInstances', String(mig.selfLink), () => {
        for (const config of wanted) {
          if (config.preservedState !== undefined) configsOf(mig).set(String(config.name), { name: config.name, preservedState: config.preservedState, status: 'EFFECTIVE', fingerprint: ComputeStore.fingerprint(config) });
          createManagedInstance(mig, String(config.name), pickZone(mig));
        }
        mig.targetSize = Number(mig.targetSize) + wanted.length;
        return refreshStatus(mig);
      });
    }),
    h('RegionInstanceGroupManagers', 'DeleteInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const victims = ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.deleteInstances', String(mig.selfLink), () => {
        for (const instance of victims) {
          configsOf(mig).delete(String(instance.name));
          deleteManagedInstance(instance);
        }
        mig.targetSize = Math.max(0, Number(mig.targetSize) - victims.length);
        return refreshStatus(mig);
      });
    }),
    h('RegionInstanceGroupManagers', 'RecreateInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const targets = ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.recreateInstances', String(mig.selfLink), () => {
        for (const instance of targets) recreate(mig, instance);
        return refreshStatus(mig);
      });
    }),
    h('RegionInstanceGroupManagers', 'ApplyUpdatesToInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const all = ctx.body.allInstances === true;
      const targets = all ? s.managedInstances(mig) : ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      const action = String(ctx.body.minimalAction ?? 'NONE');
      if (!['NONE', 'REFRESH', 'RESTART', 'REPLACE'].includes(action)) throw invalid(`Invalid value for field 'minimalAction': '${action}'.`);
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.applyUpdatesToInstances', String(mig.selfLink), () => {
        const template = relativePath(templateOf(mig), ctx.project, 'global', 'instanceTemplates');
        for (const instance of targets) {
          const outdated = metadataValue(instance, 'instance-template') !== template;
          // A new template or a new pinned IP needs a new VM; RESTART/REPLACE ask for one anyway.
          if (outdated || action === 'REPLACE' || action === 'RESTART') recreate(mig, instance);
        }
        return refreshStatus(mig);
      });
    }),
    h('RegionInstanceGroupManagers', 'ListManagedInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const autoheal = ((mig.autoHealingPolicies as Json[] | undefined) ?? [])[0]?.healthCheck as string | undefined;
      return {
        managedInstances: s.managedInstances(mig).map((instance) => ({
          instance: instance.selfLink,
          id: instance.id,
          name: instance.name,
          instanceStatus: instance.status,
          currentAction: 'NONE',
          version: { instanceTemplate: `${API_BASE}${String(metadataValue(instance, 'instance-template'))}` },
          ...(autoheal === undefined ? {} : { instanceHealth: [{ healthCheck: `${API_BASE}${relativePath(autoheal, ctx.project, ctx.scope, 'healthChecks')}`, detailedHealthState: s.healthOf(instance) === 'HEALTHY' ? 'HEALTHY' : 'UNHEALTHY' }] }),
          ...(configsOf(mig).has(String(instance.name)) ? { preservedStateFromConfig: configsOf(mig).get(String(instance.name))!.preservedState } : {}),
        })),
      };
    }),
    h('RegionInstanceGroupManagers', 'ListPerInstanceConfigs', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      return { items: [...configsOf(mig).values()].sort((a, b) => String(a.name).localeCompare(String(b.name))) };
    }),
    ...(['UpdatePerInstanceConfigs', 'PatchPerInstanceConfigs'] as const).map((method) =>
      h('RegionInstanceGroupManagers', method, (ctx) => {
        const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
        const configs = (ctx.body.perInstanceConfigs as Json[] | undefined) ?? [];
        configs.forEach((config) => configuredNatIp(ctx.project, regionOf(ctx), config));
        return api.mutate(ctx, `compute.regionInstanceGroupManagers.${method.charAt(0).toLowerCase()}${method.slice(1)}`, String(mig.selfLink), () => {
          // Stored only; a VM picks it up when it is next (re)created or updated.
          for (const config of configs) configsOf(mig).set(String(config.name), { name: config.name, preservedState: config.preservedState ?? {}, status: 'EFFECTIVE', fingerprint: ComputeStore.fingerprint(config) });
          return mig;
        });
      }),
    ),
    h('RegionInstanceGroupManagers', 'DeletePerInstanceConfigs', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const names = (ctx.body.names as string[] | undefined) ?? [];
      return api.mutate(ctx, 'compute.regionInstanceGroupManagers.deletePerInstanceConfigs', String(mig.selfLink), () => {
        for (const name of names) configsOf(mig).delete(name);
        return mig;
      });
    }),

    // ---- regional backend services ----
    h('RegionBackendServices', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'backendServices', ctx.params.backend_service!)),
    h('RegionBackendServices', 'List', (ctx) => api.listOf(ctx, 'backendServices', 'backendService')),
    h('RegionBackendServices', 'Insert', (ctx) =>
      insert(ctx, 'backendServices', (body) => {
        const service: Json = { loadBalancingScheme: 'EXTERNAL', protocol: 'TCP', sessionAffinity: 'NONE', timeoutSec: 30, connectionDraining: { drainingTimeoutSec: 0 }, ...body };
        checkBackendService(ctx, service);
        service.healthChecks = ((service.healthChecks as string[] | undefined) ?? []).map((ref) => `${API_BASE}${relativePath(ref, ctx.project, ctx.scope, 'healthChecks')}`);
        service.backends = ((service.backends as Json[] | undefined) ?? []).map((backend) => ({ balancingMode: 'CONNECTION', ...backend, group: groupLink(ctx, backend.group) }));
        if (service.network !== undefined) service.network = api.requireNetwork(ctx, service.network, 'resource.network').selfLink;
        service.fingerprint = ComputeStore.fingerprint(service);
        return service;
      }),
    ),
    h('RegionBackendServices', 'Patch', (ctx) =>
      patch(ctx, 'backendServices', ctx.params.backend_service!, (merged) => {
        checkBackendService(ctx, merged);
        merged.healthChecks = ((merged.healthChecks as string[] | undefined) ?? []).map((ref) => `${API_BASE}${relativePath(ref, ctx.project, ctx.scope, 'healthChecks')}`);
        merged.backends = ((merged.backends as Json[] | undefined) ?? []).map((backend) => ({ balancingMode: 'CONNECTION', ...backend, group: groupLink(ctx, backend.group) }));
      }),
    ),
    h('RegionBackendServices', 'Delete', (ctx) => {
      const name = ctx.params.backend_service!;
      const service = s.require(ctx.project, ctx.scope, 'backendServices', name);
      const user = s.all('forwardingRules').find((entry) => `${API_BASE}${relativePath(String(entry.resource.backendService ?? ''), entry.project, entry.scope, 'backendServices')}` === service.selfLink);
      if (user !== undefined) throw inUse('backend_service', name, user.resource.selfLink);
      return api.remove(ctx, 'backendServices', name);
    }),
    h('RegionBackendServices', 'GetHealth', (ctx) => {
      const service = s.require(ctx.project, ctx.scope, 'backendServices', ctx.params.backend_service!);
      const group = groupLink(ctx, ctx.body.group);
      if (!((service.backends as Json[] | undefined) ?? []).some((backend) => backend.group === group)) {
        throw invalid(`Invalid value for field 'resourceGroupReference.group': '${String(ctx.body.group)}'. Instance group is not a backend of ${String(service.name)}.`);
      }
      const mig = s.migForGroup(group.replace(API_BASE, ''));
      if (mig === undefined) throw notFound(group.replace(API_BASE, ''));
      const rule = s.all('forwardingRules').find((entry) => entry.resource.backendService === service.selfLink)?.resource;
      const check = s.getByPath(String((service.healthChecks as string[] | undefined)?.[0] ?? '').replace(API_BASE, ''));
      const port = Number(((check?.httpHealthCheck as Json | undefined)?.port as number | undefined) ?? 80);
      const members = s.managedInstances(mig);
      return {
        kind: 'compute#backendServiceGroupHealth',
        ...(members.length === 0
          ? {}
          : {
              healthStatus: members.map((instance) => ({
                instance: instance.selfLink,
                ipAddress: ((instance.networkInterfaces as Json[])[0] as Json).networkIP,
                port,
                healthState: s.healthOf(instance),
                ...(rule === undefined ? {} : { forwardingRule: rule.selfLink, forwardingRuleIp: rule.IPAddress }),
              })),
            }),
      };
    }),

    // ---- regional forwarding rules ----
    h('ForwardingRules', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'forwardingRules', ctx.params.forwarding_rule!)),
    h('ForwardingRules', 'List', (ctx) => api.listOf(ctx, 'forwardingRules', 'forwardingRule')),
    h('ForwardingRules', 'Insert', (ctx) =>
      insert(ctx, 'forwardingRules', (body) => {
        const scheme = String(body.loadBalancingScheme ?? 'EXTERNAL');
        if (scheme !== 'INTERNAL') throw invalid(`fake: only INTERNAL forwarding rules are modelled, got ${scheme}`);
        const protocol = String(body.IPProtocol ?? 'TCP');
        if (!['TCP', 'UDP', 'L3_DEFAULT'].includes(protocol)) throw invalid(`Invalid value for field 'resource.IPProtocol': '${protocol}'. Internal passthrough forwarding rules support TCP, UDP or L3_DEFAULT.`);
        const service = requireRef(body.backendService, ctx, ctx.scope, 'backendServices', 'resource.backendService');
        if (service.loadBalancingScheme !== 'INTERNAL') throw invalid(`Invalid value for field 'resource.backendService': the backend service's loadBalancingScheme must be INTERNAL.`);
        const serviceProtocol = String(service.protocol);
        if (protocol === 'L3_DEFAULT' ? serviceProtocol !== 'UNSPECIFIED' : serviceProtocol !== protocol) {
          throw invalid(`Invalid value for field 'resource.IPProtocol': '${protocol}'. It does not match the backend service protocol ${serviceProtocol}.`);
        }
        const ports = (body.ports as string[] | undefined) ?? [];
        if (body.allPorts === true && (ports.length > 0 || body.portRange !== undefined)) throw invalid(`Invalid value for field 'resource.allPorts': allPorts cannot be combined with ports or portRange.`);
        if (body.allPorts !== true && ports.length === 0) throw invalid(`Invalid value for field 'resource.ports': specify 1 to 5 ports, or allPorts.`);
        if (protocol === 'L3_DEFAULT' && body.allPorts !== true) throw invalid(`Invalid value for field 'resource.allPorts': L3_DEFAULT requires allPorts.`);
        const region = regionOf(ctx);
        let subnet: Json | undefined;
        if (body.subnetwork !== undefined) subnet = requireRef(body.subnetwork, ctx, ctx.scope, 'subnetworks', 'resource.subnetwork');
        else {
          const network = api.requireNetwork(ctx, body.network ?? 'global/networks/default', 'resource.network');
          subnet = s.list(ctx.project, `regions/${region}`, 'subnetworks').find((candidate) => candidate.network === network.selfLink);
          if (subnet === undefined) throw invalid(`Invalid value for field 'resource.network': no subnetwork in region ${region}.`);
        }
        let address = body.IPAddress === undefined ? undefined : String(body.IPAddress);
        const used = api.usedInternalIps();
        if (address === undefined) address = s.allocateInternalIp(String(subnet.ipCidrRange), used);
        else {
          if (!ipaddr.IPv4.isValidFourPartDecimal(address) || !ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parseCIDR(String(subnet.ipCidrRange)))) {
            throw invalid(`Invalid value for field 'resource.IPAddress': '${address}'. The IP address must be in the subnetwork's range ${String(subnet.ipCidrRange)}.`);
          }
          if (used.has(address)) throw invalid(`IP address '${address}' is already being used by another resource.`);
        }
        return {
          ...body,
          IPAddress: address,
          IPProtocol: protocol,
          loadBalancingScheme: scheme,
          backendService: service.selfLink,
          network: subnet.network,
          subnetwork: subnet.selfLink,
          networkTier: 'PREMIUM',
          ipVersion: 'IPV4',
          allowGlobalAccess: body.allowGlobalAccess ?? false,
          labels: body.labels ?? {},
          labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
          fingerprint: ComputeStore.fingerprint(body),
        };
      }),
    ),
    h('ForwardingRules', 'Delete', (ctx) => {
      const name = ctx.params.forwarding_rule!;
      const rule = s.require(ctx.project, ctx.scope, 'forwardingRules', name);
      const user = s.all('routes').find((entry) => entry.resource.nextHopIlb === rule.selfLink || entry.resource.nextHopIlb === rule.IPAddress);
      if (user !== undefined) throw inUse('forwarding_rule', name, user.resource.selfLink);
      return api.remove(ctx, 'forwardingRules', name);
    }),
  ];
}
