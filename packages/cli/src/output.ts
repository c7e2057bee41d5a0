export type OutputFormat = 'table' | 'json';

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/** Lists print as an aligned table for people, or as JSON for scripts (`--output json`). */
export function printList<T>(rows: readonly T[], columns: Column<T>[], format: OutputFormat): void {
  if (format === 'json') {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => format1(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  process.stdout.write(line(columns.map((c) => c.header.toUpperCase())));
  for (const row of cells) process.stdout.write(line(row));
}

export function printObject(value: unknown, format: OutputFormat): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : describe(value) + '\n');
}

function describe(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return format1(value);
  if (Array.isArray(value)) return value.map((v) => `${indent}- ${describe(v, indent + '  ').trimStart()}`).join('\n');
  return Object.entries(value)
    .map(([k, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${k}:\n${describe(v, indent + '  ')}`
        : `${indent}${k}: ${format1(v)}`,
    )
    .join('\n');
}

function format1(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}
