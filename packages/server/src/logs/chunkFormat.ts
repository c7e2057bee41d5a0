import type { LogLine } from '@longshore/protocol';
import { capStoredLine } from './storedLineCap.js';

/**
 * How a batch of lines is stored in one log_chunks row: a JSON array of tuples
 * `[seq, stream, ts, text, source, level]`. Tuples, not objects: a million-line log is written as
 * fast as the worker can send it, and key names would double what is serialised and stored.
 * The operation (and so the step and target) is a column of the chunk, not of each line.
 */
export type StoredLine = [number, LogLine['stream'], number, string, number | null, LogLine['level'] | null];

/**
 * A batch is stored as rows of about this many bytes (a row holds at least one line, and a line
 * at most 64 KiB). A reader decodes a row whole, so this bounds what one reader holds at a time.
 * Below V8's large-object size (128 KiB), a row's string dies young and costs a cheap scavenge;
 * larger rows pile up until a full collection, and readers of big logs grew the server by
 * twice as much. A worker's batch (up to 1 MiB) costs about sixteen inserts.
 */
export const CHUNK_ROW_BYTES = 64 * 1024;

export interface EncodedChunk {
  firstSeq: number;
  lastSeq: number;
  lines: string;
}

/** Masks, caps and encodes the lines, split into rows of about CHUNK_ROW_BYTES. */
export function encodeChunks(lines: readonly LogLine[], mask: (text: string) => string): EncodedChunk[] {
  const chunks: EncodedChunk[] = [];
  let rows: string[] = [];
  let bytes = 0;
  let firstSeq = 0;
  const close = (lastSeq: number) => chunks.push({ firstSeq, lastSeq, lines: `[${rows.join(',')}]` });
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const row: StoredLine = [l.seq, l.stream, l.ts, capStoredLine(mask(l.text)), l.source ?? null, l.level ?? null];
    const json = JSON.stringify(row);
    const size = Buffer.byteLength(json) + 1;
    if (rows.length > 0 && bytes + size > CHUNK_ROW_BYTES) {
      close(lines[i - 1]!.seq);
      rows = [];
      bytes = 0;
    }
    if (rows.length === 0) firstSeq = l.seq;
    rows.push(json);
    bytes += size;
  }
  if (rows.length > 0) close(lines[lines.length - 1]!.seq);
  return chunks;
}

export function decodeChunk(stored: string): StoredLine[] {
  return JSON.parse(stored) as StoredLine[];
}

export interface LineOrigin {
  /** null for lines the server itself writes about the task (step started, step failed...). */
  operationId: string | null;
  step?: string;
  target?: string;
}

/** One line as the API serves it: its origin, then the line's own fields. */
export function lineJson(origin: LineOrigin, [seq, stream, ts, text, source, level]: StoredLine): string {
  return JSON.stringify({
    ...origin,
    seq,
    stream,
    ts,
    text,
    ...(source !== null ? { source } : {}),
    ...(level !== null ? { level } : {}),
  });
}
