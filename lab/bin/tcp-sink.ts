// A TCP server for connection-rate benchmarks. --close server: closes each connection as soon as it is accepted (the
// server keeps the TIME_WAIT socket); --close client: waits for the client's FIN and then closes (the client keeps it).
// Bounded: exits by itself after --max-seconds.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '9000' },
    'max-seconds': { type: 'string', default: '900' },
    close: { type: 'string', default: 'server' },
  },
});

let accepted = 0;
const server = net.createServer((socket) => {
  accepted++;
  socket.on('error', () => undefined);
  if (values.close === 'server') socket.end();
  // Otherwise Node ends our side when the client's FIN arrives (allowHalfOpen is off).
  else socket.resume();
});
server.on('error', (error) => {
  process.stderr.write(`tcp-sink: ${String(error)}\n`);
  process.exit(1);
});
server.listen({ host: values.address, port: Number(values.port), backlog: 4096 }, () => process.stdout.write('ready\n'));
const stop = () => {
  process.stdout.write(`${JSON.stringify({ accepted })}\n`);
  process.exit(0);
};
setTimeout(stop, Number(values['max-seconds']) * 1000);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
