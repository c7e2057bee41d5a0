import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationResult, PollRequest } from '@longshore/protocol';
import { newOperationId } from '../crypto/tokens.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import {
  Dispatcher,
  type DispatchObserver,
  type DispatchTimings,
  type OperationCompletion,
  type PollingWorker,
} from './dispatcher.js';
import { WorkerWakeups } from './workerWakeups.js';

const TIMINGS: DispatchTimings = {
  leaseMs: 60_000,
  restartGraceMs: 120_000,
  sweepIntervalMs: 60_000,
  maxPollWaitMs: 5_000,
};

/** Records the operations the dispatcher ends, in place of the task runner. */
class RecordedCompletions implements OperationCompletion {
  readonly results: [string, OperationResult][] = [];
  async completeOperation(operationId: string, result: OperationResult): Promise<void> {
    this.results.push([operationId, result]);
  }
}

interface Setup {
  store: DeploymentStore;
  dispatcher: Dispatcher;
  wakeups: WorkerWakeups;
  completions: RecordedCompletions;
  worker: PollingWorker;
  taskId: string;
  /** Stores an operation of the task in `state`, its payload sealed as the planner seals it. */
  addOperation(
    state: 'queued' | 'leased' | 'running',
    extra?: { poolId?: string; leaseExpiresAt?: number },
  ): Promise<string>;
}

async function withDispatcher(work: (s: Setup) => Promise<void>, observer?: DispatchObserver): Promise<void> {
  const store = await openDeploymentStore();
  const wakeups = new WorkerWakeups();
  const completions = new RecordedCompletions();
  const dispatcher = new Dispatcher({
    db: store.db,
    box: store.box,
    log: { error: () => {} },
    timings: TIMINGS,
    wakeups,
    operations: completions,
    ...(observer ? { observer } : {}),
  });
  const workerId = await store.addWorker('w1', [store.defaultPoolId]);
  const worker: PollingWorker = { id: workerId, name: 'w1', disabled: false, pools: [store.defaultPoolId] };
  const task = await store.deploy([{ name: 'Only', script: { body: 'echo' } }]);
  let created = 0;
  const addOperation: Setup['addOperation'] = async (state, extra = {}) => {
    const id = newOperationId();
    await store.db
      .insertInto('operations')
      .values({
        id,
        task_id: task.id,
        step_index: 0,
        step_name: 'Only',
        target_id: null,
        target_name: null,
        pool_id: extra.poolId ?? store.defaultPoolId,
        state,
        outcome: null,
        exit_code: null,
        message: null,
        worker_id: state === 'queued' ? null : workerId,
        lease_expires_at: state === 'queued' ? null : (extra.leaseExpiresAt ?? Date.now() + TIMINGS.leaseMs),
        cancel_requested: 0,
        payload: store.box.sealJson({ id }),
        acked_seq: 0,
        last_source: 0,
        progress: null,
        progress_message: null,
        output_variables: null,
        created_at: ++created,
        leased_at: null,
        started_at: null,
        script_started_at: null,
        script_pod: null,
        finished_at: null,
      })
      .execute();
    return id;
  };
  try {
    await work({ store, dispatcher, wakeups, completions, worker, taskId: task.id, addOperation });
  } finally {
    dispatcher.stop();
    await store.close();
  }
}

const request = (over: Partial<PollRequest> = {}): PollRequest => ({ running: [], free: 4, waitMs: 0, ...over });
const stateOf = async (store: DeploymentStore, id: string) =>
  store.db
    .selectFrom('operations')
    .select(['state', 'worker_id', 'lease_expires_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

test('a poll leases queued operations of the worker pools, oldest first, up to its free room', async () => {
  await withDispatcher(async ({ store, dispatcher, worker, addOperation }) => {
    const first = await addOperation('queued');
    const second = await addOperation('queued');
    const elsewhere = await addOperation('queued', { poolId: await store.addPool('other') });
    const answer = await dispatcher.poll(worker, request({ free: 1 }), new AbortController().signal);
    assert.deepEqual(
      answer.operations.map((o) => o.id),
      [first],
    );
    assert.deepEqual(await stateOf(store, first).then((r) => [r.state, r.worker_id]), ['leased', worker.id]);
    assert.equal((await stateOf(store, second)).state, 'queued');
    assert.equal((await stateOf(store, elsewhere)).state, 'queued', "another pool's work is not this worker's");
  });
});

test('a disabled worker is given nothing new', async () => {
  await withDispatcher(async ({ dispatcher, worker, addOperation }) => {
    await addOperation('queued');
    const answer = await dispatcher.poll({ ...worker, disabled: true }, request(), new AbortController().signal);
    assert.deepEqual(answer.operations, []);
  });
});

test('a leased operation the worker does not list is sent again; one it runs has its lease renewed', async () => {
  await withDispatcher(async ({ store, dispatcher, worker, addOperation }) => {
    const unacknowledged = await addOperation('leased');
    const running = await addOperation('running', { leaseExpiresAt: Date.now() + 10 });
    const answer = await dispatcher.poll(
      worker,
      request({ running: [running], free: 0 }),
      new AbortController().signal,
    );
    assert.deepEqual(
      answer.operations.map((o) => o.id),
      [unacknowledged],
    );
    assert.ok((await stateOf(store, running)).lease_expires_at! > Date.now() + TIMINGS.leaseMs / 2);
  });
});

test('an operation the worker ran and no longer has is ended as lost; ids it lists that it does not hold are forgotten', async () => {
  await withDispatcher(async ({ dispatcher, worker, completions, addOperation }) => {
    const vanished = await addOperation('running');
    const answer = await dispatcher.poll(worker, request({ running: ['op_unknown'] }), new AbortController().signal);
    assert.deepEqual(answer.forget, ['op_unknown']);
    assert.deepEqual(
      completions.results.map(([id, r]) => [id, r.outcome]),
      [[vanished, 'lost']],
    );
    assert.match(completions.results[0]![1].message, /Worker w1 restarted/);
  });
});

test('a poll answered late does not end as lost what started after it arrived: its list was made before', async () => {
  await withDispatcher(async ({ store, dispatcher, worker, completions, addOperation }) => {
    const arrived = Date.now() - 1_000;
    const startedSince = await addOperation('running');
    await store.db.updateTable('operations').set({ started_at: Date.now() }).where('id', '=', startedSince).execute();
    const answer = await dispatcher.poll(worker, request({ running: [] }), new AbortController().signal, arrived);
    assert.deepEqual(completions.results, [], 'nothing ended');
    assert.deepEqual(answer.operations, []);
    assert.equal((await stateOf(store, startedSince)).state, 'running');
  });
});

test('a waiting poll is woken by work queued in its pool', async () => {
  await withDispatcher(async ({ store, dispatcher, wakeups, worker, addOperation }) => {
    const started = Date.now();
    const polling = dispatcher.poll(worker, request({ waitMs: 4_000 }), new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = await addOperation('queued');
    wakeups.notifyPool(store.defaultPoolId, 1);
    const answer = await polling;
    assert.deepEqual(
      answer.operations.map((o) => o.id),
      [id],
    );
    assert.ok(Date.now() - started < 3_000, 'it answered when woken, not at the end of its wait');
  });
});

test('the sweep ends expired leases as lost and leaves live ones', async () => {
  await withDispatcher(async ({ dispatcher, completions, addOperation }) => {
    const expired = await addOperation('running', { leaseExpiresAt: Date.now() - 1 });
    await addOperation('leased');
    assert.equal(await dispatcher.sweep(), 1);
    assert.deepEqual(
      completions.results.map(([id, r]) => [id, r.outcome]),
      [[expired, 'lost']],
    );
    assert.match(completions.results[0]![1].message, /Worker w1 stopped responding/);
  });
});

test('starting gives every lease the restart grace', async () => {
  await withDispatcher(async ({ store, dispatcher, addOperation }) => {
    const held = await addOperation('running', { leaseExpiresAt: Date.now() - 1 });
    await dispatcher.start();
    assert.ok((await stateOf(store, held)).lease_expires_at! > Date.now() + TIMINGS.leaseMs);
    assert.equal(await dispatcher.sweep(), 0);
  });
});

test('an unhealthy or unavailable worker gets no new operation while a healthy one of the same pool does, and still renews what it holds', async () => {
  await withDispatcher(async ({ store, dispatcher, worker, addOperation }) => {
    const held = await addOperation('running', { leaseExpiresAt: Date.now() + 10 });
    const queued = await addOperation('queued');
    for (const health of ['unhealthy', 'unavailable'] as const) {
      await store.db.updateTable('workers').set({ health }).where('id', '=', worker.id).execute();
      const answer = await dispatcher.poll(worker, request({ running: [held] }), new AbortController().signal);
      assert.deepEqual(answer.operations, [], `an ${health} worker is given nothing new`);
      assert.ok((await stateOf(store, held)).lease_expires_at! > Date.now() + TIMINGS.leaseMs / 2);
    }
    const healthyId = await store.addWorker('w2', [store.defaultPoolId]);
    await store.db.updateTable('workers').set({ health: 'healthy' }).where('id', '=', healthyId).execute();
    const healthy: PollingWorker = { id: healthyId, name: 'w2', disabled: false, pools: [store.defaultPoolId] };
    const answer = await dispatcher.poll(healthy, request(), new AbortController().signal);
    assert.deepEqual(
      answer.operations.map((o) => o.id),
      [queued],
    );
  });
});

test('a poll clears the offline mark a clean stop left, and reports how long leased operations waited', async () => {
  const waits: number[] = [];
  await withDispatcher(
    async ({ store, dispatcher, worker, addOperation }) => {
      await store.db.updateTable('workers').set({ offline_at: Date.now() }).where('id', '=', worker.id).execute();
      await addOperation('queued');
      const answer = await dispatcher.poll(worker, request(), new AbortController().signal);
      assert.equal(answer.operations.length, 1);
      const row = await store.db
        .selectFrom('workers')
        .select('offline_at')
        .where('id', '=', worker.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.offline_at, null);
      assert.equal(waits.length, 1);
      assert.ok(waits[0]! > 0, 'the fixture queued it at an early time');
    },
    { operationsLeased: (w) => waits.push(...w) },
  );
});

test('a woken poll whose worker turned unusable while it waited hands the operation on to the next waiting worker at once', async () => {
  await withDispatcher(async ({ store, dispatcher, wakeups, worker, addOperation }) => {
    const otherId = await store.addWorker('w2', [store.defaultPoolId]);
    const other: PollingWorker = { id: otherId, name: 'w2', disabled: false, pools: [store.defaultPoolId] };
    const started = Date.now();
    const first = dispatcher.poll(worker, request({ waitMs: 4_000 }), new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = dispatcher.poll(other, request({ waitMs: 4_000 }), new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // A health check failed while the first poll waited; the notification still picks it, as it waited longest.
    await store.db.updateTable('workers').set({ health: 'unhealthy' }).where('id', '=', worker.id).execute();
    const id = await addOperation('queued');
    wakeups.notifyPool(store.defaultPoolId, 1);
    assert.deepEqual((await first).operations, []);
    assert.deepEqual(
      (await second).operations.map((o) => o.id),
      [id],
    );
    assert.ok(
      Date.now() - started < 3_000,
      'the second worker got it when the first passed, not at the end of its wait',
    );
  });
});
