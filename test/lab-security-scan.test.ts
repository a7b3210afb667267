// The NAT IP as the internet sees it, at every moment (issue #24): a TCP and UDP scan from the lab's internet host,
// started as soon as `natgw provision` has reserved the NAT IP, repeated while the NAT VMs boot (before their agents
// have applied their tables) and after they are healthy, in single and `--ha --stateful` mode, finds no open port;
// NAT works, and in stateful mode a failover too. The ports scanned: sshd's, the agent's, conntrackd's, every port
// something listens on in the booted guests (ss), and a bounded sample of the rest.
import path from 'node:path';
import t, { type Test } from 'tap';
import type { PortState, ScanRound } from '../lab/bin/port-scan.js';
import { CLIENT_TAG, natgwCli, PROVISION_FLAGS, whoami } from '../lab/demo.js';
import { LAB_PROJECT, LAB_REGION, LabCloud } from '../lab/gce.js';
import { repoRoot } from '../lab/model.js';
import { bothHealthy, EXTERNAL_LB, GATEWAY, INTERNAL_LB, MIGS, natVmsOf } from '../lab/stateful/provisioned-pair.js';
import { AGENT_PORT, SYNC_PORT } from '../common/protocol.js';
import { waitUntil } from '../common/wait.js';

const SCAN_TIMEOUT_MS = 1500;
// The ports anything of natgw's or the image's is known to use, and a bounded sample of the rest (both sides of 1024).
const KNOWN = [22, 68, 111, 323, 5355, SYNC_PORT, AGENT_PORT];
const SAMPLE = [
  ...Array.from({ length: 28 }, (_, index) => 1 + index * 37),
  ...Array.from({ length: 64 }, (_, index) => 1024 + index * 1009),
];

interface Moment {
  /** ms since provision started. */
  at: number;
  /** Per NAT VM that exists: whether its agent's table is in place ('booting': the guest does not answer yet). */
  tables: Record<string, 'present' | 'absent' | 'booting'>;
  round: ScanRound;
}

const openPorts = (round: ScanRound) =>
  (['tcp', 'udp'] as const).flatMap((protocol) =>
    Object.entries(round[protocol])
      .filter(([, state]) => state === 'open')
      .map(([port]) => `${protocol}:${port}`),
  );

const countOf = (round: ScanRound, state: PortState) =>
  (['tcp', 'udp'] as const).reduce((sum, protocol) => sum + Object.values(round[protocol]).filter((seen) => seen === state).length, 0);

async function scan(cloud: LabCloud, target: string, ports: number[]): Promise<ScanRound> {
  const request = JSON.stringify({ target, tcp: ports, udp: ports, timeoutMs: SCAN_TIMEOUT_MS });
  const { stdout } = await cloud.lab.run('scan the NAT IP', cloud.lab.internet, [
    'node',
    path.join(repoRoot(), 'dist/lab/bin/port-scan.js'),
    request,
  ]);
  return JSON.parse(stdout) as ScanRound;
}

async function tableOf(cloud: LabCloud, vm: string): Promise<'present' | 'absent' | 'booting'> {
  try {
    const { exitCode } = await cloud.lab.exec(vm, ['nft', 'list', 'table', 'ip', 'natgw'], { okExitCodes: [1], timeoutMs: 5000 });
    return exitCode === 0 ? 'present' : 'absent';
  } catch {
    return 'booting';
  }
}

/** Every TCP and UDP port a socket listens on in the guest, on any address, and ss's lines (with their processes). */
async function listeningPorts(cloud: LabCloud, vm: string): Promise<{ ports: number[]; lines: string }> {
  const { stdout } = await cloud.lab.exec(vm, ['ss', '-Htulnp']);
  const ports = stdout
    .split('\n')
    .map((line) => /:(\d+)$/.exec(line.trim().split(/\s+/)[4] ?? '')?.[1])
    .filter((port): port is string => port !== undefined)
    .map(Number);
  return { ports, lines: stdout.trim().replace(/\s+/g, ' ') };
}

interface Mode {
  name: string;
  flags: string[];
  natIpAddress: string;
  natVms(cloud: LabCloud): string[];
  healthy(cloud: LabCloud): Promise<void>;
}

const MODES: Mode[] = [
  {
    name: 'single',
    flags: [],
    natIpAddress: `${GATEWAY}-ip`,
    natVms: (cloud) => (cloud.lab.vms.has(GATEWAY) ? [GATEWAY] : []),
    healthy: async (cloud) => {
      await cloud.settled();
    },
  },
  {
    name: 'stateful',
    flags: ['--ha', '--stateful'],
    natIpAddress: `${GATEWAY}-nat-ip`,
    natVms: (cloud) => natVmsOf(cloud, MIGS).map((vm) => vm.name),
    healthy: async (cloud) => {
      await cloud.settled();
      await bothHealthy(cloud, MIGS, [INTERNAL_LB, EXTERNAL_LB], 120_000);
    },
  },
];

async function scanThroughBoot(t: Test, mode: Mode): Promise<void> {
  const cloud = await LabCloud.start();
  t.teardown(() => cloud.close());
  const client = 'client';
  await cloud.addWorkload(client, [CLIENT_TAG]);
  const started = Date.now();
  let provisioned = false;
  const provision = natgwCli(cloud, 'provision', [...PROVISION_FLAGS, ...mode.flags]).finally(() => {
    provisioned = true;
  });
  const natIpOf = () => String(cloud.store.get(LAB_PROJECT, `regions/${LAB_REGION}`, 'addresses', mode.natIpAddress)?.address ?? '');
  await waitUntil(`provision reserves ${mode.natIpAddress}`, async () => natIpOf() !== '' || provisioned, {
    timeoutMs: 60_000,
    everyMs: 100,
  });
  const natIp = natIpOf();
  t.not(natIp, '', `the NAT IP is reserved: ${natIp}`);

  const moments: Moment[] = [];
  const ports = [...new Set([...KNOWN, ...SAMPLE])];
  while (!provisioned) {
    const vms = mode.natVms(cloud);
    const [round, states] = await Promise.all([scan(cloud, natIp, ports), Promise.all(vms.map((vm) => tableOf(cloud, vm)))]);
    moments.push({ at: Date.now() - started, tables: Object.fromEntries(vms.map((vm, index) => [vm, states[index]!])), round });
  }
  const result = await provision;
  t.equal(result.exitCode, 0, `natgw provision ${mode.flags.join(' ')}: ${(result.stdout + result.stderr).slice(-2000)}`);
  await mode.healthy(cloud);

  const vms = mode.natVms(cloud);
  const sockets = await Promise.all(vms.map((vm) => listeningPorts(cloud, vm)));
  const listening = [...new Set(sockets.flatMap((found) => found.ports))].sort((a, b) => a - b);
  t.comment(`${mode.name}: listening in the booted guests: ${listening.join(', ')} (${sockets.map((found) => found.lines).join(' | ')})`);
  const steady: ScanRound[] = [];
  for (let index = 0; index < 3; index++) steady.push(await scan(cloud, natIp, [...new Set([...ports, ...listening])]));

  const booting = moments.filter((moment) => Object.values(moment.tables).some((state) => state === 'absent'));
  t.comment(
    `${mode.name}: ${moments.length} scans while provisioning (${booting.length} with a guest up and its agent's table not yet applied), ${steady.length} after; ` +
      `per scan of ${ports.length} tcp + ${ports.length} udp ports: ${moments.map((moment) => `${(moment.at / 1000).toFixed(0)}s ${JSON.stringify(moment.tables)} closed ${countOf(moment.round, 'closed')}`).join('; ')}`,
  );
  t.ok(booting.length > 0, 'scanned while a NAT VM was up without its table (the boot window)');
  for (const moment of moments)
    t.same(openPorts(moment.round), [], `at ${(moment.at / 1000).toFixed(1)} s (${JSON.stringify(moment.tables)}): no open port`);
  for (const round of steady) t.same(openPorts(round), [], 'healthy: no open port');
  // Not tcp:22: the lab's network has GCE's default-allow-ssh (0.0.0.0/0), which provision warns about and leaves alone;
  // the guest runs no sshd, so it answers with a reset. The stateful NAT IP is not the VMs' own address: no rule opens it.
  t.equal(steady[0]!.tcp[String(AGENT_PORT)], 'filtered', `tcp:${AGENT_PORT} filtered (GCE's firewall)`);
  if (mode.name === 'stateful') t.equal(steady[0]!.tcp['22'], 'filtered', "tcp:22 filtered (GCE's firewall)");
  t.equal(steady[0]!.udp[String(SYNC_PORT)], 'filtered', `udp:${SYNC_PORT} filtered`);

  t.equal(await whoami(cloud, client, 5), natIp, 'a client still leaves through the NAT IP');
  if (mode.name === 'stateful') {
    const [primary] = natVmsOf(cloud, MIGS);
    await cloud.lab.failHost(primary!.name);
    await waitUntil(
      'the client leaves through the NAT IP after the primary failed',
      async () => (await whoami(cloud, client, 2)) === natIp,
      {
        timeoutMs: 60_000,
        everyMs: 500,
      },
    );
    t.pass(`failover: ${primary!.name} failed like a host, the client still leaves through ${natIp}`);
    t.same(openPorts(await scan(cloud, natIp, [...new Set([...ports, ...listening])])), [], 'after the failover: no open port');
  }
}

for (const mode of MODES)
  t.test(`${mode.name}: a scan of the NAT IP from the internet finds no open port, during boot and after`, (t) => scanThroughBoot(t, mode));
