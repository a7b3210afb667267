// State-preserving failover in the lab: two NAT VMs (active, standby) that both SNAT to ONE shared NAT IP, conntrackd
// replicating the active's translations into the standby's kernel table, and a fabric that routes the shared IP (and
// the clients' default route) to whichever VM is active — the emulation of an external passthrough load balancer's
// forwarding-rule IP with a failover policy. Health checks from the fabric decide when the IP moves.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HA_CLIENT_TAG, LAB_TRAFFIC_CHECK } from '../ha.js';
import { Lab, repoRoot, VPC, type LabProcess, type LabVm } from '../lab.js';
import { defaultGateways, runFailover, until, type FailoverOptions, type FailoverReport, type FailoverSetup } from '../failover.js';
import { conntrackdConfig } from '../../agent/conntrackd.js';
import { AGENT_PORT } from '../../common/protocol.js';

export const SHARED_NAT_IP = '203.0.113.100';
const HEALTH_PORT = AGENT_PORT;
const LOAD_BALANCER = 'natgw-nlb';
// Each VM translates to its own half of the ports: while both receive client traffic (the two load balancers flip
// independently) they can never create the same translation, and a VM without a flow's state cannot recreate it by
// chance (Linux keeps the client's port when it is free).
const NAT_VMS = [
  { name: 'nat-a', ip: '10.10.0.2', ports: '1024-33279' },
  { name: 'nat-b', ip: '10.10.0.3', ports: '33280-65535' },
] as const;
const CLIENTS = [
  { name: 'client', ip: '10.10.0.50' },
  { name: 'bulk-client', ip: '10.10.0.51' },
] as const;

export interface ProgrammedPairOptions {
  sync: boolean;
  /** The kernel default (1): a VM without a flow's state adopts its mid-stream packets. Off unless asked for. */
  loosePickup?: boolean;
}

export interface ProgrammedPair extends FailoverSetup {
  /** From the failure to the health checker marking the active unhealthy. */
  detectedAfterMs(): number | undefined;
  /** Why the emulated load balancer could not move the shared IP, if it could not. */
  moveError(): unknown;
  close(): Promise<void>;
}

async function prepareNatVm(lab: Lab, vm: LabVm, peer: LabVm, ports: string, options: ProgrammedPairOptions): Promise<void> {
  const ns = vm.namespace;
  const sysctl = (setting: string) => lab.run(`sysctl ${setting} on ${vm.name}`, ns, ['sysctl', '-qw', setting]);
  await sysctl('net.ipv4.ip_forward=1');
  // Clients and the internet gateway share the NIC: a redirect would teach the client to bypass the NAT VM.
  for (const iface of ['all', 'default', 'ens4']) await sysctl(`net.ipv4.conf.${iface}.send_redirects=0`);
  const table = [
    'table ip natgw_stateful {',
    '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "ens4" ip saddr ${VPC.cidr} ip daddr != ${VPC.cidr} meta l4proto { tcp, udp } snat ip to ${SHARED_NAT_IP}:${ports}`,
    `    oifname "ens4" ip saddr ${VPC.cidr} ip daddr != ${VPC.cidr} snat ip to ${SHARED_NAT_IP}`,
    '  }',
    '}',
    '',
  ].join('\n');
  await lab.run(`NAT to the shared IP on ${vm.name}`, ns, ['nft', '-f', '-'], { input: table });
  // State must come from the peer only: with loose pickup a mid-stream packet that reaches the standby before the
  // flow's replicated state becomes a new flow with a port from the standby's half, and that entry then blocks the
  // replicated one. Without pickup the packet goes untranslated (GCE drops it) and its retransmission finds the state.
  await sysctl(`net.netfilter.nf_conntrack_tcp_loose=${options.loosePickup === true ? 1 : 0}`);
  // What GCE's guest agent does for a load balancer's forwarding-rule IP: local, but not an interface address.
  await lab.run(`shared IP is local on ${vm.name}`, ns, [
    'ip',
    'route',
    'replace',
    'local',
    `${SHARED_NAT_IP}/32`,
    'dev',
    'ens4',
    'table',
    'local',
  ]);
  lab.spawn(
    vm.name,
    [
      'node',
      path.join(repoRoot(), 'dist/lab/bin/internet-server.js'),
      '--address',
      vm.ip,
      '--http-port',
      String(HEALTH_PORT),
      '--udp-port',
      '7008',
    ],
    `health responder on ${vm.name}`,
  );
  if (options.sync) {
    const dir = path.join(vm.root, 'conntrackd');
    mkdirSync(dir, { recursive: true });
    const configFile = path.join(dir, 'conntrackd.conf');
    writeFileSync(
      configFile,
      conntrackdConfig({
        dir,
        localIp: vm.ip,
        peerIp: peer.ip,
        interfaceName: 'ens4',
        ignoreAddresses: [VPC.gateway, ...NAT_VMS.map((nat) => nat.ip)],
      }),
    );
    lab.spawn(vm.name, ['conntrackd', '-C', configFile], `conntrackd on ${vm.name}`);
  }
}

async function routeSharedIpTo(lab: Lab, vm: LabVm): Promise<void> {
  await lab.run('route the shared NAT IP', lab.fabric, ['ip', 'route', 'replace', `${SHARED_NAT_IP}/32`, 'via', vm.ip, 'dev', 'vpc0']);
  // The internal load balancer's failover policy for the clients' route (lab.setRoutes would also re-route the dead VM).
  for (const client of CLIENTS)
    await lab.run('route the clients', lab.vm(client.name).namespace, ['ip', 'route', 'replace', 'default', 'via', vm.ip]);
}

/**
 * The fabric's health checker, run directly: the lab's load-balanced routes would re-program every VM's default route
 * on each health change, and here the routes follow the failover policy instead.
 */
function watchHealth(lab: Lab, backends: LabVm[], onChange: (event: { ip: string; healthy: boolean; at: number }) => void): LabProcess {
  // The timing of natgw's traffic health check; the probe hits the VM's health responder.
  const { intervalSeconds, timeoutSeconds, healthyThreshold, unhealthyThreshold } = LAB_TRAFFIC_CHECK;
  const timing = { intervalMs: intervalSeconds * 1000, timeoutMs: timeoutSeconds * 1000, healthyThreshold, unhealthyThreshold };
  const targets = backends.map((vm) => ({ group: LOAD_BALANCER, ip: vm.ip, port: HEALTH_PORT, path: '/whoami', ...timing }));
  return lab.spawnHealthChecker(targets, onChange);
}

/** Builds the lab and the pair, both healthy, the clients routed to nat-a; the caller closes it. */
export async function buildProgrammedPair(options: ProgrammedPairOptions): Promise<ProgrammedPair> {
  const lab = await Lab.create();
  try {
    for (const nat of NAT_VMS) await lab.addVm({ name: nat.name, ip: nat.ip, canIpForward: true, tags: ['natgw'] });
    const [a, b] = NAT_VMS.map((nat) => lab.vm(nat.name)) as [LabVm, LabVm];
    for (const client of CLIENTS) await lab.addVm({ ...client, tags: [HA_CLIENT_TAG], defaultVia: a.ip });
    // The fabric passes the shared IP to and from the internet unchanged: it is the load balancer's own address.
    for (const [direction, match] of [
      ['out', ['-i', 'vpc0', '-o', 'wan', '-s', SHARED_NAT_IP]],
      ['in', ['-i', 'wan', '-o', 'vpc0', '-d', SHARED_NAT_IP]],
    ] as const)
      await lab.run(`let the shared IP ${direction}`, lab.fabric, ['iptables', '-I', 'LAB-EXTERNAL', ...match, '-j', 'ACCEPT']);
    await prepareNatVm(lab, a, b, NAT_VMS[0].ports, options);
    await prepareNatVm(lab, b, a, NAT_VMS[1].ports, options);
    await routeSharedIpTo(lab, a);

    let failedAt: number | undefined;
    let detectedAt: number | undefined;
    let moving: Promise<void> | undefined;
    let moveError: unknown;
    const healthy = new Set<string>();
    watchHealth(lab, [a, b], (event) => {
      if (event.healthy) healthy.add(event.ip);
      else healthy.delete(event.ip);
      if (event.ip !== a.ip || event.healthy || failedAt === undefined || moving !== undefined) return;
      detectedAt = event.at;
      moving = routeSharedIpTo(lab, b).catch((error: unknown) => {
        moveError = error;
      });
    });
    if (!(await until(() => healthy.size === 2, 20_000)))
      throw new Error(`NAT VMs not healthy after 20 s: ${[...healthy].join(', ') || 'none'}`);
    return {
      lab,
      natIp: SHARED_NAT_IP,
      natVms: () => [a, b],
      client: CLIENTS[0].name,
      bulkClient: CLIENTS[1].name,
      sync: options.sync,
      healthCheckCycleMs: LAB_TRAFFIC_CHECK.intervalSeconds * 1000,
      // The clients' route is what the emulated internal load balancer moves here.
      activeBackends: () => defaultGateways(lab, CLIENTS[0].name),
      failHost: async (vm) => {
        failedAt = Date.now();
        await lab.failHost(vm.name);
      },
      moveError: () => moveError,
      detectedAfterMs: () => (detectedAt === undefined || failedAt === undefined ? undefined : detectedAt - failedAt),
      close: () => lab.destroy(),
    };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** Builds the pair, runs the failover measurement on it and tears it down. */
export async function measureFailover(
  options: ProgrammedPairOptions & FailoverOptions,
): Promise<FailoverReport & { detectedAfterMs: number | undefined }> {
  const pair = await buildProgrammedPair(options);
  try {
    const report = await runFailover(pair, options);
    if (pair.moveError() !== undefined) throw pair.moveError();
    return { ...report, detectedAfterMs: pair.detectedAfterMs() };
  } finally {
    await pair.close();
  }
}
