// The policy table as Markdown, the form the bench prints and the README shows.
import type { PolicyFigures } from './figures.js';

export function policyTable(figures: readonly PolicyFigures[]): string {
  const header = [
    'policy',
    'node-minutes',
    'vs oracle',
    'p50 wait (s)',
    'p95 wait (s)',
    'starved',
    'OOM-killed (evicted)',
    'slowed ≥25%',
  ];
  const rows = figures.map((f) => [
    f.policy,
    String(f.nodeMinutes),
    `${f.ratioToOracle.toFixed(2)}×`,
    String(f.waitP50Seconds),
    String(f.waitP95Seconds),
    String(f.starved),
    `${f.oomKilled} (${f.evicted})`,
    String(f.slowed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
