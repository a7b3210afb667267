// What an agent of the iptables data plane (before nftables) left behind: NATGW-* chains with jumps from the built-in
// chains, and the ipsets natgw-src / natgw-src-next. Found and removed only after our nft table is in place, so the
// old rules and the new table overlap for a moment and no packet goes out untranslated.
import { CommandError, type CommandRunner } from './runner.js';

const LEGACY_CHAIN_PREFIX = 'NATGW-';
export const LEGACY_SETS = ['natgw-src', 'natgw-src-next'] as const;
const TABLES = ['mangle', 'filter', 'nat'] as const;
type IptablesTable = (typeof TABLES)[number];

export interface LegacyRuleset {
  jumps: { table: IptablesTable; chain: string; target: string }[];
  chains: { table: IptablesTable; chain: string }[];
  sets: string[];
}

export const isEmptyLegacy = (legacy: LegacyRuleset) => legacy.jumps.length + legacy.chains.length + legacy.sets.length === 0;

/** Parses `iptables-save` into our chains and the jumps into them from anyone else's chain. */
export function parseLegacyIptables(saved: string): Pick<LegacyRuleset, 'jumps' | 'chains'> {
  const found: Pick<LegacyRuleset, 'jumps' | 'chains'> = { jumps: [], chains: [] };
  let table: IptablesTable | undefined;
  for (const rawLine of saved.split('\n')) {
    const line = rawLine.replace(/^\[\d+:\d+\] /, '');
    if (line.startsWith('*')) table = TABLES.find((name) => name === line.slice(1));
    else if (table === undefined) continue;
    else if (line.startsWith(`:${LEGACY_CHAIN_PREFIX}`)) found.chains.push({ table, chain: line.slice(1).split(' ')[0] ?? '' });
    else {
      const jump = /^-A (\S+) -j (NATGW-\S+)$/.exec(line);
      if (jump !== null && !jump[1]?.startsWith(LEGACY_CHAIN_PREFIX))
        found.jumps.push({ table, chain: jump[1] ?? '', target: jump[2] ?? '' });
    }
  }
  return found;
}

const notInstalled = (error: unknown) => error instanceof CommandError && error.exitCode === undefined;

/** A VM built for the nft data plane has neither iptables nor ipset: nothing of the old kind can be there. */
export async function findLegacyRuleset(run: CommandRunner): Promise<LegacyRuleset> {
  let saved = '';
  try {
    saved = (await run('look for the iptables ruleset of an older agent', 'iptables-save', [])).stdout;
  } catch (error) {
    if (!notInstalled(error)) throw error;
  }
  let sets: string[] = [];
  try {
    const { stdout } = await run('look for the ipsets of an older agent', 'ipset', ['list', '-n']);
    sets = stdout.split('\n').filter((name): name is (typeof LEGACY_SETS)[number] => (LEGACY_SETS as readonly string[]).includes(name));
  } catch (error) {
    if (!notInstalled(error)) throw error;
  }
  return { ...parseLegacyIptables(saved), sets };
}

/** Jumps first (a referenced chain cannot be deleted), then the chains in one transaction, then the sets they used. */
export function renderLegacyChainRemoval(chains: LegacyRuleset['chains']): string {
  const lines: string[] = [];
  for (const table of TABLES) {
    const ours = chains.filter((entry) => entry.table === table).map((entry) => entry.chain);
    if (ours.length === 0) continue;
    lines.push(`*${table}`, ...ours.map((chain) => `:${chain} - [0:0]`), ...ours.map((chain) => `-X ${chain}`), 'COMMIT');
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export async function removeLegacyRuleset(run: CommandRunner, legacy: LegacyRuleset): Promise<string[]> {
  const removed: string[] = [];
  for (const jump of legacy.jumps) {
    await run(`remove the old jump to ${jump.target}`, 'iptables', ['-t', jump.table, '-D', jump.chain, '-j', jump.target]);
    removed.push(`iptables ${jump.table}: jump ${jump.chain} -> ${jump.target}`);
  }
  const removal = renderLegacyChainRemoval(legacy.chains);
  if (removal !== '') {
    await run('remove the old NATGW chains', 'iptables-restore', ['--noflush'], { input: removal });
    removed.push(...legacy.chains.map((entry) => `iptables ${entry.table}: chain ${entry.chain}`));
  }
  for (const set of legacy.sets) {
    await run(`destroy the old ipset ${set}`, 'ipset', ['destroy', set], { okExitCodes: [1] });
    removed.push(`ipset ${set}`);
  }
  return removed;
}
