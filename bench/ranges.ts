// Source ranges for "at scale" configs: valid private CIDRs with many different prefix lengths (/18 to /32), spread
// over 10.0.0.0/8 so the interval set holds 1,000 separate intervals. The lab's own range comes last, so a
// linear chain has to walk all the others first.
export function manyRanges(count: number, labRange: string): string[] {
  const ranges: string[] = [];
  // 10.0.0.0/8 holds 1024 blocks of /18 (block i starts at 10.0.0.0 + i * 2^14); skip the lab's 10.10.0.0/16.
  for (let i = 0; ranges.length < count - 1; i++) {
    if (i >= 1024) throw new Error('too many ranges');
    const base = 10 * 2 ** 24 + i * 2 ** 14;
    const octets = [Math.floor(base / 2 ** 24), Math.floor(base / 2 ** 16) % 256, Math.floor(base / 2 ** 8) % 256, base % 256];
    if (octets[1] === 10) continue;
    ranges.push(`${octets.join('.')}/${18 + (i % 15)}`);
  }
  ranges.push(labRange);
  return ranges;
}
