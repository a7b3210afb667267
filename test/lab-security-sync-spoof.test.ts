// Issue #24: state sync a client cannot forge. A client VM with canIpForward (a GKE node, an appliance) may send with
// any source address, GCE's anti-spoofing included (the lab's fabric models it: renderAntiSpoofing), so it can send
// conntrackd's sync messages as the peer NAT VM. Here it does, the simplest way there is: it takes the peer's address
// on its loopback, runs conntrackd with the NAT VMs' own config towards NAT VM a, and puts a made-up connection into
// its own table for conntrackd to replicate. NAT VM a's connection table must not change.
//
// The input chain's source-address check lets the forged packets in (the fabric counts them reaching a); what stops
// them is the agent's relay, which hands conntrackd only frames tagged under the peer's key, and counts the rest
// (natgw_sync_forged_total; docs/security.md, "State sync a client cannot forge").
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { conntrackdConfig, conntrackdFiles } from '../agent/conntrackd.js';
import { CLIENT_TAG } from '../lab/demo.js';
import { agentMetricSeries, buildProvisionedPair } from '../lab/stateful/provisioned-pair.js';
import { SYNC_PORT } from '../common/protocol.js';
import { until } from '../lab/failover.js';

// A connection no client made: a private source nobody uses, to a documentation address, on ports nothing uses.
const FORGED = { src: '10.99.1.1', dst: '198.51.100.99', sport: '4444', dport: '5555' };
const COUNT_TABLE = 'natgw_test_spoof_count';

t.test('sync packets forged from the peer by a canIpForward client change nothing on the NAT VMs', async (t) => {
  const spoofer = 'spoofer';
  const pair = await buildProvisionedPair({
    sync: true,
    say: (line) => t.comment(line),
    moreWorkloads: [{ name: spoofer, tags: [CLIENT_TAG], canIpForward: true }],
  });
  t.teardown(() => pair.close());
  const { cloud } = pair;
  const [target, peer] = pair.natVms();
  if (target === undefined || peer === undefined) throw new Error('the pair has fewer than two NAT VMs');
  const spooferVm = cloud.lab.vm(spoofer);
  const inSpoofer = (purpose: string, args: string[]) => cloud.lab.run(purpose, spooferVm.namespace, args);

  // The positive control: forged sync packets do reach NAT VM a's NIC (counted in the fabric's bridge, where they
  // leave for a's port); what the spoofer sent at all is counted where it enters, for the failure message.
  await cloud.lab.run('count forged sync packets', cloud.lab.fabric, ['nft', '-f', '-'], {
    input: [
      `table bridge ${COUNT_TABLE} {`,
      '  counter forged { }',
      '  counter sent { }',
      '  chain prerouting {',
      '    type filter hook prerouting priority -300; policy accept;',
      `    iifname "${spooferVm.fabricPort}" ether type ip counter name "sent"`,
      '  }',
      '  chain forward {',
      '    type filter hook forward priority 300; policy accept;',
      `    iifname "${spooferVm.fabricPort}" oifname "${target.fabricPort}" ip saddr ${peer.ip} udp dport ${SYNC_PORT} counter name "forged"`,
      '  }',
      '}',
      '',
    ].join('\n'),
  });
  t.teardown(() =>
    cloud.lab.run('remove the count', cloud.lab.fabric, ['nft', 'delete', 'table', 'bridge', COUNT_TABLE], { okExitCodes: [1] }),
  );
  const counted = async (name: 'forged' | 'sent') => {
    const { stdout } = await cloud.lab.run('read the count', cloud.lab.fabric, ['nft', 'list', 'counter', 'bridge', COUNT_TABLE, name]);
    return Number(/packets (\d+)/.exec(stdout)?.[1] ?? 0);
  };
  const forgedPackets = () => counted('forged');
  // The relay's count of the frames it dropped, every reason summed.
  const droppedByRelay = async () =>
    ((await agentMetricSeries(cloud, target, 'natgw_sync_forged_total')) ?? []).reduce((sum, value) => sum + value, 0);
  const droppedBefore = await droppedByRelay();

  // The peer's address on loopback: sent from, never answered for on the wire (no ARP for it on ens4).
  await inSpoofer('answer ARP only for ens4 addresses', [
    'sysctl',
    '-qw',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
  ]);
  await inSpoofer("take the peer's address", ['ip', 'address', 'add', `${peer.ip}/32`, 'dev', 'lo']);
  // conntrackd's sending socket is not bound to its IPv4_address: the route gives the forged source.
  await inSpoofer('send to a as the peer', ['ip', 'route', 'add', `${target.ip}/32`, 'dev', 'ens4', 'src', peer.ip]);
  const dir = path.join(cloud.lab.dir, 'spoofer-conntrackd');
  mkdirSync(dir, { recursive: true });
  const files = conntrackdFiles(dir);
  await cloud.lab.run('write the forger config', spooferVm.namespace, ['tee', files.config], {
    input: conntrackdConfig({ dir, localIp: peer.ip, peerIp: target.ip, interfaceName: 'ens4', ignoreAddresses: [] }),
  });
  const conntrackd = cloud.lab.spawn(spoofer, ['conntrackd', '-C', files.config], 'forger conntrackd');
  t.teardown(() => conntrackd.stop());
  await until(
    async () => (await inSpoofer('forger up?', ['conntrackd', '-C', files.config, '-s']).catch(() => undefined)) !== undefined,
    10_000,
    200,
  );
  await inSpoofer('make up a connection', [
    'conntrack',
    '-I',
    '-p',
    'tcp',
    '-s',
    FORGED.src,
    '-d',
    FORGED.dst,
    '--sport',
    FORGED.sport,
    '--dport',
    FORGED.dport,
    '--state',
    'ESTABLISHED',
    '-u',
    'SEEN_REPLY,ASSURED',
    '-t',
    '600',
  ]);
  // And again in bulk, as a resync would send it.
  await inSpoofer('send the table', ['conntrackd', '-C', files.config, '-B']);

  const forged = async () =>
    (
      await cloud.lab.exec(target.name, ['conntrack', '-L', '-p', 'tcp', '-s', FORGED.src, '-d', FORGED.dst], { okExitCodes: [1] })
    ).stdout.includes(`sport=${FORGED.sport}`);
  if (!t.ok(await until(async () => (await forgedPackets()) > 0, 15_000, 250), `forged sync packets reached ${target.name}`)) {
    const stats = await inSpoofer('its stats', ['conntrackd', '-C', files.config, '-s']).catch((error: Error) => ({
      stdout: error.message,
    }));
    const log = await readFile(files.log, 'utf8').catch(() => '(no log)');
    t.comment(
      `the spoofer sent ${await counted('sent')} IPv4 packets; its conntrackd printed ${conntrackd.text.slice(-1500)}; its log: ${log.slice(-1500)}; its stats: ${stats.stdout.slice(0, 1500)}`,
    );
  }
  // Bounded: conntrackd applies what it receives within milliseconds; after this long, it would have.
  const injected = await until(forged, 10_000, 250);
  t.notOk(injected, `${target.name}'s connection table holds no connection the forger made up`);
  t.ok(
    await until(async () => (await droppedByRelay()) > droppedBefore, 10_000, 250),
    `${target.name}'s relay dropped and counted the forged frames (natgw_sync_forged_total, from ${droppedBefore})`,
  );
});
