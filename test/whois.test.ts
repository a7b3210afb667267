// `natgw whois` over the agent's log: (NAT IP, port, time) names one VM, and no VM is an error, not a guess.
import { createServer } from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { recordsFromLog, whoHeld } from '../agent/port-blocks.js';
import { parseTarget, parseTime, runWhoisCli } from '../whois/cli.js';
import { UsageError } from '../common/errors.js';

const LOG = path.join(import.meta.dirname, 'fixtures', 'port-blocks.jsonl');

t.test('the log becomes held intervals; a port at a time names its VM', async (t) => {
  const records = recordsFromLog(readFileSync(LOG, 'utf8'));
  t.equal(records.length, 3, 'other lines and broken lines are skipped');
  const who = (port: number, at: string, natIp?: string) =>
    whoHeld(records, { port, at: new Date(at), ...(natIp === undefined ? {} : { natIp }) })?.vm;
  t.equal(who(1030, '2026-11-30T12:05:00Z'), '10.10.0.11');
  t.equal(who(1100, '2026-11-30T12:05:00Z'), '10.10.0.12');
  t.equal(who(1030, '2026-11-30T12:15:00Z'), undefined, 'released at 12:10, nobody until 12:20');
  t.equal(who(1030, '2026-11-30T12:25:00Z'), '10.10.0.13', 'the same ports, a later holder');
  t.equal(who(1030, '2026-11-30T11:59:00Z'), undefined, 'before any assignment');
  t.equal(who(1030, '2026-11-30T12:05:00Z', '203.0.113.10'), '10.10.0.11', 'by the external IP');
  t.equal(who(1030, '2026-11-30T12:05:00Z', '10.10.0.2'), '10.10.0.11', 'or by the NAT VM address');
  t.equal(who(1030, '2026-11-30T12:05:00Z', '203.0.113.99'), undefined, 'another NAT IP held nothing');
});

t.test("a line's own `at` is the event's time; the logger's `time` is only when it was written", async (t) => {
  const line = (event: string, at: string, time: string) =>
    JSON.stringify({
      time,
      event,
      vm: '10.10.0.11',
      nat_ip: '203.0.113.10',
      nat_address: '10.10.0.2',
      first_port: 1024,
      last_port: 1087,
      at,
    });
  // A restarted agent logs its blocks again at 13:00; they were assigned at 12:00 and released at 12:30.
  const records = recordsFromLog(
    [
      line('port_block_assigned', '2026-11-30T12:00:00.000Z', '2026-11-30T13:00:00.000Z'),
      line('port_block_released', '2026-11-30T12:30:00.000Z', '2026-11-30T13:00:01.000Z'),
    ].join('\n'),
  );
  t.match(records, [{ vm: '10.10.0.11', since: '2026-11-30T12:00:00.000Z', until: '2026-11-30T12:30:00.000Z' }]);
});

t.test('arguments: [NAT_IP:]PORT and --at', async (t) => {
  t.same(parseTarget('1030'), { port: 1030 });
  t.same(parseTarget('203.0.113.10:1030'), { natIp: '203.0.113.10', port: 1030 });
  t.throws(() => parseTarget('70000'), UsageError);
  t.throws(() => parseTarget('nat:10'), /NAT_IP/);
  t.equal(parseTime('1796040000').toISOString(), '2026-11-30T12:00:00.000Z');
  t.equal(parseTime('2026-11-30T12:00:00Z').toISOString(), '2026-11-30T12:00:00.000Z');
  t.throws(() => parseTime('yesterday'), /--at/);
});

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await runWhoisCli(argv), stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

t.test('the command: the VM on the first line, --json, and exit 1 when nobody held the port', async (t) => {
  const plain = await cli(['1100', '--at', '2026-11-30T12:05:00Z', '--log', LOG]);
  t.equal(plain.code, 0);
  t.equal(plain.stdout.split('\n')[0], '10.10.0.12');
  const json = await cli(['203.0.113.10:1030', '--at', '2026-11-30T12:05:00Z', '--log', LOG, '--json']);
  t.same(JSON.parse(json.stdout), {
    vm: '10.10.0.11',
    natIp: '203.0.113.10',
    ports: [1024, 1087],
    since: '2026-11-30T12:00:01.000Z',
    until: '2026-11-30T12:10:00.000Z',
  });
  const nobody = await cli(['1030', '--at', '2026-11-30T12:15:00Z', '--log', LOG]);
  t.equal(nobody.code, 1);
  t.equal(nobody.stdout, '');
  t.match(nobody.stderr, /no VM held port 1030 at 2026-11-30T12:15:00.000Z/);
  await t.rejects(cli(['1030']), /give exactly one of --agent URL and --log FILE/);
  await t.rejects(cli(['1030', '--agent', 'http://x', '--log', LOG]), UsageError);
});

t.test('--agent from another host: the agent refuses /port-blocks, and whois passes on how to ask it', async (t) => {
  const server = createServer((_request, response) => {
    response
      .writeHead(403, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: '/port-blocks is served to the NAT VM itself only: curl http://127.0.0.1:9731/port-blocks there' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await t.rejects(cli(['1030', '--agent', url]), /refused \/port-blocks: \/port-blocks is served to the NAT VM itself only/);
});
