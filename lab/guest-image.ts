// The NAT VM's guest image: a Debian 13 (trixie) root file system with systemd, Google's guest environment
// (google-guest-agent: the agent and the metadata-script runner) and every package natgw's startup script checks for,
// so that apt-get has nothing to install at boot. Built once with mmdebstrap from Debian's mirror, cached under
// /var/cache/natgw-lab/ keyed by a hash of what goes into it; every guest boots it with --volatile=overlay, so it is
// never written to after the build.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const GUEST_SUITE = 'trixie';
export const GUEST_MIRROR = 'http://deb.debian.org/debian';
export const GUEST_CACHE_DIR = '/var/cache/natgw-lab';

/**
 * What the image carries. The startup script's install_packages checks node, nft, conntrack, conntrackd, tcpdump, ip,
 * curl; it also runs bash, curl, base64, gzip, sha256sum, timeout, modprobe (kmod) and systemctl. The agent's
 * conntrackd needs netbase.
 */
export const GUEST_PACKAGES = [
  'systemd-sysv',
  'dbus',
  'iproute2',
  'nftables',
  'conntrack',
  'conntrackd',
  'tcpdump',
  'curl',
  'ca-certificates',
  'procps',
  'nodejs',
  'google-guest-agent',
  'kmod',
  'gzip',
  // /etc/protocols and /etc/services, as every GCE Debian image has: conntrackd resolves the protocols of its sync
  // filter there, and without them (minbase has no netbase) it syncs no flow at all.
  'netbase',
] as const;

/** The hostname and the metadata server's name, as GCE's images resolve it. */
const HOSTS = '127.0.0.1\tlocalhost\n169.254.169.254\tmetadata.google.internal metadata\n';

/**
 * Run inside the new root by mmdebstrap (customize hook): Debian's conntrackd.service off (the agent runs its own
 * conntrackd in stateful mode), /etc/hosts naming the metadata server, no machine-id (each boot makes its own), and
 * /etc/sysctl.d present (the agent persists sysctls there).
 */
const CUSTOMIZE = [
  'rm -f "$1"/etc/systemd/system/multi-user.target.wants/conntrackd.service',
  `printf '${HOSTS.replace(/\t/g, '\\t').replace(/\n/g, '\\n')}' > "$1"/etc/hosts`,
  // No /etc/hostname: the guest keeps the name systemd-nspawn gives it (the VM's), as GCE names a VM's host.
  'rm -f "$1"/etc/hostname',
  'mkdir -p "$1"/etc/sysctl.d',
  ': > "$1"/etc/machine-id',
  // apt's index is not needed: every package the startup script asks for is in the image.
  'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
];

/** Changes with anything that changes the image: suite, mirror, packages, customization. */
export function imageKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ suite: GUEST_SUITE, mirror: GUEST_MIRROR, packages: GUEST_PACKAGES, customize: CUSTOMIZE, v: 1 }))
    .digest('hex')
    .slice(0, 16);
}

export function imagePath(cacheDir = GUEST_CACHE_DIR): string {
  return path.join(cacheDir, `debian-${GUEST_SUITE}-${imageKey()}`);
}

/** Why this host cannot build or boot guests (each with the command that fixes it); empty when it can. */
export function guestHostProblems(): string[] {
  const problems: string[] = [];
  const has = (tool: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => existsSync(path.join(dir, tool)));
  if (process.getuid?.() !== 0) problems.push('lab guests need root (mmdebstrap, systemd-nspawn): run as root');
  if (!has('systemd-nspawn'))
    problems.push('lab guests are booted with systemd-nspawn, which is missing: apt-get install -y systemd-container');
  if (!has('nsenter')) problems.push('lab guests are entered with nsenter, which is missing: apt-get install -y util-linux');
  if (!has('modprobe')) problems.push('kernel modules for guests are loaded with modprobe, which is missing: apt-get install -y kmod');
  return problems;
}

function assertHostCanBuild(): void {
  const problems = guestHostProblems();
  if (!['/usr/bin', '/bin'].some((dir) => existsSync(path.join(dir, 'mmdebstrap'))))
    problems.push("the lab's Debian 13 guest image is built with mmdebstrap, which is missing: apt-get install -y mmdebstrap");
  if (problems.length > 0) throw new Error(`this host cannot build lab guests:\n  - ${problems.join('\n  - ')}`);
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const take = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (chunk: Buffer) => {
      take(chunk);
      for (const line of chunk.toString().split('\n')) if (line.startsWith('I: ')) log(line);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.slice(0, 3).join(' ')} … exited with ${code}:\n${tail}`)),
    );
  });
}

/** Holds an exclusive lock (flock on LOCKFILE) while `task` runs; waits for another builder at most `timeoutMs`. */
async function withLock<T>(lockFile: string, timeoutMs: number, task: () => Promise<T>): Promise<T> {
  // flock(1) holds the lock for as long as its child (cat, reading a pipe we keep open) lives.
  const holder = spawn(
    'flock',
    ['--exclusive', '--timeout', String(Math.ceil(timeoutMs / 1000)), lockFile, 'sh', '-c', 'echo locked; cat >/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve();
    });
    holder.once('exit', (code) => reject(new Error(`could not lock ${lockFile} within ${timeoutMs} ms (flock exited ${code})`)));
  });
  try {
    return await task();
  } finally {
    holder.stdin.end();
  }
}

export interface EnsureImageOptions {
  cacheDir?: string;
  log?: (line: string) => void;
}

/**
 * The cached image's path, building it first when it is missing (about a minute and a half on a 2-core machine with
 * a nearby mirror; see docs/lab.md). Builders of the same image wait for each other; a build goes to a temporary
 * directory renamed into place only when complete, so a crash never leaves half an image under the final name.
 */
export async function ensureGuestImage(options: EnsureImageOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? GUEST_CACHE_DIR;
  const log = options.log ?? (() => {});
  const target = imagePath(cacheDir);
  if (existsSync(path.join(target, 'usr/lib/systemd/systemd'))) return target;
  assertHostCanBuild();
  mkdirSync(cacheDir, { recursive: true });
  return withLock(path.join(cacheDir, 'build.lock'), 15 * 60_000, async () => {
    if (existsSync(path.join(target, 'usr/lib/systemd/systemd'))) return target;
    // Leftovers of builds that died (their lock is gone, so nobody is writing them): mmdebstrap killed mid-build
    // leaves /proc, /sys and /dev mounted inside, which must go first.
    for (const entry of readdirSync(cacheDir)) if (entry.startsWith('.build-')) removeBuildDir(path.join(cacheDir, entry));
    const staging = path.join(cacheDir, `.build-${path.basename(target)}-${process.pid}`);
    const started = Date.now();
    log(`lab: building the guest image ${target} (Debian ${GUEST_SUITE}, ${GUEST_PACKAGES.length} packages); once per package list`);
    try {
      await run(
        'mmdebstrap',
        [
          '--variant=minbase',
          '--mode=root',
          '--format=directory',
          `--include=${GUEST_PACKAGES.join(',')}`,
          ...CUSTOMIZE.map((hook) => `--customize-hook=${hook}`),
          GUEST_SUITE,
          staging,
          GUEST_MIRROR,
        ],
        log,
      );
      writeFileSync(
        path.join(staging, 'etc/natgw-lab-image'),
        `${JSON.stringify({ key: imageKey(), packages: GUEST_PACKAGES, builtAt: new Date().toISOString(), buildMs: Date.now() - started })}\n`,
      );
      renameSync(staging, target);
    } catch (error) {
      removeBuildDir(staging);
      throw error;
    }
    pruneOldImages(cacheDir, path.basename(target));
    log(`lab: guest image built in ${((Date.now() - started) / 1000).toFixed(0)} s (${imageSizeMb(target)} MB)`);
    return target;
  });
}

/** Unmounts whatever a dead mmdebstrap left mounted under `dir` (deepest first), then removes it. */
function removeBuildDir(dir: string): void {
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
      .sort()
      .reverse();
  } catch {
    // no mountinfo: nothing to unmount
  }
  for (const mountPoint of mounts) spawnSync('umount', ['--lazy', mountPoint], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Images of other package lists (another checkout, an older natgw) stay while they may be in use, and go once nothing
 * has built them for a week: two checkouts with different lists must not delete each other's image.
 */
const PRUNE_AFTER_MS = 7 * 24 * 3600_000;
function pruneOldImages(cacheDir: string, keep: string): void {
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith(`debian-${GUEST_SUITE}-`) || entry === keep) continue;
    try {
      if (Date.now() - statSync(path.join(cacheDir, entry, 'etc/natgw-lab-image')).mtimeMs < PRUNE_AFTER_MS) continue;
    } catch {
      // not one of ours, or half-written: leave it
      continue;
    }
    rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
  }
}

function imageSizeMb(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return Number.NaN;
  }
}
