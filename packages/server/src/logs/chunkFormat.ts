import type { LogLine } from '@longshore/protocol';

/**
 * How a batch of lines is stored in one log_chunks row: a JSON array of tuples
 * `[seq, stream, ts, text, source, level]`. Tuples, not objects: a million-line log is written as
 * fast as the worker can send it, and key names would double what is serialised and stored.
 * The operation (and so the step and target) is a column of the chunk, not of each line.
 */
type StoredLine = [number, LogLine['stream'], number, string, number | null, LogLine['level'] | null];

export function encodeLines(lines: readonly LogLine[], mask: (text: string) => string): string {
  const rows: StoredLine[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    rows[i] = [l.seq, l.stream, l.ts, mask(l.text), l.source ?? null, l.level ?? null];
  }
  return JSON.stringify(rows);
}

export function decodeLines<T extends object>(stored: string, extra: T): (LogLine & T)[] {
  return (JSON.parse(stored) as StoredLine[]).map(([seq, stream, ts, text, source, level]) => ({
    ...extra,
    seq,
    stream,
    ts,
    text,
    ...(source !== null ? { source } : {}),
    ...(level !== null ? { level } : {}),
  }));
}
