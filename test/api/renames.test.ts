import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';

let h: Harness;
before(async () => {
  h = await startHarness({ maxPollWaitMs: 100 });
});
after(() => h.close());

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const res = await h.api(method, path, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Takes the deployment's one operation, checks it, and completes it so the task succeeds. */
async function runOne(agent: FakeAgent, taskId: string): Promise<any> {
  const op = await waitFor('the operation reaches the renamed pool', async () => (await agent.poll()).operations[0]);
  assert.equal(op.taskId, taskId);
  const done = await agent.call('POST', `/api/agent/operations/${op.id}/complete`, {
    outcome: 'succeeded',
    exitCode: 0,
    message: '',
    outputVariables: [],
    finalSeq: 0,
  });
  assert.equal(done.status, 204, JSON.stringify(done.body));
  await waitFor(
    'the task succeeds',
    async () => (await h.api('GET', `/api/tasks/${taskId}`)).body.state === 'succeeded',
  );
  return op;
}

const variable = (op: any, name: string) => op.variables.find((v: { name: string }) => v.name === name)?.value;

test('renaming an environment, a worker pool and a target orphans nothing: deploying to the new name finds the targets and runs on the renamed pool', async () => {
  await ok('POST', '/api/environments', { name: 'Staging' });
  await ok('POST', '/api/environments', { name: 'Elsewhere' });
  await ok('POST', '/api/worker-pools', { name: 'Builders' });
  await ok('POST', '/api/targets', { name: 'web-1', type: 'generic', environments: ['Staging'], tags: ['web'] });
  await ok('POST', '/api/targets', { name: 'web-far', type: 'generic', environments: ['Elsewhere'], tags: ['web'] });
  await ok('POST', '/api/projects', {
    name: 'Shop',
    process: {
      steps: [
        { name: 'Deploy', script: { body: 'echo #{Greeting}' }, runOn: { pool: 'Builders', targetTags: ['web'] } },
      ],
    },
    variables: [
      { name: 'Greeting', value: 'anywhere' },
      { name: 'Greeting', value: 'in staging', scope: { environments: ['Staging'] } },
      { name: 'Where', value: 'on web-1', scope: { targets: ['web-1'] } },
    ],
  });
  await ok('POST', '/api/projects/Shop/releases', { version: '1.0.0' });
  const agent = await registerFakeAgent(h, 'builder-1', ['Builders']);

  await ok('PUT', '/api/environments/Staging', { name: 'Production' });
  await ok('PUT', '/api/worker-pools/Builders', { name: 'Runners' });
  await ok('PUT', '/api/targets/web-1', {
    name: 'web-one',
    type: 'generic',
    environments: ['Production'],
    tags: ['web'],
  });

  assert.equal((await h.api('GET', '/api/environments/Staging')).status, 404);
  assert.deepEqual((await ok('GET', '/api/targets/web-one')).environments, ['Production']);
  assert.equal((await ok('GET', '/api/projects/Shop')).process.steps[0].runOn.pool, 'Runners');
  const scopes = (await ok('GET', '/api/projects/Shop/variables')).items.map((v: { scope: unknown }) => v.scope);
  assert.deepEqual(scopes, [{}, { environments: ['Production'] }, { targets: ['web-one'] }]);
  assert.deepEqual((await ok('GET', '/api/workers/builder-1')).pools, ['Runners']);

  // The release made before the renames, then a new one made after them.
  for (const release of ['1.0.0', '1.0.1']) {
    if (release === '1.0.1') await ok('POST', '/api/projects/Shop/releases', { version: release });
    const deployment = await ok('POST', '/api/deployments', { project: 'Shop', environment: 'Production', release });
    const op = await runOne(agent, deployment.taskId);
    assert.equal(op.target.name, 'web-one', release);
    assert.equal(
      op.script.body,
      'echo in staging',
      `${release}: the environment-scoped value follows the renamed environment`,
    );
    assert.equal(variable(op, 'Where'), 'on web-1', `${release}: the target-scoped value follows the renamed target`);
    assert.equal(variable(op, 'Longshore.Environment.Name'), 'Production');
  }
});

test('renaming the default pool keeps steps without a pool on it', async () => {
  await ok('POST', '/api/environments', { name: 'Quiet' });
  await ok('POST', '/api/projects', {
    name: 'Plain',
    process: { steps: [{ name: 'Only', script: { body: 'true' } }] },
  });
  await ok('PUT', '/api/worker-pools/default', { name: 'General' });
  const agent = await registerFakeAgent(h, 'plain-1');
  assert.deepEqual((await ok('GET', '/api/workers/plain-1')).pools, ['General']);
  const deployment = await ok('POST', '/api/deployments', { project: 'Plain', environment: 'Quiet' });
  await runOne(agent, deployment.taskId);
});

test('what something still refers to cannot be deleted', async () => {
  await ok('POST', '/api/environments', { name: 'Kept' });
  await ok('POST', '/api/targets', { name: 'kept-target', type: 'generic', environments: ['Kept'] });
  const refused = await h.api('DELETE', '/api/environments/Kept');
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /Environment 'Kept' is used by target 'kept-target'/);
  await ok('DELETE', '/api/targets/kept-target');
  await ok('DELETE', '/api/environments/Kept');
});
