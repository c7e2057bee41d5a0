import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent } from '../support/agentClient.js';
import { overwriteOnUpdate, refuseWrites } from '../support/faultTriggers.js';

// A sealed null where a task's context or an operation's output variables belong throws a TypeError
// when read, standing for any failure no check foresees.
const unexpected = (h: Harness) => h.server.ctx.box.sealJson(null);

async function setUp(h: Harness, steps: string[]): Promise<string> {
  await h.api('POST', '/api/environments', { name: 'Test' });
  await h.api('POST', '/api/projects', {
    name: 'P',
    process: { steps: steps.map((name) => ({ name, script: { body: 'echo hi' } })) },
  });
  const deployed = await h.api('POST', '/api/deployments', { project: 'P', environment: 'Test' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  return deployed.body.taskId;
}

const logText = async (h: Harness, id: string) =>
  ((await h.api('GET', `/api/tasks/${id}/log`)).body.lines as { text: string }[]).map((l) => l.text).join('\n');

test('an unforeseen error while advancing fails the task with its message instead of leaving it running', async () => {
  const h = await startHarness();
  try {
    const taskId = await setUp(h, ['First', 'Second']);
    const agent = await registerFakeAgent(h, 'w1');
    const op = (await agent.poll()).operations[0];
    // The store refuses to move the task to its next step, as a full disk or a broken file would.
    await refuseWrites(h.server.ctx.db, {
      name: 'refuse_next_step',
      event: 'UPDATE OF current_step',
      table: 'tasks',
      message: 'disk I/O error',
    });
    const done = await agent.complete(op.id);
    assert.equal(done.status, 204, "the worker's report is accepted; the failure is the task's");

    const t = (await h.api('GET', `/api/tasks/${taskId}`)).body;
    assert.equal(t.state, 'failed');
    assert.equal(t.error, 'internal error: disk I/O error (the server log has the details)');
    assert.ok(t.completedAt);
    const log = await logText(h, taskId);
    assert.match(log, /The deployment cannot continue: internal error: disk I\/O error/);
    assert.match(log, /Deployment failed$/);
  } finally {
    await h.close();
  }
});

test('an unforeseen error while planning a step fails the step and the task with its message', async () => {
  const h = await startHarness();
  try {
    const taskId = await setUp(h, ['First', 'Second']);
    const agent = await registerFakeAgent(h, 'w1');
    const op = (await agent.poll()).operations[0];
    // Planning the next step reads the output variables of the operations that finished.
    await overwriteOnUpdate(h.server.ctx.db, {
      name: 'unreadable_outputs',
      table: 'operations',
      watched: 'state',
      when: "NEW.state = 'finished'",
      column: 'output_variables',
      value: unexpected(h),
    });
    await agent.complete(op.id);

    const t = (await h.api('GET', `/api/tasks/${taskId}`)).body;
    assert.equal(t.state, 'failed');
    assert.match(t.error, /^internal error: .+ \(the server log has the details\)$/);
    assert.match(await logText(h, taskId), /Step 2\/2 'Second' failed: internal error: /);
  } finally {
    await h.close();
  }
});

test('on restart, a task that cannot advance is failed and what it had queued never runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-stuck-'));
  try {
    const first = await startHarness({}, dir);
    const taskId = await setUp(first, ['Only']);
    // No worker: the operation waits in the queue while the server stops.
    await first.server.ctx.db
      .updateTable('tasks')
      .set({ context: unexpected(first) })
      .where('id', '=', taskId)
      .execute();
    await first.close();

    const second = await startHarness({}, dir);
    try {
      const t = (await second.api('GET', `/api/tasks/${taskId}`)).body;
      assert.equal(t.state, 'failed');
      assert.match(t.error, /^internal error: /);
      const op = t.steps[0].operations[0];
      assert.deepEqual([op.state, op.outcome], ['finished', 'cancelled']);
      assert.match(op.message, /Not started: the deployment failed/);
      const agent = await registerFakeAgent(second, 'late');
      assert.deepEqual((await agent.poll()).operations, [], 'a failed task hands out nothing');
      assert.match(await logText(second, taskId), /The deployment cannot continue: internal error: /);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
