// Opens one new HTTP connection every --every-ms to the lab internet's /whoami and prints one JSON line per attempt
// (time, whether it worked, which address the internet saw). Bounded by --seconds.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '198.51.100.10' },
    'every-ms': { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '1000' },
  },
});
const everyMs = Math.max(10, Number(values['every-ms']));
const deadline = Date.now() + Math.min(Number(values.seconds), 300) * 1000;
const timeoutMs = Number(values['timeout-ms']);

function attempt(): void {
  const at = Date.now();
  const request = http.get({ host: values.host, port: 80, path: '/whoami', timeout: timeoutMs, agent: false }, (response) => {
    let body = '';
    response.on('data', (chunk: Buffer) => (body += chunk.toString()));
    response.on('end', () => process.stdout.write(`${JSON.stringify({ at, ok: response.statusCode === 200, seenAs: body.trim() })}\n`));
  });
  request.on('timeout', () => request.destroy(new Error('timeout')));
  request.on('error', (error) => process.stdout.write(`${JSON.stringify({ at, ok: false, error: error.message })}\n`));
}

const timer = setInterval(() => {
  if (Date.now() > deadline) {
    clearInterval(timer);
    setTimeout(() => process.exit(0), timeoutMs + 100);
    return;
  }
  attempt();
}, everyMs);
