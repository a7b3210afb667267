// `natgw fallback watch`: the Cloud NAT fallback watcher (docs/fallback.md). It runs on a small VM that carries the
// probe tag (NAME-probe), never on a NAT VM, until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { UsageError } from '../common/errors.js';
import { HOST_PORT, isPortNumber, splitHostPort } from '../common/host-port.js';
import { parseEndpoint } from '../provision/gcp/client.js';
import { checkGatewayName, checkProject, checkRegion, parseDurationMs } from '../provision/options.js';
import { WATCHER_PORT } from './metrics.js';

export const FALLBACK_USAGE = `Usage: natgw fallback watch --project P --region R [options]

Watches a natgw gateway and moves its client-tagged VMs to Cloud NAT when natgw is down, and back when it is healthy
again (natgw provision --fallback cloud-nat creates the Cloud NAT). Run it on a small VM that carries the tag NAME-probe
(its egress probe must go through natgw), with a service account limited as docs/fallback.md says. See docs/fallback.md.

Options:
  --project P               project (required)
  --region R                region (required)
  --name NAME               gateway name (default: natgw-REGION)
  --interval D              time between checks (default 5s)
  --fail-after D            natgw unhealthy this long without a break → fall back (default 30s)
  --hold-down D             natgw healthy this long without a break → fail back (default 60s)
  --probe-url URL           what the egress probe fetches through natgw; any HTTP answer is success; repeat for
                            alternatives (default https://www.gstatic.com/generate_204 and https://checkip.amazonaws.com)
  --probe-timeout D         one probe's time limit (default 5s)
  --metrics-listen ADDR:PORT  where /metrics and /healthz listen (default 0.0.0.0:${WATCHER_PORT})
  --compute-endpoint URL    another Compute API endpoint (also NATGW_COMPUTE_ENDPOINT); plain http only to loopback
  -h, --help                this text
`;

const DEFAULT_PROBE_URLS = ['https://www.gstatic.com/generate_204', 'https://checkip.amazonaws.com'];

export interface WatchCliOptions {
  project: string;
  region: string;
  name: string;
  intervalMs: number;
  failAfterMs: number;
  holdDownMs: number;
  probeUrls: string[];
  probeTimeoutMs: number;
  listen: { host: string; port: number };
  endpoint: ReturnType<typeof parseEndpoint> | undefined;
}

function positiveDuration(flag: string, text: string): number {
  const ms = parseDurationMs(flag, text);
  if (ms <= 0) throw new UsageError(`--${flag}: '${text}' must be longer than 0`);
  return ms;
}

/** Every flag checked before anything connects: a bad value names its flag and changes nothing. */
export function parseWatchOptions(argv: string[], env: NodeJS.ProcessEnv): WatchCliOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      options: {
        project: { type: 'string' },
        region: { type: 'string' },
        name: { type: 'string' },
        interval: { type: 'string' },
        'fail-after': { type: 'string' },
        'hold-down': { type: 'string' },
        'probe-url': { type: 'string', multiple: true },
        'probe-timeout': { type: 'string' },
        'metrics-listen': { type: 'string' },
        'compute-endpoint': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${FALLBACK_USAGE}`);
  }
  const values = parsed.values;
  if (values.help === true) return 'help';
  const project = checkProject(values.project);
  const region = checkRegion(values.region);
  const name = checkGatewayName(values.name ?? `natgw-${region}`);
  const intervalMs = positiveDuration('interval', values.interval ?? '5s');
  const failAfterMs = positiveDuration('fail-after', values['fail-after'] ?? '30s');
  const holdDownMs = positiveDuration('hold-down', values['hold-down'] ?? '60s');
  const probeTimeoutMs = positiveDuration('probe-timeout', values['probe-timeout'] ?? '5s');
  // Fewer than two checks per window would let a single observation decide.
  if (failAfterMs < 2 * intervalMs) throw new UsageError(`--fail-after: must be at least twice --interval, got ${values['fail-after']}`);
  if (holdDownMs < 2 * intervalMs) throw new UsageError(`--hold-down: must be at least twice --interval, got ${values['hold-down']}`);
  const probeUrls = values['probe-url'] ?? DEFAULT_PROBE_URLS;
  for (const url of probeUrls) {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new UsageError(`--probe-url: '${url}' is not a URL`);
    }
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')
      throw new UsageError(`--probe-url: '${url}' must be http:// or https://`);
  }
  const listenText = values['metrics-listen'] ?? `0.0.0.0:${WATCHER_PORT}`;
  const listen = splitHostPort(listenText);
  if (!HOST_PORT.test(listenText) || !isPortNumber(listen.port))
    throw new UsageError(`--metrics-listen: '${listenText}' is not ADDRESS:PORT (e.g. 0.0.0.0:${WATCHER_PORT})`);
  const endpointText = values['compute-endpoint'] ?? (env.NATGW_COMPUTE_ENDPOINT || undefined);
  const endpointFlag = values['compute-endpoint'] !== undefined ? '--compute-endpoint' : 'NATGW_COMPUTE_ENDPOINT';
  return {
    project,
    region,
    name,
    intervalMs,
    failAfterMs,
    holdDownMs,
    probeUrls,
    probeTimeoutMs,
    listen,
    endpoint: endpointText === undefined ? undefined : parseEndpoint(endpointFlag, endpointText),
  };
}

export async function runFallbackCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(FALLBACK_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'watch') throw new UsageError(`unknown fallback command '${command}'\n\n${FALLBACK_USAGE}`);
  const options = parseWatchOptions(rest, process.env);
  if (options === 'help') {
    process.stdout.write(FALLBACK_USAGE);
    return 0;
  }
  const { httpProbe, startWatcher } = await import('./watch.js');
  const { realClock } = await import('../common/clock.js');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const watcher = await startWatcher({
    endpoint: options.endpoint,
    project: options.project,
    region: options.region,
    gateway: options.name,
    timers: { failAfterMs: options.failAfterMs, holdDownMs: options.holdDownMs },
    intervalMs: options.intervalMs,
    probe: httpProbe(options.probeUrls, options.probeTimeoutMs, realClock),
    listen: options.listen,
    log,
  });
  log(`watching gateway ${options.name} (project ${options.project}, region ${options.region}); metrics on ${watcher.metricsUrl}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await watcher.stop();
  log('stopped; the routes stay as they are');
  return 0;
}
