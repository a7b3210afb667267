// The README's first command: natgw end to end on one Linux box. The real `natgw provision` talks to the lab's Compute
// API, the lab turns what it creates into namespaces, the NAT VM boots with the real startup script, and traffic,
// Prometheus and the cost comparison are real.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand, type RunResult } from '../agent/runner.js';
import { LAB_PROJECT, LAB_REGION, LabCloud } from './gce.js';
import { INTERNET, LabProcess, repoRoot } from './lab.js';
import { AGENT_PORT } from '../common/protocol.js';
import { waitUntil } from '../common/wait.js';

export const CLIENT_TAG = 'natgw-client';
const GATEWAY = `natgw-${LAB_REGION}`;

export interface Workloads {
  tagged: string;
  untagged: string;
  monitoring: string;
}

/** The user's VMs before natgw exists: one carries the client tag, one does not, one runs Prometheus. */
export async function addWorkloads(cloud: LabCloud): Promise<Workloads> {
  await cloud.addWorkload('app-1', [CLIENT_TAG]);
  await cloud.addWorkload('app-2');
  await cloud.addWorkload('monitoring');
  return { tagged: 'app-1', untagged: 'app-2', monitoring: 'monitoring' };
}

/** `node bin/natgw.js COMMAND` against the lab's project, region and Compute API. */
function natgwArgs(cloud: LabCloud, command: string, extra: string[]): string[] {
  const lab = ['--project', LAB_PROJECT, '--region', LAB_REGION, '--compute-endpoint', cloud.url];
  return [path.join(repoRoot(), 'bin', 'natgw.js'), command, ...lab, ...extra];
}

export function natgwCli(cloud: LabCloud, command: string, extra: string[] = []): Promise<RunResult> {
  const args = natgwArgs(cloud, command, extra);
  return runCommand(`natgw ${command}`, process.execPath, args, { okExitCodes: [1, 2, 3], timeoutMs: 180_000 });
}

export const PROVISION_FLAGS = [
  '--client-tag',
  CLIENT_TAG,
  '--poll-interval',
  '500ms',
  '--health-timeout',
  '90s',
  '--reconcile-interval',
  '5s',
  '--egress-probe',
  `${INTERNET.server}:80`,
  '--logging',
  'all',
  '--yes',
];

/** Runs the CLI with its output interleaved as a terminal would show it, handed over line by line as it comes. */
async function natgwCliLive(cloud: LabCloud, command: string, extra: string[], say: (line: string) => void): Promise<number | null> {
  const args = natgwArgs(cloud, command, extra);
  const run = new LabProcess(
    spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }),
    `natgw ${command}`,
    'the root namespace (API client only)',
  );
  let printed = 0;
  const forward = () => {
    const lines = run.text.split('\n');
    for (; printed < lines.length - 1; printed++) say(`  ${lines[printed] ?? ''}`);
  };
  const timer = setInterval(forward, 100);
  const code = await run.exited;
  clearInterval(timer);
  forward();
  return code;
}

const megabytes = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);

export async function whoami(cloud: LabCloud, vm: string, seconds = 3): Promise<string | undefined> {
  const { stdout, exitCode } = await cloud.lab.exec(vm, ['curl', '-sS', '-m', String(seconds), `http://${INTERNET.server}/whoami`], {
    okExitCodes: [7, 28, 52, 56],
  });
  return exitCode === 0 ? stdout.trim() : undefined;
}

export async function startPrometheus(cloud: LabCloud, vm: string, natIp: string): Promise<LabProcess> {
  const config = path.join(cloud.lab.dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 2s, evaluation_interval: 2s }',
      'scrape_configs:',
      '  - job_name: natgw',
      `    static_configs: [{ targets: ['${natIp}:${AGENT_PORT}'] }]`,
      '',
    ].join('\n'),
  );
  return cloud.lab.spawn(
    vm,
    [
      'prometheus',
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(cloud.lab.dir, 'prometheus-data')}`,
      '--web.listen-address=127.0.0.1:9090',
    ],
    'prometheus',
  );
}

export async function promQuery(
  cloud: LabCloud,
  vm: string,
  expr: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const { stdout, exitCode } = await cloud.lab.exec(
    vm,
    ['curl', '-sS', '-m', '5', 'http://127.0.0.1:9090/api/v1/query', '--data-urlencode', `query=${expr}`],
    { okExitCodes: [7, 28, 52, 56] },
  );
  if (exitCode !== 0 || !stdout.startsWith('{')) return [];
  return (JSON.parse(stdout) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

/**
 * The NAT VM is a real Debian 13 guest: what `natgw lab exec` shows inside it, as `gcloud compute ssh --command` would
 * on GCE. True when systemd is running, the agent runs under its unit (PID 1 its parent, sandboxed) and the startup
 * script's output is in google-startup-scripts.service's journal.
 */
async function showGuest(cloud: LabCloud, say: (line: string) => void): Promise<boolean> {
  const inGuest = async (args: string[]) => (await cloud.lab.exec(GATEWAY, args, { okExitCodes: [1, 3] })).stdout.trim();
  await cloud.guestReady(GATEWAY);
  const state = await inGuest(['systemctl', 'is-system-running']);
  say(`\n$ natgw lab exec ${GATEWAY} -- systemctl is-system-running\n  ${state}`);
  const props = Object.fromEntries(
    (
      await inGuest([
        'systemctl',
        'show',
        '--property=ActiveState,MainPID,ProtectSystem,StateDirectory,CapabilityBoundingSet',
        'natgw-agent.service',
      ])
    )
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  const parent = props.MainPID === undefined ? '' : await inGuest(['ps', '-o', 'ppid=', '-p', props.MainPID]);
  say(`$ natgw lab exec ${GATEWAY} -- systemctl show natgw-agent.service …`);
  say(
    `  natgw-agent.service ${props.ActiveState}, main PID ${props.MainPID} (parent PID ${parent}), ProtectSystem=${props.ProtectSystem}, StateDirectory=${props.StateDirectory}, CapabilityBoundingSet=${props.CapabilityBoundingSet}`,
  );
  const journal = await inGuest(['journalctl', '--unit=google-startup-scripts.service', '--output=cat', '--no-pager']);
  say(`$ natgw lab exec ${GATEWAY} -- journalctl -u google-startup-scripts.service   (last lines)`);
  for (const line of journal.split('\n').slice(-5)) say(`  ${line}`);
  return (
    state === 'running' &&
    props.ActiveState === 'active' &&
    parent === '1' &&
    props.ProtectSystem === 'strict' &&
    /natgw-startup: done/.test(journal)
  );
}

const until = (what: string, check: () => Promise<boolean>, timeoutMs: number) => waitUntil(what, check, { timeoutMs, everyMs: 300 });

export async function runDemo(
  say: (line: string) => void,
  options: { keep?: boolean; onUp?: (cloud: LabCloud) => void } = {},
): Promise<number> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const cloud = await LabCloud.start({ onBootOutput: (vm, line) => say(`    [${vm} boot] ${line}`) });
  let prometheus: LabProcess | undefined;
  let ok = false;
  try {
    const workloads = await addWorkloads(cloud);
    options.onUp?.(cloud);
    say(
      `lab ${cloud.lab.id} up (${elapsed()}): Compute API ${cloud.url}, project ${LAB_PROJECT}, subnet 10.10.0.0/24 (+ secondary 10.20.0.0/16)`,
    );
    say(`  workloads without external IPs: app-1 (tag ${CLIENT_TAG}), app-2 (no tag), monitoring`);
    say(
      `  before natgw: app-1 → internet: ${(await whoami(cloud, workloads.tagged, 2)) ?? 'no way out (GCE drops traffic from VMs without an external IP)'}`,
    );

    // The agent's port answers the VM itself and Google's probers; Prometheus's address must be named (docs/security.md).
    const metricsConfig = path.join(cloud.lab.dir, 'agent-metrics.json');
    writeFileSync(metricsConfig, JSON.stringify({ metricsSourceRanges: [`${cloud.lab.vm(workloads.monitoring).ip}/32`] }));
    say(
      `\n$ natgw provision --project ${LAB_PROJECT} --region ${LAB_REGION} --client-tag ${CLIENT_TAG} --agent-config agent-metrics.json --compute-endpoint ${cloud.url} …`,
    );
    const provisioned = await natgwCliLive(cloud, 'provision', [...PROVISION_FLAGS, '--agent-config', metricsConfig], say);
    if (provisioned !== 0) throw new Error(`natgw provision failed with exit code ${provisioned}`);
    await cloud.settled();
    const natVm = cloud.lab.vm(GATEWAY);
    say(`provisioned in ${elapsed()}: NAT VM ${natVm.ip}, external ${natVm.externalIp ?? '?'}`);

    const tcp = await whoami(cloud, workloads.tagged);
    const udp = (
      await cloud.lab.exec(
        workloads.tagged,
        ['node', path.join(repoRoot(), 'dist/lab/bin/udp-client.js'), INTERNET.server, String(INTERNET.udpPort)],
        { okExitCodes: [1] },
      )
    ).stdout.trim();
    const ping =
      (await cloud.lab.exec(workloads.tagged, ['ping', '-c', '1', '-W', '2', INTERNET.server], { okExitCodes: [1] })).exitCode === 0;
    const untagged = await whoami(cloud, workloads.untagged, 2);
    say(
      `\napp-1 (tagged) → internet ${INTERNET.server}: TCP seen from ${tcp ?? 'nothing'}, UDP seen from ${udp || 'nothing'}, ICMP ${ping ? 'answered' : 'lost'}`,
    );
    say(`app-2 (untagged) → internet: ${untagged ?? 'no way out (no route to the NAT)'}`);

    prometheus = await startPrometheus(cloud, workloads.monitoring, natVm.ip);
    await until(
      'Prometheus scrapes the agent',
      async () => (await promQuery(cloud, workloads.monitoring, 'up{job="natgw"}'))[0]?.value[1] === '1',
      30_000,
    );
    await cloud.lab.exec(workloads.tagged, ['curl', '-sS', '-m', '20', '-o', '/dev/null', `http://${INTERNET.server}/bytes?n=20000000`]);
    // Shown once Prometheus has scraped the agent after the download (every 2 s), not after a guessed pause.
    const DOWNLOADED = 20_000_000;
    const bytes = await waitUntil(
      'Prometheus has scraped the download',
      async () => {
        const samples = await promQuery(cloud, workloads.monitoring, 'sum by (direction) (natgw_forwarded_bytes_total)');
        return samples.some((sample) => Number(sample.value[1]) >= DOWNLOADED) ? samples : undefined;
      },
      { timeoutMs: 30_000, everyMs: 500 },
    );
    say(
      `\nPrometheus (in 'monitoring') after app-1 downloaded 20 MB: ${bytes.map((sample) => `${sample.metric.direction} ${megabytes(Number(sample.value[1]))}`).join(', ')}`,
    );

    const cost = await cloud.lab.exec(
      workloads.monitoring,
      [
        'node',
        path.join(repoRoot(), 'bin', 'natgw.js'),
        'cost',
        '--region',
        LAB_REGION,
        '--from-prometheus',
        'http://127.0.0.1:9090',
        '--window',
        '1m',
        '--vms',
        '1',
      ],
      { okExitCodes: [1, 2] },
    );
    say('\n$ natgw cost --region us-central1 --from-prometheus http://127.0.0.1:9090 --window 1m --vms 1');
    for (const line of (cost.stdout + cost.stderr).trimEnd().split('\n')) say(`  ${line}`);

    const status = await natgwCli(cloud, 'status');
    say(`\n$ natgw status …   (exit ${status.exitCode})`);
    for (const line of status.stdout.trimEnd().split('\n')) say(`  ${line}`);

    const guest = await showGuest(cloud, say);

    if (options.keep === true) {
      say(
        `\nthe lab stays up: 'natgw lab exec app-1 -- curl http://${INTERNET.server}/whoami', 'natgw status|destroy --project ${LAB_PROJECT} --region ${LAB_REGION} --compute-endpoint ${cloud.url}'; Ctrl-C tears it down`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      return 0;
    }

    const destroy = await natgwCli(cloud, 'destroy', ['--yes']);
    await cloud.settled();
    const afterDestroy = await whoami(cloud, workloads.tagged, 2);
    say(`\n$ natgw destroy … --yes   (exit ${destroy.exitCode}): app-1 → internet: ${afterDestroy ?? 'no way out again'}`);

    ok =
      tcp === natVm.externalIp &&
      udp === natVm.externalIp &&
      ping &&
      untagged === undefined &&
      status.exitCode === 0 &&
      destroy.exitCode === 0 &&
      afterDestroy === undefined &&
      guest;
    say(ok ? `\ndemo passed in ${elapsed()}; tearing the lab down` : `\ndemo FAILED after ${elapsed()}; tearing the lab down`);
    return ok ? 0 : 1;
  } finally {
    await prometheus?.stop();
    await cloud.close();
  }
}
