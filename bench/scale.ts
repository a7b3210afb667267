// The agent at scale: a conntrack table of ~250k translated flows in the NAT VM, then /metrics latency (scraped from
// inside the NAT's namespace), the agent's CPU at one scrape per 15 s (its own and its children's), and its memory.
import type { Lab } from '../lab/lab.js';
import {
  LISTEN,
  SHIPPED,
  dist,
  execJson,
  liveChildren,
  manyRangesCached,
  procStatus,
  procTimes,
  scrapeMetrics,
  shippedEnvironment,
  shippedNodeFlags,
  sleep,
  startAgent,
  valueRow,
  type Bench,
  type Row,
} from './lib.js';

const GENERATOR_IPS = Array.from({ length: 8 }, (_, i) => `10.10.0.${100 + i}`);
const PORT_FROM = 20000;

async function conntrackCount(lab: Lab): Promise<number> {
  const { stdout } = await lab.exec('nat', ['cat', '/proc/sys/net/netfilter/nf_conntrack_count']);
  return Number(stdout.trim());
}

export const scale: Bench = async ({ quick, log }) => {
  const { Lab } = await import('../lab/lab.js');
  const lab = await Lab.create();
  try {
    await lab.addVm({ name: 'nat', ip: '10.10.0.2', externalIp: '203.0.113.10', canIpForward: true });
    // The generator sends from 8 addresses (so it may, like a router, use addresses other than its own).
    await lab.addVm({ name: 'gen', ip: '10.10.0.99', defaultVia: '10.10.0.2', canIpForward: true });
    for (const ip of GENERATOR_IPS) await lab.exec('gen', ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'ens4']);
    // The flows only have to exist in the NAT: the fabric drops them before its own conntrack sees them.
    await lab.run('drop the generated flows at the fabric', lab.fabric, [
      'iptables',
      '-t',
      'raw',
      '-I',
      'PREROUTING',
      '-i',
      'vpc0',
      '-p',
      'udp',
      '--dport',
      `${PORT_FROM}:65535`,
      '-j',
      'DROP',
    ]);

    const { stdout: maxText } = await lab.exec('nat', ['cat', '/proc/sys/net/netfilter/nf_conntrack_max']);
    const conntrackMax = Number(maxText.trim());
    const target = Math.min(250_000, conntrackMax - 10_000);
    // 1,000 ranges, and a UDP timeout long enough for the entries to outlive the measurement.
    // As a NAT VM runs it: the bundle, with the unit's node flags (memory depends on both).
    const agent = await startAgent(lab, 'nat', { sourceRanges: manyRangesCached(), timeouts: { udp: 3600 } }, SHIPPED);
    const pid = agent.child.pid!;

    const fillStart = Date.now();
    for (let pass = 0; pass < 3; pass++) {
      const missing = target - (await conntrackCount(lab));
      if (missing < target * 0.02) break;
      const flows = Math.min(missing + 2000, target);
      const sent = await execJson<{ sent: number; seconds: number }>(lab, 'gen', [
        'node',
        dist('lab/bin/udp-flood.js'),
        '--sources',
        GENERATOR_IPS.join(','),
        '--source-port',
        String(40000 + pass),
        '--port-from',
        String(PORT_FROM),
        '--flows',
        String(flows),
        '--pps',
        '60000',
        '--max-seconds',
        '60',
      ]);
      log(`  fill pass ${pass + 1}: sent ${sent.sent} in ${sent.seconds.toFixed(1)} s; conntrack count ${await conntrackCount(lab)}`);
    }
    const entries = await conntrackCount(lab);
    const fillSeconds = (Date.now() - fillStart) / 1000;

    // Wait until the per-VM sampler has dumped the full table once (it runs at most every 30 s).
    const waitStart = Date.now();
    let metrics = await scrapeMetrics(lab, 'nat');
    while ((metrics.get('natgw_open_connections') ?? 0) < entries * 0.9 && Date.now() - waitStart < 120_000) {
      await sleep(2000);
      metrics = await scrapeMetrics(lab, 'nat');
    }
    const sampleSeconds = metrics.get('natgw_collector_duration_seconds{collector="conntrack_table"}') ?? NaN;
    log(
      `  table ${entries} entries (max ${conntrackMax}); sampler saw ${metrics.get('natgw_open_connections')} translated, dump+parse took ${sampleSeconds.toFixed(2)} s`,
    );

    const scrapes = quick ? 100 : 300;
    const latency = await execJson<{ count: number; errors: number; bytes: number; p50: number; p90: number; p99: number; max: number }>(
      lab,
      'nat',
      ['node', dist('bench/workers/scrape.js'), '--url', `http://${LISTEN}/metrics`, '--count', String(scrapes), '--max-seconds', '120'],
    );
    log(
      `  /metrics: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms over ${latency.count} scrapes`,
    );

    // CPU at Prometheus' pace: one scrape every 15 s.
    const windowSeconds = quick ? 60 : 120;
    const t0 = procTimes(pid);
    const children0 = liveChildren(pid);
    const start = process.hrtime.bigint();
    for (let elapsed = 0; elapsed < windowSeconds; elapsed += 15) {
      await scrapeMetrics(lab, 'nat');
      await sleep(Math.min(15, windowSeconds - elapsed) * 1000);
    }
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const t1 = procTimes(pid);
    const children1 = liveChildren(pid);
    const selfPct = ((t1.self - t0.self) / wall) * 100;
    const reapedPct = ((t1.reaped - t0.reaped) / wall) * 100;
    const live = [...children1].map(([childPid, child]) => ({
      comm: child.comm,
      pct: ((child.cpu - (children0.get(childPid)?.cpu ?? 0)) / wall) * 100,
    }));
    const livePct = live.reduce((sum, child) => sum + child.pct, 0);
    const memory = procStatus(pid);
    const after = await scrapeMetrics(lab, 'nat');
    const heapMb = (after.get('nodejs_heap_used_bytes') ?? NaN) / 1024 / 1024;
    const split = `${memory.anonMb.toFixed(0)} MB allocated (V8 heap in use ${heapMb.toFixed(0)} MB) + ${memory.fileMb.toFixed(0)} MB of mapped files (the node binary's code)`;
    const samplesInWindow = (after.get('natgw_vm_sample_age_seconds') ?? Infinity) < wall;
    log(
      `  CPU over ${wall.toFixed(0)} s: agent ${selfPct.toFixed(2)} %, reaped children ${reapedPct.toFixed(2)} %, ${live.map((c) => `${c.comm} ${c.pct.toFixed(2)} %`).join(', ')}; RSS ${memory.rssMb.toFixed(0)} MB = ${split}, peak ${memory.hwmMb.toFixed(0)} MB`,
    );

    const about = `${entries} conntrack entries (UDP, 8 source IPs, max ${conntrackMax}), 1,000 source ranges`;
    const rows: Row[] = [
      valueRow(
        'scale',
        '/metrics latency p99',
        'ms',
        latency.p99,
        '<= 50',
        `p50 ${latency.p50.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms, ${latency.count} sequential scrapes from inside the NAT namespace, ${latency.bytes} bytes each; ${about}`,
      ),
      valueRow(
        'scale',
        'agent CPU at 1 scrape / 15 s (agent process)',
        '% of a core',
        selfPct,
        '<= 1',
        `over ${wall.toFixed(0)} s${samplesInWindow ? ', a per-VM table dump fell in the window' : ', no per-VM table dump in the window'}`,
      ),
      valueRow(
        'scale',
        'agent CPU: children (commands it ran + its readers: tcpdump, conntrack -E with translation logs)',
        '% of a core',
        reapedPct + livePct,
        '<= 1',
        `reaped commands (nft, conntrack -L) ${reapedPct.toFixed(2)} %; ${live.map((c) => `${c.comm} ${c.pct.toFixed(2)} %`).join(', ')}`,
      ),
      valueRow('scale', 'agent CPU: total (process + children)', '% of a core', selfPct + reapedPct + livePct, '<= 1'),
      valueRow(
        'scale',
        'per-VM table dump + parse (background sampler)',
        's',
        sampleSeconds,
        undefined,
        `runs every max(30 s, 100 × its duration) = ${Math.max(30, sampleSeconds * 100).toFixed(0)} s here`,
      ),
      valueRow(
        'scale',
        'agent RSS',
        'MB',
        memory.rssMb,
        '<= 80',
        `${split}; the bundle with node ${shippedNodeFlags().join(' ')} and ${Object.entries(shippedEnvironment())
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}, as the unit runs it`,
      ),
      valueRow('scale', 'agent peak RSS (VmHWM)', 'MB', memory.hwmMb, '<= 80', `fill took ${fillSeconds.toFixed(0)} s`),
    ];
    return rows;
  } finally {
    await lab.destroy();
  }
};
