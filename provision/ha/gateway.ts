// HA mode (--ha): what the gateway is made of, how to read it, and the plan that converges it. The executor is in
// apply.ts, next to it. Pure where it can be: desiredHa() and planHa() do no I/O.
//
//   N reserved addresses ─┐ (stateful per-instance configs)
//   instance template ────┼─► regional MIG (N VMs over the zones, autohealing on /livez)
//   health check /livez ──┘                 │ instance group
//   health check /healthz ─► backend service (INTERNAL, TCP) ─► forwarding rule (TCP, allPorts) ◄─ route 0.0.0.0/0 (nextHopIlb, client tag)
import { createHash } from 'node:crypto';
import type { AgentConfigInput } from '../../agent/config.js';
import { listAddresses, type Address } from '../gcp/addresses.js';
import type { CallContext } from '../gcp/call.js';
import { getFirewall } from '../gcp/firewalls.js';
import { getHealthCheck, type HealthCheck } from '../gcp/health-checks.js';
import {
  getMig,
  listManagedInstances,
  listPerInstanceConfigs,
  type InstanceGroupManager,
  type ManagedInstance,
  type PerInstanceConfig,
} from '../gcp/instance-groups.js';
import { getInstance, type Instance } from '../gcp/instances.js';
import { getBackendService, getForwardingRule, type BackendService, type ForwardingRule } from '../gcp/load-balancing.js';
import { getRoute, type Route } from '../gcp/routes.js';
import { listInstanceTemplates, type InstanceTemplate } from '../gcp/templates.js';
import { agentPort, desiredState, observeAddress, observeFirewall, type Discovery, type HealthRule } from '../gateway.js';
import {
  labelsFor,
  lastSegment,
  markerFor,
  ownerFromDescription,
  ownerFromLabels,
  resourceNames,
  shortLink,
  type DesiredFirewall,
  type DesiredHealthCheck,
  type ObservedAddress,
  type ObservedFirewall,
  type ResourceNames,
  gatewayFirewalls,
} from '../model.js';
import type { Options } from '../options.js';
import { TRAFFIC_CHECK, type CheckTiming } from './checks.js';
import { observedVms, statefulNames, type ObservedStateful, type ObservedVm } from './members.js';
import { planFirewalls } from '../kinds/firewall.js';
import { planStaleTemplates, planTemplate, type DesiredTemplate } from '../kinds/template.js';
import { planBackendService } from '../kinds/backend-service.js';
import { planForwardingRule } from '../kinds/forwarding-rule.js';
import { planMig, type DesiredMig } from '../kinds/mig.js';
import { clientRouteDescription, planRoute as planRouteChange } from '../kinds/route.js';
import { diffField, isUpToDate, type Change, type FieldDiff, type Plan } from '../plan.js';
import { METADATA } from '../../common/protocol.js';

// ---- timing: the numbers docs/ha.md explains ----

/**
 * Liveness (autohealing): /livez = agent alive, ruleset and forwarding in place; no egress probe, so an internet
 * outage never makes the MIG recreate every VM. Slower on purpose: recreating is expensive and loses the VM's flows.
 */
export const AUTOHEAL_CHECK: CheckTiming = {
  checkIntervalSec: 10,
  timeoutSec: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  requestPath: '/livez',
};
/** Debian boot + startup script + agent start, with margin; autohealing ignores a new VM this long. */
export const AUTOHEAL_INITIAL_DELAY_SEC = 300;

/** How long the agent fails /healthz on SIGTERM before exiting: the traffic check's worst-case detection time + 2 s. */
export const drainSecondsFor = (check: CheckTiming) => check.unhealthyThreshold * check.checkIntervalSec + check.timeoutSec + 2;

// ---- names ----

export interface HaNames extends ResourceNames {
  addressPrefix: string;
  templatePrefix: string;
  mig: string;
  healthTraffic: string;
  healthAutoheal: string;
  backendService: string;
  forwardingRule: string;
}

export function haNames(gateway: string): HaNames {
  return {
    ...resourceNames(gateway),
    addressPrefix: `${gateway}-ip-`,
    templatePrefix: `${gateway}-tmpl-`,
    mig: `${gateway}-mig`,
    healthTraffic: `${gateway}-hc-lb`,
    healthAutoheal: `${gateway}-hc-heal`,
    backendService: `${gateway}-ilb`,
    forwardingRule: `${gateway}-fr`,
  };
}

export const haAddressName = (gateway: string, index: number) => `${gateway}-ip-${index}`;

/** A VM's name follows from its address, like `NAME-xxxx` names a MIG picks, but stable across runs and dry runs. */
export function vmNameFor(gateway: string, addressName: string): string {
  const digest = createHash('sha256').update(addressName).digest();
  return `${gateway}-${[...digest.subarray(0, 4)].map((byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('')}`;
}

// ---- desired ----

export type { DesiredHealthCheck } from '../model.js';

export interface DesiredHa {
  gateway: string;
  project: string;
  region: string;
  network: string;
  networkLink: string;
  subnetwork: string;
  zones: string[];
  size: number;
  drainSeconds: number;
  addresses: { name: string; vm: string; labels: Record<string, string>; description: string }[];
  firewalls: DesiredFirewall[];
  healthChecks: { traffic: DesiredHealthCheck; autoheal: DesiredHealthCheck };
  template: DesiredTemplate;
  mig: DesiredMig;
  /** projects/P/regions/R/instanceGroups/MIG: known before the MIG exists. */
  instanceGroup: string;
  backendService: BackendService & { name: string };
  forwardingRule: ForwardingRule & { name: string };
  route: { name: string; network: string; destRange: string; priority: number; tags: string[]; nextHopIlb: string; description: string };
}

export interface DesiredHaInputs {
  options: Options;
  discovery: Discovery;
  zones: string[];
  payload: Record<string, string>;
  /** Stateful HA's faster traffic check (default TRAFFIC_CHECK); the agent's drain time follows from it. */
  trafficCheck?: CheckTiming;
  /** Agent config keys added after the base config was validated (stateful HA's `stateful` section). */
  agentSection?: Record<string, unknown>;
  /** For a mode built on HA whose load balancers check more (stateful HA's external one). */
  healthRule?: HealthRule;
  /** For a mode built on HA whose internal load balancer has other backends and a failover policy (stateful HA). */
  loadBalancer?: Pick<BackendService, 'backends' | 'failoverPolicy' | 'connectionTrackingPolicy'> & { description: string };
}

export function desiredHa({
  options,
  discovery,
  zones,
  payload,
  trafficCheck = TRAFFIC_CHECK,
  agentSection,
  healthRule = { description: "Google health checks may reach the natgw agent's /healthz and /livez", extraSourceRanges: [] },
  loadBalancer,
}: DesiredHaInputs): {
  desired: DesiredHa;
  agentConfig: AgentConfigInput;
} {
  const drainSeconds = drainSecondsFor(trafficCheck);
  const given = (options.agent as { drainSeconds?: number }).drainSeconds ?? 0;
  // The single-mode builder gives the firewalls, the VM shape and the agent config; HA adds its agent keys.
  const haOptions: Options = {
    ...options,
    agent: { ...options.agent, deploymentMode: 'ha', drainSeconds: Math.max(given, drainSeconds) } as Options['agent'],
  };
  const { desired: single, agentConfig: baseConfig } = desiredState({
    options: haOptions,
    discovery,
    zone: zones[0]!,
    payload,
    healthRule,
  });
  const agentConfig = { ...baseConfig, ...agentSection } as AgentConfigInput;
  if (agentSection !== undefined) single.instance.metadata[METADATA.config] = JSON.stringify(agentConfig);
  const names = haNames(options.name);
  const { project, region } = options;
  const marker = markerFor(options.name);
  const labels = labelsFor(options.name);
  const port = agentPort(agentConfig);
  const regional = (collection: string, name: string) => `projects/${project}/regions/${region}/${collection}/${name}`;

  const firewalls = single.firewalls;
  const vm = single.instance;
  const properties: NonNullable<InstanceTemplate['properties']> = {
    description: `natgw NAT gateway ${options.name} (HA)`,
    machineType: vm.machineType,
    canIpForward: true,
    tags: { items: vm.tags },
    labels: vm.labels,
    metadata: { items: Object.entries(vm.metadata).map(([key, value]) => ({ key, value })) },
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: { sourceImage: vm.sourceImage, diskSizeGb: String(vm.bootDiskGb), diskType: vm.bootDiskType },
      },
    ],
    // The template's access config is ephemeral; each VM's per-instance config pins its reserved address instead.
    networkInterfaces: [
      { subnetwork: vm.subnetwork, accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }] },
    ],
    shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
    serviceAccounts: [],
    scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
  };
  // Templates are immutable: a change is a new template, named by the hash of what it holds.
  const hash = createHash('sha256').update(JSON.stringify(properties)).digest('hex').slice(0, 6);
  const templateName = `${names.templatePrefix}${hash}`;
  const templateLink = `projects/${project}/global/instanceTemplates/${templateName}`;
  const check = (name: string, timing: CheckTiming, what: string): DesiredHealthCheck => ({
    name,
    ...timing,
    port,
    description: `${marker} ${what}`,
  });
  const healthChecks = {
    traffic: check(
      names.healthTraffic,
      trafficCheck,
      `load-balancer health of NAT gateway ${options.name}: agent /healthz (egress probe, draining)`,
    ),
    autoheal: check(
      names.healthAutoheal,
      AUTOHEAL_CHECK,
      `autohealing of NAT gateway ${options.name}: agent /livez (alive, ruleset, forwarding)`,
    ),
  };
  const instanceGroup = regional('instanceGroups', names.mig);

  const desired: DesiredHa = {
    gateway: options.name,
    project,
    region,
    network: options.network,
    networkLink: single.route.network,
    subnetwork: vm.subnetwork,
    zones,
    size: options.size,
    drainSeconds: Math.max(given, drainSeconds),
    addresses: Array.from({ length: options.size }, (_unused, index) => {
      const name = haAddressName(options.name, index + 1);
      return {
        name,
        vm: vmNameFor(options.name, name),
        labels,
        description: `${marker} NAT IP ${index + 1} of HA gateway ${options.name}`,
      };
    }),
    firewalls,
    healthChecks,
    template: {
      name: templateName,
      properties,
      description: `${marker} NAT VM template of gateway ${options.name}`,
      machineType: vm.machineType,
      image: vm.image,
      bootDiskType: vm.bootDiskType,
      bootDiskGb: vm.bootDiskGb,
      metadata: vm.metadata,
    },
    mig: {
      name: names.mig,
      description: `${marker} NAT VMs of HA gateway ${options.name}`,
      baseInstanceName: options.name,
      instanceTemplate: templateLink,
      versions: [{ name: 'natgw', instanceTemplate: templateLink }],
      // VMs are added by createInstances, each with its reserved address: the group starts empty.
      targetSize: 0,
      distributionPolicy: { targetShape: 'EVEN', zones: zones.map((zone) => ({ zone: `projects/${project}/zones/${zone}` })) },
      autoHealingPolicies: [{ healthCheck: regional('healthChecks', names.healthAutoheal), initialDelaySec: AUTOHEAL_INITIAL_DELAY_SEC }],
      statefulPolicy: { preservedState: { externalIPs: { nic0: { autoDelete: 'NEVER' } } } },
      // GCE: stateful IPs need RECREATE and maxSurge 0; a regional MIG's fixed maxUnavailable must be 0 or ≥ its zone
      // count. So the MIG itself never rolls (OPPORTUNISTIC) and natgw replaces one VM at a time (applyUpdatesToInstances).
      updatePolicy: {
        type: 'OPPORTUNISTIC',
        minimalAction: 'REPLACE',
        mostDisruptiveAllowedAction: 'REPLACE',
        replacementMethod: 'RECREATE',
        instanceRedistributionType: 'NONE',
        maxSurge: { fixed: 0 },
        maxUnavailable: { fixed: zones.length },
      },
    },
    instanceGroup,
    backendService: {
      name: names.backendService,
      description: `${marker} internal passthrough load balancer of NAT gateway ${options.name}`,
      loadBalancingScheme: 'INTERNAL',
      protocol: 'TCP',
      network: single.route.network,
      healthChecks: [regional('healthChecks', names.healthTraffic)],
      backends: [{ group: instanceGroup, balancingMode: 'CONNECTION' }],
      sessionAffinity: 'NONE',
      connectionDraining: { drainingTimeoutSec: Math.max(given, drainSeconds) },
      ...loadBalancer,
    },
    forwardingRule: {
      name: names.forwardingRule,
      description: `${marker} next hop of the 0.0.0.0/0 route of NAT gateway ${options.name}`,
      loadBalancingScheme: 'INTERNAL',
      // Not L3_DEFAULT: GCE does not accept such a rule as a route's next hop. A next-hop ILB forwards every protocol
      // and port whatever the rule says; TCP + allPorts is the documented form.
      IPProtocol: 'TCP',
      allPorts: true,
      backendService: regional('backendServices', names.backendService),
      network: single.route.network,
      subnetwork: vm.subnetwork,
      allowGlobalAccess: false,
      labels,
    },
    route: {
      name: names.route,
      network: single.route.network,
      destRange: '0.0.0.0/0',
      priority: options.routePriority,
      tags: [options.clientTag],
      nextHopIlb: regional('forwardingRules', names.forwardingRule),
      description: clientRouteDescription(options.name, options.clientTag, 'ilb'),
    },
  };
  return { desired, agentConfig };
}

// ---- observe ----

export interface ObservedHa {
  /** Addresses named NAME-ip-N (ours or not). */
  addresses: ObservedAddress[];
  firewalls: Record<string, ObservedFirewall | undefined>;
  healthChecks: Record<string, HealthCheck | undefined>;
  /** Templates named NAME-tmpl-… */
  templates: InstanceTemplate[];
  mig?: InstanceGroupManager;
  configs: PerInstanceConfig[];
  vms: ObservedVm[];
  backendService?: BackendService;
  forwardingRule?: ForwardingRule;
  route?: Route;
  /** What only stateful HA (--stateful) creates; read alongside (status and destroy find the mode by it). */
  stateful?: ObservedStateful;
  /** Single-mode leftovers: switching modes is refused while they exist. */
  singleInstance?: Instance;
  /** The single-mode VM's name as found in each zone: more than one is an error single mode's status reports. */
  singleInstances?: (Instance | undefined)[];
  singleAddress?: Address;
}

export const configAddress = (config: PerInstanceConfig): string =>
  lastSegment(config.preservedState?.externalIPs?.nic0?.ipAddress?.address);

/** Reads everything an HA gateway may own, plus single-mode leftovers (GETs and read-only POSTs only). */
export async function observeHa(ctx: CallContext, gateway: string, region: string, regionZones: string[]): Promise<ObservedHa> {
  const names = haNames(gateway);
  const firewallNames = gatewayFirewalls(names);
  const [addresses, firewalls, traffic, autoheal, templates, mig, backendService, forwardingRule, route, singles] = await Promise.all([
    listAddresses(ctx, region),
    Promise.all(firewallNames.map((name) => getFirewall(ctx, name))),
    getHealthCheck(ctx, region, names.healthTraffic),
    getHealthCheck(ctx, region, names.healthAutoheal),
    listInstanceTemplates(ctx),
    getMig(ctx, region, names.mig),
    getBackendService(ctx, region, names.backendService),
    getForwardingRule(ctx, region, names.forwardingRule),
    getRoute(ctx, names.route),
    Promise.all(regionZones.map((zone) => getInstance(ctx, zone, names.instance))),
  ]);
  const [configs, managed]: [PerInstanceConfig[], ManagedInstance[]] =
    mig === undefined
      ? [[], []]
      : await Promise.all([listPerInstanceConfigs(ctx, region, names.mig), listManagedInstances(ctx, region, names.mig)]);
  const observed: ObservedHa = {
    addresses: addresses
      .filter(
        (address) =>
          (address.name ?? '').startsWith(names.addressPrefix) && /^\d+$/.test((address.name ?? '').slice(names.addressPrefix.length)),
      )
      .map(observeAddress),
    firewalls: Object.fromEntries(
      firewallNames.map((name, index) => [name, firewalls[index] === undefined ? undefined : observeFirewall(firewalls[index]!)]),
    ),
    healthChecks: { [names.healthTraffic]: traffic, [names.healthAutoheal]: autoheal },
    templates: templates.filter((template) => (template.name ?? '').startsWith(names.templatePrefix)),
    configs,
    vms: observedVms(managed),
  };
  if (mig !== undefined) observed.mig = mig;
  if (backendService !== undefined) observed.backendService = backendService;
  if (forwardingRule !== undefined) observed.forwardingRule = forwardingRule;
  if (route !== undefined) observed.route = route;
  const single = singles.find((instance) => instance !== undefined);
  if (single !== undefined) observed.singleInstance = single;
  if (single !== undefined) observed.singleInstances = singles;
  const singleAddress = addresses.find((address) => address.name === names.address);
  if (singleAddress !== undefined) observed.singleAddress = singleAddress;
  return observed;
}

/** Anything HA-only exists (any of it makes `status`/`destroy` treat the gateway as HA). */
export const hasHaResources = (observed: ObservedHa, gateway: string) =>
  observed.mig !== undefined ||
  observed.backendService !== undefined ||
  observed.forwardingRule !== undefined ||
  observed.templates.length > 0 ||
  Object.values(observed.healthChecks).some((check) => check !== undefined) ||
  observed.addresses.some((address) => ownerFromLabels(address.labels) === gateway) ||
  (observed.route?.nextHopIlb ?? '') !== '';

// ---- plan ----

const mine = (gateway: string, description: string | null | undefined) => ownerFromDescription(description) === gateway;

function diffCheck(have: HealthCheck, want: DesiredHealthCheck): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  diffField(diffs, 'type', String(have.type ?? ''), 'HTTP');
  diffField(diffs, 'checkIntervalSec', String(have.checkIntervalSec ?? ''), String(want.checkIntervalSec));
  diffField(diffs, 'timeoutSec', String(have.timeoutSec ?? ''), String(want.timeoutSec));
  diffField(diffs, 'healthyThreshold', String(have.healthyThreshold ?? ''), String(want.healthyThreshold));
  diffField(diffs, 'unhealthyThreshold', String(have.unhealthyThreshold ?? ''), String(want.unhealthyThreshold));
  diffField(diffs, 'httpHealthCheck.port', String(have.httpHealthCheck?.port ?? ''), String(want.port));
  diffField(diffs, 'httpHealthCheck.requestPath', String(have.httpHealthCheck?.requestPath ?? ''), want.requestPath);
  return diffs;
}

/** What a MIG patch would change (zones are not among them: they cannot change). */
type Conflict = (kind: Change['kind'], name: string, note: string) => void;

/** Shared by --ha and --stateful: a single-mode gateway of this name is never switched in place. */
export function planModeSwitch(gateway: string, observed: ObservedHa, conflict: Conflict): void {
  const singleWhy = [
    observed.singleInstance !== undefined && ownerFromLabels(observed.singleInstance.labels) === gateway
      ? `instance ${observed.singleInstance.name} in ${lastSegment(observed.singleInstance.zone)}`
      : undefined,
    observed.singleAddress !== undefined && ownerFromLabels(observed.singleAddress.labels) === gateway
      ? `address ${observed.singleAddress.name} (${observed.singleAddress.address})`
      : undefined,
    observed.route !== undefined && mine(gateway, observed.route.description) && (observed.route.nextHopInstance ?? '') !== ''
      ? `route ${observed.route.name} → ${shortLink(observed.route.nextHopInstance)}`
      : undefined,
  ].filter((why): why is string => why !== undefined);
  if (singleWhy.length > 0) {
    conflict(
      'instance',
      gateway,
      `gateway ${gateway} runs in single mode (${singleWhy.join(', ')}); switching to HA is not done in place: run 'natgw destroy' for it first (its NAT IP goes away), then 'natgw provision --ha'`,
    );
  }
}

export function planHealthChecks(
  gateway: string,
  wanted: DesiredHealthCheck[],
  observed: ObservedHa,
  changes: Change[],
  conflict: Conflict,
): void {
  for (const want of wanted) {
    const have = observed.healthChecks[want.name];
    if (have === undefined)
      changes.push({
        kind: 'healthCheck',
        name: want.name,
        action: 'create',
        diffs: [],
        note: `${want.requestPath} every ${want.checkIntervalSec}s`,
        want,
      });
    else if (!mine(gateway, have.description))
      conflict('healthCheck', want.name, "a health check with this name exists but is not marked as this gateway's; pick another --name");
    else {
      const diffs = diffCheck(have, want);
      if (diffs.length > 0) changes.push({ kind: 'healthCheck', name: want.name, action: 'update', diffs, want });
      else changes.push({ kind: 'healthCheck', name: want.name, action: 'unchanged', diffs });
    }
  }
}

export function planRoute(
  gateway: string,
  wantRoute: DesiredHa['route'],
  route: Route | undefined,
  ruleReplaced: boolean,
  changes: Change[],
  conflict: Conflict,
): void {
  // A route with a VM next hop is single mode's: planModeSwitch refuses that switch.
  if (route !== undefined && mine(gateway, route.description) && (route.nextHopInstance ?? '') !== '') return;
  const planned = planRouteChange(gateway, route, wantRoute, {
    created: 'created once a load-balancer backend is healthy',
    nextHopReplaced: ruleReplaced ? 'it points at the forwarding rule being replaced' : undefined,
  });
  if ('conflict' in planned) conflict('route', wantRoute.name, planned.conflict);
  else changes.push(planned);
}

export function planHa(desired: DesiredHa, observed: ObservedHa): Plan {
  const gateway = desired.gateway;
  const changes: Change[] = [];
  const conflicts: Change[] = [];
  const conflict: Conflict = (kind, name, note) => conflicts.push({ kind, name, action: 'conflict', diffs: [], note });

  planModeSwitch(gateway, observed, conflict);

  // ---- addresses: NAME-ip-1..N wanted, higher numbers are scaled away ----
  const wantedAddresses = new Set(desired.addresses.map((address) => address.name));
  for (const want of desired.addresses) {
    const have = observed.addresses.find((address) => address.name === want.name);
    if (have === undefined)
      changes.push({
        kind: 'address',
        name: want.name,
        action: 'create',
        diffs: [],
        want: { name: want.name, labels: want.labels, description: want.description },
      });
    else if (ownerFromLabels(have.labels) !== gateway)
      conflict('address', want.name, 'an address with this name exists but is not labelled as this gateway; pick another --name');
    else changes.push({ kind: 'address', name: want.name, action: 'unchanged', diffs: [], note: have.address });
  }

  planFirewalls(gateway, desired.firewalls, observed.firewalls, changes, conflicts);
  planHealthChecks(gateway, [desired.healthChecks.traffic, desired.healthChecks.autoheal], observed, changes, conflict);
  planTemplate(gateway, desired.template, observed, changes, conflict);
  planMig(gateway, desired.mig, desired.zones, observed.mig, changes, conflict);

  // ---- VMs: one per address, pinned by a stateful per-instance config ----
  const vmsByName = new Map(observed.vms.map((vm) => [vm.name, vm]));
  const configByAddress = new Map(observed.configs.map((config) => [configAddress(config), config]));
  for (const want of desired.addresses) {
    const config = configByAddress.get(want.name);
    const vm = config === undefined ? undefined : vmsByName.get(config.name ?? '');
    if (vm === undefined) {
      changes.push({
        kind: 'vm',
        name: config?.name ?? want.vm,
        action: 'create',
        diffs: [],
        note: `NAT IP from ${want.name}`,
        payload: { mig: desired.mig.name, address: want.name, ip: 'external' },
      });
    } else if (vm.template !== desired.template.name) {
      changes.push({
        kind: 'vm',
        name: vm.name,
        action: 'replace',
        diffs: [{ field: 'template', have: vm.template, want: desired.template.name }],
        note: 'rolling: drained, recreated with the same name and IP, healthy before the next',
      });
    } else changes.push({ kind: 'vm', name: vm.name, action: 'unchanged', diffs: [], note: `${vm.zone}, NAT IP from ${want.name}` });
  }
  for (const config of observed.configs) {
    const address = configAddress(config);
    if (wantedAddresses.has(address)) continue;
    changes.push({
      kind: 'vm',
      name: config.name ?? '',
      action: 'delete',
      diffs: [],
      note: `--size ${desired.size}: scaled away with ${address}`,
    });
  }
  for (const have of observed.addresses) {
    if (wantedAddresses.has(have.name) || ownerFromLabels(have.labels) !== gateway) continue;
    changes.push({
      kind: 'address',
      name: have.name,
      action: 'delete',
      diffs: [],
      note: `--size ${desired.size}: released once its VM is gone`,
    });
  }

  planBackendService(gateway, desired.backendService, observed.backendService, changes, conflict);
  const ruleReplaced = planForwardingRule(gateway, desired.forwardingRule, observed.forwardingRule, changes, conflict);
  planRoute(gateway, desired.route, observed.route, ruleReplaced, changes, conflict);
  planStaleTemplates(gateway, desired.template.name, observed, changes);
  return { changes, conflicts, upToDate: isUpToDate(changes, conflicts) };
}

/** destroy: dependency order, ours only (labels or description marker), single-mode leftovers included. */
export function planDestroyHa(gateway: string, observed: ObservedHa): Plan {
  const names = haNames(gateway);
  const changes: Change[] = [];
  const decide = (kind: Change['kind'], name: string, exists: boolean, ours: boolean) => {
    if (!exists) return;
    changes.push(
      ours
        ? { kind, name, action: 'delete', diffs: [] }
        : { kind, name, action: 'keep', diffs: [], note: 'not created by natgw for this gateway: left alone' },
    );
  };
  // Stateful HA's parts, when present, slot in by kind: rules before services before groups; addresses last.
  const stateful = observed.stateful;
  const extra = statefulNames(gateway);
  decide('route', names.route, observed.route !== undefined, mine(gateway, observed.route?.description));
  decide(
    'forwardingRule',
    extra.natForwardingRule,
    stateful?.natForwardingRule !== undefined,
    mine(gateway, stateful?.natForwardingRule?.description),
  );
  decide(
    'forwardingRule',
    names.forwardingRule,
    observed.forwardingRule !== undefined,
    mine(gateway, observed.forwardingRule?.description),
  );
  decide('backendService', extra.nlb, stateful?.nlb !== undefined, mine(gateway, stateful?.nlb?.description));
  decide(
    'backendService',
    names.backendService,
    observed.backendService !== undefined,
    mine(gateway, observed.backendService?.description),
  );
  const groups: [string, InstanceGroupManager | undefined, ObservedVm[]][] = [
    [names.mig, observed.mig, observed.vms],
    [extra.mig.a, stateful?.members.a.mig, stateful?.members.a.vms ?? []],
    [extra.mig.b, stateful?.members.b.mig, stateful?.members.b.vms ?? []],
  ];
  for (const [name, mig, vms] of groups) {
    decide('mig', name, mig !== undefined, mine(gateway, mig?.description));
    if (mig !== undefined && mine(gateway, mig.description) && vms.length > 0)
      changes[changes.length - 1]!.note = `with its VMs ${vms.map((vm) => vm.name).join(', ')}`;
  }
  decide('instance', names.instance, observed.singleInstance !== undefined, ownerFromLabels(observed.singleInstance?.labels) === gateway);
  for (const name of [names.healthTraffic, names.healthAutoheal])
    decide('healthCheck', name, observed.healthChecks[name] !== undefined, mine(gateway, observed.healthChecks[name]?.description));
  for (const template of observed.templates) decide('template', template.name ?? '', true, mine(gateway, template.description));
  const firewalls = { ...observed.firewalls, ...stateful?.firewalls };
  for (const name of [...gatewayFirewalls(names), extra.firewallSync, extra.firewallReturn])
    decide('firewall', name, firewalls[name] !== undefined, mine(gateway, firewalls[name]?.description));
  for (const address of observed.addresses) decide('address', address.name, true, ownerFromLabels(address.labels) === gateway);
  for (const address of [stateful?.syncAddresses.a, stateful?.syncAddresses.b, stateful?.natAddress])
    if (address !== undefined) decide('address', address.name, true, ownerFromLabels(address.labels) === gateway);
  decide('address', names.address, observed.singleAddress !== undefined, ownerFromLabels(observed.singleAddress?.labels) === gateway);
  return { changes, conflicts: [], upToDate: changes.every((change) => change.action !== 'delete') };
}
