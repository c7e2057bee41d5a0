// Server-driven upgrades through the API, with hand-driven workers: which workers can be upgraded
// and why not, the operation a Kubernetes worker is given (leased to it, under its upgrader, with
// the chart as its package), and how the task ends from what the operation and the worker report.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registerFakeAgent, type FakeAgent } from '../support/agentClient.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

const CHART = fileURLToPath(new URL('../../charts/longshore-worker', import.meta.url));
const KUBERNETES = {
  executor: 'kubernetes' as const,
  version: '0.0.9',
  metadata: { namespace: 'ns', chartVersion: '0.0.9', helmRelease: 'longshore-worker-k' },
};

let h: Harness;
before(async () => {
  h = await startHarness({ upgradeChart: CHART, leaseMs: 600_000, workerOfflineAfterMs: 600_000 });
});
after(() => h?.close());

async function taskText(taskId: string): Promise<string> {
  const page = (await h.api('GET', `/api/tasks/${taskId}/log?after=0`)).body;
  return page.lines.map((l: { text: string }) => l.text).join('\n');
}

async function upgradeOperation(agent: FakeAgent) {
  const { operations } = await agent.poll();
  assert.equal(operations.length, 1, JSON.stringify(operations));
  return operations[0];
}

describe('worker upgrades', () => {
  test('a Kubernetes worker behind gets one upgrade operation: its own, under its upgrader, with the chart as its package', async () => {
    const agent = await registerFakeAgent(h, 'k-one', undefined, KUBERNETES);
    const shown = (await h.api('GET', '/api/workers/k-one')).body;
    assert.equal(shown.upgradeAvailable, true);
    assert.equal(shown.upgradeCommand, 'longshore workers upgrade k-one');

    const started = await h.api('POST', '/api/workers/k-one/upgrades');
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const again = await h.api('POST', '/api/workers/k-one/upgrades');
    assert.equal(again.body.taskId, started.body.taskId, 'one upgrade at a time: the one under way is answered');
    const op = await upgradeOperation(agent);
    assert.equal(op.purpose, 'worker-upgrade');
    assert.equal(op.taskId, started.body.taskId);
    assert.match(op.script.body, /^release='longshore-worker-k'$/m);
    assert.match(op.script.body, /^namespace='ns'$/m);
    const [chart] = op.packages;
    assert.equal(chart.reference, 'worker-chart');
    const download = await fetch(h.url + chart.downloadPath, {
      headers: { authorization: `Bearer ${agent.credential}` },
    });
    assert.equal(download.status, 200);
    const archive = Buffer.from(await download.arrayBuffer());
    assert.equal(createHash('sha256').update(archive).digest('hex'), chart.sha256);
    assert.equal(download.headers.get('x-longshore-sha256'), chart.sha256);

    const cancel = await h.api('POST', `/api/tasks/${started.body.taskId}/cancel`);
    assert.equal(cancel.status, 409);
    assert.match(cancel.body.message, /An upgrade cannot be cancelled/);

    // The rollback's reason, as the script sets it, is what the task says.
    await agent.complete(op.id, {
      outcome: 'failed',
      exitCode: 1,
      message: 'The script exited with code 1',
      outputVariables: [
        { name: 'UpgradeFailure', value: 'the worker did not become ready within 30s; rolled back', sensitive: false },
      ],
    });
    const task = (await h.api('GET', `/api/tasks/${started.body.taskId}`)).body;
    assert.equal(task.state, 'failed');
    assert.match(
      await taskText(started.body.taskId),
      /The upgrade of worker k-one failed: the worker did not become ready within 30s; rolled back/,
    );
  });

  test('succeeded only when the worker came back at the version the server ships', async () => {
    const agent = await registerFakeAgent(h, 'k-two', undefined, KUBERNETES);
    const first = (await h.api('POST', '/api/workers/k-two/upgrades')).body;
    const op = await upgradeOperation(agent);
    await agent.complete(op.id);
    assert.equal((await h.api('GET', `/api/tasks/${first.taskId}`)).body.state, 'failed');
    assert.match(
      await taskText(first.taskId),
      /helm upgrade finished, but worker k-two reports version 0\.0\.9 on chart 0\.0\.9, not 0\.1\.0 on chart 0\.1\.0/,
    );

    const second = (await h.api('POST', '/api/workers/k-two/upgrades')).body;
    const next = await upgradeOperation(agent);
    // What a new worker does first: say what it is now.
    await agent.call('PUT', '/api/agent/worker', {
      version: '0.1.0',
      capacity: 10,
      metadata: { ...KUBERNETES.metadata, chartVersion: '0.1.0' },
    });
    await agent.complete(next.id);
    assert.equal((await h.api('GET', `/api/tasks/${second.taskId}`)).body.state, 'succeeded');
    assert.match(
      await taskText(second.taskId),
      /Worker k-two is back with the same identity at version 0\.1\.0 on chart 0\.1\.0: upgraded/,
    );
    assert.equal((await h.api('GET', '/api/workers/k-two')).body.upgradeAvailable, false);
    const refused = await h.api('POST', '/api/workers/k-two/upgrades');
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /not behind what this server ships/);
  });

  test('what cannot be upgraded says why: a local worker its command, a chart without its release, --all each', async () => {
    await registerFakeAgent(h, 'local-old', undefined, { version: '0.0.1' });
    const local = await h.api('POST', '/api/workers/local-old/upgrades');
    assert.equal(local.status, 409);
    assert.match(local.body.message, /local worker, which its operator upgrades: install Longshore 0\.1\.0/);
    await registerFakeAgent(h, 'k-old-chart', undefined, {
      ...KUBERNETES,
      metadata: { namespace: 'ns', chartVersion: '0.0.1' },
    });
    const unknown = await h.api('POST', '/api/workers/k-old-chart/upgrades');
    assert.equal(unknown.status, 409);
    assert.match(unknown.body.message, /does not say which Helm release installed it/);
    const all = await h.api('POST', '/api/workers/upgrades');
    assert.equal(all.status, 202);
    const byWorker = Object.fromEntries(
      all.body.items.map((i: { worker: string; message: string }) => [i.worker, i.message]),
    );
    assert.match(byWorker['local-old'], /operator upgrades/);
    assert.match(byWorker['k-old-chart'], /Helm release/);
    assert.equal((await h.api('POST', '/api/workers/nobody/upgrades')).status, 404);
  });

  test("a policy with automatic updates upgrades a worker a health check finds healthy and behind, and says so in the check's log", async () => {
    assert.equal((await h.api('POST', '/api/machine-policies', { name: 'Auto', updates: 'automatic' })).status, 201);
    const agent = await registerFakeAgent(h, 'k-auto', undefined, KUBERNETES);
    assert.equal((await h.api('PUT', '/api/workers/k-auto/machine-policy', { machinePolicy: 'Auto' })).status, 200);
    const check = (await h.api('POST', '/api/workers/k-auto/health-checks')).body;
    const { healthChecks } = await agent.poll();
    const reported = await agent.call('POST', `/api/agent/health-checks/${healthChecks[0].id}`, {
      checks: [{ name: 'server reachable', ok: true, detail: 'poll answered' }],
      facts: {},
    });
    assert.equal(reported.status, 204, JSON.stringify(reported.body));
    const log = await taskText(check.taskId);
    const taskId = /machine policy upgrades automatically: upgrade task (\S+)/.exec(log)?.[1];
    assert.ok(taskId, log);
    const op = await upgradeOperation(agent);
    assert.equal(op.taskId, taskId);
    assert.equal(op.purpose, 'worker-upgrade');

    // Rolled back: the next healthy check does not try the same upgrade again.
    await agent.complete(op.id, {
      outcome: 'failed',
      exitCode: 1,
      message: 'The script exited with code 1',
      outputVariables: [],
    });
    const next = (await h.api('POST', '/api/workers/k-auto/health-checks')).body;
    const polled = await agent.poll();
    await agent.call('POST', `/api/agent/health-checks/${polled.healthChecks[0].id}`, {
      checks: [{ name: 'server reachable', ok: true, detail: 'poll answered' }],
      facts: {},
    });
    assert.match(
      await taskText(next.taskId),
      new RegExp(`its last upgrade to this version failed \\(task ${taskId}\\)`),
    );
    assert.deepEqual((await agent.poll()).operations, []);
  });
});
