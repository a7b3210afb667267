// What the lab's fabric and each VM's emulated GCE firewall are made of, as text from pure functions (golden-testable
// without root); lab.ts applies it.
import { HEALTH_CHECK_RANGES, METADATA_IP, VPC, type LabFirewallRule, type LabVm } from './model.js';

/** GCE drops internet-bound packets from VMs without an external IP; with one, the fabric does the 1:1 NAT. */
export function renderFabricRules(): string {
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':LAB-EXTERNAL - [0:0]',
    '-A FORWARD -i vpc0 -o vpc0 -j ACCEPT',
    '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -j LAB-EXTERNAL',
    '-A FORWARD -i vpc0 -o wan -m comment --comment lab:no-external-ip -j DROP',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':LAB-1TO1-IN - [0:0]',
    ':LAB-1TO1-OUT - [0:0]',
    '-A PREROUTING -j LAB-1TO1-IN',
    '-A POSTROUTING -j LAB-1TO1-OUT',
    'COMMIT',
    '',
  ].join('\n');
}

/** The iptables argument lists that map an external IP 1:1 onto a VM's address ('-A' to add, '-D' to remove). */
export function externalIpRules(action: '-A' | '-D', ip: string, externalIp: string): string[][] {
  return [
    [action, 'LAB-EXTERNAL', '-i', 'vpc0', '-o', 'wan', '-s', ip, '-j', 'ACCEPT'],
    [action, 'LAB-EXTERNAL', '-i', 'wan', '-o', 'vpc0', '-d', ip, '-j', 'ACCEPT'],
    ['-t', 'nat', action, 'LAB-1TO1-IN', '-i', 'wan', '-d', externalIp, '-j', 'DNAT', '--to-destination', ip],
    ['-t', 'nat', action, 'LAB-1TO1-OUT', '-o', 'wan', '-s', ip, '-j', 'SNAT', '--to-source', externalIp],
  ];
}

/**
 * GCE's anti-spoofing: a VM without canIpForward may only send from its own address and only receive what is
 * addressed to it. Bridge-family rules in the fabric see every frame to and from each VM's port.
 */
export function renderAntiSpoofing(vms: Iterable<LabVm>): string {
  const guarded = [...vms].filter((vm) => vm.canIpForward !== true);
  const rules = (hook: 'prerouting' | 'forward' | 'output') =>
    guarded
      .map((vm) =>
        hook === 'prerouting'
          ? `    iifname "${vm.fabricPort}" ether type ip ip saddr != ${vm.ip} counter drop`
          : `    oifname "${vm.fabricPort}" ether type ip ip daddr != ${vm.ip} counter drop`,
      )
      .join('\n');
  return [
    'table bridge lab-vpc',
    'delete table bridge lab-vpc',
    'table bridge lab-vpc {',
    ...(['prerouting', 'forward', 'output'] as const).flatMap((hook) => [
      `  chain ${hook} {`,
      `    type filter hook ${hook} priority 0; policy accept;`,
      rules(hook),
      '  }',
    ]),
    '}',
    '',
  ].join('\n');
}

/** GCE firewall rules for ingress as one VM sees them: stateful, implied deny, egress open. */
export function renderVmFirewall(rules: readonly LabFirewallRule[], tags: readonly string[]): string {
  const applicable = rules
    .filter((rule) => rule.targetTags.length === 0 || rule.targetTags.some((tag) => tags.includes(tag)))
    .sort((a, b) => a.priority - b.priority);
  const accepts = applicable.flatMap((rule) =>
    rule.allowed.map((allowed) => {
      // The fabric's gateway address stands in for Google's health-check ranges.
      const sources = rule.sourceRanges.map((range) => (HEALTH_CHECK_RANGES.includes(range) ? `${VPC.gateway}/32` : range));
      const from = `ip saddr { ${[...new Set(sources)].join(', ')} }`;
      const protocol = allowed.protocol.toLowerCase();
      if (protocol === 'all') return `    ${from} accept comment "${rule.name}"`;
      const ports = allowed.ports.length === 0 ? '' : ` th dport { ${allowed.ports.join(', ')} }`;
      return `    ${from} meta l4proto ${protocol}${ports} accept comment "${rule.name}"`;
    }),
  );
  // Our own table in its own family at priority -100: the agent's table never sees it.
  const chain = (name: string, hook: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority -100; policy accept;`,
    '    iifname != "ens4" accept',
    '    ct state established,related accept',
    `    ip saddr ${METADATA_IP} accept`,
    ...accepts,
    '    counter drop',
    '  }',
  ];
  return [
    'table inet lab-gce-firewall',
    'delete table inet lab-gce-firewall',
    'table inet lab-gce-firewall {',
    ...chain('ingress', 'input'),
    ...chain('ingress_forwarded', 'forward'),
    '}',
    '',
  ].join('\n');
}
