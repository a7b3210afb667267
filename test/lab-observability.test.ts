// natgw-test: exclusive — Prometheus' 1 s scrapes and alert evaluation are checked against increase()'s extrapolation.
// A real Prometheus in the lab scrapes the agent: byte counts against what a client really sent, alert rules evaluated
// on live data, the dashboard's metrics present, translation and drop logs written.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { INTERNET, VPC, repoRoot } from '../lab/lab.js';
import { runCommand } from '../agent/runner.js';
import { NAT_EXTERNAL_IP, NAT_IP, baseConfig, createNatLab } from './helpers/nat-lab.js';

const UPLOAD_BYTES = 3_000_000;

t.test('Prometheus scrapes the agent in the lab', async (t) => {
  // Prometheus runs on 'monitoring': the agent's input chain admits it only as a named metrics range.
  const natLab = await createNatLab(t, {
    metadataConfig: baseConfig({ logging: 'all', perVmMetrics: { minIntervalSeconds: 5 }, metricsSourceRanges: ['10.10.0.50/32'] }),
  });
  const { lab } = natLab;
  await lab.addVm({ name: 'monitoring', ip: '10.10.0.50', defaultVia: VPC.gateway });
  const agent = natLab.startAgent(['--listen', '0.0.0.0:9731']);
  t.teardown(() => agent.stop());
  await natLab.waitUntil('the agent is healthy', async () => (await natLab.healthz()).status === 200);

  const promDir = path.join(lab.dir, 'prometheus');
  const promConfig = path.join(lab.dir, 'prometheus.yml');
  writeFileSync(
    promConfig,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ['${path.join(repoRoot(), 'observability/alerts.yml')}']`,
      'scrape_configs:',
      '  - job_name: natgw',
      `    static_configs: [{ targets: ['${NAT_IP}:9731'] }]`,
      '',
    ].join('\n'),
  );
  const prometheus = lab.spawn(
    'monitoring',
    ['prometheus', `--config.file=${promConfig}`, `--storage.tsdb.path=${promDir}`, '--web.listen-address=127.0.0.1:9090'],
    'prometheus',
  );
  t.teardown(() => prometheus.stop());
  const query = async (expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const { stdout, exitCode } = await lab.exec(
      'monitoring',
      ['curl', '-sS', '-m', '5', 'http://127.0.0.1:9090/api/v1/query', '--data-urlencode', `query=${expr}`],
      { okExitCodes: [7, 28, 52, 56] },
    );
    // Until its storage is ready Prometheus answers 503 with plain text.
    if (exitCode !== 0 || !stdout.startsWith('{')) return [];
    const body = JSON.parse(stdout) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data.result;
  };
  await natLab.waitUntil('Prometheus sees the target up', async () => (await query('up{job="natgw"}'))[0]?.value[1] === '1', 30_000);

  await t.test('increase(natgw_forwarded_bytes_total{direction="egress"}) matches what a client sent through the NAT', async (t) => {
    const payload = path.join(lab.dir, 'payload.bin');
    writeFileSync(payload, Buffer.alloc(UPLOAD_BYTES, 0x5a));
    const metric = 'natgw_forwarded_bytes_total{direction="egress"}';
    const queryAt = async (expr: string, time: number) => {
      const { stdout } = await lab.exec('monitoring', [
        'curl',
        '-sS',
        '-m',
        '5',
        'http://127.0.0.1:9090/api/v1/query',
        '--data-urlencode',
        `query=${expr}`,
        '--data-urlencode',
        `time=${time}`,
      ]);
      return Number((JSON.parse(stdout) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1]);
    };
    // A scrape taken after this moment: once it is stored, its sample is known to predate the upload.
    const scrapeAfter = async (moment: number) => {
      let at = 0;
      await natLab.waitUntil(
        `Prometheus has scraped the agent after ${moment}`,
        async () => {
          at = Number((await query('timestamp(up{job="natgw"})'))[0]?.value[1] ?? 0);
          return at > moment;
        },
        30_000,
      );
      return at;
    };
    const before = await scrapeAfter(Date.now() / 1000);
    const { stdout } = await lab.exec('private', [
      'curl',
      '-sS',
      '-m',
      '20',
      '--data-binary',
      `@${payload}`,
      `http://${INTERNET.server}/upload`,
    ]);
    t.equal(stdout.trim(), String(UPLOAD_BYTES), 'the internet host received every byte');
    // The first scrape that began after the upload ended counts every byte of it.
    const after = await scrapeAfter(Date.now() / 1000);
    const counted = (await queryAt(metric, after)) - (await queryAt(metric, before));
    // Lower bound: the body itself. Upper: TCP/IP headers (~4 % at MSS 1420) and the HTTP request.
    t.ok(
      counted >= UPLOAD_BYTES && counted <= UPLOAD_BYTES * 1.08,
      `Prometheus counted ${counted} egress bytes for a ${UPLOAD_BYTES}-byte upload (ratio ${(counted / UPLOAD_BYTES).toFixed(4)})`,
    );
    const windowSeconds = Math.ceil(after - before) + 3;
    const extrapolated = await queryAt(`increase(${metric}[${windowSeconds}s])`, after);
    // increase() extrapolates the same delta to the window's edges: at most window / (window - one scrape interval).
    t.ok(
      extrapolated >= counted * 0.99 && extrapolated <= counted * (windowSeconds / (windowSeconds - 1.5)),
      `increase() over ${windowSeconds}s: ${extrapolated}`,
    );
  });

  await t.test('the single-instance alert fires from live data', async (t) => {
    await natLab.waitUntil(
      'NatgwSingleInstance fires',
      async () => (await query('ALERTS{alertname="NatgwSingleInstance",alertstate="firing"}')).length === 1,
      15_000,
    );
    t.pass('NatgwSingleInstance is firing');
    t.same(await query('ALERTS{alertname="NatgwDown"}'), [], 'NatgwDown does not fire');
  });

  await t.test('drops by the outsider reach Prometheus and the error log', async (t) => {
    t.equal(await natLab.udpWhoami('outsider'), undefined);
    await natLab.waitUntil(
      'the drop is scraped',
      async () => Number((await query('natgw_dropped_packets_total{reason="source_not_allowed"}'))[0]?.value[1] ?? 0) > 0,
      10_000,
    );
    await agent.waitFor(/"event":"dropped".*"reason":"source_not_allowed".*"src_ip":"10\.10\.0\.200"/, 5000);
    t.pass('drop logged with its reason and source');
  });

  await t.test('translations are logged with the NAT IP; per-VM figures appear', async (t) => {
    t.equal(await natLab.udpWhoami('private'), NAT_EXTERNAL_IP);
    await agent.waitFor(
      new RegExp(
        `"event":"translation".*"src_ip":"10\\.10\\.0\\.11".*"nat_ip":"${NAT_EXTERNAL_IP.replace(/\./g, '\\.')}".*"dest_port":${INTERNET.udpPort},"protocol":"udp"`,
      ),
      5000,
    );
    await natLab.waitUntil(
      'per-VM connections are scraped',
      async () => Number((await query('natgw_vm_open_connections{vm="10.10.0.11"}'))[0]?.value[1] ?? 0) > 0,
      15_000,
    );
    await natLab.waitUntil(
      'both connections are counted as opened',
      async () => Number((await query('natgw_connections_opened_total'))[0]?.value[1]) >= 2,
      5000,
    );
    const portUsage = Number((await query('natgw_vm_port_usage{vm="10.10.0.11"}'))[0]?.value[1]);
    t.ok(portUsage >= 1, `port usage ${portUsage}`);
  });

  await t.test('every metric the Grafana dashboard queries exists in a live scrape', async (t) => {
    const dashboard = JSON.parse(readFileSync(path.join(repoRoot(), 'observability/grafana-dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const queried = new Set(
      dashboard.panels.flatMap((panel) =>
        panel.targets.flatMap((target) => target.expr.match(/\b(natgw_[a-z_]+|process_[a-z_]+)\b/g) ?? []),
      ),
    );
    const { stdout: scrape } = await lab.exec('nat', ['curl', '-sS', 'http://127.0.0.1:9731/metrics']);
    const exposed = new Set(
      scrape
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2]),
    );
    for (const metric of queried) t.ok(exposed.has(metric), `${metric} is exposed`);
    const promtool = await runCommand('lint the scrape', 'promtool', ['check', 'metrics'], { input: scrape, okExitCodes: [1, 3] });
    t.equal(promtool.exitCode, 0, promtool.stdout + promtool.stderr);
  });
});
