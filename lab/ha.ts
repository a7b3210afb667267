// HA scenarios in the lab: several NAT VMs behind the emulated internal load balancer, a client opening new
// connections all the time, and the time it takes until every new connection works again after a NAT VM dies.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../common/wait.js';
import { INTERNET, Lab, repoRoot, type LabHealthCheck, type LabProcess } from './lab.js';
import { AGENT_PORT, DEFAULT_AGENT_LISTEN } from '../common/protocol.js';

export const HA_CLIENT_TAG = 'natgw-client';
/** The timing `natgw provision --ha` uses for the traffic health check, scaled to the lab's one-second clock. */
export const LAB_TRAFFIC_CHECK: LabHealthCheck = {
  port: AGENT_PORT,
  path: '/healthz',
  intervalSeconds: 1,
  timeoutSeconds: 1,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

export interface Backend {
  name: string;
  ip: string;
  externalIp: string;
}

export interface HaLab {
  lab: Lab;
  backends: Backend[];
  agents: Map<string, LabProcess>;
  client: string;
  startBackend(backend: Backend): Promise<void>;
  waitForHealthy(names: string[], timeoutMs?: number): Promise<void>;
}

const agentConfig = {
  sourceRanges: ['10.10.0.0/24'],
  reconcileIntervalSeconds: 5,
  deploymentMode: 'ha',
  drainSeconds: 4,
  egressProbe: { targets: [`${INTERNET.server}:80`], intervalSeconds: 1, timeoutSeconds: 1 },
  listen: DEFAULT_AGENT_LISTEN,
};

export async function buildHaLab(size: number): Promise<HaLab> {
  const lab = await Lab.create();
  try {
    const backends = Array.from({ length: size }, (_, index) => ({
      name: `nat-${String.fromCharCode(97 + index)}`,
      ip: `10.10.0.${2 + index}`,
      externalIp: `203.0.113.${10 + index}`,
    }));
    const agents = new Map<string, LabProcess>();
    const haLab: HaLab = {
      lab,
      backends,
      agents,
      client: 'client',
      startBackend: async (backend) => {
        const vm = lab.vms.has(backend.name) ? lab.vm(backend.name) : await lab.addVm({ ...backend, canIpForward: true, tags: ['natgw'] });
        const configFile = path.join(vm.root, 'natgw.json');
        writeFileSync(configFile, JSON.stringify(agentConfig));
        agents.set(
          backend.name,
          lab.spawn(
            backend.name,
            ['node', path.join(repoRoot(), 'bin', 'natgw.js'), 'agent', '--config', configFile, '--root', vm.root],
            `agent on ${backend.name}`,
          ),
        );
      },
      waitForHealthy: async (names, timeoutMs = 20_000) => {
        const ips = names.map((name) => backends.find((backend) => backend.name === name)!.ip);
        await waitUntil(
          `backends ${names.join(', ')} are healthy`,
          () => ips.every((ip) => lab.healthyBackendsOf('natgw-ilb').includes(ip)),
          {
            timeoutMs,
            detail: () => `healthy: ${lab.healthyBackendsOf('natgw-ilb').join(', ') || 'none'}`,
          },
        );
      },
    };
    for (const backend of backends) await haLab.startBackend(backend);
    await lab.addVm({ name: 'client', ip: '10.10.0.50', tags: [HA_CLIENT_TAG] });
    await lab.setLoadBalancedRoutes([
      {
        name: 'natgw-ilb',
        priority: 800,
        tags: [HA_CLIENT_TAG],
        backends: backends.map((backend) => backend.ip),
        healthCheck: LAB_TRAFFIC_CHECK,
      },
    ]);
    await haLab.waitForHealthy(backends.map((backend) => backend.name));
    return haLab;
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

export interface Attempt {
  at: number;
  ok: boolean;
  seenAs?: string;
  error?: string;
}

export interface ConnectionLoop {
  loop: LabProcess;
  /** The attempts printed so far, in the order they started. */
  attempts(): Attempt[];
  /**
   * Resolves with the attempts so far once `enough` holds for them, looked at whenever the loop prints; rejects if the
   * loop ends first or `timeoutMs` passes.
   */
  until(what: string, enough: (attempts: Attempt[]) => boolean, timeoutMs: number): Promise<Attempt[]>;
  /** Ends the loop (attempts in flight are not reported) and resolves with every attempt it printed. */
  stop(): Promise<Attempt[]>;
  /** Every attempt, once the loop has ended on its own after `seconds`. */
  done: Promise<Attempt[]>;
}

const parseAttempts = (text: string): Attempt[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Attempt)
    .sort((a, b) => a.at - b.at);

/** New connections from the client, one every `everyMs`, for at most `seconds` (or until stopped). */
export function connectionLoop(haLab: Pick<HaLab, 'lab' | 'client'>, seconds: number, everyMs = 100): ConnectionLoop {
  const loop = haLab.lab.spawn(
    haLab.client,
    [
      'node',
      path.join(repoRoot(), 'dist/lab/bin/connection-loop.js'),
      '--seconds',
      String(seconds),
      '--every-ms',
      String(everyMs),
      '--timeout-ms',
      '1000',
    ],
    'connection loop',
  );
  const attempts = () => parseAttempts(loop.text);
  return {
    loop,
    attempts,
    until: (what, enough, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const seen = attempts();
          if (!enough(seen)) return false;
          finish();
          resolve(seen);
          return true;
        };
        const ended = () => {
          if (check()) return;
          finish();
          reject(new Error(`the connection loop ended before ${what}: ${summarize(attempts())}`));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting until ${what}: ${summarize(attempts())}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          loop.child.stdout?.off('data', check);
          loop.child.off('exit', ended);
        };
        if (check()) return;
        if (!loop.running) return ended();
        loop.child.stdout?.on('data', check);
        loop.child.once('exit', ended);
      }),
    stop: async () => {
      await loop.stop('SIGTERM', 1000);
      return attempts();
    },
    done: loop.exited.then(attempts),
  };
}

function summarize(attempts: Attempt[]): string {
  const failed = attempts.filter((attempt) => !attempt.ok).length;
  return `${attempts.length} attempts, ${failed} failed${attempts.length === 0 ? '' : `, the last ${attempts.at(-1)!.ok ? 'worked' : `failed (${attempts.at(-1)!.error ?? 'bad status'})`}`}`;
}

/** Attempts that worked, through the NAT VM with this external address if one is given. */
export const worked = (attempts: Attempt[], seenAs?: string) =>
  attempts.filter((attempt) => attempt.ok && (seenAs === undefined || attempt.seenAs === seenAs));

/** How many attempts in a row, counted back from the last one, worked (through `seenAs` if given). */
export function trailingSuccesses(attempts: Attempt[], seenAs?: string): number {
  let count = 0;
  for (let index = attempts.length - 1; index >= 0; index--) {
    const attempt = attempts[index]!;
    if (!attempt.ok || (seenAs !== undefined && attempt.seenAs !== seenAs)) break;
    count++;
  }
  return count;
}

export interface Outage {
  /** From the event to the first attempt after which every attempt worked. */
  recoveredAfterMs: number | undefined;
  failedAttempts: number;
  longestFailureRunMs: number;
}

export function outageAfter(attempts: Attempt[], eventAt: number, everyMs: number): Outage {
  const after = attempts.filter((attempt) => attempt.at >= eventAt);
  const lastFailure = [...after].reverse().find((attempt) => !attempt.ok);
  const firstGoodForGood = lastFailure === undefined ? after[0] : after.find((attempt) => attempt.at > lastFailure.at);
  let longest = 0;
  let run = 0;
  for (const attempt of attempts) {
    run = attempt.ok ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return {
    recoveredAfterMs: firstGoodForGood === undefined ? undefined : Math.max(0, firstGoodForGood.at - eventAt),
    failedAttempts: after.filter((attempt) => !attempt.ok).length,
    longestFailureRunMs: longest * everyMs,
  };
}
