// `natgw fallback watch` checks every flag before it connects to anything: a bad value names its flag (exit 2).
import t from 'tap';
import { UsageError } from '../common/errors.js';
import { parseWatchOptions } from '../fallback/cli.js';

const base = ['--project', 'my-project', '--region', 'us-central1'];

t.test('defaults: the gateway name, 5 s checks, 30 s to fall back, 60 s to fail back, two probe URLs', async (t) => {
  const options = parseWatchOptions(base, {});
  if (options === 'help') throw new Error('help');
  t.match(options, {
    name: 'natgw-us-central1',
    intervalMs: 5000,
    failAfterMs: 30_000,
    holdDownMs: 60_000,
    probeTimeoutMs: 5000,
    listen: { host: '0.0.0.0', port: 9733 },
    endpoint: undefined,
  });
  t.equal(options.probeUrls.length, 2);
  t.same(parseWatchOptions([...base, '--probe-url', 'http://a.example/', '--probe-url', 'https://b.example/'], {}), {
    ...options,
    probeUrls: ['http://a.example/', 'https://b.example/'],
  });
  t.equal(parseWatchOptions(['--help'], {}), 'help');
});

t.test('bad input names the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--region', 'us-central1'], /--project: required/],
    [['--project', 'my-project'], /--region: required/],
    [['--project', 'My_Project', '--region', 'us-central1'], /--project: 'My_Project' is not a project id/],
    [['--project', 'my-project', '--region', 'central'], /--region: 'central' is not a region name/],
    [[...base, '--fail-after', 'soon'], /--fail-after: 'soon' is not a duration/],
    [[...base, '--fail-after', '0s'], /--fail-after: '0s' must be longer than 0/],
    [[...base, '--interval', '20s'], /--fail-after: must be at least twice --interval/],
    [[...base, '--hold-down', '8s'], /--hold-down: must be at least twice --interval/],
    [[...base, '--probe-url', 'ftp://x'], /--probe-url: 'ftp:\/\/x' must be http/],
    [[...base, '--probe-url', 'nope'], /--probe-url: 'nope' is not a URL/],
    [[...base, '--metrics-listen', '9733'], /--metrics-listen: '9733' is not ADDRESS:PORT/],
    [[...base, '--metrics-listen', '0.0.0.0:65536'], /--metrics-listen: '0.0.0.0:65536' is not ADDRESS:PORT/],
    [[...base, '--metrics-listen', '0.0.0.0:0'], /--metrics-listen: '0.0.0.0:0' is not ADDRESS:PORT/],
    [[...base, '--name', `n${'x'.repeat(55)}`], /--name: 'nx+' must be .* at most 55 characters/],
    [[...base, '--name', 'Bad_Name'], /--name: 'Bad_Name'/],
    [[...base, '--compute-endpoint', 'http://10.0.0.1:8080'], /--compute-endpoint: plain http is only allowed to a loopback/],
    [[...base, '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of cases) t.throws(() => parseWatchOptions(argv, {}), { constructor: UsageError, message }, argv.join(' '));
});

t.test('project, region and name are checked as provision checks them: a domain-scoped project id is one', async (t) => {
  const options = parseWatchOptions(['--project', 'example.com:proj', '--region', 'us-central1', '--metrics-listen', 'localhost:9100'], {});
  t.match(options, { project: 'example.com:proj', name: 'natgw-us-central1', listen: { host: 'localhost', port: 9100 } });
});
