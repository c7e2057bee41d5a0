import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { LogLine } from '@longshore/protocol';
import { freshPostgresDatabase } from '../../../../test/support/postgres.js';
import { newOperationId } from '../crypto/tokens.js';
import { openNodeStores } from '../testing/deploymentStore.fixture.js';
import { decodeChunk } from './chunkFormat.js';
import { TaskLog } from './taskLog.js';

const LINES = 400;
const BATCH = 10;
const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');

/**
 * Log idempotency: a worker's batches, each sent several times at once (a retry racing its
 * original) and overlapping the next, through one task log on SQLite and through two server
 * nodes' task logs on PostgreSQL. Every line is stored once, and the task's rows hold the lines in
 * order, so a follower reading on by row id sees each once and in order.
 */
async function appendConcurrently(database: string | undefined, nodes: number): Promise<void> {
  const nodeStores = await openNodeStores(database, nodes);
  const { store } = nodeStores;
  const logs = nodeStores.dbs.map((db) => new TaskLog(db, store.box));
  try {
    const task = await store.deploy([{ name: 'Only', script: { body: 'echo' } }]);
    const operationId = newOperationId();
    await store.db
      .insertInto('operations')
      .values({
        id: operationId,
        task_id: task.id,
        step_index: 0,
        step_name: 'Only',
        pool_id: store.defaultPoolId,
        state: 'leased',
        cancel_requested: 0,
        payload: store.box.sealJson({ id: operationId, variables: [{ value: 'hunter2', sensitive: true }] }),
        acked_seq: 0,
        last_source: 0,
        created_at: 1,
      })
      .execute();
    const line = (seq: number): LogLine => ({ seq, stream: 'stdout', ts: seq, text: `line ${seq}` });
    const batch = (from: number, size: number) =>
      Array.from({ length: Math.min(size, LINES - from + 1) }, (_, i) => line(from + i));
    // Each round sends the batch at the acknowledged point three times, through every node, and one
    // that overlaps it and runs past it; the loser of a race learns of a gap or of lines it already has.
    let acked = 0;
    while (acked < LINES) {
      const from = acked + 1;
      const sends = [
        ...logs.map((log) => log.appendOperationLines(operationId, batch(from, BATCH))),
        logs[0]!.appendOperationLines(operationId, batch(from, BATCH)),
        logs[logs.length - 1]!.appendOperationLines(operationId, batch(from + BATCH / 2, BATCH)),
      ];
      const results = await Promise.allSettled(sends);
      for (const r of results)
        if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'LOG_GAP', String(r.reason));
      const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.ackedSeq] : []));
      assert.ok(answered.length > 0, 'at least the batch at the acknowledged point is taken');
      acked = Math.max(...answered);
      assert.ok(acked >= from + BATCH - 1 || acked === LINES, `round from ${from} acknowledged only up to ${acked}`);
    }
    const rows = await store.db
      .selectFrom('log_chunks')
      .select(['first_seq', 'last_seq', 'lines'])
      .where('operation_id', '=', operationId)
      .orderBy('id')
      .execute();
    const seqs = rows.flatMap((r) => decodeChunk(r.lines).map(([seq]) => seq));
    assert.deepEqual(
      seqs,
      Array.from({ length: LINES }, (_, i) => i + 1),
      'every line once, in order of the rows',
    );
    const op = await store.db
      .selectFrom('operations')
      .select(['acked_seq', 'state'])
      .where('id', '=', operationId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(op, { acked_seq: LINES, state: 'running' });
  } finally {
    await nodeStores.close();
  }
}

test('sqlite: batches sent several times at once and overlapping are stored once each, in order', async () => {
  await appendConcurrently(undefined, 1);
});

test(
  'postgres: batches sent several times at once through two server nodes are stored once each, in order',
  { skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed' },
  async () => {
    await appendConcurrently(await freshPostgresDatabase(), 2);
  },
);
