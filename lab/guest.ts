// A lab VM that is a real guest: the cached Debian 13 image (lab/guest-image.ts) booted by systemd-nspawn with systemd
// as PID 1 inside the VM's network namespace, its own root (a tmpfs overlay over the read-only image), Google's guest
// environment running the startup script from the lab's metadata server. Nothing it writes reaches the host.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { runCommand, type RunOptions, type RunResult } from '../agent/runner.js';
import { WaitTimeoutError, waitUntil } from '../common/wait.js';
import { guestHostProblems } from './guest-image.js';

/**
 * Modules the guest's nftables ruleset, conntrack and NFLOG readers need. A guest cannot load modules (no
 * CAP_SYS_MODULE), so the host loads them before the boot: the startup script's own modprobe then fails harmlessly.
 * The same list as the startup script's load_modules.
 */
export const GUEST_MODULES = [
  'nf_conntrack',
  'nf_nat',
  'nf_tables',
  'nft_ct',
  'nft_nat',
  'nft_masq',
  'nft_chain_nat',
  'nft_limit',
  'nft_log',
  'nfnetlink_log',
  'nft_connlimit',
  'nft_fib_ipv4',
] as const;

/** A PATH for commands run inside the guest: the host's environment is not handed in. */
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface GuestBootOptions {
  /** The systemd machine name, unique on this host. */
  machine: string;
  /** The guest's hostname (the VM's name, as on GCE); default the machine name. */
  hostname?: string;
  /** The network namespace (under /run/netns) the guest lives in: the VM's. */
  namespace: string;
  image: string;
  /** Each line the guest prints on its console. */
  onConsole?: (line: string) => void;
}

function loadModules(): void {
  const failed: string[] = [];
  for (const module of GUEST_MODULES) {
    try {
      execFileSync('modprobe', [module], { stdio: 'ignore' });
    } catch {
      if (!builtIn(module)) failed.push(module);
    }
  }
  if (failed.length > 0)
    throw new Error(
      `lab guests need the kernel modules ${failed.join(', ')}, which this host could not load (a guest cannot load modules): modprobe ${failed.join(' ')}`,
    );
}

/** A kernel without loadable-module support (no /proc/modules) has what it has built in; otherwise modules.builtin says. */
function builtIn(module: string): boolean {
  if (!existsSync('/proc/modules') || existsSync(`/sys/module/${module}`)) return true;
  try {
    const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
    return readFileSync(`/lib/modules/${release}/modules.builtin`, 'utf8').includes(`/${module}.ko`);
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (parentOf(Number(entry)) === pid) children.push(Number(entry));
  }
  return children;
}

/** True when `pid` is PID 1 of its own PID namespace (the last NSpid field is 1). */
function isNamespaceInit(pid: number): boolean {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('NSpid:'));
    const ids = (line ?? '').split(/\s+/).slice(1).filter(Boolean);
    return ids.length > 1 && ids[ids.length - 1] === '1';
  } catch {
    return false;
  }
}

export class Guest {
  private output = '';
  readonly exited: Promise<number | null>;
  private pid1Value: number | undefined;
  private killed = false;
  private readonly spawned = new Set<ChildProcess>();

  private constructor(
    readonly options: GuestBootOptions,
    private readonly nspawn: ChildProcess,
  ) {
    let pending = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-200_000);
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.options.onConsole?.(line.replace(/\r$/, ''));
    };
    nspawn.stdout?.on('data', take);
    nspawn.stderr?.on('data', take);
    this.exited = new Promise((resolve) => nspawn.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128))));
  }

  /** The last 200 kB of what systemd-nspawn and the guest's console printed. */
  get console(): string {
    return this.output;
  }

  get running(): boolean {
    return this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  /** The host PID of systemd-nspawn. */
  get nspawnPid(): number {
    return this.nspawn.pid ?? -1;
  }

  /** The host PID of the guest's PID 1 (systemd). */
  get pid1(): number {
    if (this.pid1Value === undefined) throw new Error(`guest ${this.options.machine} has no PID 1 yet`);
    return this.pid1Value;
  }

  /**
   * Boots the guest and resolves once systemd runs in it (PID 1 found); `waitUntilRunning` waits for the boot to
   * finish. Throws with the reason and the fix when this host cannot boot guests.
   */
  static async boot(options: GuestBootOptions, timeoutMs = 30_000): Promise<Guest> {
    const problems = guestHostProblems();
    if (problems.length > 0) throw new Error(`this host cannot boot lab guests:\n  - ${problems.join('\n  - ')}`);
    loadModules();
    const nspawn = spawn(
      'systemd-nspawn',
      [
        '--quiet',
        `--directory=${options.image}`,
        '--volatile=overlay',
        `--machine=${options.machine}`,
        `--hostname=${options.hostname ?? options.machine}`,
        '--register=no',
        '--keep-unit',
        '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
        `--network-namespace-path=/run/netns/${options.namespace}`,
        '--console=pipe',
        '--boot',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // /proc/sys/net writable inside, as root's is on GCE: the agent writes forwarding and conntrack sysctls.
        env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
      },
    );
    const guest = new Guest(options, nspawn);
    try {
      guest.pid1Value = await waitUntil(
        `guest ${options.machine} has a PID 1`,
        () => {
          if (!guest.running)
            throw new Error(`systemd-nspawn for ${options.machine} exited before the guest started: ${guest.output.slice(-2000)}`);
          return childrenOf(guest.nspawnPid).find(isNamespaceInit);
        },
        { timeoutMs, everyMs: 50 },
      );
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      guest.kill();
      throw new Error(`guest ${options.machine}: no PID 1 within ${timeoutMs} ms: ${guest.output.slice(-2000)}`);
    }
    return guest;
  }

  /** Runs a command inside the guest: all its namespaces (mount, PID, network, UTS, IPC, cgroup), its root. */
  exec(args: string[], options?: RunOptions): Promise<RunResult> {
    return runCommand(`run ${args[0]} in guest ${this.options.machine}`, 'nsenter', this.nsenterArgs(args), options);
  }

  nsenterArgs(args: string[]): string[] {
    return ['--target', String(this.pid1), '--all', '--', '/usr/bin/env', '-i', `PATH=${GUEST_PATH}`, 'TERM=dumb', 'LANG=C.UTF-8', ...args];
  }

  /**
   * A long-running command inside the guest (e.g. journalctl -f), ended by stop() and kill(). Its nsenter (outside the
   * guest) is its parent: stop() ends it first, else the guest's final shutdown waits on the unreaped child.
   */
  spawn(args: string[]): ChildProcess {
    const child = spawn('nsenter', this.nsenterArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.spawned.add(child);
    child.once('exit', () => this.spawned.delete(child));
    return child;
  }

  private endSpawned(): void {
    for (const child of this.spawned) child.kill('SIGKILL');
    this.spawned.clear();
  }

  /**
   * Waits until `systemctl is-system-running` says running (or degraded: the failed units are then in the error's
   * place, returned as `failedUnits`); bounded by `timeoutMs`.
   */
  async waitUntilRunning(timeoutMs = 60_000): Promise<{ state: string; failedUnits: string[] }> {
    let state = '';
    const booted = async () => {
      if (!this.running) throw new Error(`guest ${this.options.machine} died while booting: ${this.output.slice(-2000)}`);
      const result = await this.exec(['systemctl', 'is-system-running'], { okExitCodes: [1, 2, 3, 4, 5, 255], timeoutMs: 10_000 }).catch(
        () => undefined,
      );
      state = result?.stdout.trim() ?? '';
      if (state === 'running') return { state, failedUnits: [] };
      if (state !== 'degraded') return undefined;
      const failed = await this.exec(['systemctl', '--failed', '--no-legend', '--plain'], { okExitCodes: [1] });
      return {
        state,
        failedUnits: failed.stdout
          .split('\n')
          .map((line) => line.split(' ')[0] ?? '')
          .filter(Boolean),
      };
    };
    try {
      return await waitUntil(`guest ${this.options.machine} finished booting`, booted, { timeoutMs, everyMs: 200 });
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      throw new Error(
        `guest ${this.options.machine} did not finish booting within ${timeoutMs} ms (systemctl is-system-running: '${state}')`,
      );
    }
  }

  /**
   * Shuts down as a powered-off VM does: systemd in the guest is asked to power off (SIGRTMIN+4) and given `graceMs`
   * to stop its units (the agent drains); then killed. Once PID 1 has become systemd-shutdown every unit has stopped,
   * and the guest is killed there: in a container that last stage waited ~10 s on processes the lab had entered into
   * the guest (nsenter), time a VM's firmware power-off does not spend, and every VM deletion and lab teardown paid it.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.endSpawned();
    if (!this.running) return;
    const pid1 = this.pid1;
    try {
      // SIGRTMIN+4: systemd's "poweroff"; 34 is SIGRTMIN on Linux.
      process.kill(pid1, 34 + 4);
    } catch {
      // gone already
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    const unitsStopped = setInterval(() => {
      let command = '';
      try {
        command = readFileSync(`/proc/${pid1}/comm`, 'utf8').trim();
      } catch {
        return;
      }
      // comm is cut at 15 characters.
      if (command.startsWith('systemd-shutdow')) this.kill();
    }, 50);
    await this.exited;
    clearTimeout(timer);
    clearInterval(unitsStopped);
  }

  /** A failed host: the guest's every process dies at once (SIGKILL to its PID 1 ends its PID namespace) and nspawn too. */
  kill(): void {
    this.endSpawned();
    if (this.killed && !this.running) return;
    this.killed = true;
    for (const pid of [this.pid1Value, this.nspawn.pid])
      if (pid !== undefined)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
  }
}
