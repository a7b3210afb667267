// Many concurrent UDP flows from one lab VM to one destination ip:port, each from its own socket (its own source port).
import { INTERNET } from '../../lab/lab.js';
import type { NatLab } from './nat-lab.js';

/**
 * Each flow re-sends every 300 ms until answered (a client's first packet is refused until its port block exists), or
 * until the bounded time is up. One-shot, it prints how many flows were answered once all were or time is up. Held
 * (`hold`), a flow goes on sending once a second after its answer, so its conntrack entry (and NAT port) lives as long
 * as the flows run however late the agent samples the table; it prints `answered N` as the count grows and ends at
 * the bound or on SIGTERM.
 */
const UDP_FLOWS = `
const dgram = require('node:dgram');
const [host, port, count, ms, mode] = process.argv.slice(1);
const hold = mode === 'hold';
let answered = 0;
let printed = -1;
const sockets = [];
const stopAt = Date.now() + Number(ms);
for (let i = 0; i < Number(count); i++) {
  const socket = dgram.createSocket('udp4');
  let done = false;
  socket.on('message', () => { if (!done) { done = true; answered++; } });
  socket.bind(0, () => {
    const send = () => { if ((hold || !done) && Date.now() < stopAt) { socket.send('who am i', Number(port), host); setTimeout(send, done ? 1000 : 300); } };
    send();
  });
  sockets.push(socket);
}
const report = () => { if (answered !== printed) { printed = answered; process.stdout.write('answered ' + answered + '\\n'); } };
const close = () => { for (const socket of sockets) socket.close(); };
if (hold) {
  const finish = () => { report(); close(); process.exit(0); };
  setInterval(() => (Date.now() >= stopAt ? finish() : report()), 200);
  process.on('SIGTERM', finish);
} else {
  const check = setInterval(() => { if (answered === Number(count) || Date.now() >= stopAt) { clearInterval(check); close(); process.stdout.write(String(answered)); } }, 100);
}
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
    ['node', '-e', UDP_FLOWS, INTERNET.server, String(INTERNET.udpPort), String(count), String(ms), 'hold'],
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
