// The README's first command: the whole agent story in one run, against the real kernel, cleaned up at the end.
import path from 'node:path';
import { INTERNET, Lab, repoRoot, type LabProcess } from './lab.js';

const NAT = { name: 'nat-gateway', ip: '10.10.0.2', externalIp: '203.0.113.10', canIpForward: true };
const CONFIG = { sourceRanges: ['10.10.0.0/25'], reconcileIntervalSeconds: 2, egressProbe: { targets: [`${INTERNET.server}:80`] } };

export async function runDemo(say: (line: string) => void): Promise<number> {
  const started = Date.now();
  const lab = await Lab.create();
  let agent: LabProcess | undefined;
  try {
    say(`lab ${lab.id}: VPC 10.10.0.0/24 behind a fabric that drops internet traffic from VMs without an external IP`);
    await lab.addVm({ ...NAT, attributes: { 'natgw-config': JSON.stringify(CONFIG) } });
    await lab.addVm({ name: 'app-1', ip: '10.10.0.11', defaultVia: NAT.ip });
    await lab.addVm({ name: 'other-team', ip: '10.10.0.200', defaultVia: NAT.ip });
    say(`  ${NAT.name} ${NAT.ip} (external ${NAT.externalIp}), app-1 10.10.0.11 and other-team 10.10.0.200, both routed to the NAT VM`);
    say(`  config in metadata attribute natgw-config: ${JSON.stringify(CONFIG)}`);

    const natgw = path.join(repoRoot(), 'bin', 'natgw.js');
    agent = lab.spawn(NAT.name, ['node', natgw, 'agent', '--listen', '127.0.0.1:9731', '--root', lab.vm(NAT.name).root], 'natgw agent');
    const curl = (vm: string, url: string, seconds = 3) => lab.exec(vm, ['curl', '-sS', '-m', String(seconds), '-w', '\n%{http_code}', url], { okExitCodes: [7, 22, 28] });
    const deadline = Date.now() + 20_000;
    while ((await curl(NAT.name, 'http://127.0.0.1:9731/healthz')).stdout.trim().split('\n').pop() !== '200') {
      if (Date.now() > deadline || !agent.running) throw new Error(`the agent did not become healthy:\n${agent.text}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    say(`agent healthy after ${((Date.now() - started) / 1000).toFixed(1)} s (forwarding on, ruleset in place, egress probe passing)`);

    const tcp = (await curl('app-1', `http://${INTERNET.server}/whoami`)).stdout.split('\n')[0];
    const udp = (await lab.exec('app-1', ['node', path.join(repoRoot(), 'dist/lab/bin/udp-client.js'), INTERNET.server, String(INTERNET.udpPort)], { okExitCodes: [1] })).stdout.trim();
    const ping = (await lab.exec('app-1', ['ping', '-c', '1', '-W', '2', INTERNET.server], { okExitCodes: [1] })).exitCode === 0;
    say(`app-1 → internet ${INTERNET.server}: TCP seen from ${tcp}, UDP seen from ${udp}, ICMP ${ping ? 'answered' : 'lost'}`);
    const blocked = await curl('other-team', `http://${INTERNET.server}/whoami`, 2);
    say(`other-team (outside sourceRanges) → internet: ${blocked.exitCode === 0 ? 'GOT THROUGH (unexpected)' : 'dropped and counted'}`);

    const metrics = (await curl(NAT.name, 'http://127.0.0.1:9731/metrics')).stdout
      .split('\n')
      .filter((line) => /^natgw_(forwarded_bytes_total|dropped_packets_total\{reason="source_not_allowed"\}|conntrack_entries |ruleset_in_sync|healthy)/.test(line));
    say('agent metrics:');
    for (const line of metrics) say(`  ${line}`);

    await lab.exec(NAT.name, ['iptables', '-t', 'nat', '-F']);
    say('someone flushed the nat table on the NAT VM…');
    const flushed = Date.now();
    while ((await curl('app-1', `http://${INTERNET.server}/whoami`, 1)).exitCode !== 0) {
      if (Date.now() - flushed > 15_000) throw new Error('the agent did not repair the flushed table');
    }
    say(`…and the agent repaired it: app-1 reaches the internet again ${((Date.now() - flushed) / 1000).toFixed(1)} s later`);
    const ok = tcp === NAT.externalIp && udp === NAT.externalIp && ping && blocked.exitCode !== 0;
    say(ok ? `demo passed in ${((Date.now() - started) / 1000).toFixed(1)} s; tearing the lab down` : 'demo FAILED; tearing the lab down');
    return ok ? 0 : 1;
  } finally {
    await agent?.stop();
    await lab.destroy();
  }
}
