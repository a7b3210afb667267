// What the lab's fabric and each VM's emulated GCE firewall are made of, as text from pure functions (golden-testable
// without root); lab.ts applies it.
import { METADATA_IP, type LabFirewallRule, type LabVm } from './model.js';

/**
 * GCE drops internet-bound packets from VMs without an external IP, unless Cloud NAT covers them (LAB-CLOUDNAT,
 * lab/cloud-nat.ts); with one, the fabric does the 1:1 NAT.
 */
export function renderFabricRules(): string {
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':LAB-EXTERNAL - [0:0]',
    ':LAB-LB - [0:0]',
    ':LAB-CLOUDNAT - [0:0]',
    '-A FORWARD -i vpc0 -o vpc0 -j ACCEPT',
    // Before the conntrack shortcut, so its counters see every packet Cloud NAT carries (lab/cloud-nat.ts).
    '-A FORWARD -j LAB-CLOUDNAT',
    '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -j LAB-LB',
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
    ':LAB-CLOUDNAT-SNAT - [0:0]',
    '-A PREROUTING -j LAB-1TO1-IN',
    '-A POSTROUTING -j LAB-1TO1-OUT',
    '-A POSTROUTING -j LAB-CLOUDNAT-SNAT',
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
 * An external forwarding rule's IP passes the fabric both ways, unchanged: it is the load balancer's own address. Who
 * may send from it is the bridge's business (renderAntiSpoofing); where replies go, lab/load-balancing.ts.
 */
export function renderLoadBalancerForwarding(addresses: readonly string[]): string {
  return [
    '*filter',
    '-F LAB-LB',
    ...[...new Set(addresses)].flatMap((address) => [
      `-A LAB-LB -i wan -o vpc0 -d ${address} -j ACCEPT`,
      `-A LAB-LB -i vpc0 -o wan -s ${address} -j ACCEPT`,
    ]),
    'COMMIT',
    '',
  ].join('\n');
}

/** An external forwarding rule's IP and the VMs that are its backends (they hold it as a local route). */
export interface LoadBalancerAddress {
  address: string;
  backends: string[];
}

/**
 * GCE's anti-spoofing: a VM without canIpForward may only send from its own address and only receive what is
 * addressed to it. Bridge-family rules in the fabric see every frame to and from each VM's port. An external load
 * balancer's IP is the exception: its backends may send from it and receive for it (canIpForward or not), and no other
 * VM may send from it, whatever its canIpForward.
 */
export function renderAntiSpoofing(vms: Iterable<LabVm>, loadBalancers: readonly LoadBalancerAddress[] = []): string {
  const all = [...vms];
  const guarded = all.filter((vm) => vm.canIpForward !== true);
  const portsOf = (ips: readonly string[]) => all.filter((vm) => ips.includes(vm.ip)).map((vm) => `"${vm.fabricPort}"`);
  const ownAddresses = (vm: LabVm) => [vm.ip, ...loadBalancers.filter((lb) => lb.backends.includes(vm.ip)).map((lb) => lb.address)];
  const addressSet = (ips: string[]) => (ips.length === 1 ? ips[0]! : `{ ${[...new Set(ips)].join(', ')} }`);
  const notBackends = loadBalancers.map((lb) => {
    const ports = portsOf(lb.backends);
    const from = ports.length === 0 ? '' : ` iifname != { ${ports.join(', ')} }`;
    return `    ether type ip ip saddr ${lb.address}${from} counter drop comment "only backends send from a load balancer's IP"`;
  });
  const rules = (hook: 'prerouting' | 'forward' | 'output') =>
    [
      ...(hook === 'prerouting' ? notBackends : []),
      ...guarded.map((vm) =>
        hook === 'prerouting'
          ? `    iifname "${vm.fabricPort}" ether type ip ip saddr != ${addressSet(ownAddresses(vm))} counter drop`
          : `    oifname "${vm.fabricPort}" ether type ip ip daddr != ${addressSet(ownAddresses(vm))} counter drop`,
      ),
    ].join('\n');
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

/** The packet mark the lab's firewall sets on what it let in to a load balancer's IP, for its later chains. */
export const LB_ADMITTED_MARK = 0x4c420000;

/**
 * GCE firewall rules for ingress as one VM sees them: stateful, implied deny, egress open. GCE tracks connections per
 * VM at its NIC, not in the guest: to a load balancer's IP the VM holds, only replies to what THIS VM's NIC sent from it
 * pass without a rule (the `lb_flows` set, filled as packets leave). The guest's conntrack would also accept replies
 * to flows that state sync copied in from a peer, which GCE drops unless a rule (e.g. NAME-return) allows them.
 */
export function renderVmFirewall(
  rules: readonly LabFirewallRule[],
  tags: readonly string[],
  loadBalancerAddresses: readonly string[] = [],
): string {
  const applicable = rules
    .filter((rule) => rule.targetTags.length === 0 || rule.targetTags.some((tag) => tags.includes(tag)))
    .sort((a, b) => a.priority - b.priority);
  const accepts = (verdict: string) =>
    applicable.flatMap((rule) =>
      rule.allowed.map((allowed) => {
        const from = `ip saddr { ${[...new Set(rule.sourceRanges)].join(', ')} }`;
        const to = (rule.destinationRanges ?? []).length === 0 ? '' : ` ip daddr { ${rule.destinationRanges!.join(', ')} }`;
        const protocol = allowed.protocol.toLowerCase();
        if (protocol === 'all') return `    ${from}${to} ${verdict} comment "${rule.name}"`;
        const ports = allowed.ports.length === 0 ? '' : ` th dport { ${allowed.ports.join(', ')} }`;
        return `    ${from}${to} meta l4proto ${protocol}${ports} ${verdict} comment "${rule.name}"`;
      }),
    );
  const admitted = `0x${LB_ADMITTED_MARK.toString(16)}`;
  const balanced = loadBalancerAddresses.length > 0;
  const addresses = `{ ${loadBalancerAddresses.join(', ')} }`;
  // Our own table in its own family at priority -100: the agent's table never sees it.
  const chain = (name: string, hook: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority -100; policy accept;`,
    '    iifname != "ens4" accept',
    ...(balanced ? [`    meta mark & ${admitted} == ${admitted} accept`] : []),
    '    ct state established,related accept',
    `    ip saddr ${METADATA_IP} accept`,
    ...accepts('accept'),
    '    counter drop',
    '  }',
  ];
  const admit = `meta mark set meta mark | ${admitted} accept`;
  const loadBalancerChains = balanced
    ? [
        '  set lb_flows {',
        '    type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service',
        '    flags dynamic,timeout',
        '    timeout 10m',
        '  }',
        '  set lb_pings {',
        '    type ipv4_addr . ipv4_addr',
        '    flags dynamic,timeout',
        '    timeout 30s',
        '  }',
        '  chain lb_egress {',
        '    type filter hook postrouting priority 300; policy accept;',
        `    oifname "ens4" ip saddr ${addresses} meta l4proto { tcp, udp } update @lb_flows { ip daddr . ip saddr . meta l4proto . th dport . th sport }`,
        `    oifname "ens4" ip saddr ${addresses} meta l4proto icmp update @lb_pings { ip daddr . ip saddr }`,
        '  }',
        '  chain lb_ingress {',
        '    type filter hook prerouting priority -300; policy accept;',
        '    iifname != "ens4" accept',
        `    ip daddr != ${addresses} accept`,
        `    meta l4proto { tcp, udp } ip saddr . ip daddr . meta l4proto . th sport . th dport @lb_flows ${admit}`,
        `    meta l4proto icmp ip saddr . ip daddr @lb_pings ${admit}`,
        ...accepts(admit),
        '    counter drop',
        '  }',
      ]
    : [];
  return [
    'table inet lab-gce-firewall',
    'delete table inet lab-gce-firewall',
    'table inet lab-gce-firewall {',
    ...chain('ingress', 'input'),
    ...chain('ingress_forwarded', 'forward'),
    ...loadBalancerChains,
    '}',
    '',
  ].join('\n');
}
