import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLine } from '@longshore/protocol';
import { freshPostgresDatabase } from '../../../../test/support/postgres.js';
import { Dispatcher, type PollingWorker } from '../dispatch/dispatcher.js';
import { WorkerWakeups } from '../dispatch/workerWakeups.js';
import { TaskLog } from '../logs/taskLog.js';
import { TaskRunner } from '../orchestration/taskRunner.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import { openStore, type Store } from './database.js';

const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
const TARGETS = 24;
const WORKERS = 6;
const BATCHES = 4;
const LINES_PER_BATCH = 5;

interface Node {
  taskLog: TaskLog;
  runner: TaskRunner;
  dispatcher: Dispatcher;
}

/** A server node on its own connection pool: its task log, task runner and dispatcher. */
function node(db: Store, store: DeploymentStore, errors: unknown[]): Node {
  const log = { error: (fields: unknown) => errors.push(fields) };
  const wakeups = new WorkerWakeups();
  const taskLog = new TaskLog(db, store.box);
  const runner = new TaskRunner({ db, box: store.box, log, taskLog, workers: wakeups });
  const dispatcher = new Dispatcher({
    db,
    box: store.box,
    log,
    timings: { leaseMs: 60_000, restartGraceMs: 60_000, sweepIntervalMs: 60_000, maxPollWaitMs: 1_000 },
    wakeups,
    operations: runner,
  });
  return { taskLog, runner, dispatcher };
}

const batch = (b: number): LogLine[] =>
  Array.from({ length: LINES_PER_BATCH }, (_, i) => ({
    seq: b * LINES_PER_BATCH + i + 1,
    stream: 'stdout' as const,
    ts: Date.now(),
    text: `line ${b * LINES_PER_BATCH + i + 1}`,
  }));

/**
 * Two server nodes on one PostgreSQL database, all at once on one task: workers' log batches (each
 * sent to both nodes, as a retry racing its original), system lines, completions, lease renewals,
 * waiting operations released, and cancels from both nodes. Every writer takes its row locks in the
 * order lockOrder.ts sets, so none of this may end in a deadlock (or any other error), and every
 * operation's log is there once, in order.
 */
test(
  'postgres: log appends, completions, renewals and cancels of one task from two nodes at once never deadlock',
  { skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed' },
  async () => {
    const database = await freshPostgresDatabase();
    const store = await openDeploymentStore(database);
    const dataDir = mkdtempSync(join(tmpdir(), 'longshore-node-'));
    const second = await openStore({ dataDir, database });
    const errors: unknown[] = [];
    const nodes = [node(store.db, store, errors), node(second, store, errors)] as const;
    const record = (work: Promise<unknown>) => work.catch((error: unknown) => errors.push(error));
    try {
      for (let t = 0; t < TARGETS; t++) await store.addTarget(`web-${t}`, ['web']);
      const task = await store.deploy([
        { name: 'Roll', script: { body: 'echo' }, runOn: { targetTags: ['web'], maxParallelism: TARGETS / 2 } },
      ]);
      await nodes[0].runner.start(task);
      const workers: PollingWorker[] = [];
      for (let w = 0; w < WORKERS; w++)
        workers.push({
          id: await store.addWorker(`w${w}`, [store.defaultPoolId]),
          name: `w${w}`,
          disabled: false,
          pools: [store.defaultPoolId],
        });

      const work: Promise<unknown>[] = [];
      let cancelled = false;
      await Promise.all(
        workers.map(async (worker, w) => {
          const held: string[] = [];
          for (let round = 0; round < 6; round++) {
            const answer = await nodes[w % 2]!.dispatcher.poll(
              worker,
              { running: held, free: 4, waitMs: 0 },
              new AbortController().signal,
            );
            for (const op of answer.operations) {
              held.push(op.id);
              work.push(
                record(
                  (async () => {
                    for (let b = 0; b < BATCHES; b++)
                      await Promise.all(nodes.map((n) => n.taskLog.appendOperationLines(op.id, batch(b))));
                    await Promise.all(
                      nodes.map((n) =>
                        n.runner.completeOperation(op.id, {
                          outcome: 'succeeded',
                          exitCode: 0,
                          message: '',
                          outputVariables: [],
                        }),
                      ),
                    );
                  })(),
                ),
              );
            }
            work.push(record(nodes[(w + 1) % 2]!.taskLog.system(task.id, `worker ${w} polled`)));
            if (w === 0 && round === 2 && !cancelled) {
              cancelled = true;
              work.push(...nodes.map((n) => record(n.runner.cancel(task.id))));
            }
            await new Promise((r) => setTimeout(r, 5));
          }
        }),
      );
      await Promise.all(work);

      const deadlocks = errors.filter((e) => JSON.stringify(e, Object.getOwnPropertyNames(e)).includes('40P01'));
      assert.deepEqual(deadlocks, [], 'no deadlock');
      assert.deepEqual(errors, [], 'nothing failed');
      const ops = await store.db
        .selectFrom('operations')
        .select(['id', 'state', 'acked_seq'])
        .where('task_id', '=', task.id)
        .execute();
      assert.equal(ops.length, TARGETS);
      for (const op of ops) {
        const chunks = await store.db
          .selectFrom('log_chunks')
          .select(['first_seq', 'last_seq'])
          .where('operation_id', '=', op.id)
          .orderBy('id')
          .execute();
        let next = 1;
        for (const c of chunks) {
          assert.equal(c.first_seq, next, `operation ${op.id}: its log continues where it stood, once`);
          next = c.last_seq + 1;
        }
        assert.equal(next - 1, op.acked_seq);
      }
      assert.ok(
        ops.every((o) => o.state === 'finished' || o.state === 'leased' || o.state === 'running'),
        'nothing is left queued or waiting once the task is cancelled',
      );
      assert.ok(
        ops.some((o) => o.acked_seq === BATCHES * LINES_PER_BATCH),
        'logs were written',
      );
    } finally {
      for (const n of nodes) n.dispatcher.stop();
      await second.destroy();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
