import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';
import { runCli } from '../support/cliProcess.js';
import { sharedClusterStore } from '../support/postgres.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

const POSTGRES_INSTALLED = existsSync('/usr/lib/postgresql');
/** Heartbeats fast enough that a test sees a node come, go and its tasks move within a second or two. */
const FAST_NODES = { nodeHeartbeatMs: 200, nodeLeaseMs: 1_000 };
const TWO_STEPS = {
  steps: [
    { name: 'First', script: { body: 'echo 1' } },
    { name: 'Second', script: { body: 'echo 2' } },
  ],
};

async function setUp(h: Harness): Promise<void> {
  await h.api('POST', '/api/environments', { name: 'Test' });
  await h.api('POST', '/api/projects', { name: 'P', process: TWO_STEPS });
}

const deploy = async (h: Harness) =>
  (await h.api('POST', '/api/deployments', { project: 'P', environment: 'Test' })).body.taskId as string;

const nodes = async (h: Harness) => {
  const res = await h.api('GET', '/api/server-nodes');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as any[];
};

/** Polls until the agent is given an operation of the step, wherever it is asked. */
const nextOperation = (agent: FakeAgent, step: string) =>
  waitFor(`an operation of step ${step}`, async () => {
    const ops = (await agent.poll([], 1, 200)).operations as any[];
    return ops.find((o) => o.step.name === step);
  });

test('one server lists itself as the one node, alive, with the tasks it advances; so does `longshore server nodes`', async () => {
  const h = await startHarness({ nodeName: 'only-node', ...FAST_NODES });
  try {
    await setUp(h);
    const taskId = await deploy(h);
    const [only, ...others] = await nodes(h);
    assert.deepEqual(others, []);
    assert.equal(only.name, 'only-node');
    assert.equal(only.alive, true);
    assert.equal(only.url, h.url);
    assert.equal(only.stoppedAt, null);
    assert.deepEqual(
      only.tasks.map((t: any) => [t.id, t.kind]),
      [[taskId, 'deploy']],
    );
    const beat = Date.parse(only.lastHeartbeatAt);
    await waitFor('a heartbeat', async () => Date.parse((await nodes(h))[0].lastHeartbeatAt) > beat);

    const cli = await runCli(['server', 'nodes', '--url', h.url, '--api-key', h.apiKey]);
    assert.equal(cli.code, 0, cli.output);
    assert.match(cli.output, /^NAME\s+STATUS\s+HEARTBEAT\s+TASKS\s+VERSION\s+URL$/m);
    assert.match(cli.output, new RegExp(`^only-node\\s+alive\\s+\\d+s ago\\s+${taskId}\\s`, 'm'));
    const json = await runCli(['server', 'nodes', '--url', h.url, '--api-key', h.apiKey, '-o', 'json']);
    assert.equal(JSON.parse(json.output)[0].name, 'only-node');

    const unauthorised = await h.api('GET', '/api/server-nodes', undefined, { authorization: 'Bearer nope' });
    assert.equal(unauthorised.status, 401);
  } finally {
    await h.close();
  }
});

test(
  'postgres: two nodes on one store; a result reaching the node that does not own the task moves it on, and a node that stops hands its task to the other at once',
  { skip: !POSTGRES_INSTALLED && 'PostgreSQL is not installed' },
  async () => {
    const store = await sharedClusterStore();
    const a = await startHarness({ ...store, nodeName: 'node-a', ...FAST_NODES });
    const b = await startHarness({ ...store, nodeName: 'node-b', ...FAST_NODES }, undefined, a.apiKey);
    let aClosed = false;
    try {
      await setUp(a);
      // Both nodes share this test's one event loop, which node b's start held for a while.
      const listed = await waitFor('both nodes alive', async () => {
        const list = await nodes(b);
        return list.every((n) => n.alive) && list;
      });
      assert.deepEqual(listed.map((n) => n.name).sort(), ['node-a', 'node-b']);

      const agent = await registerFakeAgent(b, 'cluster-agent');
      const taskId = await deploy(a);
      const owner = (await nodes(b)).find((n) => n.tasks.some((t: any) => t.id === taskId));
      assert.equal(owner?.name, 'node-a', 'the node that created the task advances it');

      // The worker talks to node b only: its result reaches the node that does not own the task.
      const first = await nextOperation(agent, 'First');
      assert.equal((await agent.complete(first.id)).status, 204);
      const second = await nextOperation(agent, 'Second');
      assert.notEqual(second.id, first.id, 'the owner was told, and planned the next step');

      await a.close();
      aClosed = true;
      const after = await waitFor('node b to take the task', async () => {
        const list = await nodes(b);
        const b1 = list.find((n) => n.name === 'node-b');
        return b1?.tasks.some((t: any) => t.id === taskId) && list;
      });
      const gone = after.find((n: any) => n.name === 'node-a');
      assert.equal(gone.alive, false);
      assert.notEqual(gone.stoppedAt, null, 'a clean stop is told apart from a death');

      assert.equal((await agent.complete(second.id)).status, 204);
      const done = await waitFor('the task to end', async () => {
        const t = (await b.api('GET', `/api/tasks/${taskId}`)).body;
        return t.state !== 'running' && t;
      });
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
    } finally {
      if (!aClosed) await a.close();
      await b.close();
    }
  },
);
