// One bounded round of a TCP and UDP port scan of one address, every port at once, as an internet host would run it:
// TCP open = the handshake completed, closed = a reset came back, filtered = nothing within the timeout; UDP open = an
// answer came back, closed = ICMP port unreachable, filtered = nothing. Prints one JSON object.
// Usage: port-scan.js '{"target":"203.0.113.10","tcp":[22,9731],"udp":[3780],"timeoutMs":1500}'
import dgram from 'node:dgram';
import net from 'node:net';

export type PortState = 'open' | 'closed' | 'filtered';
export interface ScanRound {
  target: string;
  tcp: Record<string, PortState>;
  udp: Record<string, PortState>;
}

// A DNS query for the root's NS records: a UDP service that answers anything answers this; others at least see a
// well-formed datagram rather than noise.
const UDP_PROBE = Buffer.from('12340100000100000000000000000200 01'.replace(/ /g, ''), 'hex');

function tcpState(target: string, port: number, timeoutMs: number): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target, port });
    const done = (state: PortState) => {
      socket.destroy();
      resolve(state);
    };
    socket.setTimeout(timeoutMs, () => done('filtered'));
    socket.once('connect', () => done('open'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'closed' : 'filtered'));
  });
}

function udpState(target: string, port: number, timeoutMs: number): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    let settled = false;
    const done = (state: PortState) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(state);
    };
    const timer = setTimeout(() => done('filtered'), timeoutMs);
    socket.once('message', () => done('open'));
    // A connected UDP socket reports the ICMP port unreachable its datagram drew as ECONNREFUSED.
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'closed' : 'filtered'));
    socket.connect(port, target, () => socket.send(UDP_PROBE));
  });
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as { target: string; tcp?: number[]; udp?: number[]; timeoutMs?: number };
  const timeoutMs = request.timeoutMs ?? 1500;
  const scan = async (ports: number[] | undefined, probe: typeof tcpState) =>
    Object.fromEntries(await Promise.all((ports ?? []).map(async (port) => [String(port), await probe(request.target, port, timeoutMs)])));
  const [tcp, udp] = await Promise.all([scan(request.tcp, tcpState), scan(request.udp, udpState)]);
  const round: ScanRound = { target: request.target, tcp, udp };
  process.stdout.write(`${JSON.stringify(round)}\n`);
}

await main();
