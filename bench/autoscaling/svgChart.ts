// The policy comparison as an SVG image, written by hand from the figures (no chart library, no
// binary): node-minutes per policy with the oracle's as a dashed line, and the p95 wait below.
// Deterministic: the same figures give the same bytes.
import type { PolicyFigures } from './figures.js';

const WIDTH = 760;
const PANEL_HEIGHT = 190;
const LEFT = 70;
const SLOT = (WIDTH - LEFT - 20) / 5;
const BAR = 64;
const COLORS: Record<string, string> = {
  'octopus-default': '#b45309',
  'generous-fixed': '#6b7280',
  'vpa-model': '#2563eb',
  auto: '#059669',
  oracle: '#111827',
};

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x: number, y: number, s: string, attrs = ''): string =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escape(s)}</text>`;

/** A round axis top at or above `max`. */
function axisTop(max: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(max, 1)));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((v) => v >= max)!;
}

function panel(
  top: number,
  title: string,
  figures: readonly PolicyFigures[],
  value: (f: PolicyFigures) => number,
  label: (f: PolicyFigures) => string,
  referenceLine?: number,
): string[] {
  const plotTop = top + 30;
  const plotHeight = PANEL_HEIGHT - 60;
  const max = axisTop(Math.max(...figures.map(value), referenceLine ?? 0) * 1.1);
  const y = (v: number): number => plotTop + plotHeight - (v / max) * plotHeight;
  const out = [text(LEFT, top + 16, title, 'font-size="14" font-weight="bold"')];
  for (const v of [0, max / 2, max]) {
    out.push(
      `<line x1="${LEFT}" x2="${WIDTH - 20}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
    );
    out.push(text(LEFT - 6, y(v) + 4, String(v), 'font-size="11" text-anchor="end" fill="#6b7280"'));
  }
  figures.forEach((f, i) => {
    const x = LEFT + i * SLOT + (SLOT - BAR) / 2;
    const v = value(f);
    out.push(
      `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${BAR}" height="${(plotTop + plotHeight - y(v)).toFixed(1)}" fill="${COLORS[f.policy] ?? '#999'}"/>`,
    );
    out.push(text(x + BAR / 2, y(v) - 5, label(f), 'font-size="11" text-anchor="middle"'));
    out.push(text(x + BAR / 2, plotTop + plotHeight + 15, f.policy, 'font-size="12" text-anchor="middle"'));
  });
  if (referenceLine !== undefined) {
    const ry = y(referenceLine).toFixed(1);
    out.push(`<line x1="${LEFT}" x2="${WIDTH - 20}" y1="${ry}" y2="${ry}" stroke="#111827" stroke-dasharray="6 4"/>`);
    out.push(text(LEFT + 4, Number(ry) - 5, 'oracle', 'font-size="11"'));
  }
  return out;
}

export function policyChart(figures: readonly PolicyFigures[], caption: string): string {
  const oracle = figures.find((f) => f.policy === 'oracle')!;
  const height = 2 * PANEL_HEIGHT + 50;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...panel(
      0,
      'Node-minutes (lower is cheaper); starved / OOM-killed runs under each bar',
      figures,
      (f) => f.nodeMinutes,
      (f) => `${f.nodeMinutes} (${f.ratioToOracle.toFixed(2)}×)`,
      oracle.nodeMinutes,
    ),
    ...figures.map((f, i) =>
      text(
        LEFT + i * SLOT + SLOT / 2,
        PANEL_HEIGHT - 2,
        `${f.starved} starved · ${f.oomKilled} killed`,
        'font-size="11" text-anchor="middle" fill="#b91c1c"',
      ),
    ),
    ...panel(
      PANEL_HEIGHT + 10,
      'p95 wait from pod created to running (s)',
      figures,
      (f) => f.waitP95Seconds,
      (f) => `${f.waitP95Seconds} s`,
    ),
    text(LEFT, height - 12, caption, 'font-size="11" fill="#6b7280"'),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}
