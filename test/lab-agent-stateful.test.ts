// The real agent in stateful mode on two lab NAT VMs: it programs the SNAT to the shared IP, runs conntrackd and
// follows its peer. The shared IP's local route and the fabric's routing are set by the test as lab/stateful does (the
// load-balancer emulation is built elsewhere); failover itself is measured by `natgw lab failover`, not here.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { waitFor, waitUntil } from '../common/wait.js';
import { HEALTH_PROBER, INTERNET, Lab, type LabProcess, type LabVm, repoRoot } from '../lab/lab.js';
import { SYNC_PORT } from '../common/protocol.js';
import { spawnSeqFlows, startEchoServer } from '../lab/failover.js';
import { conntrackdMissing } from './fixtures/conntrackd/installed.js';

const NAT_IP = '203.0.113.100';
const FLOWS = 20;
const NAT_VMS = [
  { name: 'nat-a', ip: '10.10.0.2', ports: '1024-33279' },
  { name: 'nat-b', ip: '10.10.0.3', ports: '33280-65535' },
] as const;
const CLIENT = { name: 'client', ip: '10.10.0.50' };

/** Waits until `check` holds; a check that throws (an agent not answering yet) counts as not yet. */
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) =>
  waitUntil(what, () => check().catch(() => false), { timeoutMs, everyMs: 200 });

/** The pids of a VM's processes whose command is `name`. */
function pidsOf(vm: LabVm, name: string): number[] {
  return execFileSync('ip', ['netns', 'pids', vm.namespace], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    });
}

t.test('two NAT VMs run the agent in stateful mode: sync, resync, roles, peer loss', { skip: conntrackdMissing() }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  for (const nat of NAT_VMS) await lab.addVm({ name: nat.name, ip: nat.ip, canIpForward: true, tags: ['natgw'] });
  const [a, b] = NAT_VMS.map((nat) => lab.vm(nat.name)) as [LabVm, LabVm];
  await lab.addVm({ ...CLIENT, defaultVia: a.ip });
  // The shared IP is the load balancer's own address: the fabric lets it out and routes it to the active VM.
  for (const [direction, address] of [
    [['-i', 'vpc0', '-o', 'wan', '-s'], NAT_IP],
    [['-i', 'wan', '-o', 'vpc0', '-d'], NAT_IP],
  ] as const)
    await lab.run('pass the shared IP', lab.fabric, ['iptables', '-I', 'LAB-EXTERNAL', ...direction, address, '-j', 'ACCEPT']);
  await lab.run('route the shared IP to nat-a', lab.fabric, ['ip', 'route', 'replace', `${NAT_IP}/32`, 'via', a.ip, 'dev', 'vpc0']);

  const config = {
    sourceRanges: ['10.10.0.0/24'],
    reconcileIntervalSeconds: 2,
    deploymentMode: 'ha',
    drainSeconds: 1,
    stateful: { natIp: NAT_IP, members: NAT_VMS.map(({ ip, ports }) => ({ ip, ports })), syncPort: SYNC_PORT },
  };
  const agents = new Map<string, LabProcess>();
  for (const vm of [a, b]) {
    // What GCE's guest agent does for a forwarding-rule IP: local, but not an interface address.
    await lab.exec(vm.name, ['ip', 'route', 'replace', 'local', `${NAT_IP}/32`, 'dev', 'ens4', 'table', 'local']);
    const file = path.join(vm.root, 'natgw.json');
    writeFileSync(file, JSON.stringify(config));
    agents.set(
      vm.name,
      lab.spawn(
        vm.name,
        ['node', path.join(repoRoot(), 'bin/natgw.js'), 'agent', '--config', file, '--root', vm.root],
        `agent on ${vm.name}`,
      ),
    );
  }
  const get = async (vm: LabVm, from: LabVm, urlPath: string) => {
    const { stdout } = await lab.exec(from.name, ['curl', '-sS', '-m', '5', '-w', '\n%{http_code}', `http://${vm.ip}:9731${urlPath}`], {
      okExitCodes: [7, 28, 52, 56],
    });
    const lines = stdout.trimEnd().split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n') };
  };
  const health = async (vm: LabVm) => {
    const { status, body } = await get(vm, vm, '/healthz');
    return { status, body: status === 0 ? undefined : (JSON.parse(body) as { checks: Record<string, { ok: boolean; detail: string }> }) };
  };
  const metric = async (vm: LabVm, name: string, labels: Record<string, string> = {}) => {
    const { body } = await get(vm, vm, '/metrics');
    for (const line of body.split('\n')) {
      const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (match?.[1] !== name) continue;
      if (Object.entries(labels).every(([key, value]) => (match[2] ?? '').includes(`${key}="${value}"`))) return Number(match[3]);
    }
    return undefined;
  };
  const summaryLocal = async (vm: LabVm) =>
    (await lab.exec(vm.name, ['conntrack', '-L', '--reply-dst', NAT_IP], { okExitCodes: [1] })).stdout.split('\n').filter(Boolean).length;
  const summary = async (vm: LabVm, from: LabVm) => (JSON.parse((await get(vm, from, '/sync/summary')).body) as { flows: number }).flows;

  await t.test('both agents become healthy (each resynced from the other, with 0 flows)', async (t) => {
    for (const vm of [a, b]) await until(`/healthz 200 on ${vm.name}`, async () => (await health(vm)).status === 200, 60_000);
    for (const vm of [a, b]) t.match((await health(vm)).body?.checks.sync, { ok: true, detail: /^resynced/ }, `${vm.name}: sync check`);
    const table = await lab.exec(a.name, ['nft', 'list', 'table', 'ip', 'natgw']);
    t.match(table.stdout, `snat to ${NAT_IP}:1024-33279`, 'nat-a translates from its half');
    t.match(
      (await lab.exec(b.name, ['nft', 'list', 'table', 'ip', 'natgw'])).stdout,
      `snat to ${NAT_IP}:33280-65535`,
      'nat-b from its own',
    );
    t.equal((await lab.exec(b.name, ['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_loose'])).stdout.trim(), '0');
  });

  await t.test(
    "the agent's port: probes to the NAT IP answered without counting as traffic; the peer, not a client, nor the internet",
    async (t) => {
      const code = async (namespace: string, url: string, extra: string[] = []) =>
        (
          await lab.run('reach an agent', namespace, ['curl', '-sS', '-m', '3', ...extra, '-o', '/dev/null', '-w', '%{http_code}', url], {
            okExitCodes: [7, 28],
          })
        ).stdout.trim();
      const counter = async (name: string) =>
        Number(/packets (\d+)/.exec((await lab.exec(a.name, ['nft', 'list', 'counter', 'ip', 'natgw', name])).stdout)?.[1]);
      const natIpIn = await counter('nat_ip_in');
      // GCE sends the external load balancer's probes to its forwarding rule's IP, the NAT IP, from its ranges.
      for (let probe = 0; probe < 3; probe++)
        t.equal(
          await code(lab.fabric, `http://${NAT_IP}:9731/healthz/hold/850`, ['--interface', HEALTH_PROBER]),
          '200',
          `a probe from ${HEALTH_PROBER} to the NAT IP`,
        );
      t.equal(await counter('nat_ip_in'), natIpIn, 'probes do not make the VM look active (nat_ip_in unchanged)');
      t.equal(await code(lab.internet, `http://${NAT_IP}:9731/healthz`), '000', 'the internet gets nothing through the NAT IP');
      t.equal(
        await code(lab.vm(CLIENT.name).namespace, `http://${a.ip}:9731/healthz`),
        '000',
        "a client VM gets nothing from the agent's port",
      );
      t.ok((await counter('agent_port_refused')) > 0, 'refused and counted');
      t.equal(await code(b.namespace, `http://${a.ip}:9731/sync/summary`), '200', 'the peer reads /sync/summary');
      t.equal(await code(b.namespace, `http://${a.ip}:9731/port-blocks`), '403', 'but not what only the VM itself may');
    },
  );

  await startEchoServer(lab, 240);
  const flows = spawnSeqFlows(lab, CLIENT.name, { flows: FLOWS, maxSeconds: 180 });
  await flows.waitFor(/^ready$/m, 20_000);

  await t.test("the standby's kernel holds the active's flows; metrics and roles say so", async (t) => {
    await until('nat-b to hold every flow', async () => (await summary(b, a)) >= FLOWS);
    // nat-a's count is cached for 20× the time its last `conntrack -L` took (seconds on a loaded box): waited for, not
    // read once (it once still said 0 right after nat-b said 20).
    await until('nat-a to report every flow', async () => (await summary(a, b)) >= FLOWS);
    t.ok((await summary(a, b)) >= FLOWS, `nat-a reports ${await summary(a, b)} flows to its peer`);
    // natgw_sync_state_ratio on nat-b is nat-b's translated flows ÷ nat-a's: checked against the kernels' own tables,
    // first as synced (≈ 1), then with entries only nat-b holds, so a ratio that says 1 whatever the tables hold fails.
    const ratio = async () => (await metric(b, 'natgw_sync_state_ratio')) ?? Number.NaN;
    const tables = async () => ({ a: await summaryLocal(a), b: await summaryLocal(b) });
    const ratioFollows = async (what: string) => {
      let seen = { tables: await tables(), ratio: Number.NaN };
      const follows = await waitFor(
        async () => {
          seen = { tables: await tables(), ratio: await ratio() };
          return seen.tables.a > 0 && Math.abs(seen.ratio - seen.tables.b / seen.tables.a) <= 0.05;
        },
        { timeoutMs: 30_000, everyMs: 200 },
      );
      t.ok(follows, `${what}: natgw_sync_state_ratio on nat-b = ${seen.ratio}, the tables hold ${seen.tables.b} ÷ ${seen.tables.a}`);
      return seen.tables;
    };
    const synced = await ratioFollows('synced');
    t.ok(synced.b >= FLOWS && synced.a >= FLOWS, `both kernels hold the ${FLOWS} flows (nat-a ${synced.a}, nat-b ${synced.b})`);
    // From nat-b's own address: conntrackd ignores it (Address Ignore), so these stay on nat-b alone.
    const ONLY_ON_B = 10;
    const onlyOnB = (index: number) =>
      `-p udp -s ${b.ip} -d ${INTERNET.server} --sport ${40_000 + index} --dport 53 -r ${INTERNET.server} -q ${NAT_IP} --reply-port-src 53 --reply-port-dst ${40_000 + index}`.split(
        ' ',
      );
    for (let index = 0; index < ONLY_ON_B; index++) await lab.exec(b.name, ['conntrack', '-I', ...onlyOnB(index), '-t', '600']);
    const skewed = await ratioFollows(`with ${ONLY_ON_B} entries only nat-b holds`);
    t.ok(skewed.b - skewed.a >= ONLY_ON_B - 1, `they were not replicated to nat-a (nat-b holds ${skewed.b - skewed.a} more)`);
    for (let index = 0; index < ONLY_ON_B; index++) await lab.exec(b.name, ['conntrack', '-D', ...onlyOnB(index)], { okExitCodes: [1] });
    await ratioFollows('once they are gone');
    for (const [vm, peer] of [
      [a, b],
      [b, a],
    ] as const)
      t.equal(await metric(vm, 'natgw_sync_peer_up', { peer: peer.ip }), 1, `peer ${peer.name} up seen from ${vm.name}`);
    await until('roles to settle', async () => (await metric(a, 'natgw_role', { role: 'active' })) === 1);
    t.equal(await metric(a, 'natgw_role', { role: 'active' }), 1, 'nat-a (the NAT IP is routed to it) is active');
    t.equal(await metric(b, 'natgw_role', { role: 'standby' }), 1, 'nat-b is the standby');
    t.equal((await health(b)).status, 200, 'the standby stays healthy');
    t.ok(((await metric(a, 'natgw_sync_bytes_total', { direction: 'sent' })) ?? 0) > 0, 'nat-a sent sync traffic');
    t.equal(await metric(a, 'natgw_sync_lost_total'), 0, 'conntrackd lost nothing');
    const scrape = (await get(a, a, '/metrics')).body;
    const dashboard = JSON.parse(readFileSync(path.join(repoRoot(), 'observability/grafana-dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const syncMetrics = new Set(
      dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/\bnatgw_(?:sync_[a-z_]+|role)\b/g) ?? [])),
    );
    t.ok(syncMetrics.size >= 5, `the dashboard queries ${[...syncMetrics].join(', ')}`);
    for (const name of syncMetrics) t.match(scrape, new RegExp(`^${name}[{ ]`, 'm'), `${name} has a sample on a stateful VM`);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    t.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
  });

  await t.test("nat-b's conntrackd stops answering: peer_up goes 0 on nat-a; killed: restarted by its agent", async (t) => {
    const [pid] = pidsOf(b, 'conntrackd');
    t.ok(pid !== undefined, 'conntrackd runs on nat-b');
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    try {
      await until('peer_up 0 on nat-a', async () => (await metric(a, 'natgw_sync_peer_up')) === 0, 20_000);
      t.pass('nat-a sees its peer down');
      t.ok(((await metric(a, 'natgw_sync_last_received_age_seconds')) ?? 0) >= 5, 'and how long it has been silent');
      t.equal((await health(a)).status, 200, 'a silent peer does not make the active unhealthy');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until('peer_up 1 again', async () => (await metric(a, 'natgw_sync_peer_up')) === 1, 20_000);
    process.kill(pid, 'SIGKILL');
    await until('a new conntrackd on nat-b', async () => pidsOf(b, 'conntrackd').some((other) => other !== pid), 20_000);
    t.pass('the agent restarted conntrackd');
    await until('peer_up 1 after the restart', async () => (await metric(a, 'natgw_sync_peer_up')) === 1, 20_000);
    await until('nat-b healthy after the restart', async () => (await health(b)).status === 200, 20_000);
    t.pass('both sides recover');
  });

  await t.test('SIGTERM: red at once, conntrackd kept through the drain, stopped when the agent exits', async (t) => {
    const agent = agents.get(b.name)!;
    agent.child.kill('SIGTERM');
    await until('nat-b red while draining', async () => (await health(b)).status === 503, 5000);
    t.pass('draining turns /healthz red');
    t.not(pidsOf(b, 'conntrackd').length, 0, 'conntrackd still runs while the agent drains');
    await agent.exited;
    t.same(pidsOf(b, 'conntrackd'), [], 'conntrackd stopped with the agent');
  });

  await t.test("a restarted agent with an empty table turns healthy holding the peer's flows again (resync)", async (t) => {
    // The kernel keeps injected entries when conntrackd stops: flushing them makes the resync do the work.
    await lab.exec(b.name, ['conntrack', '-F'], { okExitCodes: [1] });
    t.equal(await summaryLocal(b), 0, 'nat-b starts with no translated flow');
    const file = path.join(b.root, 'natgw.json');
    const restarted = lab.spawn(
      b.name,
      ['node', path.join(repoRoot(), 'bin/natgw.js'), 'agent', '--config', file, '--root', b.root],
      'agent on nat-b (restarted)',
    );
    agents.set(b.name, restarted);
    await until('nat-b healthy again', async () => (await health(b)).status === 200, 60_000);
    const flowsOnB = await summary(b, a);
    t.ok(flowsOnB >= Math.ceil(FLOWS * 0.95), `nat-b holds ${flowsOnB} of ${FLOWS} flows when it turns healthy`);
    t.match(
      (await health(b)).body?.checks.sync?.detail,
      /^resynced \(holds \d+ of the peer's \d+ flows(, none more for 2 s)?\)/,
      'resynced from the peer, not alone',
    );
  });
  flows.child.stdin?.write('report\n');
});
