// What the API says of a worker for the portal's infrastructure page, with a hand-driven worker:
// the operations it holds (task, step, target) and the task of the check that set its health; and
// of its pool, the capacity the usable workers have and what of it is free.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
let agent: FakeAgent;
before(async () => {
  h = await startHarness({ leaseMs: 600_000, maxPollWaitMs: 200, workerOfflineAfterMs: 600_000 });
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Test' }],
    workerPools: [{ name: 'Viewed' }],
    targets: [{ name: 'box-1', type: 'generic', environments: ['Test'], tags: ['viewed'] }],
    projects: [
      {
        name: 'Held',
        process: {
          steps: [{ name: 'Hold', runOn: { pool: 'Viewed', targetTags: ['viewed'] }, script: { body: 'x' } }],
        },
      },
    ],
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  agent = await registerFakeAgent(h, 'viewed-worker', ['Viewed']);
});
after(() => h?.close());

const worker = async () => (await h.api('GET', '/api/workers/viewed-worker')).body;
const pool = async () =>
  (await h.api('GET', '/api/pool-statistics')).body.items.find((p: { pool: string }) => p.pool === 'Viewed');

test('a worker lists the operations it holds with their task, step and target; its pool counts the capacity they use', async () => {
  assert.deepEqual((await worker()).runningOperations, []);
  assert.deepEqual(
    { capacity: (await pool()).capacity, free: (await pool()).freeCapacity },
    { capacity: 10, free: 10 },
    'the fake agent registers with capacity 10',
  );

  const deployment = await h.api('POST', '/api/deployments', { project: 'Held', environment: 'Test' });
  assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
  const [op] = (await agent.poll([], 10, 5_000)).operations;
  assert.ok(op, 'the worker got the operation');
  const leased = await worker();
  assert.equal(leased.running, 1);
  assert.deepEqual(leased.runningOperations, [
    {
      id: op.id,
      taskId: deployment.body.taskId,
      task: (await h.api('GET', `/api/tasks/${deployment.body.taskId}`)).body.description,
      step: 'Hold',
      target: 'box-1',
      state: 'leased',
      startedAt: null,
    },
  ]);
  assert.equal((await pool()).freeCapacity, 9);

  // Its first log line says it started.
  await agent.call('POST', `/api/agent/operations/${op.id}/logs`, {
    lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'holding' }],
  });
  const running = (await worker()).runningOperations[0];
  assert.equal(running.state, 'running');
  assert.ok(running.startedAt, 'a running operation has its start');

  assert.equal((await agent.complete(op.id, { finalSeq: 1 })).status, 204);
  assert.deepEqual((await worker()).runningOperations, []);
  assert.equal((await pool()).freeCapacity, 10);
});

test("a worker names the task of the check that set its health, whose log has the check's findings", async () => {
  assert.equal((await worker()).lastHealthCheckTaskId, null, 'never checked');
  const { checkId, taskId } = (await h.api('POST', '/api/workers/viewed-worker/health-checks')).body;
  await agent.poll([], 10, 5_000);
  const report = {
    checks: [{ name: 'pending script pods', ok: true, detail: '1 pending: p-1 (12 s): Waiting for a node' }],
    facts: { pendingScriptPods: '1' },
  };
  assert.equal((await agent.call('POST', `/api/agent/health-checks/${checkId}`, report)).status, 204);
  const checked = await worker();
  assert.equal(checked.lastHealthCheckTaskId, taskId);
  assert.equal(checked.healthFacts.pendingScriptPods, '1');
  const log = (await h.api('GET', `/api/tasks/${taskId}/log?after=0`)).body.lines.map((l: { text: string }) => l.text);
  assert.ok(log.includes('ok pending script pods: 1 pending: p-1 (12 s): Waiting for a node'), log.join('\n'));

  // A check under way does not move it: the link is to the finding shown.
  await h.api('POST', '/api/workers/viewed-worker/health-checks');
  assert.equal((await worker()).lastHealthCheckTaskId, taskId);
});

test('a disabled worker adds nothing to its pool’s capacity', async () => {
  await h.api('POST', '/api/workers/viewed-worker/disable');
  assert.deepEqual({ capacity: (await pool()).capacity, free: (await pool()).freeCapacity }, { capacity: 0, free: 0 });
  await h.api('POST', '/api/workers/viewed-worker/enable');
  assert.equal((await pool()).capacity, 10);
});
