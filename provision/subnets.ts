// The --subnets setting, with Cloud NAT's vocabulary: all ranges of all subnets, primary ranges only, or a list.
import { UsageError } from '../common/errors.js';

export type SubnetSelection =
  | { mode: 'all' }
  | { mode: 'primary' }
  | { mode: 'list'; entries: { subnet: string; ranges: 'primary' | 'all' | string }[] };

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseSubnetSelection(text: string): SubnetSelection {
  const value = text.trim();
  if (value === 'all' || value === 'ALL') return { mode: 'all' };
  if (value === 'primary' || value === 'PRIMARY') return { mode: 'primary' };
  const entries = value.split(',').map((part) => part.trim());
  if (entries.some((part) => part === ''))
    throw new UsageError(`--subnets: '${text}' has an empty entry; use all, primary, or SUBNET[,SUBNET:ALL][,SUBNET:RANGE]`);
  const seen = new Set<string>();
  return {
    mode: 'list',
    entries: entries.map((entry) => {
      const [subnet = '', range, extra] = entry.split(':');
      if (extra !== undefined || !NAME.test(subnet))
        throw new UsageError(`--subnets: '${entry}' is not SUBNET, SUBNET:ALL or SUBNET:RANGE_NAME`);
      if (range !== undefined && range !== 'ALL' && !NAME.test(range))
        throw new UsageError(`--subnets: '${entry}': '${range}' is not a secondary range name (or ALL)`);
      const ranges = range === undefined ? 'primary' : range === 'ALL' ? 'all' : range;
      const key = `${subnet}:${ranges}`;
      if (seen.has(key)) throw new UsageError(`--subnets: '${entry}' is listed twice`);
      seen.add(key);
      return { subnet, ranges };
    }),
  };
}

export interface SubnetInfo {
  name: string;
  ipCidrRange: string;
  secondaryIpRanges: { rangeName: string; ipCidrRange: string }[];
}

/** The client CIDRs the NAT serves, or an error naming what the network does not have. */
export function resolveSourceRanges(selection: SubnetSelection, subnets: SubnetInfo[], where: string): string[] {
  const ranges: string[] = [];
  const add = (cidr: string) => {
    if (!ranges.includes(cidr)) ranges.push(cidr);
  };
  const sorted = [...subnets].sort((a, b) => a.name.localeCompare(b.name));
  if (selection.mode !== 'list') {
    if (sorted.length === 0) throw new UsageError(`--subnets: ${where} has no subnets; create one or pick another --network/--region`);
    for (const subnet of sorted) {
      add(subnet.ipCidrRange);
      if (selection.mode === 'all') for (const secondary of subnet.secondaryIpRanges) add(secondary.ipCidrRange);
    }
    return ranges;
  }
  for (const entry of selection.entries) {
    const subnet = sorted.find((candidate) => candidate.name === entry.subnet);
    if (subnet === undefined) {
      const known = sorted.map((candidate) => candidate.name).join(', ') || 'none';
      throw new UsageError(`--subnets: subnet '${entry.subnet}' not found in ${where} (subnets there: ${known})`);
    }
    if (entry.ranges === 'primary' || entry.ranges === 'all') add(subnet.ipCidrRange);
    if (entry.ranges === 'all') for (const secondary of subnet.secondaryIpRanges) add(secondary.ipCidrRange);
    if (entry.ranges !== 'primary' && entry.ranges !== 'all') {
      const secondary = subnet.secondaryIpRanges.find((candidate) => candidate.rangeName === entry.ranges);
      if (secondary === undefined) {
        const known = subnet.secondaryIpRanges.map((candidate) => candidate.rangeName).join(', ') || 'none';
        throw new UsageError(`--subnets: subnet '${entry.subnet}' has no secondary range '${entry.ranges}' (it has: ${known})`);
      }
      add(secondary.ipCidrRange);
    }
  }
  return ranges;
}
