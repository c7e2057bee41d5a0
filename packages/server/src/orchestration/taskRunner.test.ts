import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkSignals } from '../dispatch/workerWakeups.js';
import { TaskLog } from '../logs/taskLog.js';
import type { Step } from '../resources/processSchema.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import type { TaskOwnership } from '../cluster/taskLeases.js';
import { TaskRunner } from './taskRunner.js';

class RecordedSignals implements WorkSignals {
  /** Each notification: the pool and how many operations it was told of. */
  readonly pools: [string, number][] = [];
  readonly workers: string[] = [];
  notifyPool(poolId: string, count: number): void {
    this.pools.push([poolId, count]);
  }
  wakeWorker(workerId: string): void {
    this.workers.push(workerId);
  }
}

async function withRunner(
  work: (runner: TaskRunner, store: DeploymentStore, signals: RecordedSignals, taskLog: TaskLog) => Promise<void>,
  ownership?: TaskOwnership,
): Promise<void> {
  const store = await openDeploymentStore();
  const signals = new RecordedSignals();
  const taskLog = new TaskLog(store.db, store.box);
  const runner = new TaskRunner({
    db: store.db,
    box: store.box,
    log: { error: () => {} },
    taskLog,
    workers: signals,
    ...(ownership && { ownership }),
  });
  try {
    await work(runner, store, signals, taskLog);
  } finally {
    await store.close();
  }
}

const step = (name: string, extra: Partial<Step> = {}): Step => ({ name, script: { body: `echo ${name}` }, ...extra });

const taskRow = (store: DeploymentStore, id: string) =>
  store.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const operationsOf = (store: DeploymentStore, taskId: string) =>
  store.db
    .selectFrom('operations')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('step_index')
    .orderBy('created_at')
    .execute();

async function logText(taskLog: TaskLog, taskId: string): Promise<string> {
  const texts: string[] = [];
  for await (const line of taskLog.page(taskId, 0, { maxLines: 1000, maxBytes: 1024 ** 2 }))
    texts.push((JSON.parse(line) as { text: string }).text);
  return texts.join('\n');
}

const succeed = { outcome: 'succeeded' as const, exitCode: 0, message: '', outputVariables: [] };
const fail = { outcome: 'failed' as const, exitCode: 1, message: 'boom', outputVariables: [] };

test('starting a task runs it from the context it was given and queues its first step', async () => {
  await withRunner(async (runner, store, signals) => {
    const task = await store.deploy([step('First'), step('Second')]);
    // What is stored is not read back: the runner starts from what it was handed.
    await store.db.updateTable('tasks').set({ context: 'unreadable' }).where('id', '=', task.id).execute();
    await runner.start(task);
    const row = await taskRow(store, task.id);
    assert.deepEqual([row.state, row.current_step], ['running', 0]);
    const ops = await operationsOf(store, task.id);
    assert.deepEqual(
      ops.map((o) => [o.step_name, o.state]),
      [['First', 'queued']],
    );
    assert.deepEqual(signals.pools, [[store.defaultPoolId, 1]]);
  });
});

test('each finished step plans the next, and the last one ends the task succeeded', async () => {
  await withRunner(async (runner, store, _signals, taskLog) => {
    const task = await store.deploy([step('First'), step('Second')]);
    await runner.start(task);
    const [first] = await operationsOf(store, task.id);
    await runner.completeOperation(first!.id, succeed);
    const second = (await operationsOf(store, task.id))[1]!;
    assert.deepEqual([second.step_name, second.state], ['Second', 'queued']);
    await runner.completeOperation(second.id, succeed);
    const row = await taskRow(store, task.id);
    assert.deepEqual([row.state, row.failed], ['succeeded', 0]);
    assert.match(await logText(taskLog, task.id), /Deployment succeeded$/);
  });
});

test('after a failed step, steps that run on success are skipped and steps that run on failure run', async () => {
  await withRunner(async (runner, store, _signals, taskLog) => {
    const task = await store.deploy([step('Build'), step('Deploy'), step('Clean up', { condition: 'failure' })]);
    await runner.start(task);
    await runner.completeOperation((await operationsOf(store, task.id))[0]!.id, fail);
    const ops = await operationsOf(store, task.id);
    assert.deepEqual(
      ops.map((o) => [o.step_name, o.state, o.outcome]),
      [
        ['Build', 'finished', 'failed'],
        ['Clean up', 'queued', null],
      ],
    );
    await runner.completeOperation(ops[1]!.id, succeed);
    assert.equal((await taskRow(store, task.id)).state, 'failed');
    assert.match(await logText(taskLog, task.id), /Step 2\/3 'Deploy' skipped/);
  });
});

test("a node that loses the task's lease while it advances writes neither the step's move nor its line", async () => {
  const ownership: TaskOwnership = { hold: async () => true };
  await withRunner(async (runner, store, _signals, taskLog) => {
    const task = await store.deploy([step('Build'), step('Deploy')]);
    await runner.start(task);
    const [build] = await operationsOf(store, task.id);
    // The checks before advancing and in the move past 'Build' pass; the one in the transaction that
    // would skip 'Deploy' finds the lease gone, as when another node took the task over meanwhile.
    let checks = 0;
    ownership.hold = async () => ++checks < 3;
    await runner.completeOperation(build!.id, fail);
    assert.equal(checks, 3, 'checked before advancing, and in each write');
    assert.equal((await taskRow(store, task.id)).current_step, 1);
    assert.doesNotMatch(await logText(taskLog, task.id), /'Deploy' skipped/);
  }, ownership);
});

test('a step that cannot be planned fails like a failed script', async () => {
  await withRunner(async (runner, store, _signals, taskLog) => {
    const task = await store.deploy([step('Build', { runOn: { pool: 'pool_gone' } })]);
    await runner.start(task);
    const row = await taskRow(store, task.id);
    assert.deepEqual([row.state, row.failed], ['failed', 1]);
    assert.match(row.error!, /worker pool 'pool_gone' does not exist/);
    assert.match(await logText(taskLog, task.id), /Step 1\/1 'Build' failed: /);
  });
});

test('past maxParallelism, operations wait and are queued as others finish', async () => {
  await withRunner(async (runner, store, signals) => {
    await store.addTarget('web-1', ['web']);
    await store.addTarget('web-2', ['web']);
    const task = await store.deploy([step('Roll', { runOn: { targetTags: ['web'], maxParallelism: 1 } })]);
    await runner.start(task);
    const [first, second] = await operationsOf(store, task.id);
    assert.deepEqual([first!.state, second!.state], ['queued', 'waiting']);
    await runner.completeOperation(first!.id, succeed);
    assert.equal((await operationsOf(store, task.id))[1]!.state, 'queued');
    assert.deepEqual(
      signals.pools,
      [
        [store.defaultPoolId, 1],
        [store.defaultPoolId, 1],
      ],
      'the pool is told of the released operation',
    );
  });
});

test('the pool is told how many operations were queued: all targets at once, or up to maxParallelism', async () => {
  await withRunner(async (runner, store, signals) => {
    for (const name of ['app-1', 'app-2', 'app-3', 'app-4', 'app-5']) await store.addTarget(name, ['app']);
    await runner.start(await store.deploy([step('All', { runOn: { targetTags: ['app'] } })]));
    await runner.start(await store.deploy([step('Some', { runOn: { targetTags: ['app'], maxParallelism: 2 } })]));
    assert.deepEqual(signals.pools, [
      [store.defaultPoolId, 5],
      [store.defaultPoolId, 2],
    ]);
  });
});

test('cancelling ends what no worker holds and asks the holding worker to stop', async () => {
  await withRunner(async (runner, store, signals) => {
    const workerId = await store.addWorker('w1', [store.defaultPoolId]);
    await store.addTarget('web-1', ['web']);
    await store.addTarget('web-2', ['web']);
    const task = await store.deploy([step('Roll', { runOn: { targetTags: ['web'] } })]);
    await runner.start(task);
    const [held, queued] = await operationsOf(store, task.id);
    await store.db
      .updateTable('operations')
      .set({ state: 'running', worker_id: workerId })
      .where('id', '=', held!.id)
      .execute();
    await runner.cancel(task.id);
    const after = await operationsOf(store, task.id);
    assert.deepEqual(
      after.map((o) => [o.id, o.state, o.outcome, o.cancel_requested]),
      [
        [held!.id, 'running', null, 1],
        [queued!.id, 'finished', 'cancelled', 0],
      ],
    );
    assert.deepEqual(signals.workers, [workerId]);
    assert.equal((await taskRow(store, task.id)).state, 'cancelling');
    await runner.completeOperation(held!.id, { ...succeed, outcome: 'cancelled' });
    assert.equal((await taskRow(store, task.id)).state, 'cancelled');
  });
});

test('resuming reads the stored context of unfinished tasks and fails those that cannot go on', async () => {
  await withRunner(async (runner, store) => {
    const good = await store.deploy([step('Only')]);
    const broken = await store.deploy([step('Only')]);
    await store.db
      .updateTable('tasks')
      .set({ context: store.box.sealJson(null) })
      .where('id', '=', broken.id)
      .execute();
    await runner.resume([good.id, broken.id]);
    assert.equal((await taskRow(store, good.id)).state, 'running');
    const failed = await taskRow(store, broken.id);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error!, /^internal error: /);
  });
});
