// Kernel conntrack statistics of this network namespace (/proc/net/stat/nf_conntrack: one hex row per CPU) and the
// table's fill level. Absent files mean conntrack is not loaded: no data, not an error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ConntrackStats {
  /** Column name → sum over CPUs; the column set differs between kernels. */
  totals: Record<string, number>;
  entries?: number;
  limit?: number;
}

export function parseConntrackStatTable(text: string): Record<string, number> {
  const [header, ...rows] = text.trim().split('\n');
  const names = (header ?? '').trim().split(/\s+/);
  const totals: Record<string, number> = {};
  for (const row of rows) {
    row
      .trim()
      .split(/\s+/)
      .forEach((hex, index) => {
        const name = names[index];
        // "entries" is the same global count repeated on every CPU row, not a per-CPU figure.
        if (name === undefined || name === 'entries') return;
        totals[name] = (totals[name] ?? 0) + Number.parseInt(hex, 16);
      });
  }
  return totals;
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

export async function readConntrackStats(procRoot = '/proc'): Promise<ConntrackStats> {
  let totals: Record<string, number> = {};
  try {
    totals = parseConntrackStatTable(await readFile(path.join(procRoot, 'net/stat/nf_conntrack'), 'utf8'));
  } catch {
    // conntrack not loaded yet
  }
  const entries = await readNumber(path.join(procRoot, 'sys/net/netfilter/nf_conntrack_count'));
  const limit = await readNumber(path.join(procRoot, 'sys/net/netfilter/nf_conntrack_max'));
  return { totals, ...(entries === undefined ? {} : { entries }), ...(limit === undefined ? {} : { limit }) };
}
