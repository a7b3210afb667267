import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../common/errors.js';
import { waitFor } from '../common/wait.js';
import { STATEFUL_TRAFFIC_CHECK, TRAFFIC_CHECK } from '../provision/ha/checks.js';
import type { FailoverMode } from './failover.js';
import type { LabCloud } from './gce.js';

// The same bound as the measurement's; lab/failover.ts loads the lab, which this module must not do before --help.
const MAX_FLOWS = 1000;
const DEFAULT_FLOWS = 100;

const USAGE = `Usage: natgw lab <command> [options]

natgw end to end on this machine (root): a GCE-like VPC built from network namespaces, a Compute API backed by it,
the real provisioner, startup script, agent, traffic and Prometheus. Nothing is linked to the host's network.

  demo [--keep]        build the lab, provision natgw into it, send TCP/UDP/ICMP from a tagged and an untagged VM,
                       show what the internet saw, scrape the agent with Prometheus, compare costs, destroy, tear down
                       (--keep: stay up after the demo, before destroy, until Ctrl-C)
  up                   build the lab with its workloads and Compute API, print how to provision into it; Ctrl-C ends it
  status               the running lab (API endpoint, VMs) and any namespaces left by earlier labs
  exec VM -- CMD …     run a command inside a lab VM (e.g. natgw lab exec app-1 -- curl http://198.51.100.10/whoami);
                       a NAT VM is a real Debian 13 guest: CMD runs inside it, its files and its systemd, as
                       gcloud compute ssh VM --command would (natgw lab exec natgw-us-central1 -- journalctl -u natgw-agent)
  failover [--mode stateful|ha] [--flows N] [--no-sync] [--bulk] [--failure-delay-ms MS] [--json]
                       build the lab, provision stateful HA, open N long-lived TCP flows (default 100, at most 1000)
                       from a tagged VM to the internet, fail the active NAT VM as a host fails (NIC down, every process
                       killed) and report how many flows survived, how long they paused and when new flows worked again
                       (--mode ha: plain HA instead, both NAT VMs active, one of them fails and its flows are reported
                       apart from the survivor's; --no-sync: stateful with state sync off, the control; --bulk: iperf3
                       bulk traffic meanwhile; --failure-delay-ms: where in the health checks' cycle the host
                       fails, 0-999 (ha: 0-1999), default random, so a run can be repeated; --json: the report as JSON)
  fallback [--json]    build the lab, provision HA with a Cloud NAT fallback, run the fallback watcher (short timers:
                       fail-after 10 s, hold-down 10 s), fail every NAT VM and report when a tagged VM's new connections
                       left through Cloud NAT's IP, heal natgw and report when they left through natgw's again, then
                       take one NAT VM down and up 6 times, which must move nothing (--json: the report as JSON)
  down                 stop the running lab and remove every lab namespace on this machine (natgw-lab-*)
`;

const FAILOVER_FLAGS = ['mode', 'flows', 'no-sync', 'bulk', 'failure-delay-ms', 'json'] as const;
const FAILOVER_MODES = ['stateful', 'ha'] as const satisfies readonly FailoverMode[];
/** The traffic health check's interval each mode's provision sets: --failure-delay-ms picks a moment in one. */
const HEALTH_CHECK_INTERVAL_MS: Record<FailoverMode, number> = {
  stateful: STATEFUL_TRAFFIC_CHECK.checkIntervalSec * 1000,
  ha: TRAFFIC_CHECK.checkIntervalSec * 1000,
};

function parseFlows(value: string | undefined): number {
  if (value === undefined) return DEFAULT_FLOWS;
  const flows = Number(value);
  if (!/^\d+$/.test(value) || flows < 1 || flows > MAX_FLOWS)
    throw new UsageError(`--flows must be a whole number from 1 to ${MAX_FLOWS}, got '${value}'`);
  return flows;
}

function parseMode(value: string | undefined, noSync: boolean): FailoverMode {
  const mode = FAILOVER_MODES.find((candidate) => candidate === (value ?? 'stateful'));
  if (mode === undefined) throw new UsageError(`--mode must be ${FAILOVER_MODES.join(' or ')}, got '${value}'`);
  if (mode === 'ha' && noSync)
    throw new UsageError(
      "--no-sync turns off stateful HA's state sync; plain HA (--mode ha) has none to turn off: drop --no-sync or --mode ha",
    );
  return mode;
}

function parseFailureDelay(value: string | undefined, mode: FailoverMode): number | undefined {
  if (value === undefined) return undefined;
  const max = HEALTH_CHECK_INTERVAL_MS[mode] - 1;
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new UsageError(`--failure-delay-ms must be a whole number of milliseconds from 0 to ${max}, got '${value}'`);
  return Number(value);
}

/** What commands run inside a guest find on PATH (the host's environment is not handed in). */
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const STATE_DIR = '/run/natgw-lab';
const STATE_FILE = `${STATE_DIR}/current.json`;

interface LabState {
  id: string;
  pid: number;
  api: string;
  vms: Record<string, string>;
  /** VMs that are real guests: the host PID of each guest's PID 1 (exec enters it). */
  guests?: Record<string, number>;
}

function readState(): LabState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

function writeState(cloud: LabCloud): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const vms = Object.fromEntries([...cloud.lab.vms.values()].map((vm) => [vm.name, vm.namespace]));
  const guests = Object.fromEntries(
    [...cloud.lab.guests.entries()].filter(([, guest]) => guest.running).map(([name, guest]) => [name, guest.pid1]),
  );
  // Rewritten every second while other processes (exec, down) read it: a rename, so a reader never sees half a file.
  const staged = `${STATE_FILE}.${process.pid}`;
  writeFileSync(
    staged,
    `${JSON.stringify({ id: cloud.lab.id, pid: process.pid, api: cloud.url, vms, guests } satisfies LabState, null, 2)}\n`,
  );
  renameSync(staged, STATE_FILE);
}

function clearState(): void {
  rmSync(STATE_FILE, { force: true });
}

function guestCommand(pid1: number, commandLine: string[]): string[] {
  return [
    '--target',
    String(pid1),
    '--all',
    '--',
    '/usr/bin/env',
    '-i',
    `PATH=${GUEST_PATH}`,
    `TERM=${process.env.TERM ?? 'dumb'}`,
    'LANG=C.UTF-8',
    ...commandLine,
  ];
}

export async function runLabCli(argv: string[]): Promise<number> {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const { positionals, values } = (() => {
    try {
      return parseArgs({
        args: own,
        options: {
          help: { type: 'boolean', short: 'h', default: false },
          keep: { type: 'boolean', default: false },
          mode: { type: 'string' },
          flows: { type: 'string' },
          'no-sync': { type: 'boolean' },
          bulk: { type: 'boolean' },
          'failure-delay-ms': { type: 'string' },
          json: { type: 'boolean' },
        },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
    }
  })();
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const misplaced = FAILOVER_FLAGS.find((flag) => values[flag] !== undefined && !(command === 'fallback' && flag === 'json'));
  if (command !== 'failover' && misplaced !== undefined)
    throw new UsageError(`--${misplaced} belongs to 'natgw lab failover', not to '${command}'\n\n${USAGE}`);
  const flows = parseFlows(values.flows);
  const mode = parseMode(values.mode, values['no-sync'] === true);
  const failureDelayMs = parseFailureDelay(values['failure-delay-ms'], mode);
  const { Lab, removeNamespace } = await import('./lab.js');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const refuseLeftovers = () => {
    const running = readState();
    if (running !== undefined)
      throw new UsageError(`a lab is already running (pid ${running.pid}, API ${running.api}); stop it with 'natgw lab down'`);
    const leftovers = Lab.leftovers();
    if (leftovers.length > 0)
      throw new UsageError(`a previous lab was left behind (${leftovers.join(', ')}); remove it with 'natgw lab down'`);
  };
  switch (command) {
    case 'demo': {
      refuseLeftovers();
      const { runDemo } = await import('./demo.js');
      let refresh: NodeJS.Timeout | undefined;
      try {
        // New VMs (the NAT VM, its guest) join the state file, so exec reaches them too.
        return await runDemo(say, {
          keep: values.keep,
          onUp: (cloud) => {
            writeState(cloud);
            refresh = setInterval(() => writeState(cloud), 1000);
          },
        });
      } finally {
        clearInterval(refresh);
        clearState();
      }
    }
    case 'up': {
      refuseLeftovers();
      const { LabCloud } = await import('./gce.js');
      const { addWorkloads, CLIENT_TAG } = await import('./demo.js');
      const cloud = await LabCloud.start({ onBootOutput: (vm, line) => say(`[${vm} boot] ${line}`) });
      try {
        await addWorkloads(cloud);
        writeState(cloud);
        say(`lab ${cloud.lab.id} is up. Compute API: ${cloud.url} (project natgw-lab, region us-central1)`);
        say(
          `  npx natgw provision --project natgw-lab --region us-central1 --client-tag ${CLIENT_TAG} --compute-endpoint ${cloud.url} --yes`,
        );
        say(`  npx natgw lab exec app-1 -- curl -sS http://198.51.100.10/whoami`);
        say('Ctrl-C (or natgw lab down) tears it down.');
        // New VMs join the state file, so exec reaches them too.
        const refresh = setInterval(() => writeState(cloud), 1000);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        clearInterval(refresh);
        return 0;
      } finally {
        await cloud.close();
        clearState();
      }
    }
    case 'failover': {
      refuseLeftovers();
      const { runFailoverCommand } = await import('./failover-command.js');
      const json = values.json === true;
      // With --json, stdout carries the report alone; the progress goes to stderr.
      const progress = json ? (line: string) => process.stderr.write(`${line}\n`) : say;
      return runFailoverCommand(
        { mode, flows, sync: values['no-sync'] !== true, bulk: values.bulk === true, failureDelayMs },
        progress,
        (report) => (json ? say(JSON.stringify(report, null, 2)) : undefined),
      );
    }
    case 'fallback': {
      refuseLeftovers();
      const { runFallbackCommand } = await import('./fallback.js');
      const json = values.json === true;
      const progress = json ? (line: string) => process.stderr.write(`${line}\n`) : say;
      return runFallbackCommand(progress, (report) => (json ? say(JSON.stringify(report, null, 2)) : undefined));
    }
    case 'status': {
      const state = readState();
      say(
        state === undefined
          ? 'no lab is running'
          : `lab ${state.id} running (pid ${state.pid}), Compute API ${state.api}\n${Object.keys(state.vms)
              .map((vm) => `  ${vm}`)
              .join('\n')}`,
      );
      const leftovers = Lab.leftovers().filter((namespace) => state === undefined || !namespace.includes(`-${state.id}-`));
      if (leftovers.length > 0) say(`namespaces left by earlier labs: ${leftovers.join(', ')} ('natgw lab down' removes them)`);
      return 0;
    }
    case 'exec': {
      const [vm] = rest;
      const commandLine = separator === -1 ? [] : argv.slice(separator + 1);
      if (vm === undefined || commandLine.length === 0)
        throw new UsageError(`exec needs a VM and a command: natgw lab exec VM -- CMD …\n\n${USAGE}`);
      const state = readState();
      if (state === undefined) throw new UsageError("no lab is running: start one with 'natgw lab up' or 'natgw lab demo --keep'");
      const namespace = state.vms[vm];
      if (namespace === undefined) throw new UsageError(`no VM '${vm}' in lab ${state.id}; VMs: ${Object.keys(state.vms).join(', ')}`);
      const guestPid = state.guests?.[vm];
      // A guest: inside it (its file system, its systemd), as `gcloud compute ssh VM --command` would be.
      const result =
        guestPid === undefined
          ? spawnSync('ip', ['netns', 'exec', namespace, ...commandLine], { stdio: 'inherit' })
          : spawnSync('nsenter', guestCommand(guestPid, commandLine), { stdio: 'inherit' });
      return result.status ?? 1;
    }
    case 'down': {
      const state = readState();
      if (state !== undefined) {
        process.kill(state.pid, 'SIGTERM');
        const alive = () => {
          try {
            process.kill(state.pid, 0);
            return true;
          } catch {
            return false;
          }
        };
        // The lab tears itself down on SIGTERM; what remains after 15 s is removed below.
        await waitFor(() => !alive(), { timeoutMs: 15_000, everyMs: 100 });
      }
      const leftovers = Lab.leftovers();
      for (const namespace of leftovers) removeNamespace(namespace);
      clearState();
      say(
        state === undefined && leftovers.length === 0
          ? 'nothing to remove'
          : `stopped${state === undefined ? '' : ` lab ${state.id}`}; removed ${leftovers.length} leftover namespaces`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown lab command '${command}'\n\n${USAGE}`);
  }
}
