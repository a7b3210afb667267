// Sends one UDP datagram and prints the answer; exits 1 when none comes (bounded: one try, one timeout).
import dgram from 'node:dgram';

const [host = '198.51.100.10', port = '7007', timeoutMs = '2000', sourcePort] = process.argv.slice(2);
const socket = dgram.createSocket('udp4');
const timer = setTimeout(() => {
  process.stderr.write(`no UDP answer from ${host}:${port} within ${timeoutMs} ms\n`);
  socket.close();
  process.exitCode = 1;
}, Number(timeoutMs));
socket.on('message', (message) => {
  clearTimeout(timer);
  process.stdout.write(message.toString());
  socket.close();
});
socket.bind(sourcePort === undefined ? 0 : Number(sourcePort), () => socket.send('who am i', Number(port), host));
