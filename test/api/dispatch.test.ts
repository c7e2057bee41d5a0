import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent, waitFor } from '../support/agentClient.js';

let h: Harness;
before(async () => {
  h = await startHarness({ leaseMs: 1500, maxPollWaitMs: 500, sweepIntervalMs: 200 });
  await h.api('POST', '/api/environments', { name: 'Test' });
  await h.api('POST', '/api/projects', {
    name: 'P',
    process: { steps: [{ name: 'Only', script: { body: 'echo hi' } }] },
  });
});
after(() => h.close());

const deploy = async () =>
  (await h.api('POST', '/api/deployments', { project: 'P', environment: 'Test' })).body.taskId as string;
const task = async (id: string) => (await h.api('GET', `/api/tasks/${id}`)).body;

test('a second worker never gets an operation the first holds, and a lost answer is re-sent to the holder', async () => {
  const w1 = await registerFakeAgent(h, 'excl-1');
  const w2 = await registerFakeAgent(h, 'excl-2');
  const taskId = await deploy();
  const first = await w1.poll();
  assert.equal(first.operations.length, 1);
  const opId = first.operations[0].id;
  assert.deepEqual((await w2.poll()).operations, []);
  // w1 "lost" the answer: it polls again without listing the operation, and gets it again.
  const again = await w1.poll([]);
  assert.deepEqual(
    again.operations.map((o: any) => o.id),
    [opId],
  );
  assert.deepEqual((await w2.poll()).operations, []);
  await w1.call('POST', `/api/agent/operations/${opId}/logs`, {
    lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'hi' }],
  });
  assert.equal(
    (
      await w2.call('POST', `/api/agent/operations/${opId}/complete`, {
        outcome: 'succeeded',
        exitCode: 0,
        message: '',
        outputVariables: [],
        finalSeq: 1,
      })
    ).status,
    409,
  );
  assert.equal(
    (
      await w1.call('POST', `/api/agent/operations/${opId}/complete`, {
        outcome: 'succeeded',
        exitCode: 0,
        message: '',
        outputVariables: [],
        finalSeq: 1,
      })
    ).status,
    204,
  );
  // Completing twice is harmless.
  assert.equal(
    (
      await w1.call('POST', `/api/agent/operations/${opId}/complete`, {
        outcome: 'failed',
        exitCode: 1,
        message: '',
        outputVariables: [],
        finalSeq: 1,
      })
    ).status,
    204,
  );
  assert.equal((await task(taskId)).state, 'succeeded');
});

test('log lines are stored once by (operation, seq) and gaps are refused', async () => {
  const w = await registerFakeAgent(h, 'logs-1');
  const taskId = await deploy();
  const op = (await w.poll()).operations[0];
  const line = (seq: number) => ({ seq, stream: 'stdout', ts: Date.now(), text: `line ${seq}` });
  const send = (seqs: number[]) => w.call('POST', `/api/agent/operations/${op.id}/logs`, { lines: seqs.map(line) });
  assert.equal((await send([1, 2, 3])).body.ackedSeq, 3);
  assert.equal((await send([2, 3, 4])).body.ackedSeq, 4, 'overlap: only 4 is new');
  const gap = await send([7, 8]);
  assert.equal(gap.status, 409);
  assert.equal(gap.body.code, 'LOG_GAP');
  assert.equal(gap.body.details.expectedSeq, 5);
  assert.equal((await send([1, 3])).status, 400, 'a batch must be contiguous');
  const early = await w.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: '',
    outputVariables: [],
    finalSeq: 6,
  });
  assert.equal(early.body.code, 'LOG_GAP', 'cannot complete before all lines are stored');
  await w.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: '',
    outputVariables: [],
    finalSeq: 4,
  });
  const log = (await h.api('GET', `/api/tasks/${taskId}/log`)).body.lines.filter((l: any) => l.operationId === op.id);
  assert.deepEqual(
    log.map((l: any) => l.seq),
    [1, 2, 3, 4],
  );
});

test('an operation whose worker stops polling is marked lost, not run again', async () => {
  const w = await registerFakeAgent(h, 'lost-1');
  const other = await registerFakeAgent(h, 'lost-2');
  const taskId = await deploy();
  const op = (await w.poll()).operations[0];
  await w.call('POST', `/api/agent/operations/${op.id}/logs`, {
    lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'x' }],
  });
  const done = await waitFor('the task to fail', async () => {
    const t = await task(taskId);
    return t.state === 'failed' && t;
  });
  const outcome = done.steps[0].operations[0];
  assert.equal(outcome.outcome, 'lost');
  assert.match(outcome.message, /lost-1 stopped responding/);
  assert.deepEqual((await other.poll()).operations, []);
});

test('a worker that restarts without its running operation loses it at once', async () => {
  const w = await registerFakeAgent(h, 'restart-1');
  const taskId = await deploy();
  const op = (await w.poll()).operations[0];
  await w.call('POST', `/api/agent/operations/${op.id}/logs`, {
    lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'x' }],
  });
  const next = await w.poll([]);
  assert.deepEqual(next.operations, []);
  const t = await task(taskId);
  assert.equal(t.steps[0].operations[0].outcome, 'lost');
  assert.match(t.steps[0].operations[0].message, /restarted/);
});

test('cancel reaches the worker holding the operation', async () => {
  const w = await registerFakeAgent(h, 'cancel-1');
  const taskId = await deploy();
  const op = (await w.poll()).operations[0];
  const polling = w.poll([op.id], 9, 5000);
  assert.equal((await h.api('POST', `/api/tasks/${taskId}/cancel`)).status, 202);
  const answer = await polling;
  assert.deepEqual(answer.cancel, [op.id]);
  await w.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'cancelled',
    message: 'stopped',
    outputVariables: [],
    finalSeq: 0,
  });
  assert.equal((await task(taskId)).state, 'cancelled');
  assert.equal((await h.api('POST', `/api/tasks/${taskId}/cancel`)).status, 409);
});

test('a registration token works once', async () => {
  const token = (await h.api('POST', '/api/registration-tokens', {})).body.token;
  const register = (name: string) =>
    fetch(h.url + '/api/agent/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, name, executor: 'local', version: '1', capacity: 1 }),
    });
  assert.equal((await register('once-1')).status, 201);
  const second = await register('once-2');
  assert.equal(second.status, 401);
  assert.match(((await second.json()) as any).message, /already used/);
});

test('an expired registration token is refused with the time it expired', async () => {
  const token = (await h.api('POST', '/api/registration-tokens', { expiresInMinutes: 1 })).body.token;
  await h.server.ctx.db
    .updateTable('registration_tokens')
    .set({ expires_at: Date.now() - 1000 })
    .where('used_at', 'is', null)
    .execute();
  const res = await fetch(h.url + '/api/agent/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, name: 'late', executor: 'local', version: '1', capacity: 1 }),
  });
  assert.equal(res.status, 401);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, 'REGISTRATION_TOKEN_INVALID');
  assert.match(body.message, /expired at/);
});
