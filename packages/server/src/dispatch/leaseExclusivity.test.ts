import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { freshPostgresDatabase } from '../../../../test/support/postgres.js';
import { newOperationId } from '../crypto/tokens.js';
import { openNodeStores } from '../testing/deploymentStore.fixture.js';
import { Dispatcher, type PollingWorker } from './dispatcher.js';
import { WorkerWakeups } from './workerWakeups.js';

const OPERATIONS = 200;
const WORKERS = 40;
const SLOTS = 3;
const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');

/**
 * Dispatch exclusivity: many workers polling at once, through one dispatcher on SQLite and through
 * two dispatchers on two connection pools (two server nodes) on PostgreSQL: every operation is
 * handed to exactly one worker, and the store says it is that worker's.
 */
async function leaseConcurrently(database: string | undefined, nodes: number): Promise<void> {
  const nodeStores = await openNodeStores(database, nodes);
  const { store } = nodeStores;
  const dispatchers = nodeStores.dbs.map(
    (db) =>
      new Dispatcher({
        db,
        box: store.box,
        log: { error: () => {} },
        timings: { leaseMs: 60_000, restartGraceMs: 60_000, sweepIntervalMs: 60_000, maxPollWaitMs: 1_000 },
        wakeups: new WorkerWakeups(),
        operations: { completeOperation: async () => {} },
      }),
  );
  try {
    const task = await store.deploy([{ name: 'Only', script: { body: 'echo' } }]);
    const ids = Array.from({ length: OPERATIONS }, () => newOperationId());
    await store.db
      .insertInto('operations')
      .values(
        ids.map((id, i) => ({
          id,
          task_id: task.id,
          step_index: 0,
          step_name: 'Only',
          pool_id: store.defaultPoolId,
          state: 'queued',
          cancel_requested: 0,
          payload: store.box.sealJson({ id }),
          acked_seq: 0,
          last_source: 0,
          created_at: i + 1,
        })),
      )
      .execute();
    const workers: PollingWorker[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const name = `w${w}`;
      workers.push({
        id: await store.addWorker(name, [store.defaultPoolId]),
        name,
        disabled: false,
        pools: [store.defaultPoolId],
      });
    }
    const handedTo = new Map<string, string[]>();
    await Promise.all(
      workers.map(async (worker, w) => {
        const dispatcher = dispatchers[w % dispatchers.length]!;
        const held: string[] = [];
        for (let idle = 0; idle < 2;) {
          const answer = await dispatcher.poll(
            worker,
            { running: held, free: SLOTS, waitMs: 0 },
            new AbortController().signal,
          );
          const fresh = answer.operations.map((o) => o.id).filter((id) => !held.includes(id));
          for (const id of fresh) handedTo.set(id, [...(handedTo.get(id) ?? []), worker.id]);
          held.push(...fresh);
          idle = fresh.length ? 0 : idle + 1;
        }
      }),
    );
    const twice = [...handedTo].filter(([, to]) => to.length > 1);
    assert.deepEqual(twice, [], 'no operation is handed to two workers');
    assert.equal(handedTo.size, OPERATIONS, 'every operation is handed out');
    const rows = await store.db.selectFrom('operations').select(['id', 'state', 'worker_id']).execute();
    for (const row of rows) {
      assert.equal(row.state, 'leased');
      assert.deepEqual([row.worker_id], handedTo.get(row.id), `the store gives ${row.id} to the worker that got it`);
    }
  } finally {
    for (const d of dispatchers) d.stop();
    await nodeStores.close();
  }
}

test('sqlite: 40 workers polling at once lease 200 operations, each exactly once', async () => {
  await leaseConcurrently(undefined, 1);
});

test(
  'postgres: 40 workers polling two server nodes at once lease 200 operations, each exactly once',
  {
    skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed',
  },
  async () => {
    await leaseConcurrently(await freshPostgresDatabase(), 2);
  },
);
