// The lab's "internet": answers on a documentation address with what it saw, so tests can tell which source address a
// packet arrived from after all the NAT on the way.
import dgram from 'node:dgram';
import http from 'node:http';
import { parseArgs } from 'node:util';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', default: '198.51.100.10' },
      'http-port': { type: 'string', default: '80' },
      'udp-port': { type: 'string', default: '7007' },
    },
  });
  const address = values.address;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://lab');
    if (url.pathname === '/whoami') {
      response.end(`${request.socket.remoteAddress}\n`);
      return;
    }
    if (url.pathname === '/hold') {
      // Keeps a connection open for a while without data: bounded at 60 s.
      setTimeout(() => response.end('held\n'), Math.min(Number(url.searchParams.get('ms') ?? '1000'), 60_000));
      return;
    }
    if (url.pathname === '/upload' && request.method === 'POST') {
      let received = 0;
      request.on('data', (chunk: Buffer) => (received += chunk.length));
      request.on('end', () => response.end(`${received}\n`));
      return;
    }
    if (url.pathname === '/bytes') {
      // A bounded body: the server never sends more than asked. `rate` (bytes/s) paces it here, a tenth every 100 ms;
      // without it the client paces it (curl --limit-rate).
      let remaining = Math.min(Number(url.searchParams.get('n') ?? '0'), 1024 ** 3);
      const rate = Number(url.searchParams.get('rate') ?? '0');
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(remaining) });
      if (rate >= 1000) {
        const piece = Buffer.alloc(Math.ceil(rate / 10), 0x61);
        const timer = setInterval(() => {
          const size = Math.min(piece.length, remaining);
          remaining -= size;
          response.write(piece.subarray(0, size));
          if (remaining <= 0) {
            clearInterval(timer);
            response.end();
          }
        }, 100);
        response.on('close', () => clearInterval(timer));
        return;
      }
      const pump = () => {
        while (remaining > 0) {
          const piece = CHUNK.subarray(0, Math.min(CHUNK.length, remaining));
          remaining -= piece.length;
          if (!response.write(piece)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      pump();
      return;
    }
    response.statusCode = 404;
    response.end('not found\n');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(Number(values['http-port']), address, resolve));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (_message, peer) => udp.send(`${peer.address}\n`, peer.port, peer.address));
  await new Promise<void>((resolve) => udp.bind(Number(values['udp-port']), address, resolve));
  process.stdout.write('ready\n');
  const stop = () => {
    udp.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`internet-server: ${String(error)}\n`);
  process.exit(1);
});
