// Connection churn: many short flows from two VMs to one busy destination, through natgw and through the naive recipe
// (`iptables -t nat -A POSTROUTING -o ens4 -j MASQUERADE`, kernel defaults, no agent). Counts what the kernel reports
// in the NAT's namespace (/proc/net/stat/nf_conntrack) and what the clients saw: failed connections, and connections
// that only succeeded after a retransmitted SYN (≥ 0.9 s).
import type { Lab } from '../lab/lab.js';
import { buildLab, connectRate, conntrackStats, startSinks, valueRow, type Bench, type ConnectRate, type Row } from './lib.js';

async function nstat(lab: Lab, namespace: string, counter: string): Promise<number> {
  const { stdout } = await lab.run('read TCP counters', namespace, ['nstat', '-az', counter]);
  return Number(new RegExp(`^${counter}\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? 0);
}

export const churn: Bench = async ({ quick, log }) => {
  const seconds = quick ? 4 : 10;
  const concurrency = 64;
  const { lab, paths } = await buildLab(['natgw-1', 'naive'], { clientsPerPath: 2 });
  try {
    await startSinks(lab);
    const rows: Row[] = [];
    for (const close of ['server', 'client'] as const) {
      for (const path of paths) {
        const namespace = lab.vm(path.gateway).namespace;
        const before = await conntrackStats(lab, namespace);
        const pawsBefore = await nstat(lab, lab.internet, 'TcpExtPAWSTimewait');
        const results: ConnectRate[] = await Promise.all(
          path.clients.map((client) => connectRate(lab, client, { close, concurrency, seconds })),
        );
        const after = await conntrackStats(lab, namespace);
        const paws = (await nstat(lab, lab.internet, 'TcpExtPAWSTimewait')) - pawsBefore;
        const delta = (column: string) => (after[column] ?? 0) - (before[column] ?? 0);
        const ok = results.reduce((sum, r) => sum + r.ok, 0);
        const failed = results.reduce((sum, r) => sum + r.failed, 0);
        const slow = results.reduce((sum, r) => sum + r.slow, 0);
        const rate = results.reduce((sum, r) => sum + r.rate, 0);
        const label = path.name === 'naive' ? 'naive MASQUERADE' : 'natgw';
        const summary = `${ok} ok, ${failed} failed, ${slow} slow (SYN retransmitted), ${rate.toFixed(0)} conn/s; conntrack insert_failed ${delta('insert_failed')}, drop ${delta('drop')}, early_drop ${delta('early_drop')}, clash_resolve ${delta('clashres')}, entries ${after.count}; server PAWS-rejected SYNs ${paws}`;
        log(`  ${close} closes, ${label}: ${summary}`);
        rows.push(
          valueRow(
            'churn',
            `${label}, ${close} closes first: failed + slow connections`,
            'conn',
            failed + slow,
            undefined,
            `2 VMs × ${concurrency} in flight × ${seconds} s to one ip:port; ${summary}`,
          ),
        );
      }
    }
    return rows;
  } finally {
    await lab.destroy();
  }
};
