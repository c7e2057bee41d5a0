import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/serverHarness.js';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';

let h: Harness;
before(async () => {
  h = await startHarness({ noUsableWorkerTimeoutSeconds: 2, sweepIntervalMs: 100, maxPollWaitMs: 500 });
  await h.api('POST', '/api/apply', {
    environments: [{ name: 'Test' }],
    workerPools: [{ name: 'builders' }, { name: 'mixed' }],
    targets: Array.from({ length: 20 }, (_, i) => ({
      name: `web-${i}`,
      type: 'generic',
      environments: ['Test'],
      tags: ['web'],
    })),
    projects: ['builders', 'mixed'].map((pool) => ({
      name: `On ${pool}`,
      process: { steps: [{ name: 'Deploy', script: { body: 'echo hi' }, runOn: { pool, targetTags: ['web'] } }] },
    })),
  });
});
after(() => h.close());

const REACHABLE = { name: 'server reachable', ok: true, detail: 'poll answered' };
const HEALTHY = { checks: [REACHABLE], facts: {} };
const CANNOT_CREATE_PODS = {
  checks: [
    REACHABLE,
    { name: 'pods/create in namespace longshore', ok: false, detail: 'cannot create pods (forbidden)' },
  ],
  facts: {},
};

/**
 * Puts a worker in the health its report says, as the worker would: a check asked for through the
 * API, collected by the worker's poll, then reported.
 */
async function reportHealth(agent: FakeAgent, report: typeof HEALTHY): Promise<void> {
  const { checkId } = (await h.api('POST', `/api/workers/${agent.name}/health-checks`)).body;
  const answer = await agent.poll([], 0, 5_000);
  assert.deepEqual(
    answer.healthChecks.map((c: { id: string }) => c.id),
    [checkId],
  );
  const reported = await agent.call('POST', `/api/agent/health-checks/${checkId}`, report);
  assert.equal(reported.status, 204, JSON.stringify(reported.body));
}

const logText = async (taskId: string) =>
  ((await h.api('GET', `/api/tasks/${taskId}/log`)).body.lines as { text: string }[]).map((l) => l.text);
const deploy = async (project: string) =>
  (await h.api('POST', '/api/deployments', { project, environment: 'Test' })).body.taskId as string;

test('an unhealthy worker gets no operation while a healthy one of the same pool does', async () => {
  const sick = await registerFakeAgent(h, 'mixed-sick', ['mixed']);
  const well = await registerFakeAgent(h, 'mixed-well', ['mixed']);
  await reportHealth(sick, CANNOT_CREATE_PODS);
  await reportHealth(well, HEALTHY);
  const taskId = await deploy('On mixed');
  await waitFor('the step to start', async () => (await logText(taskId)).some((l) => l.includes('started')));
  assert.deepEqual((await sick.poll()).operations, []);
  assert.equal((await well.poll([], 50)).operations.length, 20);
  assert.ok(!(await logText(taskId)).some((l) => l.includes('No healthy worker')));
  await h.api('POST', `/api/tasks/${taskId}/cancel`);
});

test('a pool whose only worker is unhealthy: the log says why at once and again when it changes, then the step fails with it', async () => {
  const k8s = await registerFakeAgent(h, 'k8s-1', ['builders']);
  await reportHealth(k8s, CANNOT_CREATE_PODS);
  const taskId = await deploy('On builders');
  const unhealthy =
    "No healthy worker in pool 'builders': k8s-1 unhealthy — pods/create in namespace longshore: cannot create pods (forbidden)";
  await waitFor('the explanation', async () => (await logText(taskId)).some((l) => l.startsWith(unhealthy)), 1500);

  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  assert.match(metrics, /^longshore_pool_queue_depth\{pool="builders"\} 20$/m);
  assert.match(metrics, /^longshore_pool_oldest_wait_seconds\{pool="builders"\} [\d.]+$/m);
  assert.match(metrics, /^longshore_workers\{pool="builders",health="unhealthy"\} 1$/m);
  assert.match(metrics, /^longshore_pool_usable_workers\{pool="builders"\} 0$/m);

  // A clean stop; the worker does not poll again, so it stays offline.
  assert.equal((await k8s.call('POST', '/api/agent/worker/offline')).status, 204);
  await waitFor('the changed explanation', async () =>
    (await logText(taskId)).some((l) => l.startsWith("No healthy worker in pool 'builders': k8s-1 offline")),
  );
  await waitFor('the task to fail', async () => (await h.api('GET', `/api/tasks/${taskId}`)).body.state === 'failed');
  const lines = await logText(taskId);
  assert.equal(lines.filter((l) => l.startsWith('No healthy worker')).length, 2, 'one line per change, not per target');
  assert.ok(
    lines.includes(
      "Step 'Deploy': 20 operations failed without starting - No healthy worker in pool 'builders': k8s-1 offline",
    ),
  );
  assert.match(await (await fetch(`${h.url}/metrics`)).text(), /^longshore_operations_total\{outcome="failed"\} 20$/m);
});
