// `natgw whois`: which VM held NAT IP:port at a given time, from the agent's port-block table or its log. A lookup, not
// a search: with per-VM port blocks a (NAT IP, port, time) names one VM (RFC 7422), no translation log needed.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../common/errors.js';
import type { PortBlockTable } from '../agent/port-block-manager.js';
import { recordsFromLog, whoHeldAll, type PortBlockRecord } from '../agent/port-blocks.js';

const USAGE = `Usage: natgw whois [NAT_IP:]PORT [--at TIME] [--dest IP:PORT] (--agent URL | --log FILE) [--json]

Names the client VM that held a port of the NAT IP at a time (default: now), from its port block, or for a port of
the overflow range (64512-65535: a VM's connections before its block was in place) from that connection's record.
The first line of output is the VM's internal IP.

Options:
  --agent URL   ask a running agent: its current and recently released blocks; it answers the NAT VM itself only
                (on the VM, or through a tunnel: gcloud compute ssh NAT_VM -- -N -L 9731:127.0.0.1:9731, then
                --agent http://127.0.0.1:9731)
  --log FILE    read the agent's JSON log (port_block_assigned / port_block_released lines); '-' for stdin
  --at TIME     an ISO 8601 time (2026-11-30T20:15:00Z) or epoch seconds; default now
  --dest IP:PORT  the connection's destination: needed when several VMs used one overflow port at that time
  --json        print { "vm", "natIp", "ports": [first, last], "since", "until" }
  -h, --help    this text
`;

export interface WhoisAnswer {
  vm: string;
  natIp: string;
  ports: [number, number];
  since: string;
  until: string | null;
  /** Only for an overflow port: the connection's destination. */
  destination?: string;
}

export function parseTarget(text: string): { natIp?: string; port: number } {
  const colon = text.lastIndexOf(':');
  const natIp = colon < 0 ? undefined : text.slice(0, colon);
  const port = Number(colon < 0 ? text : text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`PORT: ${JSON.stringify(text)} is not [NAT_IP:]PORT with PORT 1-65535`);
  if (natIp !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(natIp))
    throw new UsageError(`NAT_IP: ${JSON.stringify(natIp)} is not an IPv4 address`);
  return natIp === undefined ? { port } : { natIp, port };
}

export function parseTime(text: string | undefined, now = new Date()): Date {
  if (text === undefined) return now;
  const at = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at: ${JSON.stringify(text)} is not an ISO 8601 time or epoch seconds`);
  return at;
}

async function recordsFromAgent(url: string): Promise<PortBlockRecord[]> {
  let response: Response;
  try {
    response = await fetch(new URL('/port-blocks', url), { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`cannot reach the agent at ${url}: ${(error as Error).message}`);
  }
  if (response.status === 404)
    throw new Error(`the agent at ${url} runs without port blocks (portAllocation is "shared"): ports do not name a VM`);
  // The agent serves attribution to the NAT VM itself only: pass on its words, which say how to get there.
  if (response.status === 403) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    throw new Error(`the agent at ${url} refused /port-blocks: ${body.error ?? 'forbidden'}`);
  }
  if (!response.ok) throw new Error(`the agent at ${url} answered ${response.status} to /port-blocks`);
  const table = (await response.json()) as PortBlockTable;
  return [...table.blocks, ...table.history, ...(table.overflow ?? [])];
}

export async function runWhoisCli(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      options: {
        agent: { type: 'string' },
        log: { type: 'string' },
        at: { type: 'string' },
        dest: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one [NAT_IP:]PORT, got ${positionals.length}\n\n${USAGE}`);
  if ((values.agent === undefined) === (values.log === undefined))
    throw new UsageError(`give exactly one of --agent URL and --log FILE\n\n${USAGE}`);
  const target = parseTarget(positionals[0] ?? '');
  const at = parseTime(values.at);
  const records =
    values.agent !== undefined
      ? await recordsFromAgent(values.agent)
      : recordsFromLog(values.log === '-' ? await readStdin() : await readFile(values.log!, 'utf8'));
  if (values.dest !== undefined && !/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(values.dest))
    throw new UsageError(`--dest: ${JSON.stringify(values.dest)} is not IP:PORT (e.g. 198.51.100.10:443)`);
  const candidates = whoHeldAll(records, { ...target, at, ...(values.dest === undefined ? {} : { destination: values.dest }) });
  const where = target.natIp === undefined ? `port ${target.port}` : `${target.natIp}:${target.port}`;
  const held = candidates[0];
  if (held === undefined) {
    process.stderr.write(`natgw whois: no VM held ${where} at ${at.toISOString()} (per ${values.agent ?? values.log})\n`);
    return 1;
  }
  const vms = [...new Set(candidates.map((candidate) => candidate.vm))];
  if (vms.length > 1) {
    const uses = candidates.map((candidate) => `${candidate.vm} to ${candidate.destination ?? '?'}`).join(', ');
    process.stderr.write(
      `natgw whois: ${where} is an overflow port that ${vms.length} VMs used at ${at.toISOString()} (${uses}): give --dest IP:PORT\n`,
    );
    return 1;
  }
  const answer: WhoisAnswer = {
    vm: held.vm,
    natIp: held.natIp,
    ports: [held.first, held.last],
    since: held.since,
    until: held.until ?? null,
    ...(held.destination === undefined ? {} : { destination: held.destination }),
  };
  process.stdout.write(
    values.json
      ? `${JSON.stringify(answer)}\n`
      : `${answer.vm}\nNAT IP ${answer.natIp}, ports ${held.first}-${held.last}, held since ${answer.since}${held.until === undefined ? '' : ` until ${held.until}`}${held.destination === undefined ? '' : ` (overflow port, one connection to ${held.destination})`}\n`,
  );
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
