import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { LogLine } from '@longshore/protocol';
import { openStore, type Store } from '../store/database.js';
import { encodeChunks } from './chunkFormat.js';
import { decodeCursor } from './logCursor.js';
import { readPage, type PageEnd, type PageLimits } from './logPage.js';

let dir: string;
let db: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-log-page-'));
  db = await openStore({ dataDir: dir });
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let tasks = 0;
/** A task whose log holds rows of the given numbers of lines; line n (from 1) has `width(n)` characters. */
async function taskWithRows(rows: number[], width: (n: number) => number = () => 10): Promise<string> {
  const taskId = `task-${++tasks}`;
  let seq = 0;
  for (const count of rows) {
    const lines: LogLine[] = Array.from({ length: count }, () => {
      seq++;
      return { seq, stream: 'stdout', ts: 0, text: `${seq}:`.padEnd(width(seq), '.') };
    });
    for (const c of encodeChunks(lines, (t) => t)) {
      await db
        .insertInto('log_chunks')
        .values({ task_id: taskId, operation_id: null, first_seq: c.firstSeq, last_seq: c.lastSeq, lines: c.lines })
        .execute();
      // Another task's rows in between must never show up.
      await db
        .insertInto('log_chunks')
        .values({
          task_id: 'other',
          operation_id: null,
          first_seq: 1,
          last_seq: 1,
          lines: '[[1,"stdout",0,"not mine",null,null]]',
        })
        .execute();
    }
  }
  return taskId;
}

async function page(
  taskId: string,
  afterCursor: number,
  limits: PageLimits,
): Promise<{ seqs: number[]; bytes: number; end: PageEnd }> {
  const seqs: number[] = [];
  let bytes = 0;
  const lines = readPage(db, taskId, afterCursor, limits);
  for (;;) {
    const next = await lines.next();
    if (next.done) return { seqs, bytes, end: next.value };
    seqs.push((JSON.parse(next.value) as { seq: number }).seq);
    bytes += Buffer.byteLength(next.value) + 1;
  }
}

async function readAll(
  taskId: string,
  limits: PageLimits,
): Promise<{ seqs: number[]; pages: { seqs: number[]; bytes: number }[] }> {
  const pages: { seqs: number[]; bytes: number }[] = [];
  for (let cursor = 0; ;) {
    const p = await page(taskId, cursor, limits);
    if (p.seqs.length === 0) {
      assert.ok(p.end.atEnd);
      return { seqs: pages.flatMap((x) => x.seqs), pages };
    }
    pages.push(p);
    cursor = p.end.cursor;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('task log pages', () => {
  it('stop at the line limit when it comes first, inside a row, and go on from there', async () => {
    const taskId = await taskWithRows([10]);
    const first = await page(taskId, 0, { maxLines: 3, maxBytes: 1 << 20 });
    assert.deepEqual(first.seqs, [1, 2, 3]);
    assert.equal(decodeCursor(first.end.cursor).linesRead, 3);
    assert.equal(first.end.atEnd, false);
    assert.deepEqual((await page(taskId, first.end.cursor, { maxLines: 3, maxBytes: 1 << 20 })).seqs, [4, 5, 6]);
  });

  it('stop before the line that would pass the byte limit when it comes first', async () => {
    const taskId = await taskWithRows([10], () => 1000);
    const { pages, seqs } = await readAll(taskId, { maxLines: 5000, maxBytes: 3500 });
    assert.deepEqual(seqs, range(10));
    assert.deepEqual(
      pages.map((p) => p.seqs.length),
      [3, 3, 3, 1],
    );
    for (const p of pages) assert.ok(p.bytes <= 3500, `${p.bytes} bytes`);
  });

  it('serve a single line larger than the byte limit alone, so that paging moves on', async () => {
    const taskId = await taskWithRows([3], (n) => (n === 2 ? 5000 : 10));
    const { pages } = await readAll(taskId, { maxLines: 5000, maxBytes: 1024 });
    assert.deepEqual(
      pages.map((p) => p.seqs),
      [[1], [2], [3]],
    );
  });

  it('end where the log ends, and take a row id as a cursor (as every cursor was before pages ended inside rows)', async () => {
    const taskId = await taskWithRows([2, 2]);
    const all = await page(taskId, 0, { maxLines: 100, maxBytes: 1 << 20 });
    assert.deepEqual(all.seqs, [1, 2, 3, 4]);
    assert.ok(all.end.atEnd);
    const firstRow = await page(taskId, 0, { maxLines: 2, maxBytes: 1 << 20 });
    assert.equal(decodeCursor(firstRow.end.cursor).linesRead, 0, 'a page that ends with a row ends at the row');
    assert.deepEqual((await page(taskId, firstRow.end.cursor, { maxLines: 100, maxBytes: 1 << 20 })).seqs, [3, 4]);
    assert.deepEqual((await page(taskId, all.end.cursor, { maxLines: 100, maxBytes: 1 << 20 })).seqs, []);
  });

  it('deliver every line exactly once, in order, whatever the rows and the limits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 2000 }),
        async (rows, widest, maxLines, maxBytes) => {
          const taskId = await taskWithRows(rows, (n) => 1 + ((n * 7919) % widest));
          const { seqs, pages } = await readAll(taskId, { maxLines, maxBytes });
          assert.deepEqual(seqs, range(rows.reduce((a, b) => a + b, 0)));
          for (const p of pages) {
            assert.ok(p.seqs.length <= maxLines);
            assert.ok(p.seqs.length === 1 || p.bytes <= maxBytes);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
