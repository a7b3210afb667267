// The NAT VM's startup script: lint, the systemd unit it renders, and its functions against a tiny local metadata
// server, always under a temporary NATGW_ROOT (lab VMs share the host filesystem: never the host's real /etc).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { bundleMetadata, repoFile, sha256 } from '../provision/agent-bundle.js';

const SCRIPT = repoFile('startup-scripts/natgw-startup.sh');
const hasCommand = async (command: string) => (await execa('sh', ['-c', `command -v ${command}`], { reject: false })).exitCode === 0;

/** A metadata server with only what the script reads: instance attributes, behind the Metadata-Flavor header. */
async function metadataServer(
  t: { teardown: (fn: () => unknown) => void },
  attributes: Record<string, string>,
): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.headers['metadata-flavor'] !== 'Google') {
      response.writeHead(403).end('Missing Metadata-Flavor:Google header.\n');
      return;
    }
    const key = decodeURIComponent((request.url ?? '').replace(/^\/computeMetadata\/v1\/instance\/attributes\//, '').split('?')[0] ?? '');
    const value = attributes[key];
    if (value === undefined) response.writeHead(404, { 'Metadata-Flavor': 'Google' }).end('not found\n');
    else response.writeHead(200, { 'Metadata-Flavor': 'Google', 'Content-Type': 'application/text' }).end(value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/computeMetadata/v1`, requests };
}

function tempRoot(t: { teardown: (fn: () => unknown) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'natgw-startup-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** Sources the script and calls one function, as the guest environment would run it but confined to `root`. */
function callFunction(fn: string, env: Record<string, string>) {
  return execa('bash', ['-c', `source "$1"; ${fn}`, 'natgw-test', SCRIPT], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
}

t.test('shellcheck is clean', { skip: !(await hasCommand('shellcheck')) && 'shellcheck not installed' }, async (t) => {
  const result = await execa('shellcheck', ['--severity=style', SCRIPT], { reject: false });
  t.equal(result.exitCode, 0, result.stdout);
});

t.test(
  'the rendered unit passes systemd-analyze verify and is hardened',
  { skip: !(await hasCommand('systemd-analyze')) && 'systemd-analyze not installed' },
  async (t) => {
    const dir = tempRoot(t);
    const unit = (await callFunction('render_unit', { NATGW_NODE_BIN: process.execPath })).stdout;
    const file = join(dir, 'natgw-agent.service');
    writeFileSync(file, `${unit}\n`);
    const verify = await execa('systemd-analyze', ['verify', file], { reject: false });
    t.equal(verify.exitCode, 0, `${verify.stdout}\n${verify.stderr}`);
    t.equal(verify.stderr.trim(), '', 'no warnings');
    t.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN$/m, 'netlink and /proc/sys/net; nothing else');
    t.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN$/m);
    t.notMatch(unit, /CAP_SYS_MODULE|CAP_SYS_ADMIN|CAP_NET_RAW|CAP_DAC/);
    t.match(unit, /^User=natgw$/m, 'its own system user, not root');
    t.match(unit, /^Group=natgw$/m);
    t.notMatch(unit, /^ReadWritePaths=/m, 'nothing writable but its own state and runtime directories');
    for (const line of [
      'ProtectSystem=strict',
      'StateDirectory=natgw',
      'RuntimeDirectory=natgw',
      'RuntimeDirectoryPreserve=yes',
      'StateDirectoryMode=0700',
      'RuntimeDirectoryMode=0700',
      'UMask=0077',
      'ProtectHome=yes',
      'NoNewPrivileges=yes',
      'Restart=always',
      'RestartSec=2',
    ]) {
      t.match(unit, new RegExp(`^${line.replace(/[./]/g, '\\$&')}$`, 'm'), line);
    }
    t.notMatch(unit, /^ProtectKernelTunables=yes/m, 'the agent writes /proc/sys/net');
    t.match(
      unit,
      new RegExp(
        `^ExecStart=${process.execPath} --max-semi-space-size=1 /opt/natgw/natgw-agent.mjs --restart-on-new-bundle --sysctl-file /var/lib/natgw/sysctl.conf$`,
        'm',
      ),
      'no config arguments on GCE: the agent reads natgw-config itself; sysctls persisted in its own directory; a small young generation',
    );
    t.match(
      unit,
      /^ExecStartPre=-\+\/usr\/bin\/timeout 45 \/bin\/bash \/opt\/natgw\/natgw-startup.sh update-agent$/m,
      'a published bundle is installed before each start, outside the sandbox, bounded in time, never blocking the start',
    );
    t.match(unit, /^SuccessExitStatus=75$/m, 'an exit to upgrade is not a failure');
    t.match(unit, /^Environment=NODE_ENV=production MALLOC_MMAP_THRESHOLD_=65536$/m, 'large buffers go back to the kernel when freed');

    for (const [name, fn] of [
      ['natgw-sysctl.path', 'render_sysctl_path_unit'],
      ['natgw-sysctl.service', 'render_sysctl_service_unit'],
    ] as const) {
      const text = (await callFunction(fn, {})).stdout;
      writeFileSync(join(dir, name), `${text}\n`);
    }
    const helpers = await execa('systemd-analyze', ['verify', join(dir, 'natgw-sysctl.path'), join(dir, 'natgw-sysctl.service')], {
      reject: false,
    });
    t.equal(helpers.exitCode, 0, `${helpers.stdout}\n${helpers.stderr}`);
    t.match(readFileSync(join(dir, 'natgw-sysctl.path'), 'utf8'), /^PathChanged=\/var\/lib\/natgw\/sysctl\.conf$/m);
    t.match(
      readFileSync(join(dir, 'natgw-sysctl.service'), 'utf8'),
      /^ExecStart=\/bin\/bash \/opt\/natgw\/natgw-startup\.sh install-sysctl$/m,
      'as root, outside the agent: the agent cannot write /etc/sysctl.d',
    );
  },
);

t.test('install_atomically: stdin replaces the file under its mode by a rename, leaving nothing staged', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'opt/natgw');
  const install = (content: string, mode: string) =>
    callFunction(`printf '%s' '${content}' | install_atomically ${mode} "\${NATGW_ROOT}/opt/natgw/agent.mjs"`, { NATGW_ROOT: root });
  const first = await install('one', '0755');
  t.equal(first.exitCode, 0, first.stderr);
  t.equal(readFileSync(join(dir, 'agent.mjs'), 'utf8'), 'one', 'the directory is made');
  t.equal(statSync(join(dir, 'agent.mjs')).mode & 0o777, 0o755);
  const inode = statSync(join(dir, 'agent.mjs')).ino;
  t.equal((await install('two', '0644')).exitCode, 0);
  t.equal(readFileSync(join(dir, 'agent.mjs'), 'utf8'), 'two');
  t.equal(statSync(join(dir, 'agent.mjs')).mode & 0o777, 0o644);
  t.not(statSync(join(dir, 'agent.mjs')).ino, inode, 'a new file renamed over the old one, never rewritten in place');
  t.same(readdirSync(dir), ['agent.mjs'], 'nothing staged left behind');
});

t.test("install-sysctl copies the agent's sysctls into /etc/sysctl.d, and refuses anything but natgw's settings", async (t) => {
  const root = tempRoot(t);
  const state = join(root, 'var/lib/natgw');
  mkdirSync(state, { recursive: true });
  const target = join(root, 'etc/sysctl.d/99-natgw.conf');
  const install = () => callFunction('install_sysctl_conf', { NATGW_ROOT: root });

  const nothing = await install();
  t.equal(nothing.exitCode, 0, 'nothing written yet: nothing to do');
  t.notOk(existsSync(target));

  const good = [
    "# Written by natgw agent; removed by 'natgw agent --cleanup'.",
    'net.ipv4.ip_forward = 1',
    'net.ipv4.conf.all.send_redirects = 0',
    'net/ipv4/conf/ens4.100/send_redirects = 0',
    'net.netfilter.nf_conntrack_udp_timeout = 30',
    'net.netfilter.nf_conntrack_max = 262144',
    '',
  ].join('\n');
  writeFileSync(join(state, 'sysctl.conf'), good);
  const installed = await install();
  t.equal(installed.exitCode, 0, installed.stderr);
  t.equal(readFileSync(target, 'utf8'), good);

  for (const [what, line] of [
    ['a kernel setting', 'kernel.core_pattern = |/tmp/x'],
    ['an ignore-errors prefix', '-net.ipv4.ip_forward = 1'],
    ['a value that is not a number', 'net.ipv4.ip_forward = 1 2'],
    ['another net setting', 'net.ipv4.conf.all.rp_filter = 0'],
  ] as const) {
    writeFileSync(join(state, 'sysctl.conf'), `net.ipv4.ip_forward = 1\n${line}\n`);
    const refused = await install();
    t.not(refused.exitCode, 0, what);
    t.match(refused.stderr, /holds a line that is not a natgw setting; not installed/, what);
    t.notMatch(refused.stderr + refused.stdout, line, `${what}: not echoed`);
    t.equal(readFileSync(target, 'utf8'), good, `${what}: the installed file stays`);
  }
  rmSync(join(state, 'sysctl.conf'));
  symlinkSync('/etc/hostname', join(state, 'sysctl.conf'));
  t.equal((await install()).exitCode, 0, 'a link is never followed');
  t.equal(readFileSync(target, 'utf8'), good);
});

t.test('a good multi-chunk bundle is fetched, verified and installed under NATGW_ROOT', async (t) => {
  const bundle = Buffer.concat([Buffer.from('// natgw agent\n'), randomBytes(300 * 1024)]);
  const attributes = bundleMetadata(bundle, '0.1.0');
  t.ok(attributes['natgw-agent-1'] !== undefined, 'the bundle spans two chunks');
  const server = await metadataServer(t, attributes);
  const root = tempRoot(t);
  const result = await callFunction('fetch_and_install_agent', { NATGW_ROOT: root, NATGW_METADATA_URL: server.url });
  t.equal(result.exitCode, 0, result.stderr);
  t.match(result.stdout, /agent: fetched 2 chunk\(s\)/);
  t.match(result.stdout, new RegExp(`sha256 ${sha256(bundle)} verified`));
  const installed = join(root, 'opt/natgw/natgw-agent.mjs');
  t.equal(sha256(readFileSync(installed)), sha256(bundle));
  t.same(readdirSync(join(root, 'opt/natgw')), ['natgw-agent.mjs'], 'no staging leftovers');
  t.ok(server.requests.includes('/computeMetadata/v1/instance/attributes/natgw-agent-2'), 'stops at the first missing chunk');
});

t.test('a checksum mismatch fails loudly and installs nothing', async (t) => {
  const attributes = bundleMetadata(Buffer.from('console.log("agent")\n'), '0.1.0');
  attributes['natgw-agent-sha256'] = sha256('something else');
  const server = await metadataServer(t, attributes);
  const root = tempRoot(t);
  const result = await callFunction('fetch_and_install_agent', { NATGW_ROOT: root, NATGW_METADATA_URL: server.url });
  t.not(result.exitCode, 0);
  t.match(
    result.stderr,
    /ERROR: agent bundle checksum mismatch: metadata says [0-9a-f]{64}, the reassembled bundle is [0-9a-f]{64}; not starting it/,
  );
  t.notOk(existsSync(join(root, 'opt/natgw/natgw-agent.mjs')));
  t.same(readdirSync(join(root, 'opt/natgw')), [], 'staging removed even on failure');
});

t.test('missing bundle, missing checksum, corrupt data: each a clear failure', async (t) => {
  const root = tempRoot(t);
  const none = await metadataServer(t, {});
  const empty = await callFunction('fetch_and_install_agent', { NATGW_ROOT: root, NATGW_METADATA_URL: none.url });
  t.not(empty.exitCode, 0);
  t.match(empty.stderr, /no agent bundle in metadata \(natgw-agent-0 is missing\)/);

  const noSum = bundleMetadata(Buffer.from('x'), '0.1.0');
  delete noSum['natgw-agent-sha256'];
  const noSumResult = await callFunction('fetch_and_install_agent', {
    NATGW_ROOT: root,
    NATGW_METADATA_URL: (await metadataServer(t, noSum)).url,
  });
  t.match(noSumResult.stderr, /natgw-agent-sha256 is missing; refusing to run an unverified agent/);

  const corrupt = await callFunction('fetch_and_install_agent', {
    NATGW_ROOT: root,
    NATGW_METADATA_URL: (await metadataServer(t, { 'natgw-agent-0': 'bm90IGd6aXA=', 'natgw-agent-sha256': 'x' })).url,
  });
  t.match(corrupt.stderr, /not valid base64\+gzip/);
  t.notOk(existsSync(join(root, 'opt/natgw/natgw-agent.mjs')));
});

t.test('main, unmodified as GCE and the lab run it: packages present, modprobe harmless, the unit enabled and restarted', async (t) => {
  const root = tempRoot(t);
  // Stand-ins for systemctl and modprobe that record their arguments (modprobe fails, as in a container or on a
  // kernel with everything built in); every other command is the host's.
  const bin = tempRoot(t);
  const calls = join(bin, 'calls');
  writeFileSync(join(bin, 'systemctl'), `#!/bin/bash\necho "systemctl $*" >>"${calls}"\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'modprobe'), `#!/bin/bash\necho "modprobe $*" >>"${calls}"\nexit 1\n`, { mode: 0o755 });
  // No such user yet, as on a fresh VM; the stand-in records how it would be created.
  writeFileSync(join(bin, 'getent'), '#!/bin/bash\nexit 2\n', { mode: 0o755 });
  writeFileSync(join(bin, 'useradd'), `#!/bin/bash\necho "useradd $*" >>"${calls}"\n`, { mode: 0o755 });
  const server = await metadataServer(t, bundleMetadata(Buffer.from('// agent\n'), '0.1.0'));
  const present = await Promise.all(['nft', 'conntrack', 'conntrackd', 'tcpdump', 'ip', 'curl'].map(hasCommand));
  const result = await execa('bash', [SCRIPT], {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, NATGW_ROOT: root, NATGW_METADATA_URL: server.url, NATGW_NODE_BIN: process.execPath },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  if (present.every(Boolean)) {
    t.equal(result.exitCode, 0, result.stderr);
    t.match(result.stdout, /packages: all present/);
    t.match(
      result.stdout,
      /modules: nf_tables not loaded \(built in, or unavailable\)/,
      'a module that cannot be loaded is logged, not fatal',
    );
    t.match(result.stdout, /natgw-startup: done/);
    t.same(
      readFileSync(calls, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('systemctl') || line.startsWith('useradd')),
      [
        'useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin natgw',
        'systemctl daemon-reload',
        'systemctl enable --now natgw-sysctl.path',
        'systemctl enable natgw-agent.service',
        'systemctl restart natgw-agent.service',
      ],
    );
    for (const unit of ['natgw-agent.service', 'natgw-sysctl.path', 'natgw-sysctl.service'])
      t.ok(existsSync(join(root, 'etc/systemd/system', unit)), unit);
    t.same(
      readdirSync(join(root, 'etc/systemd/system')).filter((name) => name.startsWith('.')),
      [],
      'no staged unit left',
    );
    t.ok(existsSync(join(root, 'opt/natgw/natgw-startup.sh')), 'a copy of the script for the unit to run update-agent');
  } else {
    t.match(result.stdout, /packages: installing/, 'a missing package goes to apt-get');
  }
});

t.test('update-agent installs a newly published bundle only', async (t) => {
  const root = tempRoot(t);
  const installed = join(root, 'opt/natgw/natgw-agent.mjs');
  const first = Buffer.from('// agent 1\n');
  const same = await callFunction('update_agent', {
    NATGW_ROOT: root,
    NATGW_METADATA_URL: (await metadataServer(t, bundleMetadata(first, '1'))).url,
  });
  t.equal(same.exitCode, 0, same.stderr);
  t.match(same.stdout, /a new bundle is published/, 'nothing installed yet: installs it');
  t.equal(readFileSync(installed, 'utf8'), first.toString());
  const again = await callFunction('update_agent', {
    NATGW_ROOT: root,
    NATGW_METADATA_URL: (await metadataServer(t, bundleMetadata(first, '1'))).url,
  });
  t.match(again.stdout, /the installed bundle is the published one/);
  t.notMatch(again.stdout, /fetched/, 'no download when nothing changed');
  const second = Buffer.from('// agent 2\n');
  const upgrade = await execa('bash', [SCRIPT, 'update-agent'], {
    env: { PATH: process.env.PATH ?? '', NATGW_ROOT: root, NATGW_METADATA_URL: (await metadataServer(t, bundleMetadata(second, '2'))).url },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  t.equal(upgrade.exitCode, 0, upgrade.stderr);
  t.equal(
    readFileSync(installed, 'utf8'),
    second.toString(),
    "the script run as `update-agent` (the unit's ExecStartPre) installs the new one",
  );
  const noSum = bundleMetadata(Buffer.from('// agent 3\n'), '3');
  delete noSum['natgw-agent-sha256'];
  const refused = await callFunction('update_agent', { NATGW_ROOT: root, NATGW_METADATA_URL: (await metadataServer(t, noSum)).url });
  t.not(refused.exitCode, 0);
  t.equal(readFileSync(installed, 'utf8'), second.toString(), 'without a checksum the installed agent stays');
});

/** A PATH holding only a stub apt-get (and sleep): every package looks missing; the stub logs its arguments. */
function aptStub(t: { teardown: (fn: () => unknown) => void }, failingUpdates: number): { path: string; log: string } {
  const dir = tempRoot(t);
  const log = join(dir, 'apt.log');
  writeFileSync(
    join(dir, 'apt-get'),
    `#!/bin/bash\necho "$*" >>"${log}"\nif [[ " $* " == *" update "* ]]; then\n  count=0\n  [[ -f "${dir}/updates" ]] && read -r count <"${dir}/updates"\n  echo $((count + 1)) >"${dir}/updates"\n  ((count >= ${failingUpdates})) || exit 100\nfi\nexit 0\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, 'sleep'), '#!/bin/bash\nexit 0\n', { mode: 0o755 });
  return { path: dir, log };
}

t.test('apt-get waits for the dpkg lock (bounded) and retries a failed update', async (t) => {
  const flaky = aptStub(t, 2);
  const result = await execa('/bin/bash', ['-c', `source "$1"; install_packages`, 'natgw-test', SCRIPT], {
    env: { PATH: flaky.path, NATGW_NODE_BIN: '/nonexistent/node' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  t.equal(result.exitCode, 0, result.stderr);
  const calls = readFileSync(flaky.log, 'utf8').trim().split('\n');
  t.same(
    calls.map((call) => (call.includes(' update') ? 'update' : 'install')),
    ['update', 'update', 'update', 'install'],
    'two failed updates retried, then the install',
  );
  t.ok(
    calls.every((call) => call.startsWith('-o DPkg::Lock::Timeout=300 ')),
    `every apt-get call waits for the lock, bounded: ${calls.join(' | ')}`,
  );
  t.match(result.stdout, /apt-get update failed \(attempt 2\/5\)/);

  const broken = aptStub(t, 99);
  const failed = await execa('/bin/bash', ['-c', `source "$1"; install_packages`, 'natgw-test', SCRIPT], {
    env: { PATH: broken.path, NATGW_NODE_BIN: '/nonexistent/node' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  t.not(failed.exitCode, 0);
  t.match(failed.stderr, /ERROR: apt-get update failed 5 times/);
  t.equal(readFileSync(broken.log, 'utf8').trim().split('\n').length, 5, 'bounded: five attempts, no install');
});
