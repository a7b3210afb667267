import net from 'node:net';
import { splitHostPort } from '../common/host-port.js';

export interface ProbeResult {
  ok: boolean;
  at: number;
  detail: string;
}

function connect(target: string, timeoutMs: number): Promise<void> {
  const { host, port } = splitHostPort(target);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}

/** Egress works when at least one target accepts a TCP connection: one unreachable site is not an outage of ours. */
export async function probeEgress(targets: string[], timeoutMs: number): Promise<ProbeResult> {
  const failures: string[] = [];
  for (const target of targets) {
    try {
      await connect(target, timeoutMs);
      return { ok: true, at: Date.now(), detail: `connected to ${target}` };
    } catch (error) {
      failures.push(`${target}: ${(error as Error).message}`);
    }
  }
  return { ok: false, at: Date.now(), detail: failures.join('; ') };
}
