// The NAT itself, on the real kernel: who gets through, as whom, with which timeouts, and what is counted.
import t from 'tap';
import { INTERNET } from '../lab/lab.js';
import { NAT_EXTERNAL_IP, baseConfig, createNatLab, startHealthyAgent } from './helpers/nat-lab.js';

t.test('a NAT VM in the lab', async (t) => {
  const natLab = await createNatLab(t);
  const { lab } = natLab;

  await t.test('before the agent runs, private VMs have no way out (GCE drops their internet traffic)', async (t) => {
    t.equal(await natLab.whoami('private', 2), undefined);
    t.equal(await natLab.whoami('nat'), NAT_EXTERNAL_IP, 'the NAT VM itself reaches the internet through its external IP');
  });

  const agent = await startHealthyAgent(
    natLab,
    baseConfig({ timeouts: { udp: 47, tcpEstablished: 1234, tcpTransitory: 31, tcpTimeWait: 77, icmp: 29 } }),
  );

  await t.test('a private VM in range reaches the internet over TCP, UDP and ICMP as the NAT IP', async (t) => {
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'TCP: the internet host sees the NAT IP');
    t.equal(await natLab.udpWhoami('private'), NAT_EXTERNAL_IP, 'UDP: the internet host sees the NAT IP');
    t.ok(await natLab.ping('private'), 'ICMP echo gets a reply');
    const { stdout } = await lab.run('list ICMP flows on the internet side', lab.internet, ['conntrack', '-L', '-p', 'icmp'], {
      okExitCodes: [1],
    });
    t.match(
      stdout,
      new RegExp(`src=${NAT_EXTERNAL_IP.replace(/\./g, '\\.')} dst=${INTERNET.server.replace(/\./g, '\\.')}`),
      'ICMP arrived from the NAT IP',
    );
    t.notMatch(stdout, /src=10\.10\./, 'no private address leaked to the internet');
  });

  await t.test('a VM outside sourceRanges routed to the NAT gets nothing through, and the drop is counted', async (t) => {
    const before = (await natLab.metrics()).get('natgw_dropped_packets_total{reason="source_not_allowed"}') ?? 0;
    t.equal(await natLab.whoami('outsider', 2), undefined, 'TCP blocked');
    t.equal(await natLab.udpWhoami('outsider'), undefined, 'UDP blocked');
    t.notOk(await natLab.ping('outsider'), 'ICMP blocked');
    const after = (await natLab.metrics()).get('natgw_dropped_packets_total{reason="source_not_allowed"}') ?? 0;
    t.ok(after - before >= 3, `drops counted (${before} → ${after})`);
  });

  await t.test('an untracked packet is dropped and counted as an invalid one: it would skip NAT and leave untranslated', async (t) => {
    // Another tool's raw-table rule on the NAT VM leaves the private VM's datagrams untracked.
    const notrack = `table ip lab_notrack {\n  chain prerouting {\n    type filter hook prerouting priority raw; policy accept;\n    ip saddr ${lab.vm('private').ip} udp dport ${INTERNET.udpPort} notrack\n  }\n}\n`;
    await lab.exec('nat', ['nft', '-f', '-'], { input: notrack });
    try {
      const invalid = async () => (await natLab.metrics()).get('natgw_dropped_packets_total{reason="invalid"}') ?? 0;
      const before = await invalid();
      t.equal(await natLab.udpWhoami('private'), undefined, 'no answer');
      const after = await invalid();
      t.ok(after > before, `the datagrams were dropped as invalid (${before} → ${after}), not forwarded untranslated`);
    } finally {
      await lab.exec('nat', ['nft', 'delete', 'table', 'ip', 'lab_notrack']);
    }
    t.equal(await natLab.udpWhoami('private'), NAT_EXTERNAL_IP, 'without the notrack rule the same datagrams are translated');
  });

  await t.test('conntrack entries carry the configured timeouts', async (t) => {
    // The time left is the configured timeout less what has passed since the last packet: bounded by what passed.
    const sentAt = Date.now();
    t.equal(await natLab.udpWhoami('private'), NAT_EXTERNAL_IP);
    const { stdout } = await lab.exec('nat', ['conntrack', '-L', '-p', 'udp', '--orig-src', '10.10.0.11']);
    const timeout = Math.max(...[...stdout.matchAll(/^udp\s+\d+\s+(\d+)/gm)].map((match) => Number(match[1])));
    const udpPassed = Math.ceil((Date.now() - sentAt) / 1000);
    t.ok(timeout >= 47 - udpPassed && timeout <= 47, `UDP entry expires in ${timeout}s (configured 47, ${udpPassed}s passed)`);
    for (const [name, value] of [
      ['nf_conntrack_udp_timeout', '47'],
      ['nf_conntrack_udp_timeout_stream', '47'],
      ['nf_conntrack_tcp_timeout_established', '1234'],
      ['nf_conntrack_tcp_timeout_syn_sent', '31'],
      ['nf_conntrack_tcp_timeout_fin_wait', '31'],
      ['nf_conntrack_tcp_timeout_time_wait', '77'],
      ['nf_conntrack_icmp_timeout', '29'],
    ] as const) {
      const { stdout: live } = await lab.exec('nat', ['sysctl', '-n', `net.netfilter.${name}`]);
      t.equal(live.trim(), value, name);
    }
    const closedAfter = Date.now();
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'a short TCP connection, closed at once');
    let timeWait: string | undefined;
    await natLab.waitUntil('the closed connection is in TIME_WAIT', async () => {
      const { stdout } = await lab.exec('nat', ['conntrack', '-L', '-p', 'tcp', '--orig-src', '10.10.0.11', '--state', 'TIME_WAIT'], {
        okExitCodes: [1],
      });
      // The freshest entry: earlier connections of this test are in TIME_WAIT too, with less time left.
      const left = [...stdout.matchAll(/^tcp\s+\d+\s+(\d+) TIME_WAIT/gm)].map((match) => Number(match[1]));
      timeWait = left.length === 0 ? undefined : String(Math.max(...left));
      return timeWait !== undefined;
    });
    const tcpPassed = Math.ceil((Date.now() - closedAfter) / 1000);
    t.ok(
      Number(timeWait) >= 77 - tcpPassed && Number(timeWait) <= 77,
      `TIME_WAIT entry expires in ${timeWait}s (configured 77, ${tcpPassed}s passed)`,
    );
  });

  await t.test('forwarded traffic is counted in both directions and health says ok', async (t) => {
    const before = await natLab.metrics();
    await lab.exec('private', ['curl', '-sS', '-m', '10', '-o', '/dev/null', `http://${INTERNET.server}/bytes?n=200000`]);
    const after = await natLab.metrics();
    const ingress =
      (after.get('natgw_forwarded_bytes_total{direction="ingress"}') ?? 0) -
      (before.get('natgw_forwarded_bytes_total{direction="ingress"}') ?? 0);
    t.ok(ingress >= 200_000 && ingress < 230_000, `ingress bytes ${ingress} ≈ 200000 + headers`);
    t.ok(
      (after.get('natgw_forwarded_packets_total{direction="egress"}') ?? 0) >
        (before.get('natgw_forwarded_packets_total{direction="egress"}') ?? 0),
    );
    const health = await natLab.healthz();
    t.equal(health.status, 200);
    t.same(health.body.failed, []);
    t.equal(
      after.get('natgw_ruleset_repairs_total'),
      0,
      'no repair in steady state: the live table matches what nft listed after our apply',
    );
  });

  await t.test('the MSS clamp lowers what both ends advertise to what the NIC carries: its MTU (1460) less 40', async (t) => {
    // Counted where each SYN arrives: the client's at the internet host, the server's answer at the client.
    const counting = (flags: string) => `table ip natgw_mss_test {
  counter clamped { }
  counter other { }
  chain input {
    type filter hook input priority filter; policy accept;
    tcp flags ${flags} tcp option maxseg size 1420 counter name "clamped"
    tcp flags ${flags} tcp option maxseg size != 1420 counter name "other"
  }
}
`;
    const read = async (run: (args: string[]) => Promise<{ stdout: string }>) => {
      const count = async (name: string) =>
        Number(/packets (\d+)/.exec((await run(['nft', 'list', 'counter', 'ip', 'natgw_mss_test', name])).stdout)?.[1] ?? Number.NaN);
      return { clamped: await count('clamped'), other: await count('other') };
    };
    const internet = (args: string[]) => lab.run('count SYNs by MSS', lab.internet, args);
    const client = (args: string[]) => lab.exec('private', args);
    try {
      await lab.run('count SYNs by MSS', lab.internet, ['nft', '-f', '-'], { input: counting('syn / syn,ack') });
      await lab.exec('private', ['nft', '-f', '-'], { input: counting('syn,ack / syn,ack') });
      // A client whose NIC allows 9000 bytes advertises 8960; the internet's end (MTU 1500) advertises 1460.
      await client(['ip', 'link', 'set', 'dev', 'ens4', 'mtu', '9000']);
      t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'a connection through the NAT');
      const [syn, synAck] = [await read(internet), await read(client)];
      t.ok(syn.clamped >= 1 && syn.other === 0, `the client's SYN reached the internet with MSS 1420, not 8960: ${JSON.stringify(syn)}`);
      t.ok(
        synAck.clamped >= 1 && synAck.other === 0,
        `the server's SYN-ACK reached the client with MSS 1420, not 1460: ${JSON.stringify(synAck)}`,
      );
    } finally {
      await client(['ip', 'link', 'set', 'dev', 'ens4', 'mtu', '1460']);
      await internet(['nft', 'delete', 'table', 'ip', 'natgw_mss_test']).catch(() => undefined);
      await client(['nft', 'delete', 'table', 'ip', 'natgw_mss_test']).catch(() => undefined);
    }
  });

  await t.test('the agent runs the TCP MSS clamp, the fast path first, and masquerades only towards the egress interface', async (t) => {
    const table = await natLab.natTable();
    // "pmtu": the NIC's MTU (1460 in the lab, GCE's default) less the headers, not a route lookup per SYN.
    t.match(table, /tcp flags syn \/ syn,rst oifname "ens4" tcp option maxseg size set 1420 comment "mss-clamp"/);
    t.match(
      table,
      /policy accept;\n\s+iifname != "ens4" return comment "not-from-vpc"\n.*mss-clamp"\n\s+ct state established,related ct direction reply counter accept comment "established-ingress"\n\s+ct state established,related counter accept comment "established-egress"\n/,
    );
    // As nft lists them: the masked test as a /16 prefix, and the mask folded with the value it ORs in.
    t.match(table, /oifname "ens4" ct mark 0x4e410000\/16 counter name "translated" masquerade comment "masquerade"/);
    // What the masquerade rule relies on: only the forward chain's admitted connections carry the mark.
    t.match(table, /\n\s+ct mark set ct mark & 0x4e41ffff \| 0x4e410000 counter accept comment "admit-new"/);
    // A confirmed connection's later packets (one-way UDP, a retransmitted SYN) are accepted before any lookup.
    t.match(
      table,
      /ct state invalid,untracked jump drop_invalid comment "invalid"\n\s+ct status confirmed counter accept comment "unreplied"\n\s+oifname != "ens4"/,
    );
    t.notMatch(await natLab.saveRuleset(), /NATGW|natgw-src/, 'no iptables chain or ipset of ours');
  });

  await t.test('promtool finds no problem in a live scrape', async (t) => {
    const { stdout: scrape } = await lab.exec('nat', ['curl', '-sS', 'http://127.0.0.1:9731/metrics']);
    const { runCommand } = await import('../agent/runner.js');
    const result = await runCommand('lint the scrape', 'promtool', ['check', 'metrics'], { input: scrape, okExitCodes: [1, 3] });
    t.equal(result.exitCode, 0, result.stdout + result.stderr);
    t.equal((result.stdout + result.stderr).trim(), '', 'no lint findings');
  });

  await t.test('the per-VM connection cap drops new connections above it, and counts them', async (t) => {
    natLab.writeConfig(baseConfig({ maxConnectionsPerVm: 2 }));
    agent.child.kill('SIGHUP');
    await agent.waitFor(/config_reloaded/, 10_000);
    await lab.exec('nat', ['conntrack', '-F'], { okExitCodes: [1] });
    const slow = [1, 2].map((n) =>
      lab.spawn('private', ['curl', '-sS', '-o', '/dev/null', `http://${INTERNET.server}/hold?ms=4000`], `held connection ${n}`),
    );
    await natLab.waitUntil('both downloads are connected', async () => {
      const { stdout } = await lab.exec('nat', ['conntrack', '-L', '-p', 'tcp', '--orig-src', '10.10.0.11', '--state', 'ESTABLISHED'], {
        okExitCodes: [1],
      });
      return stdout.split('\n').filter((line) => line.startsWith('tcp')).length >= 2;
    });
    t.equal(await natLab.whoami('private', 2), undefined, 'a third connection is refused while two are open');
    t.ok(((await natLab.metrics()).get('natgw_dropped_packets_total{reason="per_vm_cap"}') ?? 0) > 0, 'counted as per_vm_cap');
    for (const download of slow) t.equal(await download.exited, 0, 'the two connections under the cap complete');
    t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP, 'below the cap again, new connections work');
  });

  await t.test('a failing egress probe makes /healthz fail but not /livez; a passing one brings it back', async (t) => {
    natLab.writeConfig(baseConfig({ egressProbe: { targets: [`${INTERNET.server}:9`], intervalSeconds: 1, timeoutSeconds: 1 } }));
    agent.child.kill('SIGHUP');
    await natLab.waitUntil('the probe fails', async () => (await natLab.healthz()).body.failed.includes('egress_probe'), 10_000);
    const health = await natLab.healthz();
    t.equal(health.status, 503);
    t.same(health.body.failed, ['egress_probe'], 'only the probe fails');
    t.equal(await natLab.livezStatus(), 200, 'liveness does not depend on the internet');
    natLab.writeConfig(
      baseConfig({ egressProbe: { targets: [`${INTERNET.server}:9`, `${INTERNET.server}:80`], intervalSeconds: 1, timeoutSeconds: 1 } }),
    );
    agent.child.kill('SIGHUP');
    await natLab.waitUntil('one answering target is enough', async () => (await natLab.healthz()).status === 200, 10_000);
    t.pass('healthy again with one of two targets answering');
  });

  await t.test(
    'flowtableOffload on a kernel without nf_flow_table: said once (log and /healthz), and the NAT runs without it',
    async (t) => {
      const reloads = (agent.text.match(/config_reloaded/g) ?? []).length;
      natLab.writeConfig(baseConfig({ flowtableOffload: true }));
      agent.child.kill('SIGHUP');
      await natLab.waitUntil('the flowtable config is applied', async () => (agent.text.match(/config_reloaded/g) ?? []).length > reloads);
      const health = await natLab.healthz();
      t.equal(health.status, 200, 'healthy without offload');
      t.match(
        health.body.warnings.join('\n'),
        /flowtableOffload is on, but this kernel has no flowtables \(nf_flow_table\): running without offload/,
      );
      t.notMatch(await natLab.natTable(), /flowtable|flow add/, 'no flowtable in the table');
      t.equal(await natLab.whoami('private'), NAT_EXTERNAL_IP);
      agent.child.kill('SIGHUP');
      await natLab.waitUntil(
        'the same config is applied again',
        async () => (agent.text.match(/config_reloaded/g) ?? []).length > reloads + 1,
      );
      t.equal((agent.text.match(/running without offload/g) ?? []).length, 1, 'the log says it once');
    },
  );

  t.teardown(() => agent.stop());
});
