// One UDP flow that is never answered: 64-byte datagrams from one socket to one port, as fast as the socket takes them
// (a syslog or metrics stream looks like this to a NAT: its conntrack entry stays unreplied). Bounded by --count and --seconds; prints what it sent as JSON.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '9999' },
    count: { type: 'string', default: '10000000' },
    seconds: { type: 'string', default: '3' },
  },
});
const count = Math.min(Number(values.count), 10_000_000);
const until = Date.now() + Math.min(Number(values.seconds), 60) * 1000;
const IN_FLIGHT = 64;
const payload = Buffer.alloc(64);
const socket = dgram.createSocket('udp4');
let sent = 0;
let failed = 0;
let inFlight = 0;
let done = false;

function finish(): void {
  if (done) return;
  done = true;
  socket.close();
  process.stdout.write(`${JSON.stringify({ sent, failed })}\n`);
}

function pump(): void {
  while (!done && inFlight < IN_FLIGHT && sent + failed + inFlight < count && Date.now() < until) {
    inFlight++;
    socket.send(payload, port, values.host, (error) => {
      inFlight--;
      if (error === null || error === undefined) sent++;
      else failed++;
      pump();
    });
  }
  if (inFlight === 0) finish();
}

// Not connected: a connected socket would be handed the ICMP port-unreachable the server may send, and fail sends.
const port = Number(values.port);
socket.bind(0, pump);
