// The whole data plane as text, from a pure function of the config (kube-proxy style): the rules are written exactly as
// `iptables-save` prints them, so comparing the live ruleset with the desired one is a text comparison.
import type { AgentConfig } from './config.js';

export const CHAIN_PREFIX = 'NATGW-';
export const SOURCE_SET = 'natgw-src';
export const STAGING_SET = 'natgw-src-next';
const SET_OPTIONS = 'hash:net family inet hashsize 1024 maxelem 65536';

/** Comments double as stable ids for the counters that metrics read back from `iptables-save -c`. */
export const COUNTER = {
  egress: 'natgw:egress',
  ingress: 'natgw:ingress',
  newConnections: 'natgw:new',
} as const;

/** Each drop reason has its own chain: one place to count it and, rate-limited in the kernel, to log it via NFLOG. */
export const DROP_REASONS = [
  { reason: 'source_not_allowed', chain: 'NATGW-DROP-SOURCE', nflogGroup: 4201 },
  { reason: 'per_vm_cap', chain: 'NATGW-DROP-CAP', nflogGroup: 4202 },
  { reason: 'invalid', chain: 'NATGW-DROP-INVALID', nflogGroup: 4203 },
] as const;
export type DropReason = (typeof DROP_REASONS)[number]['reason'];
export const dropCounterId = (reason: DropReason) => `natgw:drop:${reason}`;
export const logCounterId = (reason: DropReason) => `natgw:log:${reason}`;
const dropChain = (reason: DropReason) => DROP_REASONS.find((entry) => entry.reason === reason)!.chain;

export type Table = 'filter' | 'nat' | 'mangle';
export const TABLES: readonly Table[] = ['mangle', 'filter', 'nat'];

export interface Jump {
  table: Table;
  builtinChain: string;
  target: string;
}

export interface Ruleset {
  /** Our chains and their rules, per table, in the order they must appear. */
  chains: Record<Table, Record<string, string[]>>;
  jumps: Jump[];
  sourceSet: string[];
}

export const JUMPS: readonly Jump[] = [
  { table: 'mangle', builtinChain: 'FORWARD', target: 'NATGW-MSS' },
  { table: 'filter', builtinChain: 'FORWARD', target: 'NATGW-FORWARD' },
  { table: 'nat', builtinChain: 'POSTROUTING', target: 'NATGW-POSTROUTING' },
];

export function jumpRule(jump: Jump): string {
  return `-A ${jump.builtinChain} -j ${jump.target}`;
}

const comment = (id: string) => `-m comment --comment "${id}"`;

export function renderRuleset(config: AgentConfig, egressInterface: string): Ruleset {
  const ifc = egressInterface;
  const fromClients = `-m set --match-set ${SOURCE_SET} src -m set ! --match-set ${SOURCE_SET} dst`;
  // "preserve" keeps the client's source port unless it clashes. "random" (--random-fully) avoids clashes between
  // many clients, but under churn to one server it often picks a port whose 4-tuple the server still holds in
  // TIME_WAIT, and that SYN is refused (measured in bench/churn).
  const masqueradePorts = config.natPortAllocation === 'random' ? ' --random-fully' : '';
  const mss = config.mssClamp === 'pmtu' ? '--clamp-mss-to-pmtu' : `--set-mss ${config.mssClamp}`;
  const perVmCap =
    config.maxConnectionsPerVm === undefined
      ? []
      : [`-A NATGW-EGRESS -m conntrack --ctstate NEW -m connlimit --connlimit-above ${config.maxConnectionsPerVm} --connlimit-mask 32 --connlimit-saddr -j ${dropChain('per_vm_cap')}`];
  const logErrors = config.logging === 'errors' || config.logging === 'all';
  const dropChains = Object.fromEntries(
    DROP_REASONS.map(({ reason, chain, nflogGroup }) => [
      chain,
      [
        ...(logErrors
          ? [`-A ${chain} -m limit --limit ${config.logRateLimitPerSecond}/sec --limit-burst ${config.logRateLimitPerSecond} ${comment(logCounterId(reason))} -j NFLOG --nflog-group ${nflogGroup}`]
          : []),
        `-A ${chain} ${comment(dropCounterId(reason))} -j DROP`,
      ],
    ]),
  );
  return {
    chains: {
      mangle: {
        'NATGW-MSS': [`-A NATGW-MSS -o ${ifc} -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS ${mss}`],
      },
      filter: {
        'NATGW-FORWARD': [
          // Forwarded traffic that did not arrive on the VPC NIC belongs to someone else (containers, other NICs).
          `-A NATGW-FORWARD ! -i ${ifc} -j RETURN`,
          // INVALID packets skip NAT in the kernel, so forwarding them would leak private source addresses.
          `-A NATGW-FORWARD -m conntrack --ctstate INVALID -j ${dropChain('invalid')}`,
          `-A NATGW-FORWARD -o ${ifc} -m conntrack --ctstate RELATED,ESTABLISHED --ctdir REPLY ${comment(COUNTER.ingress)} -j ACCEPT`,
          `-A NATGW-FORWARD -o ${ifc} ${fromClients} -j NATGW-EGRESS`,
          `-A NATGW-FORWARD -j ${dropChain('source_not_allowed')}`,
        ],
        'NATGW-EGRESS': [...perVmCap, `-A NATGW-EGRESS -m conntrack --ctstate NEW ${comment(COUNTER.newConnections)}`, `-A NATGW-EGRESS ${comment(COUNTER.egress)} -j ACCEPT`],
        ...dropChains,
      },
      nat: {
        // Not for the VM's own traffic: connections open before the agent started (an operator's SSH session) would be
        // picked up mid-stream and given a new source port, which resets them.
        'NATGW-POSTROUTING': [`-A NATGW-POSTROUTING -o ${ifc} -m addrtype ! --src-type LOCAL ${fromClients} -j MASQUERADE${masqueradePorts}`],
      },
    },
    jumps: [...JUMPS],
    sourceSet: normalizeSetMembers(config.sourceRanges),
  };
}

/** ipset prints a /32 member without its prefix; compare members in that form, sorted. */
export function normalizeSetMembers(members: string[]): string[] {
  return [...new Set(members.map((member) => member.replace(/\/32$/, '')))].sort();
}

/** Input for one `iptables-restore --noflush`: declaring a chain flushes it, so the transaction replaces our chains whole. */
export function renderRestoreInput(ruleset: Ruleset): string {
  const lines: string[] = [];
  for (const table of TABLES) {
    const chains = ruleset.chains[table];
    lines.push(`*${table}`);
    for (const chain of Object.keys(chains)) lines.push(`:${chain} - [0:0]`);
    for (const rules of Object.values(chains)) lines.push(...rules);
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
}

/** Removes our chains in one transaction; the jumps must already be gone (a referenced chain cannot be deleted). */
export function renderRemovalInput(chainsByTable: Record<Table, string[]>): string {
  const lines: string[] = [];
  for (const table of TABLES) {
    const chains = chainsByTable[table];
    if (chains.length === 0) continue;
    lines.push(`*${table}`);
    for (const chain of chains) lines.push(`:${chain} - [0:0]`);
    for (const chain of chains) lines.push(`-X ${chain}`);
    lines.push('COMMIT');
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Fills a staging set that is swapped in afterwards, so the live set never holds a partial list. */
export function renderSetStagingInput(ruleset: Ruleset): string {
  return [
    `create ${SOURCE_SET} ${SET_OPTIONS}`,
    `create ${STAGING_SET} ${SET_OPTIONS}`,
    `flush ${STAGING_SET}`,
    ...ruleset.sourceSet.map((member) => `add ${STAGING_SET} ${member}`),
    '',
  ].join('\n');
}
