import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
  await h.api('POST', '/api/environments', { name: 'Test' });
});
after(() => h.close());

const task = async (id: string) => (await h.api('GET', `/api/tasks/${id}`)).body;
const logText = async (id: string) =>
  ((await h.api('GET', `/api/tasks/${id}/log`)).body.lines as { text: string }[]).map((l) => l.text).join('\n');

/** Creates a project with one step that echoes `script`, deploys it to Test and answers the task id. */
async function deployProject(
  name: string,
  script: string,
  variables: { name: string; value: string }[],
  runOn?: object,
): Promise<string> {
  const created = await h.api('POST', '/api/projects', {
    name,
    process: {
      steps: [
        { name: 'Use', script: { body: script }, ...(runOn ? { runOn } : {}) },
        { name: 'Clean up', condition: 'always', script: { body: 'true' } },
      ],
    },
    variables,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const deployed = await h.api('POST', '/api/deployments', { project: name, environment: 'Test' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  return deployed.body.taskId;
}

test('a chain of 4,000 variable references fails the step with an error naming the variable', async () => {
  const variables = Array.from({ length: 4000 }, (_, i) => ({
    name: `Link${i}`,
    value: i === 3999 ? 'end' : `#{Link${i + 1}}`,
  }));
  const taskId = await deployProject('Long chain', 'echo #{Link0}', variables);
  const t = await task(taskId);
  assert.equal(t.state, 'failed');
  assert.deepEqual(t.steps, [], 'no operation was planned');
  const log = await logText(taskId);
  assert.match(
    log,
    /Step 1\/2 'Use' failed: Variable 'Link64' is nested more than 64 references deep \('the script of step 'Use'' -> 'Link0' -> 'Link1' -> \.\.\. 60 more \.\.\./,
  );
  // Every operation carries every variable, so the clean-up step cannot be planned either; it is tried and fails the same way.
  assert.match(log, /Step 2\/2 'Clean up' failed: Variable 'Link\d+' is nested more than 64 references deep/);
  assert.match(t.error, /Variable 'Link\d+' is nested more than 64 references deep/);
});

test('26 levels of doubling references fail the step with an error naming the variable', async () => {
  const variables = Array.from({ length: 27 }, (_, i) => ({
    name: `D${i}`,
    value: i === 26 ? 'xxxxxxxx' : `#{D${i + 1}}#{D${i + 1}}`,
  }));
  const taskId = await deployProject('Doubling', 'echo #{D0}', variables);
  const t = await task(taskId);
  assert.equal(t.state, 'failed');
  assert.match(t.error, /^Variable 'D\d+' expands to more than 4 MiB \(it takes in 'D\d+', \d+ characters\)/);
  assert.match(await logText(taskId), /Step 1\/2 'Use' failed: Variable 'D\d+' expands to more than 4 MiB/);
});

test('a step on more targets than one INSERT can bind is planned whole', async () => {
  const count = 2000; // 23 values a row: one INSERT of 1,425 or more rows passed SQLite's 32,766
  for (let first = 0; first < count; first += 1000) {
    const targets = Array.from({ length: 1000 }, (_, i) => ({
      name: `many-${first + i}`,
      type: 'generic',
      environments: ['Test'],
      tags: ['many'],
    }));
    assert.equal((await h.api('POST', '/api/apply', { targets })).status, 200);
  }
  const taskId = await deployProject('Many targets', 'echo ok', [], { targetTags: ['many'], maxParallelism: 25 });
  const t = await task(taskId);
  assert.equal(t.state, 'running');
  assert.equal(t.error, null);
  const operations = t.steps[0].operations as { state: string; target: string }[];
  assert.equal(operations.length, count);
  assert.equal(operations.filter((o) => o.state === 'queued').length, 25, 'maxParallelism queues the first 25');
  assert.equal(operations.filter((o) => o.state === 'waiting').length, count - 25);
  assert.match(await logText(taskId), new RegExp(`Step 1/2 'Use' started on ${count} targets`));
  await h.api('POST', `/api/tasks/${taskId}/cancel`);
});
