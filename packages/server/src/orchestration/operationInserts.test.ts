import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isErrorCode } from '@longshore/protocol';
import { openStore, type Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { MAX_SQL_VARIABLES, insertOperations, rowsPerInsert } from './operationInserts.js';
import type { StepPlan } from './planner.js';

test('an INSERT takes as many rows as the bound-value limit allows, and no more, whatever the column count', () => {
  for (const columns of [1, 7, 23, 40]) {
    const rows = rowsPerInsert(columns);
    assert.ok(rows * columns <= MAX_SQL_VARIABLES, `${rows} rows of ${columns} columns fit`);
    assert.ok((rows + 1) * columns > MAX_SQL_VARIABLES, `${rows + 1} rows of ${columns} columns would not`);
  }
  assert.equal(rowsPerInsert(23), 1424, 'an operation row has 23 columns');
});

let dir: string;
let db: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-inserts-'));
  db = await openStore({ dataDir: dir });
  await db
    .insertInto('worker_pools')
    .values({ id: 'pool-1', name: 'default', description: '', is_default: 1, created_at: 0 })
    .execute();
  await db
    .insertInto('tasks')
    .values({
      id: 'task-1',
      kind: 'deploy',
      description: '',
      state: 'running',
      current_step: 0,
      failed: 0,
      cancel_requested: 0,
      error: null,
      context: '',
      log_seq: 0,
      created_at: 0,
      started_at: 0,
      completed_at: null,
    })
    .execute();
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function plan(size: number, payloadBytes: number): StepPlan {
  function* operations(): Generator<Database['operations']> {
    for (let i = 0; i < size; i++) {
      yield {
        id: `op-${size}-${i}`,
        task_id: 'task-1',
        step_index: size,
        step_name: 'S',
        target_id: null,
        target_name: null,
        pool_id: 'pool-1',
        state: 'waiting',
        outcome: null,
        exit_code: null,
        message: null,
        worker_id: null,
        lease_expires_at: null,
        cancel_requested: 0,
        payload: 'x'.repeat(payloadBytes),
        acked_seq: 0,
        last_source: 0,
        progress: null,
        progress_message: null,
        output_variables: null,
        created_at: i,
        queued_at: null,
        leased_at: null,
        started_at: null,
        script_started_at: null,
        script_pod: null,
        finished_at: null,
      };
    }
  }
  return { poolId: 'pool-1', size, queued: size, onTargets: true, operations: operations() };
}
const stored = async (stepIndex: number) =>
  (
    await db
      .selectFrom('operations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('step_index', '=', stepIndex)
      .executeTakeFirstOrThrow()
  ).n;

test('a plan of thousands of operations is stored whole, in several INSERTs', async () => {
  await insertOperations(db, 'S', plan(5000, 10));
  assert.equal(Number(await stored(5000)), 5000);
});

test('a plan past the byte limit is refused with the step named, and none of it is stored', async () => {
  await assert.rejects(
    insertOperations(db, 'Big', plan(3000, 1000), 2_500_000),
    (e: unknown) =>
      isErrorCode(e, 'PAYLOAD_TOO_LARGE') &&
      /^Step 'Big': its 3000 operations come to more than/.test((e as Error).message),
  );
  assert.equal(Number(await stored(3000)), 0, 'the batches inserted before the limit was reached are rolled back');
});
