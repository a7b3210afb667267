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
