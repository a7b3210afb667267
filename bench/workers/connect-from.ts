// Opens and closes TCP connections as fast as it can from many source addresses in turn (each connection from the next
// address), a fixed number in flight, and prints one JSON line. Bounded in time (--seconds, at most 600) and count.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '9001' },
    sources: { type: 'string', default: '' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '3' },
    'max-connections': { type: 'string', default: '1000000' },
    'timeout-ms': { type: 'string', default: '3000' },
  },
});
const sources = (values.sources ?? '').split(',').filter((source) => source !== '');
if (sources.length === 0) throw new Error('--sources: give at least one local address');
const port = Number(values.port);
const seconds = Math.min(Number(values.seconds), 600);
const maxConnections = Number(values['max-connections']);
const timeoutMs = Number(values['timeout-ms']);
let started = 0;
let ok = 0;
let failed = 0;

function once(localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const socket = net.connect({ host: values.host, port, localAddress });
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (connected) ok++;
      else failed++;
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    // The client closes first (tcp-sink --close client): TIME_WAIT stays on the client, whose ports differ per address.
    // A server holding TIME_WAIT for a NAT port would refuse the next connection a small block gives that port (the
    // kernel reuses a port as soon as conntrack forgets it), which measures port reuse, not the data path.
    socket.on('connect', () => {
      connected = true;
      socket.end();
    });
    socket.resume();
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

const t0 = process.hrtime.bigint();
const deadline = Date.now() + seconds * 1000;
async function worker(): Promise<void> {
  while (Date.now() < deadline && started < maxConnections) {
    const source = sources[started % sources.length]!;
    started++;
    await once(source);
  }
}
await Promise.all(Array.from({ length: Math.max(1, Math.min(4096, Number(values.concurrency))) }, () => worker()));
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ ok, failed, seconds: elapsed, rate: ok / elapsed })}\n`);
