// HA scenarios in the lab: several NAT VMs behind the emulated internal load balancer, a client opening new
// connections all the time, and the time it takes until every new connection works again after a NAT VM dies.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { INTERNET, Lab, repoRoot, type LabHealthCheck, type LabProcess } from './lab.js';

export const HA_CLIENT_TAG = 'natgw-client';
/** The timing `natgw provision --ha` uses for the traffic health check, scaled to the lab's one-second clock. */
export const LAB_TRAFFIC_CHECK: LabHealthCheck = {
  port: 9731,
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
  listen: '0.0.0.0:9731',
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
        const deadline = Date.now() + timeoutMs;
        const ips = names.map((name) => backends.find((backend) => backend.name === name)!.ip);
        while (!ips.every((ip) => lab.healthyBackendsOf('natgw-ilb').includes(ip))) {
          if (Date.now() > deadline)
            throw new Error(
              `backends ${names.join(', ')} not healthy after ${timeoutMs} ms (healthy: ${lab.healthyBackendsOf('natgw-ilb').join(', ') || 'none'})`,
            );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
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

/** New connections from the client, one every `everyMs`, for `seconds`; the result once the loop has ended. */
export function connectionLoop(
  haLab: Pick<HaLab, 'lab' | 'client'>,
  seconds: number,
  everyMs = 100,
): { done: Promise<Attempt[]>; loop: LabProcess } {
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
  return {
    loop,
    done: loop.exited.then(() =>
      loop.text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Attempt)
        .sort((a, b) => a.at - b.at),
    ),
  };
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
