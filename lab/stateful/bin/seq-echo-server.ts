// The far end of the long-lived flows: echoes every byte back and prints one JSON line per connection that ends, with
// whether the peer reset it (what a NAT VM without the flow's state answers) or closed it. Bounded by --max-seconds.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '7100' },
    'max-seconds': { type: 'string', default: '600' },
  },
});

const server = net.createServer((socket) => {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  let reset = false;
  socket.on('error', (error: NodeJS.ErrnoException) => (reset = error.code === 'ECONNRESET' || reset));
  socket.on('close', () => process.stdout.write(`${JSON.stringify({ closed: peer, reset, at: Date.now() })}\n`));
  socket.pipe(socket);
});
server.on('error', (error) => {
  process.stderr.write(`seq-echo-server: ${String(error)}\n`);
  process.exit(1);
});
server.listen({ host: values.address, port: Number(values.port), backlog: 4096 }, () => process.stdout.write('ready\n'));
setTimeout(() => process.exit(0), Math.min(Number(values['max-seconds']), 3600) * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
