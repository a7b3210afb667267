// Stateful HA (--ha --stateful, docs/stateful-ha.md): what it adds to HA, how to read it, and its plan. Pure where it
// can be: desiredStateful() and planStateful() do no I/O. The executor is in stateful-apply.ts.
//
//   NAME-nat-ip ───────────────► NAME-nat-fr (EXTERNAL, L3_DEFAULT) ─► NAME-nlb (EXTERNAL) ─┐ failover policy:
//   NAME-sync-a ─► NAME-mig-a (zone 1, 1 VM, primary) ──────────────────────────────────────┤ a primary, b failover,
//   NAME-sync-b ─► NAME-mig-b (zone 2, 1 VM, failover) ─────────────────────────────────────┤ NEVER_PERSIST
//   route 0.0.0.0/0 ─► NAME-fr (INTERNAL, TCP all ports) ─► NAME-ilb (INTERNAL) ────────────┘
import { ConfigError, PORT_SPACE, validateAgentConfig, type AgentConfigInput } from '../../agent/config.js';
import { getAddress, type Address } from '../gcp/addresses.js';
import { ProvisionError, type CallContext } from '../gcp/call.js';
import { getFirewall } from '../gcp/firewalls.js';
import { getMig, listManagedInstances, listPerInstanceConfigs, type PerInstanceConfig } from '../gcp/instance-groups.js';
import { getBackendService, getForwardingRule } from '../gcp/load-balancing.js';
import type { Discovery } from '../gateway.js';
import { observeAddress, observeFirewall, pickVmSubnet } from '../gateway.js';
import {
  labelsFor,
  lastSegment,
  markerFor,
  ownerFromDescription,
  ownerFromLabels,
  type DesiredFirewall,
  type ObservedAddress,
} from '../model.js';
import type { Options } from '../options.js';
import type { DesiredAddressOf } from '../kinds/address.js';
import { planFirewalls } from '../kinds/firewall.js';
import { planStaleTemplates, planTemplate } from '../kinds/template.js';
import { planBackendService } from '../kinds/backend-service.js';
import { planForwardingRule } from '../kinds/forwarding-rule.js';
import { planMig } from '../kinds/mig.js';
import { isUpToDate, type Change, type Plan } from '../plan.js';
import { desiredHa, haNames, planHealthChecks, planModeSwitch, planRoute, vmNameFor, type DesiredHa, type ObservedHa } from './gateway.js';
import { STATEFUL_TRAFFIC_CHECK } from './checks.js';
import { MEMBERS, observedVms, statefulNames, type Member, type ObservedMember, type ObservedStateful } from './members.js';
import { SYNC_PORT, METADATA } from '../../common/protocol.js';

/** Each VM SNATs to the shared NAT IP from its own half of the ports, so the two never make the same translation. */
export const PORT_HALVES: Record<Member, string> = { a: '1024-33279', b: '33280-65535' };
/** conntrackd's FTFW link between the two NAT VMs (UDP), and the agents asking each other for their flow counts (TCP). */
export { SYNC_PORT };

/**
 * What replies to translated flows need at the shared NAT IP, and nothing more: the internet reaches every VM that
 * holds the IP through this rule, whatever listens there and whether or not the agent's table is in place yet (boot,
 * a failed apply). So tcp and udp only to the ports the two VMs translate from (never below 1024: sshd and the like),
 * minus the agent's port (tcp; Google's probers have their own rule) and conntrackd's (udp), and icmp for the errors
 * that belong to those flows. A flow translated to one of the two excluded ports keeps its replies while the VM that
 * made it holds it (GCE tracks it per VM); only after a failover are they dropped: one tcp and one udp port of 64,512.
 */
export function returnRuleAllowed(agentPort: number): DesiredFirewall['allowed'] {
  // The members' halves lie within PORT_SPACE (the agent's schema checks it): the space is what replies may need.
  const { first, last } = PORT_SPACE;
  const except = (port: number): string[] =>
    port < first || port > last
      ? [`${first}-${last}`]
      : [...(port > first ? [`${first}-${port - 1}`] : []), ...(port < last ? [`${port + 1}-${last}`] : [])];
  return [{ IPProtocol: 'tcp', ports: except(agentPort) }, { IPProtocol: 'udp', ports: except(SYNC_PORT) }, { IPProtocol: 'icmp' }];
}

/** Health-check sources of an external passthrough Network Load Balancer (backend-service based), besides 35.191.0.0/16. */
export const NLB_HEALTH_CHECK_RANGES = ['209.85.152.0/22', '209.85.204.0/22'];

/** The GCE behaviour stateful HA relies on that Google does not document, and the check a user runs (provision prints it). */
export const UNDOCUMENTED_BEHAVIOUR =
  "stateful HA relies on GCE behaviour Google does not document: a backend VM of an external passthrough Network Load Balancer may send packets with the forwarding rule's IP (the NAT IP) as their source, and GCE delivers them to the internet.";
export const userCheck = (natIp: string) =>
  `on a NAT VM, 'curl -s --interface ${natIp} https://checkip.amazonaws.com' must print ${natIp}; if it does not, do not use --stateful (docs/stateful-ha.md)`;

// ---- desired ----

export interface DesiredMember {
  member: Member;
  zone: string;
  /** The reserved internal address that is this VM's nic0 IP (per-instance config), and the sync peer's target. */
  syncAddress: { name: string; labels: Record<string, string>; description: string; subnetwork: string };
  mig: DesiredHa['mig'];
  instanceGroup: string;
  /** The one VM of the group: a stable name, so a dry run names what a run creates. */
  vm: string;
  ports: string;
}

export interface DesiredStateful {
  /** The parts shared with --ha: firewalls (with sync and return), health checks, template, ILB, its rule and the route. */
  ha: DesiredHa;
  natAddress: { name: string; labels: Record<string, string>; description: string };
  members: [DesiredMember, DesiredMember];
  nlb: DesiredHa['backendService'];
  natForwardingRule: DesiredHa['forwardingRule'];
  /** The reserved IPs when known (a first run learns them once the addresses exist). */
  natIp?: string;
  memberIps: Partial<Record<Member, string>>;
}

export interface KnownIps {
  natIp?: string;
  members: Partial<Record<Member, string>>;
}

/** What the addresses of a gateway hold (for desiredStateful), from what was observed. */
export function knownIps(gateway: string, observed: ObservedHa): KnownIps {
  const names = statefulNames(gateway);
  const parts = observed.stateful;
  const ip = (address: ObservedAddress | undefined) => (address === undefined || address.address === '' ? undefined : address.address);
  const natIp = ip(parts?.natAddress);
  const members: Partial<Record<Member, string>> = {};
  for (const member of MEMBERS) {
    const found = ip(parts?.syncAddresses[member]);
    if (found !== undefined && parts?.syncAddresses[member]?.name === names.syncAddress[member]) members[member] = found;
  }
  return { ...(natIp === undefined ? {} : { natIp }), members };
}

/** Shown instead of an address not reserved yet (dry run of a first provision). */
const pending = (name: string) => `(${name})`;

export interface DesiredStatefulInputs {
  options: Options;
  discovery: Discovery;
  /** Two different zones: a's, then b's. */
  zones: [string, string];
  payload: Record<string, string>;
  ips: KnownIps;
}

export function desiredStateful({ options, discovery, zones, payload, ips }: DesiredStatefulInputs): {
  desired: DesiredStateful;
  agentConfig: AgentConfigInput;
} {
  const gateway = options.name;
  const names = statefulNames(gateway);
  const haN = haNames(gateway);
  const { project, region } = options;
  const marker = markerFor(gateway);
  const labels = labelsFor(gateway);
  const regional = (collection: string, name: string) => `projects/${project}/regions/${region}/${collection}/${name}`;
  const natIp = ips.natIp ?? pending(names.natAddress);
  const stateful = {
    natIp,
    members: MEMBERS.map((member) => ({ ip: ips.members[member] ?? pending(names.syncAddress[member]), ports: PORT_HALVES[member] })),
    syncPort: SYNC_PORT,
  };
  const failoverPolicy = { failoverRatio: 0, dropTrafficIfUnhealthy: false, disableConnectionDrainOnFailover: true };
  const connectionTrackingPolicy = { connectionPersistenceOnUnhealthyBackends: 'NEVER_PERSIST' };
  const backends = MEMBERS.map((member) => ({
    group: regional('instanceGroups', names.mig[member]),
    balancingMode: 'CONNECTION',
    ...(member === 'b' ? { failover: true } : {}),
  }));
  const { desired: ha, agentConfig } = desiredHa({
    options: { ...options, size: 2 },
    discovery,
    zones,
    payload,
    trafficCheck: STATEFUL_TRAFFIC_CHECK,
    agentSection: { stateful },
    healthRule: {
      description: "Google health checks (internal and external load balancer) may reach the natgw agent's /healthz and /livez",
      extraSourceRanges: NLB_HEALTH_CHECK_RANGES,
    },
    loadBalancer: {
      backends,
      failoverPolicy,
      connectionTrackingPolicy,
      description: `${marker} internal passthrough load balancer (next hop, a active / b standby) of stateful gateway ${gateway}`,
    },
  });
  // The agent's own schema checks the section (port halves, distinct IPs, deploymentMode) once the IPs are known; it
  // checks that one member is a local address, so it is asked as member a would be.
  if (ips.natIp !== undefined && MEMBERS.every((member) => ips.members[member] !== undefined)) {
    try {
      validateAgentConfig(agentConfig, `the generated ${METADATA.config}`, () => [ips.members.a!]);
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ProvisionError(
          `the reserved addresses do not make a valid stateful agent config:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`,
        );
      throw error;
    }
  }
  const vmTag = haN.vmTag;
  const firewalls: DesiredFirewall[] = [
    ...ha.firewalls,
    {
      name: names.firewallSync,
      network: ha.networkLink,
      sourceRanges: [],
      sourceTags: [vmTag],
      targetTags: [vmTag],
      allowed: [
        { IPProtocol: 'udp', ports: [String(SYNC_PORT)] },
        { IPProtocol: 'tcp', ports: [String(ha.healthChecks.traffic.port)] },
      ],
      priority: 1000,
      description: `${marker} connection-state sync (conntrackd) and flow counts between the NAT VMs of gateway ${gateway} only`,
    },
    {
      name: names.firewallReturn,
      network: ha.networkLink,
      sourceRanges: ['0.0.0.0/0'],
      destinationRanges: [`${natIp}/32`],
      targetTags: [vmTag],
      allowed: returnRuleAllowed(ha.healthChecks.traffic.port),
      priority: 1000,
      // GCE tracks connections per VM: the survivor never saw the flows' egress, so their replies need this allow.
      description: `${marker} replies to the shared NAT IP of gateway ${gateway} reach whichever NAT VM holds the flows`,
    },
  ];
  const subnetwork = pickVmSubnet(options, discovery.subnets).selfLink ?? '';
  const members = MEMBERS.map((member, index): DesiredMember => {
    const zone = zones[index]!;
    const migName = names.mig[member];
    return {
      member,
      zone,
      syncAddress: {
        name: names.syncAddress[member],
        labels,
        description: `${marker} internal IP of NAT VM ${member} of stateful gateway ${gateway} (state sync peer)`,
        subnetwork,
      },
      mig: {
        ...ha.mig,
        name: migName,
        description: `${marker} NAT VM ${member} (${member === 'a' ? 'primary' : 'failover'}) of stateful gateway ${gateway}`,
        baseInstanceName: `${gateway}-${member}`,
        distributionPolicy: { targetShape: 'EVEN', zones: [{ zone: `projects/${project}/zones/${zone}` }] },
        statefulPolicy: { preservedState: { internalIPs: { nic0: { autoDelete: 'NEVER' } } } },
        // One zone: a fixed maxUnavailable of 1 is "at least the zone count"; natgw paces replacements itself.
        updatePolicy: { ...ha.mig.updatePolicy, maxUnavailable: { fixed: 1 } },
      },
      instanceGroup: regional('instanceGroups', migName),
      vm: vmNameFor(gateway, names.syncAddress[member]),
      ports: PORT_HALVES[member],
    };
  }) as [DesiredMember, DesiredMember];
  const shared = {
    healthChecks: ha.backendService.healthChecks,
    backends,
    sessionAffinity: 'NONE',
    connectionDraining: ha.backendService.connectionDraining,
    failoverPolicy,
    connectionTrackingPolicy,
  };
  const desired: DesiredStateful = {
    ha: { ...ha, firewalls },
    natAddress: { name: names.natAddress, labels, description: `${marker} the one NAT IP of stateful gateway ${gateway}` },
    members,
    nlb: {
      name: names.nlb,
      description: `${marker} external passthrough load balancer holding the NAT IP (a active / b standby) of stateful gateway ${gateway}`,
      loadBalancingScheme: 'EXTERNAL',
      protocol: 'UNSPECIFIED',
      ...shared,
    },
    natForwardingRule: {
      name: names.natForwardingRule,
      description: `${marker} the NAT IP of stateful gateway ${gateway}: replies to it reach the active NAT VM`,
      loadBalancingScheme: 'EXTERNAL',
      IPProtocol: 'L3_DEFAULT',
      allPorts: true,
      ...(ips.natIp === undefined ? {} : { IPAddress: ips.natIp }),
      backendService: regional('backendServices', names.nlb),
      networkTier: 'PREMIUM',
      labels,
    },
    ...(ips.natIp === undefined ? {} : { natIp: ips.natIp }),
    memberIps: ips.members,
  };
  return { desired, agentConfig };
}

// ---- observe ----

/** Reads what stateful HA adds to an HA gateway (GETs and read-only POSTs only). */
export async function observeStateful(ctx: CallContext, gateway: string, region: string): Promise<ObservedStateful> {
  const names = statefulNames(gateway);
  const member = async (name: string): Promise<ObservedMember> => {
    const mig = await getMig(ctx, region, name);
    if (mig === undefined) return { configs: [], vms: [] };
    const [configs, managed] = await Promise.all([listPerInstanceConfigs(ctx, region, name), listManagedInstances(ctx, region, name)]);
    return { mig, configs, vms: observedVms(managed) };
  };
  const address = async (name: string) => {
    const found: Address | undefined = await getAddress(ctx, region, name);
    return found === undefined ? undefined : observeAddress(found);
  };
  const firewall = async (name: string) => {
    const found = await getFirewall(ctx, name);
    return found === undefined ? undefined : observeFirewall(found);
  };
  const [natAddress, syncA, syncB, sync, back, a, b, nlb, natForwardingRule] = await Promise.all([
    address(names.natAddress),
    address(names.syncAddress.a),
    address(names.syncAddress.b),
    firewall(names.firewallSync),
    firewall(names.firewallReturn),
    member(names.mig.a),
    member(names.mig.b),
    getBackendService(ctx, region, names.nlb),
    getForwardingRule(ctx, region, names.natForwardingRule),
  ]);
  return {
    ...(natAddress === undefined ? {} : { natAddress }),
    syncAddresses: { a: syncA, b: syncB },
    firewalls: { [names.firewallSync]: sync, [names.firewallReturn]: back },
    members: { a, b },
    ...(nlb === undefined ? {} : { nlb }),
    ...(natForwardingRule === undefined ? {} : { natForwardingRule }),
  };
}

/** Anything only stateful HA creates exists: status and destroy then treat the gateway as stateful. */
export const hasStatefulResources = (observed: ObservedHa): boolean => {
  const parts = observed.stateful;
  if (parts === undefined) return false;
  return (
    parts.natAddress !== undefined ||
    MEMBERS.some((member) => parts.syncAddresses[member] !== undefined || parts.members[member].mig !== undefined) ||
    parts.nlb !== undefined ||
    parts.natForwardingRule !== undefined ||
    Object.values(parts.firewalls).some((firewall) => firewall !== undefined)
  );
};

// ---- plan ----

const EMPTY_STATEFUL: ObservedStateful = {
  syncAddresses: { a: undefined, b: undefined },
  firewalls: {},
  members: { a: { configs: [], vms: [] }, b: { configs: [], vms: [] } },
};

const internalIpConfigAddress = (config: PerInstanceConfig): string =>
  lastSegment(config.preservedState?.internalIPs?.nic0?.ipAddress?.address);

export function planStateful(desired: DesiredStateful, observed: ObservedHa): Plan {
  const ha = desired.ha;
  const gateway = ha.gateway;
  const parts: ObservedStateful = observed.stateful ?? EMPTY_STATEFUL;
  const changes: Change[] = [];
  const conflicts: Change[] = [];
  const conflict = (kind: Change['kind'], name: string, note: string) =>
    conflicts.push({ kind, name, action: 'conflict', diffs: [], note });

  planModeSwitch(gateway, observed, conflict);
  if (observed.mig !== undefined && ownerFromDescription(observed.mig.description) === gateway) {
    conflict(
      'mig',
      observed.mig.name ?? haNames(gateway).mig,
      `gateway ${gateway} runs in HA mode without --stateful; switching is not done in place: run 'natgw destroy' first (its NAT IPs go away), then 'natgw provision --ha --stateful'`,
    );
  }

  // ---- addresses: the NAT IP, then each member's internal IP ----
  const address = (want: DesiredAddressOf, have: ObservedAddress | undefined, what: string) => {
    const name = want.name;
    if (have === undefined) changes.push({ kind: 'address', name, action: 'create', diffs: [], note: what, want });
    else if (ownerFromLabels(have.labels) !== gateway)
      conflict('address', name, 'an address with this name exists but is not labelled as this gateway; pick another --name');
    else changes.push({ kind: 'address', name, action: 'unchanged', diffs: [], note: have.address });
  };
  address(desired.natAddress, parts.natAddress, 'EXTERNAL: the one NAT IP to allow-list');
  for (const member of desired.members)
    address(member.syncAddress, parts.syncAddresses[member.member], `INTERNAL: nic0 of NAT VM ${member.member}, sync peer`);

  planFirewalls(gateway, ha.firewalls, { ...observed.firewalls, ...parts.firewalls }, changes, conflicts);
  planHealthChecks(gateway, [ha.healthChecks.traffic, ha.healthChecks.autoheal], observed, changes, conflict);
  planTemplate(gateway, ha.template, observed, changes, conflict);

  // ---- one group of one VM per member, its internal IP pinned by a per-instance config ----
  for (const member of desired.members) {
    const have = parts.members[member.member];
    planMig(gateway, member.mig, [member.zone], have.mig, changes, conflict);
    const config = have.configs.find((candidate) => internalIpConfigAddress(candidate) === member.syncAddress.name);
    const vm = have.vms.find((candidate) => candidate.name === (config?.name ?? member.vm));
    const role = member.member === 'a' ? 'primary' : 'failover';
    if (vm === undefined)
      changes.push({
        kind: 'vm',
        name: config?.name ?? member.vm,
        action: 'create',
        diffs: [],
        note: `${role} in ${member.zone}, IP from ${member.syncAddress.name}`,
        payload: { mig: member.mig.name, address: member.syncAddress.name, ip: 'internal' },
      });
    else if (vm.template !== ha.template.name)
      changes.push({
        kind: 'vm',
        name: vm.name,
        action: 'replace',
        diffs: [{ field: 'template', have: vm.template, want: ha.template.name }],
        note: 'standby (b) first, then a: each drained, recreated with the same name and IP, healthy and resynced before the next',
      });
    else changes.push({ kind: 'vm', name: vm.name, action: 'unchanged', diffs: [], note: `${role} in ${vm.zone}` });
  }

  planBackendService(gateway, ha.backendService, observed.backendService, changes, conflict);
  planBackendService(gateway, desired.nlb, parts.nlb, changes, conflict);
  const ruleReplaced = planForwardingRule(gateway, ha.forwardingRule, observed.forwardingRule, changes, conflict);
  planForwardingRule(
    gateway,
    desired.natForwardingRule,
    parts.natForwardingRule,
    changes,
    conflict,
    'forwarding rules cannot be changed in place; replies to the NAT IP are lost meanwhile',
    desired.natAddress.name,
  );
  planRoute(gateway, ha.route, observed.route, ruleReplaced, changes, conflict);
  planStaleTemplates(gateway, ha.template.name, observed, changes);
  return { changes, conflicts, upToDate: isUpToDate(changes, conflicts) };
}

// ---- the agent's guest attribute natgw/health ----

export interface SyncState {
  peerUp?: boolean;
  resynced?: boolean;
  role?: string;
}

/**
 * The sync state a stateful agent publishes: guest attribute natgw/sync (`{ peerUp, resynced, role }`, what the agent
 * writes), else a `sync` object inside a JSON natgw/health (issue 14's first contract).
 */
export function syncStateOf(sync: string | undefined | null, health: string | undefined | null): SyncState | undefined {
  if (sync !== undefined && sync !== null && sync !== '') {
    try {
      const parsed = JSON.parse(sync) as unknown;
      if (parsed !== null && typeof parsed === 'object') return parsed as SyncState;
    } catch {
      return undefined;
    }
  }
  return parseHealthAttribute(health).sync;
}

/**
 * natgw/health as the agent writes it: `ok` / `unhealthy: …`, or a JSON object with `status` and, in stateful mode,
 * `sync: { peerUp, resynced, role }` (the contract of issue 14). Anything else is "not reported".
 */
export function parseHealthAttribute(value: string | undefined | null): { ok: boolean; text: string; sync?: SyncState } {
  if (value === undefined || value === null || value === '') return { ok: false, text: 'not reported' };
  if (!value.trimStart().startsWith('{')) return { ok: value === 'ok', text: value };
  try {
    const parsed = JSON.parse(value) as { status?: unknown; sync?: SyncState };
    const status = typeof parsed.status === 'string' ? parsed.status : 'unknown';
    const sync = parsed.sync !== null && typeof parsed.sync === 'object' ? parsed.sync : undefined;
    return { ok: status === 'ok', text: status, ...(sync === undefined ? {} : { sync }) };
  } catch {
    return { ok: false, text: value };
  }
}
