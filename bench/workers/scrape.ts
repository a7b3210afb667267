// Scrapes a URL sequentially, as Prometheus does (keep-alive), and prints latency percentiles as one JSON line.
// Bounded by --count and --max-seconds.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { AGENT_PORT } from '../../common/protocol.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: `http://127.0.0.1:${AGENT_PORT}/metrics` },
    count: { type: 'string', default: '300' },
    'interval-ms': { type: 'string', default: '0' },
    'max-seconds': { type: 'string', default: '120' },
  },
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const count = Number(values.count);
const deadline = Date.now() + Number(values['max-seconds']) * 1000;
const latencies: number[] = [];
let bytes = 0;
let errors = 0;

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: 10_000 }, (response) => {
      let size = 0;
      response.on('data', (chunk: Buffer) => (size += chunk.length));
      response.on('end', () => ((response.statusCode ?? 0) === 200 ? resolve(size) : reject(new Error(`HTTP ${response.statusCode}`))));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

for (let i = 0; i < count && Date.now() < deadline; i++) {
  const start = process.hrtime.bigint();
  try {
    bytes = await get(values.url);
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  } catch {
    errors++;
  }
  if (Number(values['interval-ms']) > 0) await new Promise((resolve) => setTimeout(resolve, Number(values['interval-ms'])));
}
agent.destroy();
const sorted = [...latencies].sort((a, b) => a - b);
const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ count: sorted.length, errors, bytes, p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), max: sorted.at(-1) ?? NaN })}\n`,
);
