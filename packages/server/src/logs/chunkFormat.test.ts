import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMasker, type LogLine } from '@longshore/protocol';
import { CHUNK_ROW_BYTES, decodeChunk, encodeChunks } from './chunkFormat.js';
import { MAX_STORED_LINE_BYTES } from './storedLineCap.js';

const line = (seq: number, text: string): LogLine => ({ seq, stream: 'stdout', ts: 1_700_000_000_000 + seq, text });

test('a batch is stored as rows of about CHUNK_ROW_BYTES, contiguous and in order', () => {
  const lines = Array.from({ length: 40 }, (_, i) => line(i + 1, `${i + 1} `.padEnd(30_000, 'y')));
  const chunks = encodeChunks(lines, (t) => t);
  assert.ok(chunks.length > 1);
  let next = 1;
  for (const c of chunks) {
    assert.equal(c.firstSeq, next);
    assert.ok(Buffer.byteLength(c.lines) <= CHUNK_ROW_BYTES + 1);
    const stored = decodeChunk(c.lines);
    assert.deepEqual(
      stored.map((s) => s[0]),
      Array.from({ length: c.lastSeq - c.firstSeq + 1 }, (_, i) => c.firstSeq + i),
    );
    next = c.lastSeq + 1;
  }
  assert.equal(next, 41);
});

test('lines are masked before they are capped: a secret across the cut leaves nothing of itself', () => {
  const secret = 'the-secret-value';
  // The secret starts six bytes before where the cap cuts the line (64 bytes are kept for the marker).
  const text = 'a'.repeat(MAX_STORED_LINE_BYTES - 70) + secret + 'b'.repeat(MAX_STORED_LINE_BYTES);
  const [chunk] = encodeChunks([line(1, text)], makeMasker([secret]));
  const stored = decodeChunk(chunk!.lines)[0]![3];
  assert.ok(Buffer.byteLength(stored) <= MAX_STORED_LINE_BYTES);
  assert.ok(/a\*+ … \[line truncated: \d+ more bytes not stored\]$/.test(stored), stored.slice(-100));
  assert.ok(!stored.includes('the-se'), 'no head of the secret is left');
});
