// State-preserving failover in the lab: two NAT VMs (active, standby) that both SNAT to ONE shared NAT IP, conntrackd
// replicating the active's translations into the standby's kernel table, and a fabric that routes the shared IP (and
// the clients' default route) to whichever VM is active — the emulation of an external passthrough load balancer's
// forwarding-rule IP with a failover policy. Health checks from the fabric decide when the IP moves.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HA_CLIENT_TAG, LAB_TRAFFIC_CHECK } from '../ha.js';
import { INTERNET, Lab, repoRoot, VPC, type LabProcess, type LabVm } from '../lab.js';
import { conntrackdConfig, DEFAULT_SYNC_PORT as SYNC_PORT } from '../../agent/conntrackd.js';

export const SHARED_NAT_IP = '203.0.113.100';
export const ECHO_PORT = 7100;
const HEALTH_PORT = 9731;
const LOAD_BALANCER = 'natgw-nlb';
// Each VM translates to its own half of the ports: while both receive client traffic (the two load balancers flip
// independently) they can never create the same translation, and a VM without a flow's state cannot recreate it by
// chance (Linux keeps the client's port when it is free).
const NAT_VMS = [
  { name: 'nat-a', ip: '10.10.0.2', ports: '1024-33279' },
  { name: 'nat-b', ip: '10.10.0.3', ports: '33280-65535' },
] as const;
const CLIENT = { name: 'client', ip: '10.10.0.50' } as const;

export interface FailoverOptions {
  flows: number;
  sync: boolean;
  /** The kernel default (1): a VM without a flow's state adopts its mid-stream packets. Off unless asked for. */
  loosePickup?: boolean;
  /** Upper bound for the flows to resume once the shared IP has moved. */
  resumeTimeoutMs?: number;
}

export interface FailoverResult {
  flows: number;
  survived: number;
  resets: number;
  maxGapMs: number;
  /** Why the flows that did not survive ended, by error ('hung' when they were still waiting). */
  failures: Record<string, number>;
  /** Connections the echo server saw reset (the standby answering replies it has no state for). */
  serverResets: number;
  /** Translations the standby's kernel table held for the flows just before the active died. */
  standbyKnew: number;
  /** From the failure to the health checker marking the active unhealthy, and to the shared IP having moved. */
  detectedAfterMs: number;
  movedAfterMs: number;
  /** Bytes of conntrackd traffic (IP length) the active sent and received while the flows were set up and ran. */
  syncBytes: { sent: number; received: number };
}

async function prepareNatVm(lab: Lab, vm: LabVm, peer: LabVm, ports: string, options: FailoverOptions): Promise<void> {
  const ns = vm.namespace;
  const sysctl = (setting: string) => lab.run(`sysctl ${setting} on ${vm.name}`, ns, ['sysctl', '-qw', setting]);
  await sysctl('net.ipv4.ip_forward=1');
  // Clients and the internet gateway share the NIC: a redirect would teach the client to bypass the NAT VM.
  for (const iface of ['all', 'default', 'ens4']) await sysctl(`net.ipv4.conf.${iface}.send_redirects=0`);
  const table = [
    'table ip natgw_stateful {',
    '  counter sync_sent {}',
    '  counter sync_received {}',
    '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "ens4" ip saddr ${VPC.cidr} ip daddr != ${VPC.cidr} meta l4proto { tcp, udp } snat ip to ${SHARED_NAT_IP}:${ports}`,
    `    oifname "ens4" ip saddr ${VPC.cidr} ip daddr != ${VPC.cidr} snat ip to ${SHARED_NAT_IP}`,
    '  }',
    `  chain output { type filter hook output priority 0; policy accept; udp dport ${SYNC_PORT} counter name "sync_sent"; }`,
    `  chain input { type filter hook input priority 0; policy accept; udp dport ${SYNC_PORT} counter name "sync_received"; }`,
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
  await lab.run('route the clients', lab.vm(CLIENT.name).namespace, ['ip', 'route', 'replace', 'default', 'via', vm.ip]);
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

/** A host failure: the NIC goes and every process of the VM dies in the same instant, nothing shuts down cleanly. */
async function failHost(lab: Lab, vm: LabVm): Promise<void> {
  const pids = execFileSync('ip', ['netns', 'pids', vm.namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
  await Promise.all([
    lab.run('pull the NIC', vm.namespace, ['ip', 'link', 'set', 'ens4', 'down']),
    ...pids.map(async (pid) => {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }),
  ]);
}

async function syncCounters(lab: Lab, vm: LabVm): Promise<{ sent: number; received: number }> {
  const { stdout } = await lab.run('read the sync counters', vm.namespace, [
    'nft',
    '-j',
    'list',
    'counters',
    'table',
    'ip',
    'natgw_stateful',
  ]);
  const counters = (JSON.parse(stdout) as { nftables: { counter?: { name: string; bytes: number } }[] }).nftables.flatMap((entry) =>
    entry.counter === undefined ? [] : [entry.counter],
  );
  const bytes = (name: string) => counters.find((counter) => counter.name === name)?.bytes ?? 0;
  return { sent: bytes('sync_sent'), received: bytes('sync_received') };
}

async function flowsKnownTo(lab: Lab, vm: LabVm): Promise<number> {
  const { stdout } = await lab.run(
    'list the translated flows',
    vm.namespace,
    ['conntrack', '-L', '-p', 'tcp', '--dport', String(ECHO_PORT), '--reply-dst', SHARED_NAT_IP],
    { okExitCodes: [1] },
  );
  return stdout.split('\n').filter((line) => line.includes('ESTABLISHED')).length;
}

/** Polls `check` until it holds (true) or `timeoutMs` has passed (false). */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface FlowReport {
  id: number;
  maxGapMs: number;
  repliedAfterMark: boolean;
  error?: string;
}

function lastStatus(flowsProcess: LabProcess): { at: number; failed: number; resumed: number } | undefined {
  const lines = flowsProcess.text.split('\n').filter((line) => line.startsWith('{"status"'));
  const last = lines.at(-1);
  return last === undefined ? undefined : (JSON.parse(last) as { at: number; failed: number; resumed: number });
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Builds the lab, runs the flows, kills the active NAT VM and measures what survived; the lab is gone afterwards. */
export async function measureFailover(options: FailoverOptions): Promise<FailoverResult> {
  const flowCount = Math.min(Math.max(1, options.flows), 1000);
  const lab = await Lab.create();
  try {
    for (const nat of NAT_VMS) await lab.addVm({ name: nat.name, ip: nat.ip, canIpForward: true, tags: ['natgw'] });
    const [a, b] = NAT_VMS.map((nat) => lab.vm(nat.name)) as [LabVm, LabVm];
    await lab.addVm({ ...CLIENT, tags: [HA_CLIENT_TAG], defaultVia: a.ip });
    // The fabric passes the shared IP to and from the internet unchanged: it is the load balancer's own address.
    await lab.run('let the shared IP out', lab.fabric, [
      'iptables',
      '-I',
      'LAB-EXTERNAL',
      '-i',
      'vpc0',
      '-o',
      'wan',
      '-s',
      SHARED_NAT_IP,
      '-j',
      'ACCEPT',
    ]);
    await lab.run('let replies to the shared IP in', lab.fabric, [
      'iptables',
      '-I',
      'LAB-EXTERNAL',
      '-i',
      'wan',
      '-o',
      'vpc0',
      '-d',
      SHARED_NAT_IP,
      '-j',
      'ACCEPT',
    ]);
    await prepareNatVm(lab, a, b, NAT_VMS[0].ports, options);
    await prepareNatVm(lab, b, a, NAT_VMS[1].ports, options);
    await routeSharedIpTo(lab, a);
    const echo = lab.spawnIn(
      lab.internet,
      [
        'node',
        path.join(repoRoot(), 'dist/lab/stateful/bin/seq-echo-server.js'),
        '--address',
        INTERNET.server,
        '--port',
        String(ECHO_PORT),
        '--max-seconds',
        '300',
      ],
      'echo server',
    );
    await echo.waitFor(/ready/);

    let failedAt = 0;
    let detectedAt = 0;
    let movedAt = 0;
    let moving: Promise<void> | undefined;
    let moveError: unknown;
    const healthy = new Set<string>();
    watchHealth(lab, [a, b], (event) => {
      if (event.healthy) healthy.add(event.ip);
      else healthy.delete(event.ip);
      if (event.ip !== a.ip || event.healthy || failedAt === 0 || moving !== undefined) return;
      detectedAt = event.at;
      moving = routeSharedIpTo(lab, b).then(
        () => {
          movedAt = Date.now();
        },
        (error: unknown) => {
          moveError = error;
        },
      );
    });
    if (!(await until(() => healthy.size === 2, 20_000)))
      throw new Error(`NAT VMs not healthy after 20 s: ${[...healthy].join(', ') || 'none'}`);

    const flowsProcess = lab.spawnIn(
      lab.vm(CLIENT.name).namespace,
      [
        'node',
        path.join(repoRoot(), 'dist/lab/stateful/bin/seq-flows.js'),
        '--host',
        INTERNET.server,
        '--port',
        String(ECHO_PORT),
        '--flows',
        String(flowCount),
        '--max-seconds',
        '120',
      ],
      'long-lived flows',
      {},
      true,
    );
    await flowsProcess.waitFor(/^ready$/m, 20_000).catch(() => {
      throw new Error(
        `the flows did not all start: ${
          flowsProcess.text
            .split('\n')
            .filter((line) => line.startsWith('{"failed"'))
            .join(' ') || 'no echo within 20 s'
        }`,
      );
    });
    if (options.sync) await until(async () => (await flowsKnownTo(lab, b)) >= flowCount, 10_000);
    const standbyKnew = await flowsKnownTo(lab, b);
    const syncBytes = options.sync ? await syncCounters(lab, a) : { sent: 0, received: 0 };

    failedAt = Date.now();
    await failHost(lab, a);
    if (!(await until(() => moving !== undefined, 20_000))) throw new Error('the health checker never marked the failed NAT VM unhealthy');
    await moving;
    if (moveError !== undefined) throw moveError;
    // Only replies after this count as the flow having resumed through the standby.
    flowsProcess.child.stdin?.write('mark\n');
    await until(() => {
      const status = lastStatus(flowsProcess);
      return status !== undefined && status.at > movedAt + 250 && status.resumed + status.failed >= flowCount;
    }, options.resumeTimeoutMs ?? 15_000);
    // Counted before the report: ending the flows afterwards resets them on purpose.
    const serverResets = echo.text
      .split('\n')
      .filter((line) => line.startsWith('{') && (JSON.parse(line) as { reset: boolean }).reset).length;
    flowsProcess.child.stdin?.write('report\n');
    await flowsProcess.exited;
    const reportLine = flowsProcess.text.split('\n').find((line) => line.startsWith('{"report"'));
    if (reportLine === undefined) throw new Error(`the flows printed no report: ${flowsProcess.text.slice(-500)}`);
    const flows = (JSON.parse(reportLine) as { report: FlowReport[] }).report;
    const survivors = flows.filter((flow) => flow.error === undefined && flow.repliedAfterMark);
    return {
      flows: flows.length,
      survived: survivors.length,
      resets: flows.filter((flow) => flow.error === 'ECONNRESET' || flow.error === 'EPIPE').length,
      maxGapMs: Math.max(0, ...survivors.map((flow) => flow.maxGapMs)),
      serverResets,
      failures: countBy(
        flows.filter((flow) => !survivors.includes(flow)),
        (flow) => flow.error ?? 'hung',
      ),
      standbyKnew,
      detectedAfterMs: detectedAt - failedAt,
      movedAfterMs: movedAt - failedAt,
      syncBytes,
    };
  } finally {
    await lab.destroy();
  }
}
