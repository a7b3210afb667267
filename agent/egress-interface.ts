// What the agent asks `ip` about the egress interface, in one place: its MTU (the MSS clamp) and its IPv4 address (what
// port blocks translate to). One command answers both.
import type { CommandRunner } from './runner.js';

export interface InterfaceFacts {
  mtu?: number;
  address?: string;
}

/** `ip -j -4 addr show dev <name>`; a field the answer lacks is absent. Throws what the command threw. */
export async function readInterface(run: CommandRunner, purpose: string, name: string): Promise<InterfaceFacts> {
  const { stdout } = await run(purpose, 'ip', ['-j', '-4', 'addr', 'show', 'dev', name]);
  const link = (JSON.parse(stdout || '[]') as { mtu?: unknown; addr_info?: { local?: unknown }[] }[])[0];
  const address = link?.addr_info?.[0]?.local;
  return {
    ...(typeof link?.mtu === 'number' ? { mtu: link.mtu } : {}),
    ...(typeof address === 'string' ? { address } : {}),
  };
}
