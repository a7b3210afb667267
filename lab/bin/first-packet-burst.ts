// New clients' first packets, none re-sent: per source address, at once, N UDP sockets each sending one datagram (5 ms
// apart) and waiting for its answer, then M TCP connections one after another (an HTTP request each). Bounded in time
// (20 s); prints per address how many flows were answered as one JSON line. The client closes each connection first,
// so TIME_WAIT stays on its side: a second burst reuses NAT ports of the first, and a server still in TIME_WAIT for
// that 4-tuple would answer a SYN with an ACK and cost a retransmission that has nothing to do with the NAT.
// Usage: first-packet-burst HOST UDP_PORT HTTP_PORT FLOWS CONNECTIONS SOURCE...
import dgram from 'node:dgram';
import net from 'node:net';

const [host = '', udpPort = '', httpPort = '', flows = '', connections = '', ...sources] = process.argv.slice(2);
const deadline = Date.now() + 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const udpFlow = (address: string) =>
  new Promise<boolean>((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(
      () => {
        socket.close();
        resolve(false);
      },
      Math.max(1, deadline - Date.now()),
    );
    socket.on('message', () => {
      clearTimeout(timer);
      socket.close();
      resolve(true);
    });
    socket.bind(0, address, () => socket.send('who am i', Number(udpPort), host));
  });

const tcpConnect = (address: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port: Number(httpPort), localAddress: address, timeout: 10_000 });
    let answer = '';
    socket.on('connect', () => socket.write('GET /whoami HTTP/1.1\r\nHost: lab\r\n\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk;
      if (/\r\n\r\n[0-9.]+\n$/.test(answer)) socket.end();
    });
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', () => resolve(false));
    socket.on('close', (hadError) => {
      if (!hadError) resolve(/^HTTP\/1\.[01] 200/.test(answer));
    });
  });

const results = await Promise.all(
  sources.map(async (address) => {
    const udp: Promise<boolean>[] = [];
    for (let i = 0; i < Number(flows); i++) {
      udp.push(udpFlow(address));
      await sleep(5);
    }
    let tcp = 0;
    for (let i = 0; i < Number(connections); i++) if (await tcpConnect(address)) tcp++;
    return { address, udp: (await Promise.all(udp)).filter(Boolean).length, tcp };
  }),
);
process.stdout.write(JSON.stringify(results));
