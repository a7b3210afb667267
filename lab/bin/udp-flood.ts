// Creates many distinct UDP flows, one datagram each, to fill a NAT's conntrack table: every (source address, source
// port) × destination port is a new flow. Bounded: sends exactly --flows datagrams per pass (at most 3 passes), paced
// by --pps, and stops after --max-seconds whatever happens.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '0.0.0.0' },
    'source-port': { type: 'string', default: '40000' },
    host: { type: 'string', default: '198.51.100.10' },
    'port-from': { type: 'string', default: '20000' },
    flows: { type: 'string', default: '1000' },
    pps: { type: 'string', default: '50000' },
    'max-seconds': { type: 'string', default: '120' },
  },
});
const sources = values.sources.split(',').filter(Boolean);
const flows = Math.min(Number(values.flows), 1_000_000);
const portFrom = Number(values['port-from']);
const portsNeeded = Math.ceil(flows / sources.length);
if (portFrom + portsNeeded > 65_536) throw new Error(`too many flows for ${sources.length} sources: use more sources`);
const pps = Number(values.pps);
const hardStop = setTimeout(() => {
  process.stderr.write('udp-flood: stopped at --max-seconds\n');
  process.exit(2);
}, Number(values['max-seconds']) * 1000);

const sockets = await Promise.all(
  sources.map(
    (address) =>
      new Promise<dgram.Socket>((resolve, reject) => {
        const socket = dgram.createSocket('udp4');
        socket.on('error', reject);
        socket.bind(Number(values['source-port']), address, () => resolve(socket));
      }),
  ),
);
const payload = Buffer.from('x');
let sent = 0;
let errors = 0;
const t0 = Date.now();
const BATCH = 256;
for (let flow = 0; flow < flows; ) {
  const batchEnd = Math.min(flows, flow + BATCH);
  const pending: Promise<void>[] = [];
  for (; flow < batchEnd; flow++) {
    const socket = sockets[flow % sockets.length]!;
    const port = portFrom + Math.floor(flow / sockets.length);
    pending.push(
      new Promise((resolve) =>
        socket.send(payload, port, values.host, (error) => {
          if (error) errors++;
          else sent++;
          resolve();
        }),
      ),
    );
  }
  await Promise.all(pending);
  const ahead = flow / pps - (Date.now() - t0) / 1000;
  if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead * 1000));
}
for (const socket of sockets) socket.close();
clearTimeout(hardStop);
process.stdout.write(`${JSON.stringify({ sent, errors, seconds: (Date.now() - t0) / 1000 })}\n`);
