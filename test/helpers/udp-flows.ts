// Many concurrent UDP flows from one lab VM to one destination ip:port, each from its own socket (its own source port).
import { INTERNET } from '../../lab/lab.js';
import type { NatLab } from './nat-lab.js';

/**
 * Each flow re-sends every 300 ms until answered (a client's first packet is refused until its port block exists), or
 * until the bounded time is up; prints how many flows were answered.
 */
const UDP_FLOWS = `
const dgram = require('node:dgram');
const [host, port, count, ms] = process.argv.slice(1);
let answered = 0;
const sockets = [];
const stopAt = Date.now() + Number(ms);
for (let i = 0; i < Number(count); i++) {
  const socket = dgram.createSocket('udp4');
  let done = false;
  socket.on('message', () => { if (!done) { done = true; answered++; } });
  socket.bind(0, () => {
    const send = () => { if (!done && Date.now() < stopAt) { socket.send('who am i', Number(port), host); setTimeout(send, 300); } };
    send();
  });
  sockets.push(socket);
}
const finish = () => { for (const socket of sockets) socket.close(); process.stdout.write(String(answered)); };
const check = setInterval(() => { if (answered === Number(count) || Date.now() >= stopAt) { clearInterval(check); finish(); } }, 100);
`;

/** Opens `count` UDP flows at once from `vm` to the lab's internet server; resolves with how many were answered. */
export async function udpFlows(natLab: NatLab, vm: string, count: number, ms = 4000): Promise<number> {
  const { stdout } = await natLab.lab.exec(
    vm,
    ['node', '-e', UDP_FLOWS, INTERNET.server, String(INTERNET.udpPort), String(count), String(ms)],
    {
      timeoutMs: ms + 15_000,
    },
  );
  return Number(stdout.trim());
}

/**
 * Flows that stay: each re-sends every 300 ms until answered and once a second after, so its conntrack entry (and its
 * NAT port) lives as long as the flows run, however late the agent samples the table. Prints `answered N` as the count
 * grows; ends at `ms` or on SIGTERM.
 */
const HELD_UDP_FLOWS = `
const dgram = require('node:dgram');
const [host, port, count, ms] = process.argv.slice(1);
let answered = 0;
let printed = -1;
const sockets = [];
const stopAt = Date.now() + Number(ms);
for (let i = 0; i < Number(count); i++) {
  const socket = dgram.createSocket('udp4');
  let done = false;
  socket.on('message', () => { if (!done) { done = true; answered++; } });
  socket.bind(0, () => {
    const send = () => { if (Date.now() < stopAt) { socket.send('who am i', Number(port), host); setTimeout(send, done ? 1000 : 300); } };
    send();
  });
  sockets.push(socket);
}
const report = () => { if (answered !== printed) { printed = answered; process.stdout.write('answered ' + answered + '\\n'); } };
const finish = () => { report(); for (const socket of sockets) socket.close(); process.exit(0); };
setInterval(() => (Date.now() >= stopAt ? finish() : report()), 200);
process.on('SIGTERM', finish);
`;

export interface HeldUdpFlows {
  /** The flows answered so far (the last count the process printed). */
  answered(): number;
  /** Stops the flows; resolves with how many were answered. */
  stop(): Promise<number>;
}

/** Opens `count` UDP flows at once from `vm` to the lab's internet server and keeps them all sending until stopped. */
export function holdUdpFlows(natLab: NatLab, vm: string, count: number, ms: number): HeldUdpFlows {
  const flows = natLab.lab.spawn(
    vm,
    ['node', '-e', HELD_UDP_FLOWS, INTERNET.server, String(INTERNET.udpPort), String(count), String(ms)],
    'held UDP flows',
  );
  const answered = () => Number(/answered (\d+)\n(?![\s\S]*answered)/.exec(flows.text)?.[1] ?? 0);
  return {
    answered,
    async stop() {
      await flows.stop('SIGTERM');
      return answered();
    },
  };
}
