import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerFakeAgent, waitFor } from '../support/agentClient.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

/**
 * What a worker reports can hold any character a script or a pod wrote. PostgreSQL's text keeps
 * no NUL: the server takes the report with U+FFFD in its place, on either store, rather than
 * refuse a result the worker would retry for ever. A user's request with one is refused alike on
 * both stores.
 */
let h: Harness;
before(async () => {
  h = await startHarness({ maxPollWaitMs: 100 });
  const applied = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Test' }],
    projects: [{ name: 'Binary', process: { steps: [{ name: 'Dump', script: { body: 'cat a.bin' } }] } }],
  });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
});
after(() => h?.close());

test('a NUL in a log line, a progress message, a result and an output variable: taken, shown as U+FFFD', async () => {
  const agent = await registerFakeAgent(h, 'nul-reporter', ['default']);
  const deployed = await h.api('POST', '/api/deployments', { project: 'Binary', environment: 'Test' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  const taskId = deployed.body.taskId as string;
  const op = await waitFor('the operation to be leased', async () => (await agent.poll([], 1, 0)).operations[0]);
  const logged = await agent.call('POST', `/api/agent/operations/${op.id}/logs`, {
    lines: [{ seq: 1, stream: 'stdout', ts: Date.now(), text: 'ELF\u0000\u0000header' }],
    progress: { percentage: 50, message: 'half\u0000way' },
  });
  assert.equal(logged.status, 200, JSON.stringify(logged.body));
  const completed = await agent.complete(op.id, {
    message: 'exit\u0000ed',
    outputVariables: [{ name: 'Raw', value: 'a\u0000b', sensitive: false }],
    finalSeq: 1,
  });
  assert.equal(completed.status, 204, JSON.stringify(completed.body));

  const task = await waitFor('the task to end', async () => {
    const t = (await h.api('GET', `/api/tasks/${taskId}`)).body;
    return t.state !== 'queued' && t.state !== 'running' && t;
  });
  assert.equal(task.state, 'succeeded', JSON.stringify(task));
  const texts = ((await h.api('GET', `/api/tasks/${taskId}/log`)).body.lines as { text: string }[]).map((l) => l.text);
  assert.ok(texts.includes('ELF\uFFFD\uFFFDheader'), JSON.stringify(texts));
  assert.ok(
    texts.some((t) => t.startsWith("Step 'Dump'") && t.endsWith('exit\uFFFDed')),
    JSON.stringify(texts),
  );
  assert.ok(!JSON.stringify(texts).includes('\\u0000'), 'no NUL is served back');
});

test("a user's request with a NUL is refused on either store, naming the field, and writes nothing", async () => {
  const res = await h.api('POST', '/api/environments', { name: 'Prod', description: 'a\u0000b' });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, 'VALIDATION_FAILED');
  assert.match(res.body.message, /^body\.description holds a NUL character/);
  assert.equal((await h.api('GET', '/api/environments/Prod')).status, 404);
  const nested = await h.api('POST', '/api/apply', {
    environments: [{ name: 'Ok' }, { name: 'x', description: '\u0000' }],
  });
  assert.equal(nested.status, 400, JSON.stringify(nested.body));
  assert.match(nested.body.message, /^body\.environments\.1\.description holds a NUL/);
});
