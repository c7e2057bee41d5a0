import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLongshoreError, type Operation } from '@longshore/protocol';
import { openSnapshot } from '../resources/releases.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import type { Step } from '../resources/processSchema.js';
import { planStep } from './planner.js';

async function plan(store: DeploymentStore, steps: Step[], index = 0) {
  const task = await store.deploy(steps);
  const release = await store.db
    .selectFrom('releases')
    .selectAll()
    .where('id', '=', task.context.releaseId)
    .executeTakeFirstOrThrow();
  const planned = await planStep(store, task.id, openSnapshot(store, release), task.context, index);
  const rows = [...planned.operations];
  return { task, planned, rows, operations: rows.map((r) => store.box.openJson<Operation>(r.payload)) };
}

const valueOf = (op: Operation, name: string) => op.variables.find((v) => v.name === name)?.value;

test('a step without targets is one queued operation on the default pool, its script substituted', async () => {
  const store = await openDeploymentStore();
  try {
    const { task, planned, rows, operations } = await plan(store, [
      { name: 'Hello', script: { body: 'echo #{Longshore.Environment.Name} #{Longshore.Step.Number}' } },
    ]);
    assert.deepEqual([planned.poolId, planned.size, planned.onTargets], [store.defaultPoolId, 1, false]);
    assert.deepEqual(
      rows.map((r) => [r.state, r.pool_id, r.task_id, r.target_id]),
      [['queued', store.defaultPoolId, task.id, null]],
    );
    const [op] = operations;
    assert.equal(op!.script.body, 'echo Test 1');
    assert.equal(valueOf(op!, 'Longshore.Task.Id'), task.id);
    assert.equal(op!.id, rows[0]!.id);
  } finally {
    await store.close();
  }
});

test('a step on target tags is one operation per matching target of the environment; past maxParallelism they wait', async () => {
  const store = await openDeploymentStore();
  try {
    await store.addTarget('web-2', ['web'], { region: 'eu' });
    await store.addTarget('web-1', ['Web']);
    await store.addTarget('db-1', ['db']);
    const { planned, rows, operations } = await plan(store, [
      { name: 'Roll', script: { body: 'echo' }, runOn: { targetTags: ['web'], maxParallelism: 1 } },
    ]);
    assert.deepEqual([planned.size, planned.onTargets], [2, true]);
    assert.deepEqual(
      rows.map((r) => [r.target_name, r.state]),
      [
        ['web-1', 'queued'],
        ['web-2', 'waiting'],
      ],
    );
    assert.ok(rows[0]!.created_at < rows[1]!.created_at, 'earlier targets sort first in the queue');
    assert.equal(valueOf(operations[1]!, 'Longshore.Target.Properties[region]'), 'eu');
  } finally {
    await store.close();
  }
});

test('a step on a named pool plans onto that pool', async () => {
  const store = await openDeploymentStore();
  try {
    const builders = await store.addPool('builders');
    const { planned } = await plan(store, [{ name: 'Build', script: { body: 'make' }, runOn: { pool: builders } }]);
    assert.equal(planned.poolId, builders);
  } finally {
    await store.close();
  }
});

test('a step that cannot be planned throws an error that says why', async () => {
  const store = await openDeploymentStore();
  try {
    await assert.rejects(
      plan(store, [{ name: 'Roll', script: { body: 'echo' }, runOn: { targetTags: ['nowhere'] } }]),
      (e: unknown) =>
        isLongshoreError(e) && e.code === 'NOT_FOUND' && /no deployment target .* nowhere/.test(e.message),
    );
    await assert.rejects(
      plan(store, [{ name: 'Build', script: { body: 'make' }, runOn: { pool: 'pool_gone' } }]),
      (e: unknown) => isLongshoreError(e) && /worker pool 'pool_gone' does not exist/.test(e.message),
    );
  } finally {
    await store.close();
  }
});
