import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newOperationId } from '../crypto/tokens.js';
import { openDeploymentStore, type DeploymentStore } from '../testing/deploymentStore.fixture.js';
import { UnservedStepWatch, type UnservedStepFailure } from './unservedStepWatch.js';

interface Setup {
  store: DeploymentStore;
  watch: UnservedStepWatch;
  lines: string[];
  failed: [string, number, string][];
  taskId: string;
  queue(count: number): Promise<void>;
}

async function withWatch(timeoutMs: number, work: (s: Setup) => Promise<void>): Promise<void> {
  const store = await openDeploymentStore();
  const lines: string[] = [];
  const failed: Setup['failed'] = [];
  const steps: UnservedStepFailure = {
    async failUnserved(taskId, stepIndex, message) {
      failed.push([taskId, stepIndex, message]);
    },
  };
  const watch = new UnservedStepWatch({
    db: store.db,
    taskLog: { system: async (_taskId, text) => void lines.push(text) },
    steps,
    log: { error: (obj: { err?: unknown }) => assert.fail(String(obj.err)) },
    offlineAfterMs: 60_000,
    timeoutMs,
    sweepIntervalMs: 60_000,
  });
  const task = await store.deploy([{ name: 'Deploy', script: { body: 'echo' } }]);
  const queue = async (count: number) => {
    const t = Date.now();
    await store.db
      .insertInto('operations')
      .values(
        Array.from({ length: count }, (_, i) => ({
          id: newOperationId(),
          task_id: task.id,
          step_index: 0,
          step_name: 'Deploy',
          target_id: null,
          target_name: `t${i}`,
          pool_id: store.defaultPoolId,
          state: 'queued' as const,
          outcome: null,
          exit_code: null,
          message: null,
          worker_id: null,
          lease_expires_at: null,
          cancel_requested: 0,
          payload: '{}',
          acked_seq: 0,
          last_source: 0,
          progress: null,
          progress_message: null,
          output_variables: null,
          created_at: t + i / 1000,
          queued_at: t,
          leased_at: null,
          started_at: null,
          script_started_at: null,
          script_pod: null,
          finished_at: null,
        })),
      )
      .execute();
  };
  try {
    await work({ store, watch, lines, failed, taskId: task.id, queue });
  } finally {
    watch.stop();
    await store.close();
  }
}

const setWorker = (store: DeploymentStore, id: string, values: Record<string, unknown>) =>
  store.db.updateTable('workers').set(values).where('id', '=', id).execute();

test('a step whose pool has no worker says so once, however many operations wait', async () => {
  await withWatch(60_000, async ({ store, watch, lines, failed, queue }) => {
    await queue(500);
    watch.stepQueued(store.defaultPoolId);
    await watch.sweep();
    await watch.sweep();
    assert.deepEqual(lines, ["No worker in pool 'default'; step 'Deploy' waits up to 60s for one"]);
    assert.deepEqual(failed, []);
  });
});

test('the line names each worker and why, and a new line follows only when the reason changes', async () => {
  await withWatch(60_000, async ({ store, watch, lines, queue }) => {
    const k1 = await store.addWorker('k8s-1', [store.defaultPoolId]);
    const k3 = await store.addWorker('k8s-3', [store.defaultPoolId]);
    await setWorker(store, k1, {
      health: 'unhealthy',
      health_reasons: JSON.stringify(['cannot create pods (pods/create denied in namespace longshore)']),
    });
    await setWorker(store, k3, { disabled: 1 });
    await queue(3);
    await watch.sweep();
    await watch.sweep();
    assert.deepEqual(lines, [
      "No healthy worker in pool 'default': k8s-1 unhealthy — cannot create pods (pods/create denied in namespace longshore); k8s-3 disabled; step 'Deploy' waits up to 60s for one",
    ]);
    await setWorker(store, k1, { offline_at: Date.now() });
    await watch.sweep();
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^No healthy worker in pool 'default': k8s-1 offline; k8s-3 disabled;/);
  });
});

test('a pool with a usable worker says nothing: a healthy one, or one never checked', async () => {
  await withWatch(60_000, async ({ store, watch, lines, queue }) => {
    const w = await store.addWorker('w', [store.defaultPoolId]);
    await queue(2);
    await watch.sweep();
    await setWorker(store, w, { health: 'healthy' });
    await watch.sweep();
    assert.deepEqual(lines, []);
  });
});

test('after the wait the step fails with the reason, once', async () => {
  await withWatch(50, async ({ store, watch, failed, taskId, queue }) => {
    const w = await store.addWorker('w', [store.defaultPoolId]);
    await setWorker(store, w, { health: 'unavailable' });
    await queue(2);
    await watch.sweep();
    assert.deepEqual(failed, []);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await watch.sweep();
    assert.deepEqual(failed, [[taskId, 0, "No healthy worker in pool 'default': w unavailable"]]);
  });
});
