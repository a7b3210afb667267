// Regional managed instance groups, with stateful per-instance configs.
//
// A MIG here owns ordinary `instances` in the store (found by their `created-by` metadata), so every VM it creates or
// deletes emits the store's insert/delete events like a hand-made VM: the lab mirrors them without knowing about MIGs.
// A recreate (autohealing, applyUpdatesToInstances, recreateInstances) is a delete followed by an insert of the same
// name in the same zone, with the per-instance config's external IP as the accessConfig natIP.
import { randomBytes } from 'node:crypto';
import { handler, inUse, lastSegment, metadataValue, type Ctx, type Handler, type HandlerKit } from '../handler-kit.js';
import {
  API_BASE,
  ApiError,
  ComputeStore,
  invalid,
  notFound,
  OperationFailure,
  relativePath,
  type Collection,
  type Json,
  type Scope,
} from '../store.js';
import { prepareInstance, releaseInstance } from './instances.js';

/** The template a MIG creates VMs from: its first version's, else its instanceTemplate. */
export const templateOf = (mig: Json): string =>
  String(((mig.versions as Json[] | undefined)?.[0]?.instanceTemplate as string | undefined) ?? mig.instanceTemplate ?? '');

/** Reads a FixedOrPercent's fixed value, or undefined. */
const fixedOf = (value: unknown): number | undefined => {
  const fixed = (value as Json | undefined)?.fixed;
  return fixed === undefined || fixed === null ? undefined : Number(fixed);
};

export interface ManagedInstanceGroups {
  handlers: Handler[];
  /** Autohealing: recreate one member now (store delete + insert, same name, zone and stateful IP). */
  recreate(project: string, region: string, mig: string, instance: string): Json;
  /** Cancels the actions still in flight (the server is closing). */
  close(): void;
}

type MigAction = 'CREATING' | 'DELETING' | 'RECREATING';

/** A MIG action accepted but not yet carried out: the VM appears, goes or is replaced `migActionMs` later. */
interface PendingAction {
  action: MigAction;
  name: string;
  zone: string;
  timer?: NodeJS.Timeout;
  /** The errors of the last failed create attempt (GCE keeps retrying). */
  lastErrors?: { code: string; message: string }[];
}

/** How GCE names an HTTP-style refusal when it is a MIG's create attempt that fails. */
const migErrorCode = (error: ApiError): string =>
  ({ 412: 'CONDITION_NOT_MET', 404: 'RESOURCE_NOT_FOUND', 409: 'RESOURCE_ALREADY_EXISTS', 403: 'PERMISSIONS_ERROR' })[error.status] ??
  'INVALID_FIELD_VALUE';

export function managedInstanceGroups(kit: HandlerKit): ManagedInstanceGroups {
  const s = kit.store;
  const link = (project: string, scope: Scope, collection: Collection, name: string) =>
    `${API_BASE}${ComputeStore.key(project, scope, collection, name)}`;
  const regionOf = (ctx: Ctx) => ctx.scope.replace(/^regions\//, '');
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
  const migZones = (mig: Json): string[] =>
    (((mig.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? []).map((zone) => lastSegment(zone.zone));
  const zoneOfInstance = (instance: Json) => lastSegment(instance.zone);

  /** The external IP a per-instance config pins, resolved from the reserved address it names. */
  const configuredNatIp = (project: string, region: string, config: Json | undefined): string | undefined => {
    const ip = (((config?.preservedState as Json | undefined)?.externalIPs as Json | undefined)?.nic0 as Json | undefined)?.ipAddress as
      | Json
      | undefined;
    if (ip === undefined) return undefined;
    if (typeof ip.literal === 'string' && ip.literal !== '') return ip.literal;
    const path = relativePath(String(ip.address ?? ''), project, `regions/${region}`, 'addresses');
    const address = s.getByPath(path);
    if (address === undefined)
      throw invalid(
        `Invalid value for field 'preservedState.externalIPs.nic0.ipAddress.address': '${String(ip.address)}'. The address was not found.`,
      );
    return String(address.address);
  };

  /**
   * The internal IP a per-instance config pins (preservedState.internalIPs.nic0): the reserved INTERNAL address it
   * names (or a literal). As on GCE it must exist, be in the subnetwork of the group's template and not be used by
   * another resource; `instance` is the VM it is for (it may hold the address already: a recreate).
   */
  const configuredInternalIp = (project: string, region: string, mig: Json, config: Json | undefined, index = 0): string | undefined => {
    const ip = (((config?.preservedState as Json | undefined)?.internalIPs as Json | undefined)?.nic0 as Json | undefined)?.ipAddress as
      | Json
      | undefined;
    if (ip === undefined) return undefined;
    const field = `instances[${index}].preservedState.internalIPs.nic0.ipAddress`;
    let literal = typeof ip.literal === 'string' && ip.literal !== '' ? ip.literal : undefined;
    let users: string[] = [];
    if (literal === undefined) {
      const path = relativePath(String(ip.address ?? ''), project, `regions/${region}`, 'addresses');
      const address = s.getByPath(path);
      if (address === undefined)
        throw invalid(`Invalid value for field '${field}.address': '${String(ip.address)}'. The address was not found.`);
      if (address.addressType !== 'INTERNAL')
        throw invalid(`Invalid value for field '${field}.address': '${String(ip.address)}'. The address must be an INTERNAL address.`);
      const template = s.getByPath(relativePath(templateOf(mig), project, 'global', 'instanceTemplates'));
      const subnet = (((template?.properties as Json | undefined)?.networkInterfaces as Json[] | undefined)?.[0]?.subnetwork ??
        '') as string;
      if (subnet !== '' && lastSegment(subnet) !== lastSegment(address.subnetwork))
        throw invalid(
          `Invalid value for field '${field}.address': '${String(ip.address)}'. The address is in subnetwork ${lastSegment(address.subnetwork)}, the instance template's network interface in ${lastSegment(subnet)}.`,
        );
      literal = String(address.address);
      users = (address.users as string[] | undefined) ?? [];
    }
    const name = String(config?.name ?? '');
    const holder = [
      ...users,
      ...s
        .all('instances')
        .filter((entry) => String(((entry.resource.networkInterfaces as Json[])[0] as Json).networkIP) === literal)
        .map((entry) => String(entry.resource.selfLink)),
    ].find((user) => lastSegment(user) !== name);
    if (holder !== undefined)
      throw invalid(
        `Invalid value for field '${field}': IP address '${literal}' is already being used by '${holder.replace(API_BASE, '')}'.`,
      );
    return literal;
  };

  const createManagedInstance = (mig: Json, name: string, zone: string, keepNatIp?: string): Json => {
    const project = String(mig.selfLink).replace(API_BASE, '').split('/')[1]!;
    const region = lastSegment(mig.region);
    const templatePath = relativePath(templateOf(mig), project, 'global', 'instanceTemplates');
    const template = s.getByPath(templatePath);
    if (template === undefined) throw notFound(templatePath);
    const props = structuredClone((template.properties as Json | undefined) ?? {});
    const natIP = configuredNatIp(project, region, configsOf(mig).get(name)) ?? keepNatIp;
    const networkIP = configuredInternalIp(project, region, mig, configsOf(mig).get(name));
    const nics = ((props.networkInterfaces as Json[] | undefined) ?? []).map((nic, index) => ({
      ...nic,
      ...(index === 0 && networkIP !== undefined ? { networkIP } : {}),
      accessConfigs: ((nic.accessConfigs as Json[] | undefined) ?? []).map((config) =>
        index === 0 && natIP !== undefined ? { ...config, natIP } : config,
      ),
    }));
    const items = [
      ...(((props.metadata as Json | undefined)?.items as Json[] | undefined) ?? []),
      { key: 'instance-template', value: templatePath },
      { key: 'created-by', value: migKey(mig) },
    ];
    const body: Json = {
      ...props,
      name,
      machineType: `zones/${zone}/machineTypes/${lastSegment(props.machineType)}`,
      metadata: { items },
      networkInterfaces: nics,
    };
    const ctx: Ctx = { params: {}, query: {}, body, project, scope: `zones/${zone}`, zone };
    return s.put(project, `zones/${zone}`, 'instances', prepareInstance(kit, ctx, body));
  };

  const deleteManagedInstance = (instance: Json): void => {
    const project = String(instance.selfLink).replace(API_BASE, '').split('/')[1]!;
    const scope = `zones/${zoneOfInstance(instance)}`;
    releaseInstance(s, project, scope, instance);
    s.remove(project, scope, 'instances', String(instance.name));
  };

  /** Delete + insert under the same name and zone: the MIG's current template and the per-instance config win. */
  const recreate = (mig: Json, instance: Json): Json => {
    const natIp = keptNatIp(mig, instance);
    deleteManagedInstance(instance);
    return createManagedInstance(mig, String(instance.name), zoneOfInstance(instance), natIp);
  };

  /** The external IP a recreated VM keeps: its current one, when the stateful policy preserves nic0. */
  const keptNatIp = (mig: Json, instance: Json): string | undefined => {
    const preserves =
      (((mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined)?.externalIPs as Json | undefined)?.nic0 !== undefined;
    return preserves
      ? ((((instance.networkInterfaces as Json[] | undefined)?.[0]?.accessConfigs as Json[] | undefined)?.[0]?.natIP as
          | string
          | undefined) ?? undefined)
      : undefined;
  };

  // ---- asynchronous actions: the operation is DONE when the MIG accepted the work, the VMs change later ----

  const pending = new Map<string, Map<string, PendingAction>>();
  const errorLog = new Map<string, Json[]>();
  const pendingOf = (mig: Json) => {
    let map = pending.get(migKey(mig));
    if (map === undefined) {
      map = new Map();
      pending.set(migKey(mig), map);
    }
    return map;
  };
  const retryMs = () => Math.max(s.timing.migActionMs, 500);

  const recordError = (mig: Json, entry: PendingAction, error: { code: string; message: string }) => {
    entry.lastErrors = [error];
    const log = errorLog.get(migKey(mig)) ?? [];
    log.push({
      error: { code: error.code, message: error.message },
      instanceActionDetails: {
        action: entry.action === 'RECREATING' ? 'RECREATING' : 'CREATING',
        instance: `${API_BASE}${migKey(mig).split('/').slice(0, 2).join('/')}/zones/${entry.zone}/instances/${entry.name}`,
        version: { instanceTemplate: templateOf(mig) },
      },
      timestamp: new Date().toISOString(),
    });
    // Bounded: a create that keeps failing retries forever, as on GCE.
    errorLog.set(migKey(mig), log.slice(-100));
  };

  /** One create attempt; a failure (injected, quota, org policy, bad template) leaves the VM in CREATING and retries. */
  const attemptCreate = (mig: Json, entry: PendingAction, keepNatIp?: string): void => {
    const failure = s.takeMigCreateFailure(migKey(mig));
    let error: { code: string; message: string } | undefined = failure;
    if (error === undefined) {
      try {
        createManagedInstance(mig, entry.name, entry.zone, keepNatIp);
      } catch (caught) {
        if (caught instanceof OperationFailure) error = { code: caught.error.code, message: caught.error.message };
        else if (caught instanceof ApiError) error = { code: migErrorCode(caught), message: caught.message };
        else throw caught;
      }
    }
    if (error === undefined) {
      pendingOf(mig).delete(entry.name);
      return;
    }
    recordError(mig, entry, error);
    entry.action = 'CREATING';
    entry.timer = setTimeout(() => run(mig, entry), retryMs()).unref();
  };

  const run = (mig: Json, entry: PendingAction): void => {
    entry.timer = undefined;
    if (s.getByPath(migKey(mig)) !== mig || pendingOf(mig).get(entry.name) !== entry) return;
    const instance = s.managedInstances(mig).find((candidate) => candidate.name === entry.name);
    if (entry.action === 'DELETING') {
      pendingOf(mig).delete(entry.name);
      if (instance !== undefined) {
        configsOf(mig).delete(entry.name);
        deleteManagedInstance(instance);
      }
    } else if (entry.action === 'RECREATING' && instance !== undefined) {
      const natIp = keptNatIp(mig, instance);
      deleteManagedInstance(instance);
      attemptCreate(mig, entry, natIp);
    } else attemptCreate(mig, entry);
    refreshStatus(mig);
  };

  /** Accepts an action: carried out `migActionMs` later (at once when that is 0 and nothing is set to fail). */
  const schedule = (mig: Json, action: MigAction, name: string, zone: string): void => {
    const entries = pendingOf(mig);
    const previous = entries.get(name);
    if (previous?.timer !== undefined) clearTimeout(previous.timer);
    const entry: PendingAction = { action, name, zone };
    entries.set(name, entry);
    if (s.timing.migActionMs === 0) run(mig, entry);
    else entry.timer = setTimeout(() => run(mig, entry), s.timing.migActionMs).unref();
  };

  const cancelAll = (mig: Json) => {
    for (const entry of pendingOf(mig).values()) if (entry.timer !== undefined) clearTimeout(entry.timer);
    pending.delete(migKey(mig));
  };

  /** Members as the MIG counts them: existing VMs not being deleted, plus VMs it is creating. */
  const plannedMembers = (mig: Json): { name: string; zone: string; exists: boolean }[] => {
    const entries = pendingOf(mig);
    const existing = s
      .managedInstances(mig)
      .filter((instance) => entries.get(String(instance.name))?.action !== 'DELETING')
      .map((instance) => ({ name: String(instance.name), zone: zoneOfInstance(instance), exists: true }));
    const creating = [...entries.values()]
      .filter((entry) => entry.action === 'CREATING' && !existing.some((member) => member.name === entry.name))
      .map((entry) => ({ name: entry.name, zone: entry.zone, exists: false }));
    return [...existing, ...creating];
  };

  const pickZone = (mig: Json): string => {
    const zones = migZones(mig);
    const counts = new Map(zones.map((zone) => [zone, 0]));
    for (const member of plannedMembers(mig)) counts.set(member.zone, (counts.get(member.zone) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => a[1] - b[1] || zones.indexOf(a[0]) - zones.indexOf(b[0]))[0]![0];
  };

  const takenNames = (): Set<string> =>
    new Set([...s.all('instances').map((entry) => entry.name), ...[...pending.values()].flatMap((entries) => [...entries.keys()])]);

  const newName = (mig: Json): string => {
    const taken = takenNames();
    for (;;) {
      const suffix = [...randomBytes(4)].map((byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('');
      const candidate = `${String(mig.baseInstanceName)}-${suffix}`;
      if (!taken.has(candidate)) return candidate;
    }
  };

  const refreshStatus = (mig: Json) => {
    const members = s.managedInstances(mig);
    const template = relativePath(templateOf(mig), '', 'global', 'instanceTemplates').replace(/^projects\/[^/]*\//, '');
    const entries = [...pendingOf(mig).values()];
    const reached =
      entries.length === 0 && members.every((instance) => String(metadataValue(instance, 'instance-template') ?? '').endsWith(template));
    const count = (action: MigAction) => entries.filter((entry) => entry.action === action).length;
    const busy = new Set(entries.map((entry) => entry.name));
    mig.currentActions = {
      abandoning: 0,
      creating: count('CREATING'),
      creatingWithoutRetries: 0,
      deleting: count('DELETING'),
      none: members.filter((instance) => !busy.has(String(instance.name))).length,
      recreating: count('RECREATING'),
      refreshing: 0,
      restarting: 0,
      resuming: 0,
      starting: 0,
      stopping: 0,
      suspending: 0,
      verifying: 0,
    };
    mig.status = {
      isStable: entries.length === 0,
      versionTarget: { isReached: reached },
      stateful: {
        hasStatefulConfig: mig.statefulPolicy !== undefined || configsOf(mig).size > 0,
        perInstanceConfigs: { allEffective: true },
      },
    };
    return mig;
  };

  const resizeTo = (mig: Json, size: number) => {
    for (let count = plannedMembers(mig).length; count < size; count++) schedule(mig, 'CREATING', newName(mig), pickZone(mig));
    // Shrinking cancels creates first, then deletes VMs without a per-instance config, newest names last.
    const configs = configsOf(mig);
    const members = plannedMembers(mig);
    const victims = [...members].sort(
      (a, b) =>
        Number(a.exists) - Number(b.exists) || Number(configs.has(a.name)) - Number(configs.has(b.name)) || b.name.localeCompare(a.name),
    );
    for (const victim of victims.slice(0, Math.max(0, members.length - size))) {
      if (victim.exists) schedule(mig, 'DELETING', victim.name, victim.zone);
      else {
        const entry = pendingOf(mig).get(victim.name);
        if (entry?.timer !== undefined) clearTimeout(entry.timer);
        pendingOf(mig).delete(victim.name);
      }
    }
  };

  const memberByLink = (mig: Json, ref: unknown, index: number): Json => {
    const name = lastSegment(ref);
    const instance = s.managedInstances(mig).find((candidate) => candidate.name === name);
    if (instance === undefined)
      throw invalid(`Invalid value for field 'instances[${index}]': '${String(ref)}'. Instance is not a member of ${String(mig.name)}.`);
    return instance;
  };

  const checkUpdatePolicy = (mig: Json, zones: string[]) => {
    const policy = (mig.updatePolicy as Json | undefined) ?? {};
    const surge = fixedOf(policy.maxSurge);
    const unavailable = fixedOf(policy.maxUnavailable);
    for (const [field, value] of [
      ['maxSurge', surge],
      ['maxUnavailable', unavailable],
    ] as const) {
      // A regional MIG splits a fixed value over its zones: 0 or at least one per zone.
      if (value !== undefined && value !== 0 && value < zones.length) {
        throw invalid(
          `Invalid value for field 'resource.updatePolicy.${field}.fixed': '${value}'. Fixed ${field} for a regional managed instance group must be 0 or at least the number of zones (${zones.length}).`,
        );
      }
      const percent = (policy[field] as Json | undefined)?.percent;
      if (percent !== undefined && percent !== null && Number(mig.targetSize ?? 0) < 10) {
        throw invalid(
          `Invalid value for field 'resource.updatePolicy.${field}.percent': percent values are only allowed for regional managed instance groups with at least 10 instances.`,
        );
      }
    }
    if (surge === 0 && unavailable === 0)
      throw invalid(`Invalid value for field 'resource.updatePolicy': maxSurge and maxUnavailable cannot both be 0.`);
    const preserved = (mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined;
    const stateful =
      preserved !== undefined &&
      ['disks', 'externalIPs', 'internalIPs'].some((key) => Object.keys((preserved[key] as Json | undefined) ?? {}).length > 0);
    if (stateful) {
      if (policy.replacementMethod !== 'RECREATE')
        throw invalid(
          `Invalid value for field 'resource.updatePolicy.replacementMethod': '${String(policy.replacementMethod ?? 'SUBSTITUTE')}'. Stateful managed instance groups require replacementMethod RECREATE.`,
        );
      if (surge !== 0)
        throw invalid(
          `Invalid value for field 'resource.updatePolicy.maxSurge.fixed': '${String(surge ?? zones.length)}'. maxSurge must be 0 when replacementMethod is RECREATE.`,
        );
      if (policy.instanceRedistributionType !== 'NONE')
        throw invalid(
          `Invalid value for field 'resource.updatePolicy.instanceRedistributionType': '${String(policy.instanceRedistributionType ?? 'PROACTIVE')}'. Stateful regional managed instance groups require NONE.`,
        );
    }
  };

  const checkMig = (ctx: Ctx, mig: Json) => {
    const region = regionOf(ctx);
    kit.requireRef(templateOf(mig), ctx, 'global', 'instanceTemplates', 'resource.instanceTemplate');
    const regionZones = ((s.require(ctx.project, 'global', 'regions', region).zones as string[] | undefined) ?? []).map(lastSegment);
    for (const zone of migZones(mig)) {
      if (!regionZones.includes(zone))
        throw invalid(`Invalid value for field 'resource.distributionPolicy.zones': '${zone}'. Zone is not in region ${region}.`);
    }
    for (const [index, policy] of ((mig.autoHealingPolicies as Json[] | undefined) ?? []).entries()) {
      kit.requireRef(policy.healthCheck, ctx, ctx.scope, 'healthChecks', `resource.autoHealingPolicies[${index}].healthCheck`);
      const delay = Number(policy.initialDelaySec ?? 0);
      if (delay < 0 || delay > 3600)
        throw invalid(
          `Invalid value for field 'resource.autoHealingPolicies[${index}].initialDelaySec': '${delay}'. Must be between 0 and 3600.`,
        );
    }
    for (const kind of ['externalIPs', 'internalIPs'] as const) {
      const nics = Object.keys(
        (((mig.statefulPolicy as Json | undefined)?.preservedState as Json | undefined)?.[kind] as Json | undefined) ?? {},
      );
      for (const nic of nics)
        if (nic !== 'nic0')
          throw invalid(
            `Invalid value for field 'resource.statefulPolicy.preservedState.${kind}': '${nic}'. The template has no such network interface.`,
          );
    }
    if (!Number.isInteger(Number(mig.targetSize)) || Number(mig.targetSize) < 0)
      throw invalid(`Invalid value for field 'resource.targetSize': '${String(mig.targetSize)}'. Must be specified and not negative.`);
    checkUpdatePolicy(mig, migZones(mig));
  };

  const usersOfGroup = (mig: Json) =>
    s
      .all('backendServices')
      .find((entry) =>
        ((entry.resource.backends as Json[] | undefined) ?? []).some((backend) => String(backend.group) === String(mig.instanceGroup)),
      )?.resource;

  const recreateNow = (project: string, region: string, migName: string, instanceName: string): Json => {
    const mig = s.require(project, `regions/${region}`, 'instanceGroupManagers', migName);
    const instance = s.managedInstances(mig).find((candidate) => candidate.name === instanceName);
    if (instance === undefined) throw notFound(`${migKey(mig)}/instances/${instanceName}`);
    const created = recreate(mig, instance);
    refreshStatus(mig);
    return created;
  };

  const handlers: Handler[] = [
    handler('RegionInstanceGroupManagers', 'Get', (ctx) =>
      refreshStatus(s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!)),
    ),
    handler('RegionInstanceGroupManagers', 'List', (ctx) => {
      for (const mig of s.list(ctx.project, ctx.scope, 'instanceGroupManagers')) refreshStatus(mig);
      return kit.listOf(ctx, 'instanceGroupManagers', 'instanceGroupManager');
    }),
    handler('RegionInstanceGroupManagers', 'Insert', (ctx) =>
      kit.insert(
        ctx,
        'instanceGroupManagers',
        (body) => {
          const region = regionOf(ctx);
          const regionZones = ((s.require(ctx.project, 'global', 'regions', region).zones as string[] | undefined) ?? [])
            .map(lastSegment)
            .sort();
          const given = (((body.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? []).map((zone) =>
            lastSegment(zone.zone),
          );
          const zones = given.length > 0 ? given : regionZones.slice(0, 3);
          const preserved = (body.statefulPolicy as Json | undefined)?.preservedState !== undefined;
          const mig: Json = {
            ...body,
            baseInstanceName: body.baseInstanceName ?? body.name,
            targetSize: body.targetSize,
            instanceGroup: link(ctx.project, ctx.scope, 'instanceGroupManagers', String(body.name)).replace(
              '/instanceGroupManagers/',
              '/instanceGroups/',
            ),
            distributionPolicy: {
              targetShape: 'EVEN',
              ...((body.distributionPolicy as Json | undefined) ?? {}),
              zones: zones.map((zone) => ({ zone: `${API_BASE}projects/${ctx.project}/zones/${zone}` })),
            },
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
          if (mig.instanceTemplate === undefined && Array.isArray(mig.versions) && mig.versions.length > 0)
            mig.instanceTemplate = (mig.versions[0] as Json).instanceTemplate;
          if (mig.versions === undefined && mig.instanceTemplate !== undefined)
            mig.versions = [{ instanceTemplate: mig.instanceTemplate, targetSize: { calculated: Number(mig.targetSize) } }];
          for (const field of ['maxSurge', 'maxUnavailable'] as const) {
            const value = (mig.updatePolicy as Json)[field] as Json;
            if (value.calculated === undefined) value.calculated = value.fixed;
          }
          checkMig(ctx, mig);
          // Templates are global; store the reference as a full URL, like the API returns it.
          mig.instanceTemplate = `${API_BASE}${relativePath(String(mig.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`;
          mig.versions = (mig.versions as Json[]).map((version) => ({
            ...version,
            instanceTemplate: `${API_BASE}${relativePath(String(version.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`,
          }));
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
    handler('RegionInstanceGroupManagers', 'Patch', (ctx) =>
      kit.patch(
        ctx,
        'instanceGroupManagers',
        ctx.params.instance_group_manager!,
        (merged, current) => {
          const before = migZones(current).join(',');
          const after = (((merged.distributionPolicy as Json | undefined)?.zones as Json[] | undefined) ?? [])
            .map((zone) => lastSegment(zone.zone))
            .join(',');
          if (before !== after)
            throw invalid(
              `Invalid value for field 'resource.distributionPolicy.zones': the zones of a regional managed instance group cannot be changed.`,
            );
          if (ctx.body.versions !== undefined && ctx.body.instanceTemplate === undefined)
            merged.instanceTemplate = (merged.versions as Json[])[0]?.instanceTemplate;
          if (ctx.body.instanceTemplate !== undefined && ctx.body.versions === undefined)
            merged.versions = [{ instanceTemplate: merged.instanceTemplate }];
          checkMig(ctx, merged);
          merged.instanceTemplate = `${API_BASE}${relativePath(String(merged.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`;
          merged.versions = (merged.versions as Json[]).map((version) => ({
            ...version,
            instanceTemplate: `${API_BASE}${relativePath(String(version.instanceTemplate), ctx.project, 'global', 'instanceTemplates')}`,
          }));
          merged.targetSize = Number(merged.targetSize);
        },
        (updated, before) => {
          if (Number(updated.targetSize) !== Number(before.targetSize)) resizeTo(updated, Number(updated.targetSize));
          // PROACTIVE: the fake rolls the new template out at once (the real MIG paces it by maxUnavailable).
          if ((updated.updatePolicy as Json | undefined)?.type === 'PROACTIVE' && templateOf(updated) !== templateOf(before)) {
            for (const instance of s.managedInstances(updated))
              schedule(updated, 'RECREATING', String(instance.name), zoneOfInstance(instance));
          }
          refreshStatus(updated);
        },
      ),
    ),
    handler('RegionInstanceGroupManagers', 'Delete', (ctx) => {
      const name = ctx.params.instance_group_manager!;
      const seen = s.operationForRequestId(ctx.query.requestId);
      if (seen !== undefined) return seen;
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', name);
      const user = usersOfGroup(mig);
      if (user !== undefined) throw inUse('instance_group', name, user.selfLink);
      return kit.mutate(ctx, 'delete', String(mig.selfLink), () => {
        cancelAll(mig);
        errorLog.delete(migKey(mig));
        for (const instance of s.managedInstances(mig)) deleteManagedInstance(instance);
        s.perInstanceConfigs.delete(migKey(mig));
        return s.remove(ctx.project, ctx.scope, 'instanceGroupManagers', name);
      });
    }),
    handler('RegionInstanceGroupManagers', 'Resize', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const size = Number(ctx.query.size);
      if (!Number.isInteger(size) || size < 0) throw invalid(`Invalid value for field 'size': '${String(ctx.query.size)}'.`);
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.resize', String(mig.selfLink), () => {
        mig.targetSize = size;
        resizeTo(mig, size);
        return refreshStatus(mig);
      });
    }),
    handler('RegionInstanceGroupManagers', 'CreateInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const wanted = (ctx.body.instances as Json[] | undefined) ?? [];
      const taken = takenNames();
      wanted.forEach((config, index) => {
        if (!ComputeStore.validName(config.name))
          throw invalid(`Invalid value for field 'instances[${index}].name': '${String(config.name ?? '')}'.`);
        if (taken.has(String(config.name)))
          throw new ApiError(409, 'alreadyExists', `The resource 'instances/${String(config.name)}' already exists`);
        configuredNatIp(ctx.project, regionOf(ctx), config);
        configuredInternalIp(ctx.project, regionOf(ctx), mig, config, index);
      });
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.createInstances', String(mig.selfLink), () => {
        for (const config of wanted) {
          if (config.preservedState !== undefined)
            configsOf(mig).set(String(config.name), {
              name: config.name,
              preservedState: config.preservedState,
              status: 'EFFECTIVE',
              fingerprint: ComputeStore.fingerprint(config),
            });
          schedule(mig, 'CREATING', String(config.name), pickZone(mig));
        }
        mig.targetSize = Number(mig.targetSize) + wanted.length;
        return refreshStatus(mig);
      });
    }),
    handler('RegionInstanceGroupManagers', 'DeleteInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const victims = ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.deleteInstances', String(mig.selfLink), () => {
        for (const instance of victims) schedule(mig, 'DELETING', String(instance.name), zoneOfInstance(instance));
        mig.targetSize = Math.max(0, Number(mig.targetSize) - victims.length);
        return refreshStatus(mig);
      });
    }),
    handler('RegionInstanceGroupManagers', 'RecreateInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const targets = ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.recreateInstances', String(mig.selfLink), () => {
        for (const instance of targets) schedule(mig, 'RECREATING', String(instance.name), zoneOfInstance(instance));
        return refreshStatus(mig);
      });
    }),
    handler('RegionInstanceGroupManagers', 'ApplyUpdatesToInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const all = ctx.body.allInstances === true;
      const targets = all
        ? s.managedInstances(mig)
        : ((ctx.body.instances as string[] | undefined) ?? []).map((ref, index) => memberByLink(mig, ref, index));
      const action = String(ctx.body.minimalAction ?? 'NONE');
      if (!['NONE', 'REFRESH', 'RESTART', 'REPLACE'].includes(action))
        throw invalid(`Invalid value for field 'minimalAction': '${action}'.`);
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.applyUpdatesToInstances', String(mig.selfLink), () => {
        const template = relativePath(templateOf(mig), ctx.project, 'global', 'instanceTemplates');
        for (const instance of targets) {
          const outdated = metadataValue(instance, 'instance-template') !== template;
          // A new template or a new pinned IP needs a new VM; RESTART/REPLACE ask for one anyway.
          if (outdated || action === 'REPLACE' || action === 'RESTART')
            schedule(mig, 'RECREATING', String(instance.name), zoneOfInstance(instance));
        }
        return refreshStatus(mig);
      });
    }),
    handler('RegionInstanceGroupManagers', 'ListManagedInstances', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const autoheal = ((mig.autoHealingPolicies as Json[] | undefined) ?? [])[0]?.healthCheck as string | undefined;
      const entries = pendingOf(mig);
      const lastAttempt = (entry: PendingAction | undefined) =>
        entry?.lastErrors === undefined ? {} : { lastAttempt: { errors: { errors: entry.lastErrors } } };
      const preserved = (name: string) =>
        configsOf(mig).has(name) ? { preservedStateFromConfig: configsOf(mig).get(name)!.preservedState } : {};
      const existing = s.managedInstances(mig).map((instance) => {
        const entry = entries.get(String(instance.name));
        // While GCE replaces a VM it reports it PROVISIONING; while deleting, STOPPING.
        const status = entry === undefined ? instance.status : entry.action === 'DELETING' ? 'STOPPING' : 'PROVISIONING';
        return {
          instance: instance.selfLink,
          id: instance.id,
          name: instance.name,
          instanceStatus: status,
          currentAction: entry?.action ?? 'NONE',
          version: { instanceTemplate: `${API_BASE}${String(metadataValue(instance, 'instance-template'))}` },
          ...(autoheal === undefined
            ? {}
            : {
                instanceHealth: [
                  {
                    healthCheck: `${API_BASE}${relativePath(autoheal, ctx.project, ctx.scope, 'healthChecks')}`,
                    detailedHealthState: s.healthOf(instance) === 'HEALTHY' ? 'HEALTHY' : 'UNHEALTHY',
                  },
                ],
              }),
          ...preserved(String(instance.name)),
          ...lastAttempt(entry),
        };
      });
      const names = new Set(existing.map((member) => String(member.name)));
      // A VM being created has a name and a URL but no instanceStatus yet.
      const creating = [...entries.values()]
        .filter((entry) => !names.has(entry.name))
        .map((entry) => ({
          instance: `${API_BASE}projects/${ctx.project}/zones/${entry.zone}/instances/${entry.name}`,
          name: entry.name,
          currentAction: entry.action === 'DELETING' ? 'DELETING' : 'CREATING',
          version: { instanceTemplate: templateOf(mig) },
          ...preserved(entry.name),
          ...lastAttempt(entry),
        }));
      return { managedInstances: [...existing, ...creating].sort((a, b) => String(a.name).localeCompare(String(b.name))) };
    }),
    handler('RegionInstanceGroupManagers', 'ListErrors', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      return { items: [...(errorLog.get(migKey(mig)) ?? [])].reverse() };
    }),
    handler('RegionInstanceGroupManagers', 'ListPerInstanceConfigs', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      return { items: [...configsOf(mig).values()].sort((a, b) => String(a.name).localeCompare(String(b.name))) };
    }),
    ...(['UpdatePerInstanceConfigs', 'PatchPerInstanceConfigs'] as const).map((method) =>
      handler('RegionInstanceGroupManagers', method, (ctx) => {
        const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
        const configs = (ctx.body.perInstanceConfigs as Json[] | undefined) ?? [];
        configs.forEach((config, index) => {
          configuredNatIp(ctx.project, regionOf(ctx), config);
          configuredInternalIp(ctx.project, regionOf(ctx), mig, config, index);
        });
        return kit.mutate(
          ctx,
          `compute.regionInstanceGroupManagers.${method.charAt(0).toLowerCase()}${method.slice(1)}`,
          String(mig.selfLink),
          () => {
            // Stored only; a VM picks it up when it is next (re)created or updated.
            for (const config of configs)
              configsOf(mig).set(String(config.name), {
                name: config.name,
                preservedState: config.preservedState ?? {},
                status: 'EFFECTIVE',
                fingerprint: ComputeStore.fingerprint(config),
              });
            return mig;
          },
        );
      }),
    ),
    handler('RegionInstanceGroupManagers', 'DeletePerInstanceConfigs', (ctx) => {
      const mig = s.require(ctx.project, ctx.scope, 'instanceGroupManagers', ctx.params.instance_group_manager!);
      const names = (ctx.body.names as string[] | undefined) ?? [];
      return kit.mutate(ctx, 'compute.regionInstanceGroupManagers.deletePerInstanceConfigs', String(mig.selfLink), () => {
        for (const name of names) configsOf(mig).delete(name);
        return mig;
      });
    }),
  ];
  return {
    handlers,
    recreate: recreateNow,
    close: () => {
      for (const entries of pending.values())
        for (const entry of entries.values()) if (entry.timer !== undefined) clearTimeout(entry.timer);
      pending.clear();
    },
  };
}
