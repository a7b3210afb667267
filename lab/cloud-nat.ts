// GCE's Cloud NAT as the lab's fabric plays it, as text from pure functions (golden-testable without root); lab.ts
// applies it. Cloud NAT is not a hop: the VPC's default internet gateway translates packets of VMs without an external
// IP whose route is the default route, when a router NAT covers their subnet. Every other VM's packets (a natgw route,
// an external IP) never meet it. Each covered VM gets its own block of minPortsPerVm ports of the NAT IP (static
// allocation, as GCE's default), so a port names its VM.

/** What Cloud NAT hands out: ports 1024-65535 of each NAT IP (GCE's range). */
export const CLOUD_NAT_FIRST_PORT = 1024;
export const CLOUD_NAT_LAST_PORT = 65535;

/** A router NAT config as the lab applies it: which VMs it covers, its IP and ports per VM. */
export interface LabCloudNat {
  /** router/nat, for comments and counters. */
  name: string;
  natIp: string;
  minPortsPerVm: number;
  vms: CloudNatVm[];
}

export interface CloudNatVm {
  name: string;
  ip: string;
  /** Undefined: no block was free (GCE drops such a VM's new connections: OUT_OF_RESOURCES). */
  ports: { first: number; last: number } | undefined;
}

/**
 * Port blocks for the covered VMs: a VM keeps the block it had (`previous`: its first port), a new one takes the lowest
 * free block, a VM gone frees its block. GCE allocates the same way, per VM and without moving anyone.
 */
export function allocateCloudNatPorts(
  vms: readonly { name: string; ip: string }[],
  minPortsPerVm: number,
  previous: ReadonlyMap<string, number>,
): CloudNatVm[] {
  const blocks = Math.floor((CLOUD_NAT_LAST_PORT - CLOUD_NAT_FIRST_PORT + 1) / minPortsPerVm);
  const firstOf = (block: number) => CLOUD_NAT_FIRST_PORT + block * minPortsPerVm;
  const taken = new Set<number>();
  const kept = new Map<string, number>();
  for (const vm of vms) {
    const first = previous.get(vm.ip);
    if (first === undefined || (first - CLOUD_NAT_FIRST_PORT) % minPortsPerVm !== 0) continue;
    const block = (first - CLOUD_NAT_FIRST_PORT) / minPortsPerVm;
    if (block >= 0 && block < blocks && !taken.has(block)) {
      taken.add(block);
      kept.set(vm.ip, block);
    }
  }
  let next = 0;
  return [...vms]
    .sort((a, b) => ipNumber(a.ip) - ipNumber(b.ip))
    .map((vm) => {
      let block = kept.get(vm.ip);
      if (block === undefined) {
        while (taken.has(next)) next++;
        if (next < blocks) {
          block = next;
          taken.add(block);
        }
      }
      return {
        name: vm.name,
        ip: vm.ip,
        ports: block === undefined ? undefined : { first: firstOf(block), last: firstOf(block) + minPortsPerVm - 1 },
      };
    });
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/**
 * iptables-restore --noflush input for the fabric: LAB-CLOUDNAT (filter, jumped from FORWARD before the fabric drops
 * what VMs without an external IP send to the internet) lets a covered VM's packets out and their replies in, and its
 * counters are what went through Cloud NAT; LAB-CLOUDNAT-SNAT (nat POSTROUTING) translates each VM into its block.
 */
export function renderCloudNat(nats: readonly LabCloudNat[]): string {
  const filter: string[] = [];
  const nat: string[] = [];
  for (const config of nats)
    for (const vm of config.vms) {
      if (vm.ports === undefined) continue;
      const comment = `-m comment --comment "cloud-nat ${config.name} ${vm.name}"`;
      filter.push(`-A LAB-CLOUDNAT -i vpc0 -o wan -s ${vm.ip}/32 ${comment} -j ACCEPT`);
      filter.push(`-A LAB-CLOUDNAT -i wan -o vpc0 -d ${vm.ip}/32 -m conntrack --ctstate RELATED,ESTABLISHED ${comment} -j ACCEPT`);
      const ports = `${vm.ports.first}-${vm.ports.last}`;
      for (const protocol of ['tcp', 'udp'])
        nat.push(`-A LAB-CLOUDNAT-SNAT -s ${vm.ip}/32 -o wan -p ${protocol} ${comment} -j SNAT --to-source ${config.natIp}:${ports}`);
      nat.push(`-A LAB-CLOUDNAT-SNAT -s ${vm.ip}/32 -o wan ${comment} -j SNAT --to-source ${config.natIp}`);
    }
  return ['*filter', '-F LAB-CLOUDNAT', ...filter, 'COMMIT', '*nat', '-F LAB-CLOUDNAT-SNAT', ...nat, 'COMMIT', ''].join('\n');
}

export interface CloudNatCounters {
  packets: number;
  bytes: number;
  /**
   * What the VMs sent through it (the internet's replies left out). A connection begun through Cloud NAT that the
   * route moves off it still gets the server's last segments (a retransmitted FIN) that way, and nothing more from
   * the VM: its packets follow the new route.
   */
  sentPackets: number;
  /** By VM name, both directions. */
  byVm: Map<string, { packets: number; bytes: number; sentPackets: number }>;
}

/** What went through Cloud NAT, from `iptables-save -c -t filter` of the fabric (LAB-CLOUDNAT's counters). */
export function parseCloudNatCounters(save: string): CloudNatCounters {
  const counters: CloudNatCounters = { packets: 0, bytes: 0, sentPackets: 0, byVm: new Map() };
  for (const match of save.matchAll(/^\[(\d+):(\d+)\] -A LAB-CLOUDNAT (.*)--comment "cloud-nat \S+ (\S+)"/gm)) {
    const packets = Number(match[1]);
    const bytes = Number(match[2]);
    const sent = /-i vpc0 -o wan/.test(match[3]!) ? packets : 0;
    counters.packets += packets;
    counters.bytes += bytes;
    counters.sentPackets += sent;
    const vm = counters.byVm.get(match[4]!) ?? { packets: 0, bytes: 0, sentPackets: 0 };
    counters.byVm.set(match[4]!, { packets: vm.packets + packets, bytes: vm.bytes + bytes, sentPackets: vm.sentPackets + sent });
  }
  return counters;
}

/** A resource's path under the API root, from a self link or an already relative path. */
export const apiPath = (link: unknown) => String(link ?? '').replace(/^https:\/\/[^/]+\/compute\/v1\//, '');

/** GCE's rule for which subnets a router NAT covers (sourceSubnetworkIpRangesToNat). */
export function natCoversSubnet(
  nat: { sourceSubnetworkIpRangesToNat?: string; subnetworks?: { name?: string }[] },
  subnetworkSelfLink: string,
): boolean {
  const mode = nat.sourceSubnetworkIpRangesToNat ?? 'ALL_SUBNETWORKS_ALL_IP_RANGES';
  if (mode === 'ALL_SUBNETWORKS_ALL_IP_RANGES' || mode === 'ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES') return true;
  return (nat.subnetworks ?? []).some((subnet) => apiPath(subnet.name) === apiPath(subnetworkSelfLink));
}
