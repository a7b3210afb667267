// Packet captures of the measured flows on both sides of the NAT (the client's NIC and the internet's), kept only to
// explain a reset: one flow in about 25 rolling replacements is reset on both ends, and neither end's error says
// which side sent the first RST, or whether the server saw the flow from another NAT port than before. Headers only,
// bounded in time; read back (on the host, from the lab's own directory) only when a flow was reset.
import path from 'node:path';
import { runCommand } from '../agent/runner.js';
import type { Lab } from './lab.js';
import type { LabProcess } from './process.js';

/** Enough for the IP and TCP headers with options: the payload (sequence numbers as text) is not needed. */
const SNAPLEN = 96;
/** Per flow and side: the packets before and around the reset. */
const PACKETS_PER_FLOW = 10;

export interface ResetFlow {
  /** The client's port (what the client saw reset), or undefined when only the server saw the reset. */
  localPort?: number;
  /** The NAT IP and port the server saw the flow from, when it saw the reset. */
  serverPeer?: string;
  error: string;
  at: number;
}

export interface FlowCapture {
  /** The capture's lines for each reset flow: the client's side by its port, the server's by the peer it saw. */
  evidence(flows: ResetFlow[], startedAt: number): Promise<string[]>;
  close(): Promise<void>;
}

/** Starts a header capture of `tcp port <port>` in the client's and the internet's namespaces, for `maxSeconds`. */
export async function startFlowCapture(lab: Lab, client: string, port: number, maxSeconds: number): Promise<FlowCapture> {
  const sides = [
    { name: 'client', namespace: lab.vm(client).namespace, file: path.join(lab.dir, `capture-client-${port}.pcap`) },
    { name: 'internet', namespace: lab.internet, file: path.join(lab.dir, `capture-internet-${port}.pcap`) },
  ];
  const processes: LabProcess[] = sides.map((side) =>
    lab.spawnIn(
      side.namespace,
      // -U: each packet reaches the file as it is captured, so the file is whole when it is read during the run.
      ['timeout', String(maxSeconds), 'tcpdump', '-i', 'any', '-n', '-U', '-s', String(SNAPLEN), '-w', side.file, `tcp port ${port}`],
      `capture of tcp port ${port} (${side.name})`,
    ),
  );
  // Diagnostics only: a capture that does not start must not fail the measurement.
  await Promise.all(processes.map((capture) => capture.waitFor(/listening on/, 10_000).catch(() => undefined)));
  const read = async (file: string, filter: string): Promise<string[]> => {
    const result = await runCommand('read a capture', 'tcpdump', ['-r', file, '-n', '-tt', filter], { okExitCodes: [1, 2] }).catch(
      (error: Error) => ({ stdout: `(unreadable: ${error.message})` }),
    );
    return result.stdout.split('\n').filter((line) => line.trim() !== '');
  };
  const signed = (seconds: number) => `${seconds >= 0 ? '+' : ''}${seconds.toFixed(3)}s`;
  const relative = (line: string, startedAt: number) => line.replace(/^(\d+\.\d+)/, (stamp) => signed(Number(stamp) - startedAt / 1000));
  return {
    async evidence(flows, startedAt) {
      const lines: string[] = [];
      const [clientSide, internetSide] = sides as [(typeof sides)[0], (typeof sides)[0]];
      // Whichever port the flow had: the first RSTs on each side say who sent one first, and from which NAT port.
      for (const side of sides) {
        const resets = await read(side.file, 'tcp[tcpflags] & tcp-rst != 0');
        lines.push(`RSTs on the ${side.name} side: ${resets.length}, the first ones:`);
        lines.push(...resets.slice(0, PACKETS_PER_FLOW).map((line) => `    ${relative(line, startedAt)}`));
      }
      for (const flow of flows.slice(0, 3)) {
        const natPort = flow.serverPeer?.split(':').at(-1);
        lines.push(
          `reset flow: client port ${flow.localPort ?? '?'}, server saw ${flow.serverPeer ?? '?'}, ${flow.error} at ${signed((flow.at - startedAt) / 1000)}`,
        );
        if (flow.localPort !== undefined) {
          const seen = await read(clientSide.file, `tcp port ${flow.localPort}`);
          lines.push(`  client side, port ${flow.localPort} (${seen.length} packets), the last ones:`);
          lines.push(...seen.slice(-PACKETS_PER_FLOW).map((line) => `    ${relative(line, startedAt)}`));
        }
        for (const serverPort of new Set([natPort, flow.localPort === undefined ? undefined : String(flow.localPort)])) {
          if (serverPort === undefined) continue;
          const seen = await read(internetSide.file, `tcp port ${serverPort}`);
          lines.push(`  internet side, port ${serverPort} (${seen.length} packets), the last ones:`);
          lines.push(...seen.slice(-PACKETS_PER_FLOW).map((line) => `    ${relative(line, startedAt)}`));
        }
      }
      return lines;
    },
    async close() {
      await Promise.all(processes.map((capture) => capture.stop('SIGTERM', 2000)));
    },
  };
}
