// The whole data plane as one nftables table, from a pure function of the config (kube-proxy's nftables mode is the
// model): one table owned by natgw, an interval set instead of rule lists, counters the agent reads back, and the table
// replaced in one `nft -f` transaction.
import ipaddr from 'ipaddr.js';
import { splitHostPort } from '../common/host-port.js';
import { MSS_RANGE, OVERFLOW_PORTS, type AgentConfig } from './config.js';
import { HEALTH_CHECK_SOURCE_RANGES, NFLOG_GROUP, NLB_HEALTH_CHECK_SOURCE_RANGES } from '../common/protocol.js';

export const TABLE_FAMILY = 'ip';
export const TABLE_NAME = 'natgw';
export const SOURCE_SET = 'sources';
export const FLOWTABLE = 'fastpath';
/** Port blocks: client address → NAT address . port range, one element per VM (docs/agent.md, "Port allocation"). */
export const PORT_BLOCK_MAP = 'port_blocks';
/** The map's keys again: an address without an element is translated from OVERFLOW_PORTS until it has one. */
export const PORT_BLOCK_VMS = 'port_block_vms';
export const PORT_BLOCK_USE = 'port_block_use';
/** Refusals for a full block, counted per client address by the kernel (a dynamic set with a counter per element). */
export const PORT_BLOCK_REFUSALS = 'port_block_refusals';
/** A client's first packet without a block reaches the agent here, whatever the logging setting: that is how it learns. */
export const PORT_BLOCK_LEARN_GROUP = NFLOG_GROUP.portBlockLearn;
/**
 * Enough for a burst of new clients. A client whose notice is lost is learnt from its next connection, or from the
 * agent's listing of the overflow ports' connections (agent/overflow-attribution.ts).
 */
const LEARN_RATE_PER_SECOND = 1000;
/**
 * Clients reported over PORT_BLOCK_LEARN_GROUP in the last second: one notice per client per second, not one per
 * connection. A client the port space has no room for stays on the overflow ports, and every NFLOG line wakes tcpdump
 * and the agent: per connection, that cost a tenth of the NAT VM's new connections per second (docs/bench.md).
 */
export const PORT_BLOCK_LEARNING = 'port_block_learning';
/**
 * Dynamic mode: client address → `jump port_block_<size>`, the chain of its block's size. A connection that would
 * not fit its block (N connections to one destination already) goes out from the overflow ports instead of failing
 * in the NAT, and its VM is reported over PORT_BLOCK_LEARN_GROUP so the agent doubles the block at once: growth does
 * not wait for a conntrack sample, and no packet is dropped below maxPortsPerVm.
 */
export const PORT_BLOCK_CLASS = 'port_block_class';
/** Dynamic mode: VMs reported as over their block in the last second (one notice per VM per second). */
export const PORT_BLOCK_GROWING = 'port_block_growing';
const PORT_BLOCK_SPILL_CHAIN = 'port_block_spill';
export const portBlockClassChain = (size: number) => `port_block_${size}`;
const portBlockClassUse = (size: number) => `port_block_use_${size}`;
/** The block sizes dynamic mode may hand out: the powers of two from min to max. */
export function portBlockSizes(min: number, max: number): number[] {
  const sizes: number[] = [];
  for (let size = min; size <= max; size *= 2) sizes.push(size);
  return sizes;
}
/**
 * Conntrack mark bits of connections translated from OVERFLOW_PORTS: the agent lists only these (`conntrack -L --mark`,
 * filtered by the kernel) to attribute each overflow port to its VM (agent/overflow-attribution.ts).
 */
export const OVERFLOW_MARK = { value: 0x4e470000, mask: 0xffff0000 } as const;
/**
 * Conntrack mark of a connection the forward chain admitted (same bits, another value; the overflow rule overwrites
 * it). The NAT rules test this mark instead of asking again what the forward chain decided on the same first packet:
 * the source and destination set lookups, and a FIB lookup to leave the VM's own traffic alone (the VM's own packets
 * never pass the forward chain, so they never carry it).
 */
export const ADMITTED_MARK = { value: 0x4e410000, mask: 0xffff0000 } as const;
/** Conntrack mark of an admitted connection that did not fit its VM's dynamic block: translated from the overflow ports. */
export const SPILLED_MARK = { value: 0x4e530000, mask: 0xffff0000 } as const;
const setMark = (mark: { value: number; mask: number }) => `ct mark set ct mark and ${hex(~mark.mask >>> 0)} or ${hex(mark.value)}`;
export const OVERFLOW_COUNTER = 'overflow';
/** Packets to the agent's port from where nobody may reach it (a client VM, the internet through the NAT IP). */
export const AGENT_PORT_REFUSED = 'agent_port_refused';
const AGENT_PORT_CHAIN = 'agent_port';
/** Stateful mode: what arrives for the shared NAT IP (probes, replies, the internet knocking). */
const NAT_IP_CHAIN = 'nat_ip';

/** What the agent reads back from the table (`nft -j -t list table ip natgw`, collectors/rules.ts). */
export const COUNTER = {
  egress: 'egress',
  ingress: 'ingress',
  newConnections: 'new',
  /** Connections that reached our masquerade rule: fewer than `new` means someone else's chain dropped them. */
  translated: 'translated',
} as const;

/**
 * The rules every forwarded packet ends in count with anonymous counters, which the agent adds up by the rule's comment:
 * with named ones picked by direction (`counter name ct direction map`), 64-byte UDP read about a point lower
 * (docs/bench.md, runs 11–14). Off the hot path (drops, translations, the agent's port) counters stay named.
 */
export const COUNTING_RULES: Readonly<Record<string, readonly (typeof COUNTER)[keyof typeof COUNTER][]>> = {
  'established-ingress': [COUNTER.ingress],
  'established-egress': [COUNTER.egress],
  unreplied: [COUNTER.egress],
  'admit-new': [COUNTER.newConnections, COUNTER.egress],
  'spill-new': [COUNTER.newConnections, COUNTER.egress],
};
const fedByRules = new Set(Object.values(COUNTING_RULES).flat());
const NAMED_COUNTERS = Object.values(COUNTER).filter((id) => !fedByRules.has(id));

/** Stateful mode only: the sync link's traffic and what arrives for the shared NAT IP (role and refusals). */
export const STATEFUL_COUNTER = {
  syncSent: 'sync_sent',
  syncReceived: 'sync_received',
  /** Every packet for the NAT IP: it rises only on the VM the load balancer sends replies to, the active one. */
  natIpIn: 'nat_ip_in',
  /** Packets for the NAT IP that belong to no translation (the internet knocking): dropped. */
  natIpRefused: 'nat_ip_refused',
} as const;

/** Each drop reason has its own chain: one place to count it and, rate-limited in the kernel, to log it via NFLOG. */
export const DROP_REASONS = [
  { reason: 'source_not_allowed', chain: 'drop_source_not_allowed', nflogGroup: NFLOG_GROUP.sourceNotAllowed },
  { reason: 'per_vm_cap', chain: 'drop_per_vm_cap', nflogGroup: NFLOG_GROUP.perVmCap },
  { reason: 'invalid', chain: 'drop_invalid', nflogGroup: NFLOG_GROUP.invalid },
  { reason: 'port_block_full', chain: 'drop_port_block_full', nflogGroup: NFLOG_GROUP.portBlockFull },
] as const;
export type DropReason = (typeof DROP_REASONS)[number]['reason'];
export const dropCounterId = (reason: DropReason) => `drop_${reason}`;
export const logCounterId = (reason: DropReason) => `log_${reason}`;
const dropChain = (reason: DropReason) => DROP_REASONS.find((entry) => entry.reason === reason)!.chain;
const PORT_BLOCK_REASONS: readonly DropReason[] = ['port_block_full'];
const usesPortBlocks = (config: AgentConfig) => config.portAllocation.mode !== 'shared';
/** The shared pool has no port-block drops, so its table (and its golden listing) stays as it was. */
const dropReasonsFor = (config: AgentConfig) =>
  DROP_REASONS.filter(({ reason }) => usesPortBlocks(config) || !PORT_BLOCK_REASONS.includes(reason));

export interface RenderOptions {
  /** Only when the kernel has nf_flow_table: the config flag alone does not add it. */
  flowtable?: boolean;
  /** Stateful mode: which member this VM is (config.statefulRoles), needed to render its SNAT and sync counters. */
  stateful?: StatefulPeers;
  /** The port the agent serves on when `--listen` overrides the config's `listen`. */
  agentPort?: number;
  /** The egress interface's MTU, read by the agent: `mssClamp: "pmtu"` clamps to it (see mssClampValue). */
  egressMtu?: number;
}

/** IPv4 and TCP headers without options: an MTU less these is the largest MSS that fits. */
const TCP_IPV4_HEADERS = 40;

/**
 * What the clamp sets the MSS to. For `"pmtu"`, the path MTU less the headers. `rt mtu` computes it on every SYN and
 * SYN-ACK from the smaller of the packet's own route's MTU and that of the route back to its source (nft_rt's
 * get_tcpmss looks the latter up each time). The clamp only touches packets that come in and go out by the egress
 * interface (renderRuleset), and a NAT VM learns no path MTU for forwarded flows (an ICMP error about one goes to the
 * client), so both routes carry the interface's MTU: the agent reads it and renders the number, which spares the lookup
 * (what that saves is not resolved, docs/bench.md). `rt mtu` stays where the MTU is unknown. A route whose MTU an
 * operator pinned lower is seen by `rt mtu` only: set mssClamp to a number.
 */
export function mssClampValue(config: AgentConfig, egressMtu: number | undefined): string {
  if (config.mssClamp !== 'pmtu') return String(config.mssClamp);
  const mss = egressMtu === undefined ? Number.NaN : egressMtu - TCP_IPV4_HEADERS;
  return Number.isInteger(mss) && mss >= MSS_RANGE.min && mss <= MSS_RANGE.max ? String(mss) : 'rt mtu';
}

export interface Ruleset {
  /** Input for `nft -f`: creates, deletes and redefines our table in one transaction. */
  text: string;
  /** The allow-list as it is written into the set: sorted, nested ranges folded into the ranges that hold them. */
  sourceRanges: string[];
}

const q = (text: string) => `"${text}"`;
const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** This VM's and its peer's member entries; stateful configs are only rendered once their roles are known. */
export interface StatefulPeers {
  natIp: string;
  syncPort: number;
  selfIp: string;
  peerIp: string;
  ports: string;
}

export function renderRuleset(config: AgentConfig, egressInterface: string, options: RenderOptions = {}): Ruleset {
  const ifc = q(egressInterface);
  const sourceRanges = foldSourceRanges(config.sourceRanges);
  const logErrors = config.logging === 'errors' || config.logging === 'all';
  const rate = config.logRateLimitPerSecond;
  const mss = mssClampValue(config, options.egressMtu);
  // "preserve" keeps the client's source port unless it clashes. "random" (fully-random) avoids clashes between many
  // clients, but under churn to one server it often picks a port whose 4-tuple the server still holds in TIME_WAIT,
  // and that SYN is refused (measured in bench/churn).
  const masquerade = config.natPortAllocation === 'random' ? 'masquerade fully-random' : 'masquerade';
  const offload = options.flowtable === true;
  // Only what the forward chain admitted is translated: from @sources, to outside them, not the VM's own traffic.
  const admitted = `oifname ${ifc} ct mark & ${hex(ADMITTED_MARK.mask)} == ${hex(ADMITTED_MARK.value)}`;
  const admittedOrSpilled = `oifname ${ifc} ct mark & ${hex(ADMITTED_MARK.mask)} { ${hex(ADMITTED_MARK.value)}, ${hex(SPILLED_MARK.value)} }`;
  const dropReasons = dropReasonsFor(config);
  const ports = config.portAllocation;
  // The most ports one VM may hold: one destination ip:port/protocol can see at most that many of its connections.
  const blockLimit = ports.mode === 'static' ? ports.portsPerVm : ports.mode === 'dynamic' ? ports.maxPortsPerVm : undefined;
  const dynamicSizes = ports.mode === 'dynamic' ? portBlockSizes(ports.minPortsPerVm, ports.maxPortsPerVm) : [];
  const stateful = config.stateful === undefined ? undefined : options.stateful;
  if (config.stateful !== undefined && stateful === undefined)
    throw new Error('a stateful config needs its roles to render (RenderOptions.stateful)');
  const counterNames = [
    ...NAMED_COUNTERS,
    AGENT_PORT_REFUSED,
    ...(stateful === undefined ? [] : Object.values(STATEFUL_COUNTER)),
    ...(usesPortBlocks(config) ? [OVERFLOW_COUNTER] : []),
    ...dropReasons.flatMap(({ reason }) => [dropCounterId(reason), logCounterId(reason)]),
  ];

  const lines: string[] = [
    // Declaring then deleting makes the delete safe when the table is absent; the whole file is one transaction, so
    // packets see either the old table or the new one, never none.
    `table ${TABLE_FAMILY} ${TABLE_NAME}`,
    `delete table ${TABLE_FAMILY} ${TABLE_NAME}`,
    `table ${TABLE_FAMILY} ${TABLE_NAME} {`,
    ...counterNames.map((name) => `  counter ${name} { }`),
    `  set ${SOURCE_SET} {`,
    '    type ipv4_addr; flags interval;',
    ...(sourceRanges.length === 0 ? [] : [`    elements = { ${sourceRanges.join(', ')} }`]),
    '  }',
  ];
  if (config.maxConnectionsPerVm !== undefined) lines.push('  set per_vm_connections { type ipv4_addr; size 65535; flags dynamic; }');
  if (blockLimit !== undefined)
    lines.push(
      // The elements are the agent's state, added and removed in their own transactions (renderPortBlockElements).
      `  map ${PORT_BLOCK_MAP} { type ipv4_addr : interval ipv4_addr . inet_service; flags interval; }`,
      `  set ${PORT_BLOCK_VMS} { type ipv4_addr; }`,
      `  set ${PORT_BLOCK_USE} { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }`,
      `  set ${PORT_BLOCK_REFUSALS} { type ipv4_addr; size 65535; flags dynamic; counter; }`,
      `  set ${PORT_BLOCK_LEARNING} { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 1s; }`,
    );
  if (dynamicSizes.length > 0) {
    lines.push(
      `  map ${PORT_BLOCK_CLASS} { type ipv4_addr : verdict; }`,
      `  set ${PORT_BLOCK_GROWING} { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 1s; }`,
      ...dynamicSizes
        .slice(0, -1)
        .map(
          (size) =>
            `  set ${portBlockClassUse(size)} { type ipv4_addr . ipv4_addr . inet_proto . inet_service; size 1048576; flags dynamic; }`,
        ),
      `  chain ${PORT_BLOCK_SPILL_CHAIN} {`,
      `    ip saddr != @${PORT_BLOCK_GROWING} limit rate ${LEARN_RATE_PER_SECOND}/second burst ${LEARN_RATE_PER_SECOND} packets add @${PORT_BLOCK_GROWING} { ip saddr } log group ${PORT_BLOCK_LEARN_GROUP} queue-threshold 1 comment "port-block-grow"`,
      `    ${setMark(SPILLED_MARK)} counter accept comment "spill-new"`,
      '  }',
      ...dynamicSizes.flatMap((size) => [
        `  chain ${portBlockClassChain(size)} {`,
        // At the largest size the forward chain's port-block-full rule refuses the next connection instead.
        ...(size === dynamicSizes.at(-1)
          ? []
          : [
              `    add @${portBlockClassUse(size)} { ip saddr . ip daddr . meta l4proto . th dport ct count over ${size} } goto ${PORT_BLOCK_SPILL_CHAIN} comment "over-block"`,
            ]),
        '  }',
      ]),
    );
  }
  if (offload) lines.push(`  flowtable ${FLOWTABLE} { hook ingress priority filter; devices = { ${ifc} }; counter; }`);
  for (const { reason, chain, nflogGroup } of dropReasons) {
    lines.push(`  chain ${chain} {`);
    if (reason === 'port_block_full') lines.push(`    update @${PORT_BLOCK_REFUSALS} { ip saddr } comment "count-per-vm"`);
    if (logErrors)
      lines.push(
        `    limit rate ${rate}/second burst ${rate} packets counter name ${q(logCounterId(reason))} log group ${nflogGroup} comment "log"`,
      );
    lines.push(`    counter name ${q(dropCounterId(reason))} drop comment "drop"`, '  }');
  }
  lines.push(
    '  chain forward {',
    // Before the usual filter priority, so an iptables FORWARD chain (priority 0) comes after us: a drop there is
    // visible to us as a connection admitted but never translated.
    '    type filter hook forward priority filter - 10; policy accept;',
    // Forwarded traffic that did not arrive on the VPC NIC belongs to someone else (containers, other NICs).
    `    iifname != ${ifc} return comment "not-from-vpc"`,
    // Both directions' SYNs (the client's SYN, the server's SYN-ACK), like the TCPMSS rule it replaces; only what leaves
    // by the egress NIC, the traffic we translate: a packet in and out by it is what mssClampValue's number is for.
    `    tcp flags syn / syn,rst oifname ${ifc} tcp option maxseg size set ${mss} comment "mss-clamp"`,
    // The fast path: a flow's later packets skip every allow-list check its first packet passed.
    ...(offload ? ['    ct state established meta l4proto { tcp, udp } flow add @fastpath comment "offload"'] : []),
    // Nearly every packet ends in one of these two, replies (downloads) first as they are most of a NAT's packets: a
    // rule after the first costs about 0.06 % (docs/bench.md).
    '    ct state established,related ct direction reply counter accept comment "established-ingress"',
    '    ct state established,related counter accept comment "established-egress"',
    // INVALID and UNTRACKED packets skip NAT in the kernel, so forwarding them would leak private source addresses.
    `    ct state invalid,untracked jump ${dropChain('invalid')} comment "invalid"`,
    // A confirmed connection not yet answered (every later packet of a one-way UDP flow, a retransmitted SYN) passed
    // the checks below with its first packet. Asking again cost each such packet two set lookups and, with port blocks,
    // a connection count (nf_conncount) of its destination; a range removed from sourceRanges has its flows cut by the
    // agent (conntrack -D), as established ones are.
    '    ct status confirmed counter accept comment "unreplied"',
    `    oifname != ${ifc} jump ${dropChain('source_not_allowed')} comment "not-to-vpc"`,
    `    ip saddr != @${SOURCE_SET} jump ${dropChain('source_not_allowed')} comment "source-not-allowed"`,
    `    ip daddr @${SOURCE_SET} jump ${dropChain('source_not_allowed')} comment "destination-inside"`,
    ...(config.maxConnectionsPerVm === undefined
      ? []
      : [
          `    add @per_vm_connections { ip saddr ct count over ${config.maxConnectionsPerVm} } jump ${dropChain('per_vm_cap')} comment "per-vm-cap"`,
        ]),
    ...(blockLimit === undefined
      ? []
      : [
          // The agent learns the address and gives it a block; meanwhile its connections go out from the overflow
          // ports (postrouting), never dropped. queue-threshold 1: nfnetlink_log would otherwise hold a lone packet
          // for up to its 1 s flush timeout (tcpdump cannot set it), and the agent needs it at once.
          `    meta l4proto { tcp, udp } ip saddr != @${PORT_BLOCK_VMS} ip saddr != @${PORT_BLOCK_LEARNING} limit rate ${LEARN_RATE_PER_SECOND}/second burst ${LEARN_RATE_PER_SECOND} packets add @${PORT_BLOCK_LEARNING} { ip saddr } log group ${PORT_BLOCK_LEARN_GROUP} queue-threshold 1 comment "port-block-learn"`,
          // A block of N ports holds N connections to one destination ip:port/protocol: the next is refused here,
          // where it is counted for its VM, instead of failing silently in the NAT.
          `    meta l4proto { tcp, udp } add @${PORT_BLOCK_USE} { ip saddr . ip daddr . meta l4proto . th dport ct count over ${blockLimit} } jump ${dropChain('port_block_full')} comment "port-block-full"`,
          ...(dynamicSizes.length === 0
            ? []
            : [`    meta l4proto { tcp, udp } ip saddr vmap @${PORT_BLOCK_CLASS} comment "port-block-size"`]),
        ]),
    // Only a connection's first packet gets here (its conntrack entry not yet confirmed): counted once as new.
    `    ${setMark(ADMITTED_MARK)} counter accept comment "admit-new"`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat - 10; policy accept;',
    ...(blockLimit === undefined
      ? []
      : [
          `    ${admitted} meta l4proto { tcp, udp } ip saddr @${PORT_BLOCK_VMS} counter name ${q(COUNTER.translated)} snat ip to ip saddr map @${PORT_BLOCK_MAP} comment "port-block-snat"`,
          `    ${dynamicSizes.length === 0 ? admitted : admittedOrSpilled} meta l4proto { tcp, udp } ${setMark(OVERFLOW_MARK)} counter name ${q(OVERFLOW_COUNTER)} counter name ${q(COUNTER.translated)} masquerade to :${OVERFLOW_PORTS.first}-${OVERFLOW_PORTS.last} comment "port-block-overflow"`,
        ]),
    // Not for the VM's own traffic: connections open before the agent started (an operator's SSH session) would be
    // picked up mid-stream and given a new source port, which resets them.
    ...(stateful === undefined
      ? [`    ${admitted} counter name ${q(COUNTER.translated)} ${masquerade} comment "masquerade"`]
      : [
          // Each VM translates to the shared IP from its own half of the ports: while both get client traffic (the two
          // load balancers flip independently) they never make the same translation.
          `    ${admitted} meta l4proto { tcp, udp } counter name ${q(COUNTER.translated)} snat ip to ${stateful.natIp}:${stateful.ports}${config.natPortAllocation === 'random' ? ' fully-random' : ''} comment "stateful-snat"`,
          `    ${admitted} counter name ${q(COUNTER.translated)} snat ip to ${stateful.natIp} comment "stateful-snat-other"`,
        ]),
    '  }',
  );
  const agentPort = options.agentPort ?? splitHostPort(config.listen).port;
  lines.push(...renderInput(config, stateful, agentPort));
  if (stateful !== undefined)
    lines.push(
      // Before the NAT hook (dstnat, -100) turns a reply's destination back into the client's: here it is still the
      // NAT IP. Anything for the NAT IP that is not a reply to a translation is the internet reaching the VM: refused.
      '  chain prerouting {',
      '    type filter hook prerouting priority mangle; policy accept;',
      // Every packet the VM receives passes here (the clients' traffic too): one test of the destination each.
      `    ip daddr ${stateful.natIp} jump ${NAT_IP_CHAIN} comment "nat-ip"`,
      '  }',
      `  chain ${NAT_IP_CHAIN} {`,
      // GCE sends an external load balancer's probes to its forwarding rule's IP, the NAT IP. They pass to the input
      // chain, and before the role counter: both VMs get probes, only the active one gets replies. The port first: a
      // reply fails it without the lookup in the probers' set.
      `    tcp dport ${agentPort} ip saddr { ${probeSourceRanges(config).join(', ')} } accept comment "nat-ip-health-checks"`,
      `    counter name ${q(STATEFUL_COUNTER.natIpIn)} comment "nat-ip-in"`,
      '    ct state established,related accept comment "nat-ip-replies"',
      `    counter name ${q(STATEFUL_COUNTER.natIpRefused)} drop comment "nat-ip-unsolicited"`,
      '  }',
      '  chain output {',
      '    type filter hook output priority filter - 10; policy accept;',
      `    ip daddr ${stateful.peerIp} udp dport ${stateful.syncPort} counter name ${q(STATEFUL_COUNTER.syncSent)} comment "sync-sent"`,
      '  }',
    );
  lines.push('}', '');
  return { text: lines.join('\n'), sourceRanges };
}

/** Google's probers for this config: an external load balancer's come from two more ranges (stateful mode). */
const probeSourceRanges = (config: AgentConfig | undefined): string[] => [
  ...HEALTH_CHECK_SOURCE_RANGES,
  ...(config !== undefined && config.stateful === undefined ? [] : NLB_HEALTH_CHECK_SOURCE_RANGES),
];

const admittedRanges = new WeakMap<AgentConfig, [ipaddr.IPv4, number][]>();
const probesOnly = probeSourceRanges(undefined).map((range) => ipaddr.IPv4.parseCIDR(range));

/**
 * Whether an address other than the VM's own may reach the agent's port: what the input chain admits (renderInput),
 * asked again by the HTTP layer for the moments the table is not in place yet (boot, a failed apply). Before any
 * config, Google's probers only.
 */
export function agentPortAdmits(config: AgentConfig | undefined, address: string): boolean {
  const plain = address.replace(/^::ffff:/, '');
  if (!ipaddr.IPv4.isValidFourPartDecimal(plain)) return false;
  let ranges = config === undefined ? probesOnly : admittedRanges.get(config);
  if (ranges === undefined && config !== undefined) {
    ranges = [
      ...probeSourceRanges(config),
      ...config.metricsSourceRanges,
      ...(config.stateful?.members.map((member) => `${member.ip}/32`) ?? []),
    ].map((range) => ipaddr.IPv4.parseCIDR(range));
    admittedRanges.set(config, ranges);
  }
  const parsed = ipaddr.IPv4.parse(plain);
  return (ranges ?? []).some((range) => parsed.match(range));
}

/** The agent's HTTP port and, in stateful mode, the sync port: who may reach them (docs/security.md). */
function renderInput(config: AgentConfig, stateful: StatefulPeers | undefined, agentPort: number): string[] {
  const probes = probeSourceRanges(config);
  const metrics = foldSourceRanges(config.metricsSourceRanges);
  return [
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    ...(stateful === undefined
      ? []
      : [
          // The peer's relay: its frames are authenticated by the agent's relay, which alone listens on this VM's address.
          `    ip saddr ${stateful.peerIp} udp dport ${stateful.syncPort} counter name ${q(STATEFUL_COUNTER.syncReceived)} accept comment "sync-received"`,
          // conntrackd and the agent's relay talk on loopback (the relay hands it only frames that verified).
          `    iifname "lo" udp dport ${stateful.syncPort} accept comment "sync-relay-loopback"`,
          // The clients' firewall rule lets every client VM reach the NAT VMs on any port, and GCE rules cannot subtract
          // one: without this, any client could inject conntrack state into conntrackd.
          `    udp dport ${stateful.syncPort} counter drop comment "sync-not-from-peer"`,
        ]),
    `    tcp dport ${agentPort} jump ${AGENT_PORT_CHAIN} comment "agent-port"`,
    '  }',
    // The same reason: the clients' rule admits every client VM to every port, so only this chain keeps them off the
    // agent's. Loopback is the VM itself (its own addresses are delivered through lo, and the kernel drops a packet
    // from outside that claims one of them).
    `  chain ${AGENT_PORT_CHAIN} {`,
    '    iifname "lo" accept comment "this-vm"',
    `    ip saddr { ${probes.join(', ')} } accept comment "health-checks"`,
    // The peer polls /sync/summary; a spoofed source gets no TCP handshake, its SYN-ACK goes to the real peer.
    ...(stateful === undefined ? [] : [`    ip saddr ${stateful.peerIp} accept comment "sync-peer"`]),
    ...(metrics.length === 0 ? [] : [`    ip saddr { ${metrics.join(', ')} } accept comment "metrics"`]),
    `    counter name ${q(AGENT_PORT_REFUSED)} drop comment "refused"`,
    '  }',
  ];
}

export interface PortBlockElement {
  vm: string;
  /** The NAT VM's own address on the egress interface: what the kernel writes into the packet. */
  natAddress: string;
  first: number;
  last: number;
  /** Dynamic mode: the block's size, whose chain counts the VM's connections per destination (PORT_BLOCK_CLASS). */
  size?: number;
}

/**
 * `nft -f` input adding or removing port-block elements, all in one transaction; the table's rules stay untouched.
 * `sizedNow` (dynamic mode): the addresses the live block-size map holds. Those removed or added again leave it first:
 * deleting a key the map lacks, or adding one it holds with another verdict, would fail the whole transaction.
 */
export function renderPortBlockElements(add: PortBlockElement[], remove: string[] = [], sizedNow?: ReadonlySet<string>): string {
  const lines: string[] = [];
  if (remove.length > 0)
    lines.push(
      `delete element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_MAP} { ${remove.join(', ')} }`,
      `delete element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_VMS} { ${remove.join(', ')} }`,
    );
  const unsized = [...new Set([...remove, ...add.map((block) => block.vm)])].filter((vm) => sizedNow?.has(vm) === true);
  if (unsized.length > 0) lines.push(`delete element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_CLASS} { ${unsized.join(', ')} }`);
  if (add.length > 0) {
    lines.push(
      `add element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_MAP} { ${add.map((block) => `${block.vm} : ${block.natAddress} . ${block.first}-${block.last}`).join(', ')} }`,
      `add element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_VMS} { ${add.map((block) => block.vm).join(', ')} }`,
    );
    const withSize = add.filter((block) => block.size !== undefined);
    if (withSize.length > 0)
      lines.push(
        `add element ${TABLE_FAMILY} ${TABLE_NAME} ${PORT_BLOCK_CLASS} { ${withSize.map((block) => `${block.vm} : jump ${portBlockClassChain(block.size!)}`).join(', ')} }`,
      );
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `nft -f` input that removes our table and nothing else; deleting an absent table is not an error. */
export const TABLE_REMOVAL = `table ${TABLE_FAMILY} ${TABLE_NAME}\ndelete table ${TABLE_FAMILY} ${TABLE_NAME}\n`;

/** A probe table for nf_flow_table: checked with `nft -c`, so nothing is ever created. */
export const flowtableProbe = (egressInterface: string) =>
  `table ${TABLE_FAMILY} natgw_flowtable_probe {\n  flowtable probe { hook ingress priority filter; devices = { ${q(egressInterface)} }; }\n}\n`;

// --- address arithmetic on IPv4 intervals: the allow-list as the set holds it, and what to cut when a range goes ---

export type Interval = [start: number, end: number];

const toNumber = (address: string) =>
  ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((value, byte) => value * 256 + byte, 0);
const toAddress = (value: number) => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

export function cidrToInterval(cidr: string): Interval {
  const [address, prefix = '32'] = cidr.split('/');
  const start = toNumber(address ?? '');
  const size = 2 ** (32 - Number(prefix));
  const base = start - (start % size);
  return [base, base + size - 1];
}

/** The fewest CIDR blocks covering an interval exactly. */
export function intervalToCidrs([start, end]: Interval): string[] {
  const cidrs: string[] = [];
  let at = start;
  while (at <= end) {
    let size = 1;
    while (at % (size * 2) === 0 && at + size * 2 - 1 <= end && size < 2 ** 32) size *= 2;
    const prefix = 32 - Math.log2(size);
    cidrs.push(prefix === 32 ? toAddress(at) : `${toAddress(at)}/${prefix}`);
    at += size;
  }
  return cidrs;
}

export function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const merged: Interval[] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** Addresses in `from` that none of `remove` covers. */
export function subtractIntervals(from: Interval[], remove: Interval[]): Interval[] {
  let pieces = mergeIntervals(from);
  for (const [cutStart, cutEnd] of mergeIntervals(remove)) {
    pieces = pieces.flatMap(([start, end]): Interval[] => {
      if (cutEnd < start || cutStart > end) return [[start, end]];
      return [...(cutStart > start ? [[start, cutStart - 1] as Interval] : []), ...(cutEnd < end ? [[cutEnd + 1, end] as Interval] : [])];
    });
  }
  return pieces;
}

/**
 * An interval set refuses overlapping elements, and CIDR blocks either nest or are disjoint: dropping the blocks held
 * by another leaves a valid element list that still reads like the config (no merged ranges a reader never wrote).
 */
export function foldSourceRanges(ranges: string[]): string[] {
  const unique = [...new Set(ranges.map((range) => intervalToCidrs(cidrToInterval(range))[0] ?? range))];
  const kept = unique.filter((range) => {
    const [start, end] = cidrToInterval(range);
    return !unique.some((other) => other !== range && cidrToInterval(other)[0] <= start && cidrToInterval(other)[1] >= end);
  });
  return kept.sort((a, b) => cidrToInterval(a)[0] - cidrToInterval(b)[0]);
}
