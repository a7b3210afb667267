// The agent against the things that happen to a NAT VM: other software's rules, an operator flushing tables, the agent
// itself being killed mid-transfer, and removal.
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { INTERNET } from '../lab/lab.js';
import { NAT_EXTERNAL_IP, baseConfig, createNatLab, startHealthyAgent } from './helpers/nat-lab.js';

const FOREIGN_RULES = [
  ['iptables', '-A', 'FORWARD', '-s', '192.0.2.0/24', '-m', 'comment', '--comment', 'foreign-accept', '-j', 'ACCEPT'],
  ['iptables', '-N', 'DOCKER-USER'],
  ['iptables', '-A', 'DOCKER-USER', '-j', 'RETURN'],
  ['iptables', '-A', 'FORWARD', '-j', 'DOCKER-USER'],
  ['iptables', '-t', 'nat', '-N', 'DOCKER'],
  ['iptables', '-t', 'nat', '-A', 'DOCKER', '-d', '192.0.2.7', '-j', 'RETURN'],
  ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '172.17.0.0/16', '!', '-o', 'docker0', '-j', 'MASQUERADE'],
  ['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-m', 'comment', '--comment', 'foreign-mangle', '-j', 'RETURN'],
  ['ipset', 'create', 'foreign-set', 'hash:ip'],
  ['ipset', 'add', 'foreign-set', '192.0.2.9'],
  [
    'nft',
    'add table inet foreign; add chain inet foreign forwarding { type filter hook forward priority 5; policy accept; }; add rule inet foreign forwarding ip saddr 192.0.2.0/24 counter accept',
  ],
];

t.test('drift, restarts and cleanup', async (t) => {
  const natLab = await createNatLab(t, { withOutsider: false });
  const { lab } = natLab;
  for (const rule of FOREIGN_RULES) await lab.exec('nat', rule);
  // Everyone else's tables (iptables-nft's, the lab's GCE firewall, a plain nft table) and ipsets.
  const foreign = async () => {
    const ours = await natLab.natTable();
    const saved = await natLab.saveRuleset();
    const { stdout: sets } = await lab.exec('nat', ['ipset', 'list', '-n']);
    return { rules: ours === '' ? saved : saved.replace(ours, ''), sets: sets.split('\n') };
  };
  const foreignBefore = await foreign();
  const tableCount = async () => ((await lab.exec('nat', ['nft', 'list', 'tables'])).stdout.match(/^table ip natgw$/gm) ?? []).length;

  let agent = await startHealthyAgent(natLab, baseConfig({ reconcileIntervalSeconds: 2 }));

  await t.test('foreign rules are intact after the agent starts', async (t) => {
    t.same(await foreign(), foreignBefore);
    t.equal(await tableCount(), 1);
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP);
  });

  await t.test('a deleted rule of ours is put back, and the difference is named', async (t) => {
    const { stdout } = await lab.exec('nat', ['nft', '-a', 'list', 'chain', 'ip', 'natgw', 'postrouting']);
    const handle = /comment "masquerade" # handle (\d+)/.exec(stdout)?.[1];
    t.ok(handle, 'the masquerade rule has a handle');
    await lab.exec('nat', ['nft', 'delete', 'rule', 'ip', 'natgw', 'postrouting', 'handle', handle ?? '0']);
    await natLab.waitUntil('the rule is back', async () => (await natLab.natTable()).includes('comment "masquerade"'), 8000);
    t.match(agent.text, /chain postrouting: missing rule masquerade/, 'the drift log names the missing rule');
    t.same(await foreign(), foreignBefore);
  });

  await t.test('someone flushes our table: NAT works again within two reconcile periods, the repair is counted', async (t) => {
    const repairsBefore = (await natLab.metrics()).get('natgw_ruleset_repairs_total') ?? 0;
    await lab.exec('nat', ['nft', 'flush', 'table', 'ip', 'natgw']);
    t.equal(await natLab.whoami('private', 1), undefined, 'NAT is broken right after the flush');
    const health = await natLab.healthz();
    t.equal(health.status, 503, 'and /healthz says so at once');
    t.ok(health.body.failed.includes('ruleset'), `failed checks: ${health.body.failed.join(', ')}`);
    const flushedAt = Date.now();
    // Two periods of 2 s, plus the time one repair takes.
    await natLab.waitUntil('NAT works again', async () => (await natLab.whoami('private', 1)) === NAT_EXTERNAL_IP, 5000);
    t.comment(`NAT restored ${Date.now() - flushedAt} ms after the flush`);
    const repairsAfter = (await natLab.metrics()).get('natgw_ruleset_repairs_total') ?? 0;
    t.ok(repairsAfter > repairsBefore, `repairs counted: ${repairsBefore} → ${repairsAfter}`);
    t.equal((await natLab.healthz()).status, 200);
    t.same(await foreign(), foreignBefore);
  });

  await t.test('another firewall that drops forwarded traffic (iptables FORWARD policy DROP): /healthz fails naming it', async (t) => {
    await lab.exec('nat', ['iptables', '-P', 'FORWARD', 'DROP']);
    await natLab.healthz();
    await natLab.waitUntil('/healthz names the blocking chain', async () => {
      await natLab.whoami('private', 1);
      return (await natLab.healthz()).body.failed.includes('forward_path');
    });
    const blocked = await natLab.healthz();
    t.equal(blocked.status, 503);
    t.same(blocked.body.failed, ['forward_path'], 'our own table is in sync; only the path is blocked');
    t.match(blocked.body.checks.forward_path?.detail, /table ip filter chain FORWARD \(hook forward, priority 0\): policy drop/);
    // The documented fix: let the clients' traffic through in that firewall.
    await lab.exec('nat', ['iptables', '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
    await lab.exec('nat', ['iptables', '-A', 'FORWARD', '-s', '10.10.0.0/25', '-j', 'ACCEPT']);
    await natLab.waitUntil(
      '/healthz passes once connections get through',
      async () => (await natLab.whoami('private', 2)) === NAT_EXTERNAL_IP && (await natLab.healthz()).status === 200,
    );
    const open = await natLab.healthz();
    t.match(
      open.body.warnings.join('\n'),
      /table ip filter chain FORWARD .*policy drop: clients' traffic passes only where its rules accept it/,
      'the policy stays visible as a warning',
    );
    await lab.exec('nat', ['iptables', '-D', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
    await lab.exec('nat', ['iptables', '-D', 'FORWARD', '-s', '10.10.0.0/25', '-j', 'ACCEPT']);
    await lab.exec('nat', ['iptables', '-P', 'FORWARD', 'ACCEPT']);
    t.same(await foreign(), foreignBefore);
  });

  await t.test('kill -9 the agent during a long transfer, start it again: the transfer completes, no duplicate rules', async (t) => {
    const tableBefore = await natLab.natTable();
    // Paced by the server (4 s): what the client's kernel has received is what crossed the NAT. Paced by curl, the
    // kernel would buffer the whole body in a moment, and the agent would die after the transfer, not during it.
    const TOTAL = 1_600_000;
    const transfer = lab.spawn(
      'private',
      ['curl', '-sS', '-m', '120', '-o', '/dev/null', '-w', '%{size_download}', `http://${INTERNET.server}/bytes?n=${TOTAL}&rate=400000`],
      'long transfer',
    );
    t.teardown(() => transfer.stop('SIGKILL', 0));
    /** What the client's kernel has received on the transfer's connection (ss's bytes_received), if it is open. */
    const received = async () => {
      const { stdout } = await lab.exec('private', ['ss', '-tinH', 'dst', INTERNET.server, 'dport', '=', ':80']);
      const match = /bytes_received:(\d+)/.exec(stdout);
      return match === null ? undefined : Number(match[1]);
    };
    await natLab.waitUntil('the transfer is under way', async () => ((await received()) ?? 0) >= 200_000);
    // Held open across the kill and the restart, whatever either takes on this box: the transfer must cross both.
    transfer.child.kill('SIGSTOP');
    const atKill = await received();
    agent.child.kill('SIGKILL');
    await agent.exited;
    t.ok(
      transfer.running && atKill !== undefined && atKill < TOTAL,
      `the transfer was under way when the agent died (${atKill ?? 'no connection'} of ${TOTAL} bytes received)`,
    );
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'NAT keeps working while no agent runs');
    agent = natLab.startAgent();
    await natLab.waitUntil('the restarted agent is healthy', async () => (await natLab.healthz()).status === 200);
    t.ok(transfer.running, 'the transfer is still open when the restarted agent is healthy');
    transfer.child.kill('SIGCONT');
    t.equal(await transfer.exited, 0, 'curl finished without error');
    t.equal(transfer.text.trim(), String(TOTAL), 'every byte arrived');
    t.equal(await natLab.natTable(), tableBefore, 'the same table, untouched');
    t.equal(await tableCount(), 1);
    t.same(await foreign(), foreignBefore, 'foreign rules intact after the restart');
    t.match(agent.text, /config from .* in effect/);
    t.notMatch(agent.text, /"event":"apply"/, 'the restarted agent found everything in place and applied nothing');
  });

  await t.test('SIGTERM drains (health fails first, liveness does not), stops, and leaves the data plane in place', async (t) => {
    natLab.writeConfig(baseConfig({ reconcileIntervalSeconds: 2, drainSeconds: 2 }));
    agent.child.kill('SIGHUP');
    await agent.waitFor(/config_reloaded/, 10_000);
    agent.child.kill('SIGTERM');
    await agent.waitFor(/"event":"stopping"/, 5000);
    const draining = await natLab.healthz();
    t.equal(draining.status, 503, '/healthz fails while draining');
    t.same(draining.body.failed, ['draining']);
    t.equal(await natLab.livezStatus(), 200, '/livez (autohealing) stays ok: draining is not a fault');
    t.equal(await agent.exited, 0, 'exit code 0 after the drain');
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP);
  });

  await t.test('cleanup removes everything of ours and nothing else', async (t) => {
    const sysctlConf = path.join(lab.vm('nat').root, 'etc/sysctl.d/99-natgw.conf');
    t.ok(existsSync(sysctlConf), 'the agent persisted its sysctls under its root');
    const result = await natLab.agentCli(['--cleanup']);
    t.equal(result.exitCode, 0, result.stderr);
    t.match(result.stdout, /nft table ip natgw/);
    t.equal(await natLab.natTable(), '', 'our table is gone');
    t.same(await foreign(), foreignBefore, 'foreign rules and sets intact');
    t.notOk(existsSync(sysctlConf), 'sysctl file removed');
    t.equal(await natLab.whoami('private', 2), undefined, 'no NAT any more');
    const again = await natLab.agentCli(['--cleanup']);
    t.equal(again.exitCode, 0);
    t.match(again.stdout, /nothing of natgw was present/);
  });
});
