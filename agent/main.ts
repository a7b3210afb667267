import { realClock } from '../common/clock.js';
import { version } from '../common/version.js';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../common/errors.js';
import { AGENT_PATHS } from '../common/protocol.js';
import { Agent } from './agent.js';
import { splitHostPort } from '../common/host-port.js';
import { ConfigError, DEFAULT_LISTEN, parseAgentConfig, systemLocalAddresses, type AgentConfig } from './config.js';
import { Dataplane } from './dataplane.js';
import { createLogger, type Logger } from './log.js';
import { AttributeMissingError, CONFIG_ATTRIBUTE, DEFAULT_METADATA_URL, MetadataClient, MetadataUnavailableError } from './metadata.js';
import { createAgentMetrics } from './metrics.js';
import { Observability } from './observability.js';
import { PortBlockManager } from './port-block-manager.js';
import { StatefulSync } from './stateful.js';
import { runCommand, spawnLines } from './runner.js';
import { listen } from './server.js';
import { UPGRADE_EXIT_CODE, waitForNewBundle } from './upgrade.js';

export const AGENT_VERSION = version;

const USAGE = `Usage: natgw agent [options]

Turns this VM into a NAT for the source ranges in its config, keeps it that way, and serves /healthz and /metrics.

Options:
  --config FILE        read the config from a JSON file (SIGHUP re-reads it) instead of the metadata server
  --metadata-url URL   metadata server base URL (default ${DEFAULT_METADATA_URL});
                       the config is the instance attribute '${CONFIG_ATTRIBUTE}', watched for changes
  --listen HOST:PORT   address for /healthz and /metrics (default: the config's "listen", else ${DEFAULT_LISTEN})
  --root DIR           prefix for every file the agent writes (default /)
  --sysctl-file FILE   where the sysctls are persisted (default ROOT/${AGENT_PATHS.sysctlConf}); the NAT VM's unit
                       writes them into the agent's state directory, and a privileged helper installs them
  --restart-on-new-bundle
                       exit with code ${UPGRADE_EXIT_CODE} when a new agent bundle is published in metadata, leaving the
                       data plane in place (the systemd unit then installs the bundle and restarts the agent)
  --validate           check the config, print it with defaults filled in, change nothing
  --cleanup            remove natgw's nft table (and an older agent's iptables chains and ipsets)
                       and its files, and nothing else, then exit
  -h, --help           this text
`;

function parseAgentArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'metadata-url': { type: 'string' },
        listen: { type: 'string' },
        root: { type: 'string', default: '/' },
        'sysctl-file': { type: 'string' },
        validate: { type: 'boolean', default: false },
        'restart-on-new-bundle': { type: 'boolean', default: false },
        cleanup: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
}

async function readConfigFile(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`(file): cannot read: ${(error as Error).message}`]);
  }
  return parseAgentConfig(text, file);
}

export async function runAgentCli(argv: string[]): Promise<number> {
  const flags = parseAgentArgs(argv);
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.listen !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(flags.listen))
    throw new UsageError(`--listen: ${JSON.stringify(flags.listen)} is not HOST:PORT`);
  const dataplane = new Dataplane({
    run: runCommand,
    root: flags.root,
    ...(flags.listen === undefined ? {} : { agentPort: splitHostPort(flags.listen).port }),
    ...(flags['sysctl-file'] === undefined ? {} : { sysctlFile: flags['sysctl-file'] }),
  });

  if (flags.cleanup) {
    const removed = await dataplane.cleanup();
    process.stdout.write(
      removed.length === 0 ? 'nothing of natgw was present\n' : `removed:\n${removed.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return 0;
  }

  const metadata = new MetadataClient(flags['metadata-url'] ?? DEFAULT_METADATA_URL);
  let fileConfig: AgentConfig | undefined;
  try {
    if (flags.config !== undefined) fileConfig = await readConfigFile(flags.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`natgw agent: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (flags.validate) {
    const config = fileConfig ?? parseAgentConfig((await metadata.getAttribute(CONFIG_ATTRIBUTE)).value, CONFIG_ATTRIBUTE);
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  }

  const log = createLogger();
  dataplane.warn = (message, details) => log.warn({ event: 'warning', ...details }, message);
  const observability = new Observability({ spawn: spawnLines, log });
  const portBlocks = new PortBlockManager({ run: runCommand, dataplane, spawn: spawnLines, log, root: flags.root });
  const usesMetadata = fileConfig === undefined || flags['metadata-url'] !== undefined;
  const stateful = new StatefulSync({
    run: runCommand,
    spawn: spawnLines,
    log,
    root: flags.root,
    localAddresses: systemLocalAddresses,
    ...(usesMetadata ? { guestAttributes: metadata } : {}),
  });
  const metrics = createAgentMetrics({ run: runCommand, version: AGENT_VERSION, observability, portBlocks, stateful });
  const agent = new Agent({
    dataplane,
    log,
    metrics,
    observability,
    portBlocks,
    stateful,
    ...(usesMetadata ? { guestAttributes: metadata } : {}),
  });
  const lookUpExternalIp = async () => {
    if (usesMetadata) agent.natExternalIp = await metadata.getValue('instance/network-interfaces/0/access-configs/0/external-ip');
  };

  let server: FastifyInstance | undefined;
  let address = flags.listen ?? fileConfig?.listen ?? DEFAULT_LISTEN;
  server = await listen({ agent, metrics }, address);
  log.info({ event: 'listening', address, version: AGENT_VERSION }, `serving /healthz and /metrics on ${address}`);
  // Without --listen the config decides the address, and a metadata config is only known once the server answers.
  const followConfigListen = async (config: AgentConfig) => {
    if (flags.listen !== undefined || config.listen === address) return;
    await server?.close();
    address = config.listen;
    server = await listen({ agent, metrics }, address);
    log.info({ event: 'listening', address }, `moved /healthz and /metrics to ${address}`);
  };

  const abort = new AbortController();
  let shutDown: (reason: string, code: number) => void = () => {};
  const stop = new Promise<number>((resolve) => {
    shutDown = (reason, code) => {
      const { state } = agent;
      if (!state.can('drain')) return;
      const alreadyDraining = state.phase === 'draining';
      // A signal during an upgrade's drain means "stop", not "restart me": the state keeps the exit code.
      agent.startDraining(reason, code);
      if (alreadyDraining) return;
      // The data plane stays: established flows must survive an agent restart or upgrade.
      const drainSeconds = agent.drainSeconds;
      log.info(
        { event: 'stopping', reason, drainSeconds, exitCode: code },
        `stopping (${reason})${drainSeconds > 0 ? ` after draining for ${drainSeconds} s` : ''}; the data plane stays in place`,
      );
      setTimeout(() => {
        agent.stop();
        abort.abort();
        void (server?.close() ?? Promise.resolve()).then(() => {
          const { exitCode } = state;
          resolve(exitCode);
          // Nothing but systemd's stop timeout ends a process that lingers after a signal; an upgrade exit has no such
          // backstop, so a leftover handle must not keep the old agent alive.
          if (exitCode === UPGRADE_EXIT_CODE) setTimeout(() => process.exit(exitCode), 5000).unref();
        });
      }, drainSeconds * 1000);
    };
    process.once('SIGTERM', () => shutDown('SIGTERM', 0));
    process.once('SIGINT', () => shutDown('SIGINT', 0));
  });
  if (flags['restart-on-new-bundle']) {
    void waitForNewBundle(metadata, log, { runningFile: process.argv[1] ?? '', signal: abort.signal }).then((checksum) => {
      if (checksum === undefined) return;
      log.info({ event: 'upgrade', sha256: checksum }, `a new agent bundle (sha256 ${checksum}) was published; restarting into it`);
      shutDown('upgrade', UPGRADE_EXIT_CODE);
    });
  }

  if (fileConfig !== undefined) {
    await lookUpExternalIp();
    await agent.setConfig(fileConfig, flags.config ?? 'file');
    process.on('SIGHUP', () => {
      void readConfigFile(flags.config ?? '').then(
        (config) => agent.setConfig(config, flags.config ?? 'file').then(() => followConfigListen(config)),
        (error: unknown) => agent.rejectConfig((error as Error).message),
      );
    });
    return stop;
  }

  const initial = await loadInitialMetadataConfig(metadata, agent, log, abort.signal);
  if (initial === 'stopped') return stop;
  if (initial instanceof Error) {
    process.stderr.write(`natgw agent: ${initial.message}\n`);
    agent.stop();
    await server.close();
    return 2;
  }
  await lookUpExternalIp();
  await agent.setConfig(initial.config, `metadata attribute ${CONFIG_ATTRIBUTE}`);
  await followConfigListen(initial.config);
  void watchMetadataConfig(metadata, agent, log, initial.etag, abort.signal, followConfigListen);
  return stop;
}

async function loadInitialMetadataConfig(
  metadata: MetadataClient,
  agent: Agent,
  log: Logger,
  signal: AbortSignal,
): Promise<{ config: AgentConfig; etag: string } | Error | 'stopped'> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const { value, etag } = await metadata.getAttribute(CONFIG_ATTRIBUTE, { signal });
      return { config: parseAgentConfig(value, `metadata attribute ${CONFIG_ATTRIBUTE}`), etag };
    } catch (error) {
      if (error instanceof ConfigError || error instanceof AttributeMissingError) return error;
      if (signal.aborted) break;
      const delay = Math.min(1000 * 2 ** attempt, 30_000);
      const message = `waiting for the metadata server: ${(error as Error).message}`;
      agent.setWaiting(message);
      log.warn(
        { event: 'metadata_unavailable', attempt: attempt + 1, retryInMs: delay, error: (error as Error).message },
        'metadata server unreachable; retrying',
      );
      await realClock.sleep(delay);
    }
  }
  return 'stopped';
}

async function watchMetadataConfig(
  metadata: MetadataClient,
  agent: Agent,
  log: Logger,
  initialEtag: string,
  signal: AbortSignal,
  onApplied: (config: AgentConfig) => Promise<void>,
): Promise<void> {
  let etag = initialEtag;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const next = await metadata.getAttribute(CONFIG_ATTRIBUTE, { lastEtag: etag, timeoutSeconds: 60, signal });
      failures = 0;
      if (next.etag === etag) continue;
      etag = next.etag;
      let config: AgentConfig;
      try {
        config = parseAgentConfig(next.value, `metadata attribute ${CONFIG_ATTRIBUTE}`);
      } catch (error) {
        agent.rejectConfig((error as Error).message);
        continue;
      }
      await agent.setConfig(config, `metadata attribute ${CONFIG_ATTRIBUTE}`);
      await onApplied(config);
    } catch (error) {
      if (signal.aborted) return;
      failures++;
      const delay = Math.min(1000 * 2 ** failures, 30_000);
      if (error instanceof AttributeMissingError) agent.rejectConfig(error.message);
      else if (error instanceof MetadataUnavailableError)
        log.warn(
          { event: 'metadata_unavailable', retryInMs: delay, error: error.message },
          'cannot watch the config; the current one stays',
        );
      else log.error({ event: 'config_watch_failed', error: String(error) }, 'config watch failed');
      await realClock.sleep(delay);
    }
  }
}
