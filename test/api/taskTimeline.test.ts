// What a task's page draws its timeline and output variables from: when each operation was
// queued, leased, began its script and ended, in which pod; the worker's word for when its script
// began counts once and cannot fall before the lease or after now; sensitive outputs stay hidden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent } from '../support/agentClient.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

test("a task's operations carry their timeline, script pod and output variables, sensitive values hidden", async () => {
  await h.api('POST', '/api/apply', {
    environments: [{ name: 'Timed' }],
    projects: [{ name: 'Timed', process: { steps: [{ name: 'Run', script: { body: 'true' } }] } }],
  });
  const before = Date.now();
  const taskId = (await h.api('POST', '/api/deployments', { project: 'Timed', environment: 'Timed' })).body.taskId;
  const agent = await registerFakeAgent(h, 'timed');
  const [op] = (await agent.poll()).operations;
  const logs = (body: object) => agent.call('POST', `/api/agent/operations/${op.id}/logs`, body);
  const operation = async () => (await h.api('GET', `/api/tasks/${taskId}`)).body.steps[0].operations[0];

  const leased = await operation();
  assert.ok(Date.parse(leased.queuedAt) >= before && Date.parse(leased.leasedAt) >= Date.parse(leased.queuedAt));
  assert.equal(leased.scriptStartedAt, null);
  assert.equal(leased.scriptPod, null);

  const pod = await logs({
    lines: [{ seq: 1, stream: 'system', ts: Date.now(), text: 'Waiting for a node' }],
    scriptPod: 'longshore-script-x',
  });
  assert.equal(pod.status, 200, JSON.stringify(pod.body));
  assert.equal((await operation()).scriptPod, 'longshore-script-x');

  // A clock behind the server's (or a kubelet's, to the second) would put the start before the lease.
  assert.equal((await logs({ lines: [], scriptStartedAt: 1000 })).status, 200);
  const started = await operation();
  assert.equal(started.scriptStartedAt, started.leasedAt, 'clamped to the lease');
  assert.equal((await logs({ lines: [], scriptStartedAt: Date.now() + 60_000 })).status, 200);
  assert.equal((await operation()).scriptStartedAt, started.scriptStartedAt, 'the first report counts');

  const bad = await logs({ lines: [], scriptStartedAt: -5 });
  assert.equal(bad.status, 400);

  const done = await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: '',
    outputVariables: [
      { name: 'Url', value: 'https://shop.example', sensitive: false },
      { name: 'Token', value: 'tok-s3cret-value', sensitive: true },
    ],
    finalSeq: 1,
  });
  assert.equal(done.status, 204);
  const task = await h.api('GET', `/api/tasks/${taskId}`);
  const ended = task.body.steps[0].operations[0];
  assert.ok(Date.parse(ended.finishedAt) >= Date.parse(ended.scriptStartedAt));
  assert.deepEqual(ended.outputVariables, [
    { name: 'Url', value: 'https://shop.example', sensitive: false },
    { name: 'Token', value: null, sensitive: true },
  ]);
  assert.ok(!JSON.stringify(task.body).includes('tok-s3cret-value'), 'a sensitive output never leaves the server');
});

test('a worker that reported its script started, even without a line, is never handed that operation again', async () => {
  await h.api('POST', '/api/apply', {
    environments: [{ name: 'Once' }],
    projects: [{ name: 'Once', process: { steps: [{ name: 'Run', script: { body: 'true' } }] } }],
  });
  const taskId = (await h.api('POST', '/api/deployments', { project: 'Once', environment: 'Once' })).body.taskId;
  const agent = await registerFakeAgent(h, 'once');
  const [op] = (await agent.poll()).operations;
  const started = await agent.call('POST', `/api/agent/operations/${op.id}/logs`, {
    lines: [],
    scriptStartedAt: Date.now(),
  });
  assert.equal(started.status, 200);
  // The worker restarts and polls knowing of nothing running: its script may still run, so no second run.
  const again = await agent.poll([], 10, 0);
  assert.deepEqual(again.operations, []);
  const task = (await h.api('GET', `/api/tasks/${taskId}`)).body;
  assert.notEqual(task.steps[0].operations[0].state, 'leased');
});
