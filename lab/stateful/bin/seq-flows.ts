// N long-lived TCP flows to the echo server, each sending the next sequence number every --every-ms and checking that
// the echo comes back in order. Commands on stdin: `mark` (the failure happens now), `report` (print the result, exit).
// Prints `ready` once every flow has had an echo, then a status line every 250 ms. Bounded by --max-seconds.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '198.51.100.10' },
    port: { type: 'string', default: '7100' },
    flows: { type: 'string', default: '50' },
    'every-ms': { type: 'string', default: '100' },
    'max-seconds': { type: 'string', default: '120' },
    /** Flow N binds this port + N: a test that computed where a 5-tuple is load-balanced places its flows there. */
    'local-port': { type: 'string' },
  },
});
const flowCount = Math.min(Math.max(1, Number(values.flows)), 2000);
const everyMs = Math.max(10, Number(values['every-ms']));

interface FlowResult {
  id: number;
  localPort: number;
  replies: number;
  /** Longest time between two echoes, including the wait for the first one after `mark`. */
  maxGapMs: number;
  lastReplyAt: number;
  repliedAfterMark: boolean;
  /** ECONNRESET and the like, 'closed' when the peer ended the flow, 'out-of-order' when an echo was not the next number. */
  error?: string;
}

let markAt: number | undefined;
const flows: FlowResult[] = [];
const sockets: net.Socket[] = [];
let ready = false;

/** Opening attempts per flow: the measurement is about established flows, so a connection that never got its first
 * echo before the failure is opened again (and said so on stdout) instead of counting as lost. */
const MAX_OPEN_ATTEMPTS = 3;

function open(id: number, attempt = 1): void {
  const flow: FlowResult = { id, localPort: 0, replies: 0, maxGapMs: 0, lastReplyAt: 0, repliedAfterMark: false };
  flows[id] = flow;
  let sent = 0;
  let expected = 0;
  let pending = '';
  const localPort = values['local-port'] === undefined ? undefined : Number(values['local-port']) + id;
  const socket = net.connect({ host: values.host, port: Number(values.port), ...(localPort === undefined ? {} : { localPort }) });
  sockets.push(socket);
  socket.setNoDelay(true);
  const fail = (reason: string) => {
    if (flow.replies === 0 && markAt === undefined && attempt < MAX_OPEN_ATTEMPTS && flow.error === undefined) {
      flow.error = reason;
      clearInterval(timer);
      socket.destroy();
      process.stdout.write(`${JSON.stringify({ retry: id, attempt, error: reason, at: Date.now() })}\n`);
      setTimeout(() => open(id, attempt + 1), 200);
      return;
    }
    if (flow.error === undefined)
      process.stdout.write(`${JSON.stringify({ failed: id, error: reason, replies: flow.replies, at: Date.now() })}\n`);
    flow.error ??= reason;
    clearInterval(timer);
  };
  const timer = setInterval(() => {
    if (socket.writable && flow.error === undefined) socket.write(`${sent++}\n`);
  }, everyMs);
  socket.on('connect', () => {
    flow.localPort = socket.localPort ?? 0;
    flow.lastReplyAt = Date.now();
  });
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (Number(line) !== expected++) fail('out-of-order');
      const now = Date.now();
      flow.maxGapMs = Math.max(flow.maxGapMs, now - flow.lastReplyAt);
      flow.lastReplyAt = now;
      flow.replies++;
      if (markAt !== undefined && now > markAt) flow.repliedAfterMark = true;
    }
  });
  socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
  socket.on('close', () => fail('closed'));
}

for (let id = 0; id < flowCount; id++) open(id);

const status = setInterval(() => {
  const failed = flows.filter((flow) => flow.error !== undefined).length;
  if (!ready && flows.every((flow) => flow.replies > 0)) {
    ready = true;
    process.stdout.write('ready\n');
  }
  const resumed = flows.filter((flow) => flow.repliedAfterMark && flow.error === undefined).length;
  process.stdout.write(`${JSON.stringify({ status: true, at: Date.now(), failed, resumed })}\n`);
}, 250);

function report(): void {
  clearInterval(status);
  const now = Date.now();
  // A flow still waiting for its echo has a gap that is still growing.
  for (const flow of flows) flow.maxGapMs = Math.max(flow.maxGapMs, now - flow.lastReplyAt);
  process.stdout.write(`${JSON.stringify({ report: flows })}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'mark') markAt = Date.now();
  if (line.trim() === 'report') report();
});
setTimeout(report, Math.min(Number(values['max-seconds']), 600) * 1000).unref();
