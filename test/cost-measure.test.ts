import t from 'tap';
import { type Clock, realClock } from '../common/clock.js';
import { UsageError } from '../common/errors.js';
import { extrapolateScrapes, parseDuration, parseMetricsText, PROM_QUERIES } from '../cost/measure.js';
import { fakeServer, runCost, sendJson } from './fixtures/cost/helpers.js';

const GIB = 1024 ** 3;

interface PromAnswers {
  egressBytes?: number;
  ingressBytes?: number;
  vms?: number | null;
  peakBytesPerSecond?: number | null;
  fail?: string;
}

/** Answers /api/v1/query the way Prometheus does, for the three queries natgw cost sends. */
function prometheus(answers: PromAnswers) {
  return fakeServer((url, _req, res) => {
    if (url.pathname !== '/api/v1/query') return sendJson(res, { status: 'error', errorType: 'not_found', error: 'no route' }, 404);
    const query = url.searchParams.get('query') ?? '';
    const now = Date.now() / 1000;
    if (answers.fail !== undefined) return sendJson(res, { status: 'error', errorType: 'bad_data', error: answers.fail }, 400);
    let result: unknown[] = [];
    if (query.startsWith('sum by (direction) (increase(natgw_forwarded_bytes_total[')) {
      result = [];
      if (answers.egressBytes !== undefined) result.push({ metric: { direction: 'egress' }, value: [now, String(answers.egressBytes)] });
      if (answers.ingressBytes !== undefined) result.push({ metric: { direction: 'ingress' }, value: [now, String(answers.ingressBytes)] });
    } else if (query.startsWith('count(count by (vm)')) {
      result = answers.vms == null ? [] : [{ metric: {}, value: [now, String(answers.vms)] }];
    } else if (query.startsWith('max_over_time(sum(rate(natgw_forwarded_bytes_total')) {
      result = answers.peakBytesPerSecond == null ? [] : [{ metric: {}, value: [now, String(answers.peakBytesPerSecond)] }];
    } else {
      return sendJson(res, { status: 'error', errorType: 'bad_data', error: `unexpected query ${query}` }, 400);
    }
    sendJson(res, { status: 'success', data: { resultType: 'vector', result } });
  });
}

t.test('--from-prometheus: bytes over the window, scaled to a month; VM count and peak from Prometheus', async (t) => {
  const server = await prometheus({ egressBytes: 1 * GIB, ingressBytes: 3 * GIB, vms: 5, peakBytesPerSecond: 250e6 });
  t.teardown(server.close);
  const run = await runCost(['--region', 'us-central1', '--from-prometheus', server.url, '--window', '1h', '--json']);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  const json = JSON.parse(run.stdout);
  t.equal(json.inputs.gibPerMonth, 4 * 730, '4 GiB in 1 h is 2,920 GiB in 730 h');
  t.equal(json.inputs.egressGibPerMonth, 730, 'the egress direction feeds the internet egress line');
  t.equal(json.inputs.egressAssumed, false);
  t.equal(json.inputs.vms, 5, 'VMs counted from natgw_vm_open_connections');
  t.equal(json.inputs.peakGbps, 2, '250 MB/s is 2 Gbps');
  t.equal(json.capacity.cheapestFittingType, 'e2-medium', 'e2-small (1 Gbps) is too small for the observed 2 Gbps');
  t.match(json.measurement.source, /^Prometheus http:\/\/127\.0\.0\.1:\d+$/);

  const queries = server.requests.map((url) => url.searchParams.get('query'));
  t.same(new Set(queries), new Set([PROM_QUERIES.bytes('1h'), PROM_QUERIES.vms('1h'), PROM_QUERIES.peak('1h')]));
  t.match(queries.join('\n'), /increase\(natgw_forwarded_bytes_total\[1h\]\)/);

  const table = await runCost(['--region', 'us-central1', '--from-prometheus', server.url, '--window', '1h']);
  t.match(table.stdout, /measured by Prometheus .*: increase over the last 1h, scaled × 730 to 730 h, peak 2 Gbps/);
  t.match(table.stdout, /WARNING: peak 2 Gbps exceeds the egress cap/);
});

t.test('--from-prometheus: explicit flags win over measured values; --window changes the scale', async (t) => {
  const server = await prometheus({ egressBytes: 0, ingressBytes: 6 * GIB, vms: 5, peakBytesPerSecond: 1e6 });
  t.teardown(server.close);
  const run = await runCost([
    '--region',
    'us-central1',
    '--from-prometheus',
    `${server.url}/`,
    '--window',
    '6h',
    '--vms',
    '40',
    '--peak-gbps',
    '0.5',
    '--json',
  ]);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  const json = JSON.parse(run.stdout);
  t.equal(json.inputs.gibPerMonth, 730, '6 GiB in 6 h');
  t.equal(json.inputs.vms, 40);
  t.equal(json.inputs.peakGbps, 0.5);
  t.match(server.requests[0]?.searchParams.get('query'), /\[6h\]/);
});

t.test('--from-prometheus: no VM series means --vms is required', async (t) => {
  const server = await prometheus({ egressBytes: GIB, ingressBytes: GIB, vms: null, peakBytesPerSecond: null });
  t.teardown(server.close);
  const missing = await runCost(['--region', 'us-central1', '--from-prometheus', server.url]);
  t.type(missing.error, UsageError);
  t.match(missing.error?.message, /--vms: required: Prometheus .* has no natgw_vm_open_connections series/);
  const given = await runCost(['--region', 'us-central1', '--from-prometheus', server.url, '--vms', '3', '--json']);
  t.equal(given.code, 0, given.error?.message ?? 'ran');
  t.equal(JSON.parse(given.stdout).inputs.peakGbps, null, 'no peak when Prometheus has none');
});

t.test('--from-prometheus: failures are reported against the flag', async (t) => {
  const empty = await prometheus({ vms: 2 });
  t.teardown(empty.close);
  t.match(
    (await runCost(['--region', 'us-central1', '--from-prometheus', empty.url])).error?.message,
    /--from-prometheus: no natgw_forwarded_bytes_total series in the last 1h/,
  );

  const failing = await prometheus({ fail: 'parse error at char 3' });
  t.teardown(failing.close);
  t.match((await runCost(['--region', 'us-central1', '--from-prometheus', failing.url])).error?.message, /--from-prometheus: .*HTTP 400/);

  const closed = await prometheus({});
  await closed.close();
  const unreachable = await runCost(['--region', 'us-central1', '--from-prometheus', closed.url]);
  t.type(unreachable.error, UsageError);
  t.match(unreachable.error?.message, /--from-prometheus: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

  t.match(
    (await runCost(['--region', 'us-central1', '--from-prometheus', 'not a url'])).error?.message,
    /--from-prometheus: 'not a url' is not a URL/,
  );
  t.match(
    (await runCost(['--region', 'us-central1', '--from-prometheus', empty.url, '--window', 'an hour'])).error?.message,
    /--window: 'an hour' is not a duration/,
  );
  t.match(
    (await runCost(['--region', 'us-central1', '--from-prometheus', empty.url, '--window', '30s'])).error?.message,
    /--window: 30s is too short/,
  );
});

/** An agent whose counters grow at a fixed rate from its start, in the text exposition format prom-client writes. */
function agent(options: {
  egressPerSecond: number;
  ingressPerSecond: number;
  startedSecondsAgo: number;
  exposeStart: boolean;
  vms: string[];
  /** The agent's time; the CLI given the same clock measures its --sample exactly. */
  clock?: Clock;
}) {
  const now = () => (options.clock ?? realClock).now() / 1000;
  const startedAt = now() - options.startedSecondsAgo;
  return fakeServer((url, _req, res) => {
    if (url.pathname !== '/metrics') {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const up = now() - startedAt;
    const lines = [
      '# HELP natgw_forwarded_bytes_total Bytes forwarded through the NAT.',
      '# TYPE natgw_forwarded_bytes_total counter',
      `natgw_forwarded_bytes_total{direction="egress"} ${Math.round(options.egressPerSecond * up)}`,
      `natgw_forwarded_bytes_total{direction="ingress"} ${Math.round(options.ingressPerSecond * up)}`,
      '# TYPE natgw_vm_open_connections gauge',
      ...options.vms.map((vm, i) => `natgw_vm_open_connections{vm="${vm}",zone="us-central1-a"} ${i + 3}`),
    ];
    if (options.exposeStart) lines.push('# TYPE process_start_time_seconds gauge', `process_start_time_seconds ${startedAt}`);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
}

t.test('--from-agent: one scrape with the process uptime', async (t) => {
  const server = await agent({
    egressPerSecond: 1e6,
    ingressPerSecond: 3e6,
    startedSecondsAgo: 7200,
    exposeStart: true,
    vms: ['web-1', 'web-2'],
  });
  t.teardown(server.close);
  const run = await runCost(['--region', 'us-central1', '--from-agent', server.url, '--sample', '0s', '--json']);
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  const json = JSON.parse(run.stdout);
  const expected = (4e6 * 730 * 3600) / GIB;
  t.ok(
    Math.abs(json.inputs.gibPerMonth - expected) / expected < 0.001,
    `≈ ${expected.toFixed(1)} GiB/month (got ${json.inputs.gibPerMonth})`,
  );
  t.ok(Math.abs(json.inputs.egressGibPerMonth - expected / 4) / expected < 0.001);
  t.equal(json.inputs.vms, 2, 'VMs counted from the vm label');
  t.match(json.measurement.basis, /average since the agent started 2 h ago/);
  t.equal(server.requests.length, 1, 'scraped once');
  t.equal(server.requests[0]?.pathname, '/metrics', 'the path defaults to /metrics');
});

t.test('--from-agent: two scrapes a sample apart when the agent does not tell its start', async (t) => {
  // One clock for the fake agent's counters and the CLI's sample: with real time a loaded box put the scheduling delay
  // between the two (11 % at a 400 ms sample, 250 ms at 2 s) into the measured rate.
  let virtualMs = Date.now();
  const clock: Clock = {
    now: () => virtualMs,
    sleep: async (ms) => {
      virtualMs += ms;
    },
  };
  const server = await agent({ egressPerSecond: 2e6, ingressPerSecond: 6e6, startedSecondsAgo: 50, exposeStart: false, vms: [], clock });
  t.teardown(server.close);
  const run = await runCost(
    ['--region', 'us-central1', '--from-agent', `${server.url}/metrics`, '--sample', '2s', '--vms', '7', '--json'],
    clock,
  );
  t.equal(run.code, 0, run.error?.message ?? 'ran');
  const json = JSON.parse(run.stdout);
  const expected = (8e6 * 730 * 3600) / GIB;
  t.ok(
    Math.abs(json.inputs.gibPerMonth - expected) / expected < 0.001,
    `≈ ${expected.toFixed(0)} GiB/month (got ${json.inputs.gibPerMonth.toFixed(0)})`,
  );
  t.ok(Math.abs(json.inputs.peakGbps - 0.064) < 0.01, '8 MB/s is 0.064 Gbps');
  t.equal(json.inputs.vms, 7);
  t.match(json.measurement.basis, /rate over a 2 s sample/);
  t.equal(server.requests.length, 2, 'scraped twice');

  const noVms = await runCost(['--region', 'us-central1', '--from-agent', server.url, '--sample', '50ms']);
  t.match(noVms.error?.message, /--vms: required: agent .* has no natgw_vm_open_connections series/);
  const once = await runCost(['--region', 'us-central1', '--from-agent', server.url, '--sample', '0s', '--vms', '1']);
  t.match(once.error?.message, /--from-agent: one scrape is not enough without process_start_time_seconds/);
});

t.test('--from-agent: not an agent, or not reachable', async (t) => {
  const other = await fakeServer((_url, _req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('# TYPE up gauge\nup 1\n');
  });
  t.teardown(other.close);
  t.match(
    (await runCost(['--region', 'us-central1', '--from-agent', other.url, '--sample', '0s', '--vms', '1'])).error?.message,
    /--from-agent: the metrics have no natgw_forwarded_bytes_total/,
  );

  const missing = await fakeServer((_url, _req, res) => {
    res.writeHead(404);
    res.end('nope');
  });
  t.teardown(missing.close);
  t.match(
    (await runCost(['--region', 'us-central1', '--from-agent', missing.url, '--vms', '1', '--sample', '0s'])).error?.message,
    /--from-agent: .*HTTP 404/,
  );
  t.match(
    (await runCost(['--region', 'us-central1', '--from-agent', 'ftp://x', '--vms', '1'])).error?.message,
    /--from-agent: 'ftp:\/\/x' must be an http/,
  );
  t.match(
    (await runCost(['--region', 'us-central1', '--from-agent', other.url, '--sample', 'soon'])).error?.message,
    /--sample: 'soon' is not a duration/,
  );
});

t.test('metrics text parsing and extrapolation edge cases', async (t) => {
  const scrape = parseMetricsText(
    [
      'natgw_forwarded_bytes_total{direction="egress",gateway="a"} 100',
      'natgw_forwarded_bytes_total{direction="egress",gateway="b"} 1e2',
      'natgw_forwarded_bytes_total{direction="ingress"} 50 1700000000000',
      'natgw_vm_open_connections{vm="we\\"ird"} 1',
      'process_start_time_seconds 1000',
    ].join('\n'),
    5_000_000,
  );
  t.same(scrape, { atMs: 5_000_000, egressBytes: 200, ingressBytes: 50, vms: 1, processStartSeconds: 1000 });

  const before = { atMs: 0, egressBytes: 500, ingressBytes: 500, vms: null, processStartSeconds: null };
  const after = { ...before, atMs: 1000, egressBytes: 100 };
  t.throws(() => extrapolateScrapes(before, after, 730, 'x'), /counters went backwards/);

  t.equal(parseDuration('1h30m', '--window'), 5_400_000);
  t.equal(parseDuration('500ms', '--sample'), 500);
  t.throws(() => parseDuration('1.5h', '--window'), /--window/);
});
