import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_STORED_LINE_BYTES, capStoredLine } from './storedLineCap.js';

test('a line within the cap is kept as it is, up to the last byte', () => {
  assert.equal(capStoredLine('short'), 'short');
  const exact = 'é'.repeat(MAX_STORED_LINE_BYTES / 2);
  assert.equal(capStoredLine(exact), exact);
});

test('a longer line keeps its head and says how much was not stored', () => {
  const text = 'x'.repeat(MAX_STORED_LINE_BYTES + 10);
  const capped = capStoredLine(text);
  assert.ok(Buffer.byteLength(capped) <= MAX_STORED_LINE_BYTES);
  const m = /^(x+) … \[line truncated: (\d+) more bytes not stored\]$/.exec(capped);
  assert.ok(m, capped.slice(-80));
  assert.equal(m[1]!.length + Number(m[2]), text.length);
});

test('the cut never splits a character', () => {
  fc.assert(
    fc.property(fc.constantFrom('é', '€', '𝄞', 'a'), fc.integer({ min: 0, max: 3 }), (wide, shift) => {
      const text = 'a'.repeat(shift) + wide.repeat(MAX_STORED_LINE_BYTES);
      const capped = capStoredLine(text);
      assert.ok(Buffer.byteLength(capped) <= MAX_STORED_LINE_BYTES);
      assert.ok(!capped.includes('\uFFFD'), 'no broken character');
      const kept = capped.slice(0, capped.indexOf(' … ['));
      assert.ok(text.startsWith(kept));
    }),
    { numRuns: 30 },
  );
});
