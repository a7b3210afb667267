import type { CostResult } from './model.js';

const W = 860;
const H = 500;
const M = { left: 78, right: 200, top: 78, bottom: 64 };
const COLOURS = { cloudNat: '#c2410c', natgw: '#1d4ed8', grid: '#e5e7eb', axis: '#374151', muted: '#6b7280' };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2 or 5 times a power of ten, so tick labels stay round. */
export function niceStep(span: number, targetTicks: number): number {
  const raw = span / Math.max(1, targetTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtGib(gib: number): string {
  return gib >= 100 ? fmt(gib) : fmt(gib, gib >= 10 ? 1 : 2);
}

export function chartRange(result: CostResult): number {
  const candidates = [result.inputs.gibPerMonth * 1.5, 100];
  if (result.breakEvenGibPerMonth !== null && result.breakEvenGibPerMonth > 0) candidates.push(result.breakEvenGibPerMonth * 2);
  const wanted = Math.max(...candidates);
  const step = niceStep(wanted, 5);
  return Math.ceil(wanted / step) * step;
}

/** A standalone SVG of both monthly bills against traffic: lines labelled where they end, no legend to hunt for. */
export function renderChart(result: CostResult): string {
  const { cloudNat, natgw, inputs } = result;
  const xMax = chartRange(result);
  const costAt = (bill: typeof cloudNat, gib: number) => bill.fixedMonthlyUsd + bill.perGibUsd * gib;
  const yTop = Math.max(costAt(cloudNat, xMax), costAt(natgw, xMax), 1);
  const yStep = niceStep(yTop, 6);
  const yMax = Math.ceil((yTop * 1.05) / yStep) * yStep;
  const xStep = niceStep(xMax, 6);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (gib: number) => M.left + (gib / xMax) * plotW;
  const py = (usd: number) => M.top + plotH - (usd / yMax) * plotH;
  const p = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  const gateway = inputs.haSize >= 2 ? `${inputs.haSize} × ${inputs.machineType}` : inputs.machineType;
  const lb = inputs.haSize >= 2 ? '; natgw includes its load balancer' : '';
  out.push(
    `<text x="20" y="30" font-size="18" font-weight="bold" fill="#111827">${esc(`Cloud NAT vs natgw: ${inputs.region}, ${inputs.vms} VMs, natgw on ${gateway}`)}</text>`,
    `<text x="20" y="52" fill="${COLOURS.muted}">${esc(`${result.pricesOverriddenBy === null ? 'List prices' : 'Prices'} of ${result.pricesDated}${result.pricesOverriddenBy === null ? '' : ' with overrides'}, ${inputs.hoursPerMonth} h/month; internet egress (the same either way) left out${lb}`)}</text>`,
  );

  for (let gib = 0; gib <= xMax + 1e-9; gib += xStep) {
    out.push(
      `<line x1="${p(px(gib))}" y1="${M.top}" x2="${p(px(gib))}" y2="${M.top + plotH}" stroke="${COLOURS.grid}"/>`,
      `<text x="${p(px(gib))}" y="${M.top + plotH + 18}" text-anchor="middle" fill="${COLOURS.axis}">${fmt(gib)}</text>`,
    );
  }
  for (let usd = 0; usd <= yMax + 1e-9; usd += yStep) {
    out.push(
      `<line x1="${M.left}" y1="${p(py(usd))}" x2="${M.left + plotW}" y2="${p(py(usd))}" stroke="${COLOURS.grid}"/>`,
      `<text x="${M.left - 8}" y="${p(py(usd) + 4)}" text-anchor="end" fill="${COLOURS.axis}">$${fmt(usd, yStep < 1 ? 2 : 0)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="${COLOURS.axis}"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + plotH}" stroke="${COLOURS.axis}"/>`,
    `<text x="${M.left + plotW / 2}" y="${H - 18}" text-anchor="middle" fill="${COLOURS.axis}">GiB processed per month (both directions)</text>`,
    `<text transform="translate(20 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${COLOURS.axis}">USD per month</text>`,
  );

  // Where the traffic the user asked about sits: the question the chart answers is "which is cheaper for me".
  const you = inputs.gibPerMonth;
  if (you > 0 && you <= xMax) {
    out.push(
      `<line x1="${p(px(you))}" y1="${M.top}" x2="${p(px(you))}" y2="${M.top + plotH}" stroke="${COLOURS.muted}" stroke-dasharray="2 4"/>`,
      `<text x="${p(px(you) + 5)}" y="${M.top + 14}" fill="${COLOURS.muted}">${esc(`your traffic: ${fmtGib(you)} GiB`)}</text>`,
    );
  }

  const lines = [
    { bill: cloudNat, colour: COLOURS.cloudNat, name: 'Cloud NAT' },
    { bill: natgw, colour: COLOURS.natgw, name: 'natgw' },
  ];
  const labelY = lines.map(({ bill }) => py(costAt(bill, xMax)));
  // Keep the two end labels from printing over each other when the lines end close together.
  const gap = 34;
  if (Math.abs(labelY[0]! - labelY[1]!) < gap) {
    const mid = (labelY[0]! + labelY[1]!) / 2;
    const cloudNatAbove = labelY[0]! <= labelY[1]!;
    labelY[0] = mid + (cloudNatAbove ? -gap / 2 : gap / 2);
    labelY[1] = mid + (cloudNatAbove ? gap / 2 : -gap / 2);
  }
  lines.forEach(({ bill, colour, name }, i) => {
    const points: string[] = [];
    for (let step = 0; step <= 50; step++) {
      const gib = (xMax * step) / 50;
      points.push(`${p(px(gib))},${p(py(costAt(bill, gib)))}`);
    }
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="3"/>`);
    const rate = bill.perGibUsd > 0 ? `$${fmt(bill.fixedMonthlyUsd, 2)} + $${bill.perGibUsd}/GiB` : `$${fmt(bill.fixedMonthlyUsd, 2)} flat`;
    out.push(
      `<text x="${M.left + plotW + 8}" y="${p(labelY[i]!)}" fill="${colour}" font-weight="bold" font-size="14">${esc(name)}</text>`,
      `<text x="${M.left + plotW + 8}" y="${p(labelY[i]! + 15)}" fill="${colour}">${esc(rate)}</text>`,
    );
    if (you > 0 && you <= xMax) {
      const y = py(costAt(bill, you));
      out.push(`<circle cx="${p(px(you))}" cy="${p(y)}" r="4" fill="${colour}"/>`);
      // Dollar figures at the user's traffic only when the two dots are far enough apart to read both.
      if (Math.abs(py(costAt(cloudNat, you)) - py(costAt(natgw, you))) > 18) {
        // A rising line runs through text placed up and to the right of its dot; up and to the left stays clear.
        const left = bill.perGibUsd > 0;
        out.push(
          `<text x="${p(px(you) + (left ? -8 : 8))}" y="${p(y - 8)}" text-anchor="${left ? 'end' : 'start'}" fill="${colour}" font-weight="bold" paint-order="stroke" stroke="#ffffff" stroke-width="4">$${fmt(costAt(bill, you), 2)}</text>`,
        );
      }
    }
  });

  const be = result.breakEvenGibPerMonth;
  if (be !== null && be > 0 && be <= xMax) {
    const usd = costAt(natgw, be);
    const x = px(be);
    const y = py(usd);
    const anchorRight = x > M.left + plotW * 0.6;
    out.push(
      `<line x1="${p(x)}" y1="${p(y)}" x2="${p(x)}" y2="${M.top + plotH}" stroke="#111827" stroke-dasharray="6 4"/>`,
      `<circle cx="${p(x)}" cy="${p(y)}" r="6" fill="#ffffff" stroke="#111827" stroke-width="2"/>`,
      `<text x="${p(anchorRight ? x - 10 : x + 10)}" y="${p(y + 26)}" text-anchor="${anchorRight ? 'end' : 'start'}" font-weight="bold" fill="#111827">${esc(`break-even: ${fmtGib(be)} GiB/month`)}</text>`,
      `<text x="${p(anchorRight ? x - 10 : x + 10)}" y="${p(y + 42)}" text-anchor="${anchorRight ? 'end' : 'start'}" fill="#111827">${esc(`both $${fmt(usd, 2)}/month; natgw is cheaper above it`)}</text>`,
    );
  } else {
    const note =
      be === 0
        ? `No break-even: natgw is cheaper at any traffic for ${inputs.vms} VMs.`
        : `No break-even: Cloud NAT is cheaper at any traffic for ${inputs.vms} VMs.`;
    out.push(`<text x="${M.left + 12}" y="${M.top + plotH - 12}" font-weight="bold" fill="#111827">${esc(note)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
