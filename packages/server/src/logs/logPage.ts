import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import { decodeChunk, lineJson, type LineOrigin } from './chunkFormat.js';
import { decodeCursor, encodeCursor } from './logCursor.js';

export interface PageLimits {
  maxLines: number;
  /** Of the lines' JSON; a first line larger than this is served alone, so that paging moves on. */
  maxBytes: number;
}

export interface PageEnd {
  /** Pass back as `after` for the next page. */
  cursor: number;
  lines: number;
  /** The page ended because the log did, not because of a limit. */
  atEnd: boolean;
}

/** How many rows one look-up of the next rows' ids and sizes answers. */
const ROW_INDEX_BATCH = 256;
/**
 * Rows are fetched a few at a time, up to this many stored bytes (at least one row): a page never
 * holds more of the log in memory than this, however large the log or the page.
 */
const FETCH_BYTES = 1 << 20;

/**
 * The lines of one page of a task's log after `after`, each as its JSON, in order; returns
 * where the page ended. The page stops before the line that would pass either limit.
 */
export async function* readPage(
  db: Store,
  taskId: string,
  after: number,
  limits: PageLimits,
): AsyncGenerator<string, PageEnd> {
  const start = decodeCursor(after);
  let cursor = after;
  let lines = 0;
  let bytes = 0;
  // The row a mid-row cursor points into is read again from the line after the last one served.
  let fromId = start.linesRead > 0 ? start.chunkId - 1 : start.chunkId;
  for (;;) {
    const index = await db
      .selectFrom('log_chunks')
      .select(['id', sql<number>`octet_length(lines)`.as('size')])
      .where('task_id', '=', taskId)
      .where('id', '>', fromId)
      .orderBy('id')
      .limit(ROW_INDEX_BATCH)
      .execute();
    if (index.length === 0) return { cursor, lines, atEnd: true };
    for (let i = 0; i < index.length;) {
      if (lines >= limits.maxLines) return { cursor, lines, atEnd: false };
      let budget = 0;
      let n = 0;
      while (i + n < index.length && (n === 0 || budget + index[i + n]!.size <= FETCH_BYTES))
        budget += index[i + n++]!.size;
      const rows = await fetchRows(
        db,
        index.slice(i, i + n).map((r) => r.id),
      );
      i += n;
      for (const row of rows) {
        const stored = decodeChunk(row.lines);
        for (let k = row.id === start.chunkId ? start.linesRead : 0; k < stored.length; k++) {
          const json = lineJson(row.origin, stored[k]!);
          const size = Buffer.byteLength(json) + 1;
          const full = lines >= limits.maxLines || (lines > 0 && bytes + size > limits.maxBytes);
          if (full)
            return { cursor: k === 0 ? cursor : encodeCursor({ chunkId: row.id, linesRead: k }), lines, atEnd: false };
          yield json;
          lines++;
          bytes += size;
        }
        cursor = row.id;
      }
    }
    fromId = index[index.length - 1]!.id;
  }
}

async function fetchRows(db: Store, ids: number[]): Promise<{ id: number; lines: string; origin: LineOrigin }[]> {
  const rows = await db
    .selectFrom('log_chunks')
    .leftJoin('operations', 'operations.id', 'log_chunks.operation_id')
    .select([
      'log_chunks.id',
      'log_chunks.lines',
      'log_chunks.operation_id',
      'operations.step_name',
      'operations.target_name',
    ])
    .where('log_chunks.id', 'in', ids)
    .orderBy('log_chunks.id')
    .execute();
  return rows.map((r) => {
    const origin: LineOrigin = { operationId: r.operation_id };
    if (r.step_name !== null) origin.step = r.step_name;
    if (r.target_name !== null) origin.target = r.target_name;
    return { id: r.id, lines: r.lines, origin };
  });
}
