// Packet captures of the measured flows, kept only to explain a reset (a rolling replacement's rare reset was traced
// with them): neither end's error says who sent the first RST or what it answered. The client's NIC, the internet's,
// the VPC's bridge (its MACs name the NAT VM a frame went to or came from; there only the server's segments and RSTs,
// the rest would be most of the traffic again), and RSTs inside each NAT VM there at the start.
// Headers only, bounded in time; read back (on the host, from the lab's own directory) only when a flow was reset.
// startCaptures/readCapture are every lab capture's start and read: the fallback's Cloud NAT capture uses them too.
import path from 'node:path';
import { runCommand } from '../agent/runner.js';
import type { Lab } from './lab.js';
import type { LabProcess } from './process.js';

/** Enough for the IP and TCP headers with options: the payload (sequence numbers as text) is not needed. */
const SNAPLEN = 96;
/** Per flow and place: the packets just before its first RST, and a few after. */
const PACKETS_BEFORE_RESET = 8;
const PACKETS_AFTER_RESET = 3;
const FLOWS_EXPLAINED = 2;

export interface ResetFlow {
  /** The client's port (what the client saw reset), or undefined when only the server saw the reset. */
  localPort?: number;
  /** The NAT IP and port the server saw the flow from, when it saw the reset. */
  serverPeer?: string;
  error: string;
  /** When that end saw it; undefined when its line is missing. */
  at?: number;
}

export interface FlowCapture {
  /** Each reset flow's packets around its first RST, in each place, and the first RSTs of the run. */
  evidence(flows: ResetFlow[], startedAt: number): Promise<string[]>;
  close(): Promise<void>;
}

/** One tcpdump: headers of what matches `filter` on `device` (default: every device) of a lab namespace, into `file`. */
export interface CaptureSpec {
  name: string;
  namespace: string;
  file: string;
  filter: string;
  device?: string;
  /** -p: the bridge sends and receives what the fabric routes; promiscuous, it would copy every bridged frame up too. */
  notPromiscuous?: boolean;
}

/** Starts the captures for at most `maxSeconds` and waits until each one listens. */
export async function startCaptures(lab: Lab, specs: readonly CaptureSpec[], maxSeconds: number, purpose: string): Promise<LabProcess[]> {
  const processes = specs.map((spec) =>
    lab.spawnIn(
      spec.namespace,
      // -U: each packet reaches the file as it is captured, so the file is whole when it is read during the run.
      [
        'timeout',
        String(maxSeconds),
        'tcpdump',
        '-i',
        spec.device ?? 'any',
        ...(spec.notPromiscuous === true ? ['-p'] : []),
        '-n',
        '-U',
        '-s',
        String(SNAPLEN),
        '-w',
        spec.file,
        spec.filter,
      ],
      `capture of ${purpose} (${spec.name})`,
    ),
  );
  // Diagnostics only: a capture that does not start must not fail the measurement.
  await Promise.all(processes.map((capture) => capture.waitFor(/listening on/, 10_000).catch(() => undefined)));
  return processes;
}

/**
 * A capture's packets that match `filter`, a line each with its time in seconds first (`tcpdump -r -n -tt`, with the
 * link header when `link`). Read on the host from the lab's own directory; an unreadable file is one line saying so.
 */
export async function readCapture(file: string, filter = '', link = false): Promise<string[]> {
  const result = await runCommand(
    'read a capture',
    'tcpdump',
    ['-r', file, '-n', '-tt', ...(link ? ['-e'] : []), ...(filter === '' ? [] : [filter])],
    {
      okExitCodes: [1, 2],
    },
  ).catch((error: Error) => ({ stdout: `(capture unreadable: ${error.message})` }));
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** Starts the captures of `tcp port <port>` for `maxSeconds`. */
export async function startFlowCapture(
  lab: Lab,
  client: string,
  port: number,
  maxSeconds: number,
  natVms: readonly { name: string; namespace: string }[] = [],
): Promise<FlowCapture> {
  const file = (name: string) => path.join(lab.dir, `capture-${name}-${port}.pcap`);
  const places: CaptureSpec[] = [
    { name: 'client', namespace: lab.vm(client).namespace, file: file('client'), filter: `tcp port ${port}` },
    { name: 'internet', namespace: lab.internet, file: file('internet'), filter: `tcp port ${port}` },
    {
      name: 'fabric',
      namespace: lab.fabric,
      file: file('fabric'),
      filter: `tcp port ${port} and (tcp src port ${port} or tcp[tcpflags] & tcp-rst != 0)`,
      // The VPC's bridge, with link headers: a lab VM's MAC is 42:01 and its IP (gceMac), so each frame names the NAT
      // VM it went to or came from. (-i any names most frames by a device of another namespace, or not at all.)
      device: 'vpc0',
      notPromiscuous: true,
    },
    // Inside each NAT VM there at the start, RSTs only: whether one entered the VM (and from which MAC) or left it first.
    ...natVms.map((vm) => ({
      name: vm.name,
      namespace: vm.namespace,
      file: file(vm.name),
      filter: `tcp port ${port} and tcp[tcpflags] & tcp-rst != 0`,
      device: 'any',
    })),
  ];
  const processes = await startCaptures(lab, places, maxSeconds, `tcp port ${port}`);
  const read = (place: CaptureSpec, filter: string) => readCapture(place.file, filter, place.device !== undefined);
  const signed = (seconds: number) => `${seconds >= 0 ? '+' : ''}${seconds.toFixed(3)}s`;
  const relative = (line: string, startedAt: number) =>
    line
      .replace(/^(\d+\.\d+)/, (stamp) => signed(Number(stamp) - startedAt / 1000))
      .replace(/,? ethertype IPv4 \(0x0800\), length \d+:/, ':')
      .replace(/options \[[^\]]*\], /, '');
  const isReset = (line: string) => /Flags \[R/.test(line);
  /** The packets before the first RST and a few after (the last ones when there is no RST in this place). */
  const aroundFirstReset = (lines: string[]) => {
    const first = lines.findIndex(isReset);
    if (first === -1) return lines.slice(-PACKETS_BEFORE_RESET);
    return lines.slice(Math.max(0, first - PACKETS_BEFORE_RESET), first + 1 + PACKETS_AFTER_RESET);
  };
  return {
    async evidence(flows, startedAt) {
      const ports = [...lab.fabricPortsEver.entries()].map(([fabricPort, vm]) => `${fabricPort} ${vm}`);
      const lines: string[] = [];
      const show = (title: string, packets: string[]) => {
        lines.push(title, ...packets.map((line) => `    ${relative(line, startedAt)}`));
      };
      for (const flow of flows.slice(0, FLOWS_EXPLAINED)) {
        const natPort = flow.serverPeer?.split(':').at(-1);
        lines.push(
          `reset flow: client port ${flow.localPort ?? '?'}, server saw ${flow.serverPeer ?? '?'}, ${flow.error} at ${flow.at === undefined ? '?' : signed((flow.at - startedAt) / 1000)}`,
        );
        const [client, ...rest] = places as [CaptureSpec, CaptureSpec, CaptureSpec];
        const beyond = rest.slice(0, 2);
        if (flow.localPort !== undefined) {
          const seen = await read(client, `tcp port ${flow.localPort}`);
          show(`  ${client.name}, port ${flow.localPort} (${seen.length} packets):`, aroundFirstReset(seen));
        }
        // The NAT side by the port the server saw; by the client's port too, which the NAT keeps when it can.
        for (const serverPort of new Set([natPort, flow.localPort === undefined ? undefined : String(flow.localPort)])) {
          if (serverPort === undefined) continue;
          for (const place of beyond) {
            const seen = await read(place, `tcp port ${serverPort}`);
            if (seen.length > 0) show(`  ${place.name}, port ${serverPort} (${seen.length} packets):`, aroundFirstReset(seen));
          }
        }
      }
      // Last, where the summary at the end of CI's log (its last 40 comments) keeps them: who sent the first RST, where.
      for (const place of places) {
        const resets = await read(place, 'tcp[tcpflags] & tcp-rst != 0');
        show(`${place.name}: ${resets.filter(isReset).length} RSTs, the first ones:`, resets.slice(0, 3));
      }
      lines.push(
        `times from ${new Date(startedAt).toISOString()} (the agents' logs are in UTC too); lab VMs by fabric port: ${ports.join(', ')}`,
      );
      return lines;
    },
    async close() {
      await Promise.all(processes.map((capture) => capture.stop('SIGTERM', 2000)));
    },
  };
}
