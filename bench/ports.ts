// Per-VM port blocks: new TCP conn/s through natgw with port blocks from 1,000 client addresses vs 10 (the NAT map's
// lookup must not grow with the number of VMs), and with port blocks vs the shared pool (the map's own cost), in one lab.
import type { Lab } from '../lab/lab.js';
import {
  NATGW,
  buildLab,
  connectRate,
  median,
  ratioRow,
  startAgent,
  startSinks,
  sysctls,
  type Bench,
  type ConnectRate,
  type Row,
} from './lib.js';
import { AGENT_PATHS } from '../common/protocol.js';

export const MANY = 1000;
export const FEW = 10;
/** Client addresses outside the lab's /24, on-link on the VPC NIC of one load-generating VM. */
const clientAddress = (base: number, index: number) => `10.10.${base + Math.floor(index / 256)}.${index % 256}`;
/** A load VM of 1,000 client addresses (each a client of its own for natgw); bench/pairs runs two at once. */
const MANY_CLIENT_VMS = [
  { name: 'c-many', ip: '10.10.0.50', base: 4, range: '10.10.4.0/22' },
  { name: 'c-many-2', ip: '10.10.0.51', base: 8, range: '10.10.8.0/22' },
] as const;
export const CLIENT_RANGES = MANY_CLIENT_VMS.map((vm) => vm.range);
export const MANY_CLIENTS_VM = MANY_CLIENT_VMS[0].name;

/** Load VM `which` (0 or 1), its 1,000 client addresses reachable from `gateway`, which it routes through. */
export async function addManyClients(lab: Lab, gateway: string, which: 0 | 1 = 0): Promise<{ vm: string; addresses: string[] }> {
  const spec = MANY_CLIENT_VMS[which];
  // The fabric's anti-spoofing would drop the extra addresses of a VM that may not forward.
  const vm = await lab.addVm({ name: spec.name, ip: spec.ip, defaultVia: lab.vm(gateway).ip, canIpForward: true });
  const addresses = Array.from({ length: MANY }, (_, index) => clientAddress(spec.base, index + 1));
  await lab.run('add 1,000 client addresses', vm.namespace, ['ip', '-batch', '-'], {
    input: addresses.map((address) => `addr add ${address}/22 dev ens4`).join('\n'),
  });
  await sysctls(lab, vm.namespace, { 'net.ipv4.ip_local_port_range': '1024 65535', 'net.ipv4.tcp_tw_reuse': 1 });
  // Through the load VM, as a VPC routes a VM's alias range: on-link, the gateway would keep a neighbour entry per
  // address, and the kernel's ARP table is one for all namespaces (gc_thresh3, 1,024 entries by default), so two load
  // VMs of 1,000 addresses overflowed it and lost packets.
  await lab.run('reach the client addresses', lab.vm(gateway).namespace, ['ip', 'route', 'add', spec.range, 'via', spec.ip, 'dev', 'ens4']);
  return { vm: spec.name, addresses };
}

/**
 * The connection loop from many client addresses, taken in turn. The client closes first: TIME_WAIT stays on the
 * client, whose ports differ per address. A server holding TIME_WAIT for a NAT port would refuse the next connection a
 * small block gives that port (the kernel reuses a port as soon as conntrack forgets it), which measures port reuse,
 * not the data path.
 */
export const connectFrom = (
  lab: Lab,
  client: string,
  sources: readonly string[],
  seconds: number,
  options: { concurrency?: number; maxConnections?: number } = {},
): Promise<ConnectRate> =>
  connectRate(lab, client, {
    close: 'client',
    concurrency: options.concurrency ?? 32,
    seconds,
    cpu: 0,
    sources,
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
  });

export const ports: Bench = async ({ quick, log }) => {
  const reps = quick ? 2 : 4;
  const seconds = 3;
  const { lab, paths, agents } = await buildLab(['natgw-1']);
  try {
    const gateway = paths[0]!.gateway;
    const { addresses: many } = await addManyClients(lab, gateway);
    const few = many.slice(0, FEW);
    await startSinks(lab);
    // TIME_WAIT entries hold NAT ports: at thousands of connections per second, 1 s keeps a block of 64 per address
    // (1,000 addresses) or 4,096 (10 addresses) from filling; the same setting for the shared pool.
    const config = (portAllocation?: unknown) => ({
      sourceRanges: ['10.10.0.0/25', MANY_CLIENT_VMS[0].range],
      logging: 'none',
      timeouts: { tcpTimeWait: 1 },
      ...(portAllocation === undefined ? {} : { portAllocation }),
    });
    const setups = [
      { name: 'shared-10', sources: few, config: config() },
      { name: 'blocks-10', sources: few, config: config({ mode: 'static', portsPerVm: 4096 }) },
      { name: 'blocks-1000', sources: many, config: config({ mode: 'static', portsPerVm: 64 }) },
    ];
    const rates = new Map<string, number[]>();
    const failed = new Map<string, number>();
    for (let rep = 0; rep < reps; rep++) {
      for (const setup of setups.map((_, i) => setups[(i + rep) % setups.length]!)) {
        await agents.get('natgw-1')?.stop('SIGTERM');
        // A fresh table and no blocks: every setup starts from the same state.
        await lab.exec(gateway, ['node', NATGW, 'agent', '--cleanup', '--root', lab.vm(gateway).root]);
        await lab.exec(gateway, ['rm', '-f', `${lab.vm(gateway).root}/${AGENT_PATHS.portBlockState}`]);
        agents.set('natgw-1', await startAgent(lab, gateway, setup.config));
        // Warm-up: every address gets its block (its first SYN is refused, the retransmission passes).
        const warm = await connectFrom(lab, MANY_CLIENTS_VM, setup.sources, 15, {
          concurrency: setup.sources.length,
          maxConnections: setup.sources.length,
        });
        if (warm.failed > 0) log(`  warm-up: ${warm.failed} of ${setup.sources.length} addresses did not connect`);
        const rate = await connectFrom(lab, MANY_CLIENTS_VM, setup.sources, seconds);
        rates.set(setup.name, [...(rates.get(setup.name) ?? []), rate.rate]);
        failed.set(setup.name, (failed.get(setup.name) ?? 0) + rate.failed);
        log(`  rep ${rep + 1}/${reps} ${setup.name}: ${rate.rate.toFixed(0)} conn/s (${rate.failed} failed)`);
      }
    }
    const get = (name: string) => rates.get(name) ?? [];
    const note = (name: string, base: string) =>
      `connect+close loop (client closes), 32 in flight, median of ${reps} × ${seconds} s; failed: ${failed.get(name) ?? 0} vs ${failed.get(base) ?? 0}`;
    const rows: Row[] = [
      ratioRow(
        'ports',
        'new TCP conn/s: port blocks, 1,000 client addresses / 10',
        'conn/s',
        get('blocks-1000'),
        'port blocks, 10 addresses',
        get('blocks-10'),
        '>= 0.9',
        `${note('blocks-1000', 'blocks-10')}; blocks of 64 vs 4,096 ports`,
      ),
      ratioRow(
        'ports',
        'new TCP conn/s: port blocks / shared pool (10 addresses)',
        'conn/s',
        get('blocks-10'),
        'shared pool',
        get('shared-10'),
        '>= 0.95',
        note('blocks-10', 'shared-10'),
      ),
    ];
    for (const [name, values] of rates) log(`  ${name}: ${median(values).toFixed(0)} conn/s`);
    return rows;
  } finally {
    await lab.destroy();
  }
};
