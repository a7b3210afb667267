// Opens and closes TCP connections as fast as it can, with a fixed number in flight, and prints one JSON line.
// Bounded in time (--seconds) and in count (--max-connections); each connection attempt has its own timeout.
// --close server: the peer (tcp-sink --close server) closes first and the client closes on its FIN, so the server keeps
// TIME_WAIT. --close client: the client closes as soon as it is connected and keeps TIME_WAIT (give the client
// net.ipv4.tcp_tw_reuse=1 so its ports come back).
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '9000' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    'max-connections': { type: 'string', default: '500000' },
    'timeout-ms': { type: 'string', default: '3000' },
    close: { type: 'string', default: 'server' },
    /** Local addresses to connect from, one connection from each in turn (many clients behind one VM). */
    sources: { type: 'string', default: '' },
    /**
     * Connections that end in the first N ms are not counted, and the rate is taken over the rest: a fresh process
     * spends its first few hundred ms compiling its own hot path, which a short window would count as the network's.
     */
    'warmup-ms': { type: 'string', default: '0' },
  },
});
const host = values.host;
const port = Number(values.port);
const concurrency = Math.max(1, Math.min(4096, Number(values.concurrency)));
const seconds = Math.min(Number(values.seconds), 600);
const maxConnections = Number(values['max-connections']);
const timeoutMs = Number(values['timeout-ms']);
const sources = (values.sources ?? '').split(',').filter((source) => source !== '');
const warmupMs = Number(values['warmup-ms']);
if (!Number.isFinite(warmupMs) || warmupMs < 0) {
  process.stderr.write(`connect-rate: --warmup-ms must be a number of milliseconds >= 0 (got ${JSON.stringify(values['warmup-ms'])})\n`);
  process.exit(2);
}

let started = 0;
let ok = 0;
let failed = 0;
const errors: Record<string, number> = {};
const connectMs: number[] = [];

function once(localAddress?: string): Promise<void> {
  return new Promise((resolve) => {
    const begin = process.hrtime.bigint();
    let connected = false;
    let settled = false;
    const socket = net.connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (process.hrtime.bigint() < countFrom) return resolve();
      if (error === undefined && connected) ok++;
      else {
        failed++;
        const key = error ?? 'closed before connect';
        errors[key] = (errors[key] ?? 0) + 1;
      }
      resolve();
    };
    const timer = setTimeout(() => finish(connected ? 'timeout waiting for close' : 'connect timeout'), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      const now = process.hrtime.bigint();
      if (now >= countFrom && connectMs.length < 200_000) connectMs.push(Number(now - begin) / 1e6);
      if (values.close === 'client') socket.end();
    });
    socket.on('end', () => (values.close === 'client' ? undefined : finish()));
    socket.on('close', () => finish(connected ? undefined : 'closed before connect'));
    socket.resume();
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

const t0 = process.hrtime.bigint();
const countFrom = t0 + BigInt(Math.round(warmupMs * 1e6));
const deadline = Date.now() + seconds * 1000 + warmupMs;
async function worker(): Promise<void> {
  while (Date.now() < deadline && started < maxConnections) {
    const source = sources.length === 0 ? undefined : sources[started % sources.length];
    started++;
    await once(source);
  }
}
await Promise.all(Array.from({ length: concurrency }, () => worker()));
// Zero when --max-connections ran out within the warmup: nothing was counted, and the rate is 0, not negative.
const elapsed = Math.max(0, Number(process.hrtime.bigint() - countFrom) / 1e9);
connectMs.sort((a, b) => a - b);
const pick = (q: number) => connectMs[Math.min(connectMs.length - 1, Math.floor(q * connectMs.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ ok, failed, errors, seconds: elapsed, rate: elapsed > 0 ? ok / elapsed : 0, slow: connectMs.filter((ms) => ms >= 900).length, connectMs: { p50: pick(0.5), p99: pick(0.99) }, concurrency })}\n`,
);
