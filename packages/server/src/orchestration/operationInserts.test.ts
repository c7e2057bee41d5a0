import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SQL_VARIABLES, insertBatches } from './operationInserts.js';

test('batches stay under the bound-value limit whatever the column count', () => {
  for (const columns of [1, 7, 23, 40]) {
    const row = Object.fromEntries(Array.from({ length: columns }, (_, i) => [`c${i}`, i]));
    const rows = Array.from({ length: 10_000 }, () => row);
    const batches = insertBatches(rows);
    assert.equal(batches.flat().length, rows.length, 'every row once');
    for (const b of batches) assert.ok(b.length * columns <= MAX_SQL_VARIABLES, `${b.length} rows of ${columns} columns`);
    assert.ok((batches[0]!.length + 1) * columns > MAX_SQL_VARIABLES || batches.length === 1, 'batches are as large as the limit allows');
  }
  assert.deepEqual(insertBatches([]), []);
});
