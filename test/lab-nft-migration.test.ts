// A live upgrade from the last agent with the iptables data plane to the nft one, during a TCP transfer: the old
// agent's chains and ipsets overlap with the new table for a moment and are then removed, and a capture on the NAT VM's
// internet-facing side shows that no client packet ever left with its private address.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { INTERNET, repoRoot } from '../lab/lab.js';
import { LISTEN, NAT_EXTERNAL_IP, baseConfig, createNatLab } from './helpers/nat-lab.js';

/** The last commit whose agent ran the iptables + ipset data plane. */
const LEGACY_AGENT_COMMIT = '4b64218';
const CLIENT_IP = '10.10.0.11';

async function buildLegacyAgent(outfile: string): Promise<void> {
  const source = mkdtempSync(path.join(os.tmpdir(), 'natgw-legacy-agent-'));
  try {
    const archive = execFileSync('git', ['-C', repoRoot(), 'archive', '--format=tar', LEGACY_AGENT_COMMIT, 'agent', 'cli'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', source], { input: archive });
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [path.join(source, 'agent/entry.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      nodePaths: [path.join(repoRoot(), 'node_modules')],
      banner: { js: "import{createRequire as __natgwCreateRequire}from'node:module';const require=__natgwCreateRequire(import.meta.url);" },
      logLevel: 'silent',
    });
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

t.test('an agent on the iptables data plane is upgraded to the nft table during a transfer', async (t) => {
  const natLab = await createNatLab(t, { withOutsider: false });
  const { lab } = natLab;
  const legacyBundle = path.join(lab.dir, 'natgw-agent-iptables.mjs');
  await buildLegacyAgent(legacyBundle);
  natLab.writeConfig(baseConfig());
  const legacy = lab.spawn(
    'nat',
    ['node', legacyBundle, '--config', natLab.configFile, '--listen', LISTEN, '--root', lab.vm('nat').root],
    'iptables agent',
  );
  await natLab.waitUntil('the iptables agent is healthy', async () => (await natLab.healthz()).status === 200, 30_000);
  const iptablesSave = async () => (await lab.exec('nat', ['iptables-save'])).stdout;
  const ipsets = async () => (await lab.exec('nat', ['ipset', 'list', '-n'])).stdout;
  t.match(await iptablesSave(), /-A FORWARD -j NATGW-FORWARD/, 'the old agent runs its iptables chains');
  t.match(await ipsets(), /natgw-src/, 'and its ipset');
  t.equal(await natLab.natTable(), '', 'no nft table yet');
  t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP);

  // A small receive buffer: the rate limit then paces the transfer on the wire, so it spans the upgrade.
  await lab.exec('private', ['sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 16384 65536']);
  const capture = lab.spawn(
    'nat',
    ['tcpdump', '-l', '-n', '-Q', 'out', '-i', 'ens4', `ip and dst host ${INTERNET.server}`],
    'capture of what leaves the NAT VM',
  );
  await capture.waitFor(/listening on/, 10_000);
  const transfer = lab.spawn(
    'private',
    ['curl', '-sS', '--limit-rate', '400K', '-o', '/dev/null', '-w', '%{size_download}', `http://${INTERNET.server}/bytes?n=6000000`],
    'long transfer',
  );
  await natLab.waitUntil('the transfer is under way', async () => {
    const { stdout } = await lab.exec('nat', ['conntrack', '-L', '-p', 'tcp', '--orig-src', CLIENT_IP, '--state', 'ESTABLISHED'], {
      okExitCodes: [1],
    });
    return stdout.includes(CLIENT_IP);
  });

  // What the systemd unit does on an upgrade: the old agent exits and leaves its data plane, the new one starts.
  legacy.child.kill('SIGTERM');
  await legacy.exited;
  t.match(legacy.text, /the data plane stays in place/, 'the old agent stopped and left its data plane');
  const agent = natLab.startAgent();
  t.teardown(() => agent.stop());
  await natLab.waitUntil('the nft agent is healthy', async () => (await natLab.healthz()).status === 200, 20_000);
  t.match(agent.text, /removed the iptables data plane of an older agent/);
  t.ok(transfer.running, 'the transfer was still running when the nft agent took over');

  t.equal(await transfer.exited, 0, 'curl finished without error');
  t.equal(transfer.text.trim(), '6000000', 'every byte arrived');
  t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'new connections go out through the nft table');

  capture.child.kill('SIGINT');
  await capture.exited;
  const packets = capture.text.split('\n').filter((line) => / IP \d+\.\d+\.\d+\.\d+\.\d+ > /.test(line));
  const sources = new Set(packets.map((line) => / IP (\d+\.\d+\.\d+\.\d+)\.\d+ > /.exec(line)?.[1]));
  t.ok(packets.length > 20, `the capture saw the transfer's packets (${packets.length})`);
  t.same([...sources], ['10.10.0.2'], 'every packet towards the internet carried the NAT VM address, none a client address');

  t.notMatch(await iptablesSave(), /NATGW/, 'no old chain or jump remains');
  t.notMatch(await ipsets(), /natgw/, 'no old ipset remains');
  t.match(await natLab.natTable(), /table ip natgw/);
});
