// Machine policies and worker health checks through the API, with a hand-driven worker: a check is
// a task, carried by a poll answer, ended by the worker's report or by its deadline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerFakeAgent, waitFor, type FakeAgent } from '../support/agentClient.js';
import { runCli, startCli } from '../support/cliProcess.js';
import { startHarness, type Harness } from '../support/serverHarness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ sweepIntervalMs: 100, leaseMs: 600_000, workerOfflineAfterMs: 600_000 });
});
after(() => h?.close());

const HEALTHY = {
  checks: [
    { name: 'server reachable', ok: true, detail: 'poll answered' },
    { name: 'free disk', ok: true, detail: '12 GB free' },
  ],
  facts: { version: '0.1.0', freeDiskBytes: '12000000000' },
};

async function taskLog(taskId: string): Promise<string[]> {
  const page = (await h.api('GET', `/api/tasks/${taskId}/log?after=0`)).body;
  return page.lines.map((l: { text: string }) => l.text);
}

const worker = async (name: string) => (await h.api('GET', `/api/workers/${name}`)).body;

describe('machine policies', () => {
  test('create, read, replace and delete; defaults filled in', async () => {
    const created = await h.api('POST', '/api/machine-policies', { name: 'Crud' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      {
        interval: created.body.healthCheckIntervalSeconds,
        timeout: created.body.healthCheckTimeoutSeconds,
        unavailable: created.body.unavailableWorkers,
        updates: created.body.updates,
        isDefault: created.body.isDefault,
      },
      {
        interval: 600,
        timeout: 60,
        unavailable: { action: 'keep', deleteAfterHours: null },
        updates: 'manual',
        isDefault: false,
      },
    );
    const replaced = await h.api('PUT', '/api/machine-policies/Crud', {
      name: 'Crud2',
      healthCheckIntervalSeconds: 120,
      unavailableWorkers: { action: 'delete', deleteAfterHours: 0.5 },
      updates: 'never',
    });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.unavailableWorkers.deleteAfterHours, 0.5);
    assert.equal((await h.api('GET', `/api/machine-policies/${created.body.id}`)).body.name, 'Crud2');
    const names = (await h.api('GET', '/api/machine-policies')).body.items.map((p: { name: string }) => p.name);
    assert.ok(names.includes('Default') && names.includes('Crud2'), names.join());
    assert.equal((await h.api('POST', '/api/machine-policies', { name: 'crud2' })).status, 409);
    assert.equal((await h.api('DELETE', '/api/machine-policies/Crud2')).status, 204);
    assert.equal((await h.api('GET', '/api/machine-policies/Crud2')).status, 404);
  });

  test('invalid input is refused with a message', async () => {
    for (const [body, message] of [
      [{ name: 'Bad', unavailableWorkers: { action: 'delete' } }, /deleteAfterHours is required/],
      [{ name: 'Bad', unavailableWorkers: { action: 'keep', deleteAfterHours: 1 } }, /applies only when/],
      [{ name: 'Bad', healthCheckTimeoutSeconds: 0 }, /healthCheckTimeoutSeconds/],
      [{ name: 'Bad', updates: 'sometimes' }, /updates/],
      [{ name: 'Bad', unavailableWorkers: { action: 'delete', deleteAfterHours: 0 } }, /deleteAfterHours/],
    ] as const) {
      const res = await h.api('POST', '/api/machine-policies', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.match(res.body.message, message);
    }
  });

  test('the default policy and a policy in use cannot be deleted', async () => {
    const deleteDefault = await h.api('DELETE', '/api/machine-policies/Default');
    assert.equal(deleteDefault.status, 409);
    assert.match(deleteDefault.body.message, /default policy/);
    await h.api('POST', '/api/machine-policies', { name: 'Used' });
    assert.equal((await h.api('POST', '/api/worker-pools', { name: 'UsingPool', machinePolicy: 'Used' })).status, 201);
    await registerFakeAgent(h, 'using-worker');
    assert.equal(
      (await h.api('PUT', '/api/workers/using-worker/machine-policy', { machinePolicy: 'Used' })).status,
      200,
    );
    const refused = await h.api('DELETE', '/api/machine-policies/Used');
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /worker 'using-worker'.*worker pool 'UsingPool'/);
  });

  test("a worker follows its own policy, else its pool's, else the default", async () => {
    await h.api('POST', '/api/machine-policies', { name: 'PoolPolicy' });
    await h.api('POST', '/api/machine-policies', { name: 'OwnPolicy' });
    await h.api('POST', '/api/worker-pools', { name: 'Plain' });
    await h.api('POST', '/api/worker-pools', { name: 'Governed', machinePolicy: 'PoolPolicy' });
    await registerFakeAgent(h, 'follower', ['Plain', 'Governed']);
    assert.equal((await worker('follower')).machinePolicy, 'PoolPolicy');
    await h.api('PUT', '/api/workers/follower/machine-policy', { machinePolicy: 'OwnPolicy' });
    assert.equal((await worker('follower')).machinePolicy, 'OwnPolicy');
    await h.api('PUT', '/api/workers/follower/machine-policy', { machinePolicy: null });
    await h.api('PUT', '/api/worker-pools/Governed', { name: 'Governed' });
    assert.equal((await worker('follower')).machinePolicy, 'Default');
    const unknown = await h.api('PUT', '/api/workers/follower/machine-policy', { machinePolicy: 'Nope' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /machine policy 'Nope' does not exist/);
  });

  test('apply creates policies, and pools and workers naming them, all or nothing', async () => {
    await registerFakeAgent(h, 'applied-worker');
    const applied = await h.api('POST', '/api/apply', {
      machinePolicies: [{ name: 'AsCode', healthCheckIntervalSeconds: 300, updates: 'automatic' }],
      workerPools: [{ name: 'CodePool', machinePolicy: 'AsCode' }],
      workers: [{ name: 'applied-worker', machinePolicy: 'AsCode' }],
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(applied.body.machinePolicies, ['AsCode']);
    assert.equal((await h.api('GET', '/api/machine-policies/AsCode')).body.updates, 'automatic');
    assert.equal((await h.api('GET', '/api/worker-pools/CodePool')).body.machinePolicy, 'AsCode');
    assert.equal((await worker('applied-worker')).machinePolicy, 'AsCode');
    const refused = await h.api('POST', '/api/apply', {
      machinePolicies: [{ name: 'NotKept' }],
      workerPools: [{ name: 'BadPool', machinePolicy: 'Missing' }],
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /workerPools\[0\] 'BadPool': machinePolicy: machine policy 'Missing'/);
    assert.equal((await h.api('GET', '/api/machine-policies/NotKept')).status, 404);
    const unregistered = await h.api('POST', '/api/apply', { workers: [{ name: 'nobody', machinePolicy: null }] });
    assert.equal(unregistered.status, 400);
    assert.match(unregistered.body.message, /workers\[0\] 'nobody': no worker named 'nobody' is registered/);
  });
});

describe('health checks', () => {
  let agent: FakeAgent;
  before(async () => {
    agent = await registerFakeAgent(h, 'checked');
  });

  test('a check on demand is a task, reaches the worker by its poll, and its report makes it healthy', async () => {
    const started = await h.api('POST', '/api/workers/checked/health-checks');
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const { checkId, taskId } = started.body;
    const task = (await h.api('GET', '/api/tasks')).body.items.find((t: { id: string }) => t.id === taskId);
    assert.equal(task.kind, 'health-check');
    // Asked again while it is under way: the same check.
    assert.equal((await h.api('POST', '/api/workers/checked/health-checks')).body.checkId, checkId);

    const answer = await agent.poll([], 10, 20_000);
    assert.deepEqual(answer.healthChecks, [{ id: checkId, timeoutSeconds: 60 }]);
    assert.equal((await h.api('GET', `/api/tasks/${taskId}`)).body.state, 'running');
    const reported = await agent.call('POST', `/api/agent/health-checks/${checkId}`, HEALTHY);
    assert.equal(reported.status, 204, JSON.stringify(reported.body));

    const shown = await worker('checked');
    assert.equal(shown.health, 'healthy');
    assert.deepEqual(shown.healthReasons, []);
    assert.deepEqual(shown.healthFacts, HEALTHY.facts);
    assert.ok(shown.lastHealthCheck);
    assert.equal((await h.api('GET', `/api/tasks/${taskId}`)).body.state, 'succeeded');
    const log = await taskLog(taskId);
    assert.ok(log.includes('ok server reachable: poll answered'), log.join('\n'));
    assert.ok(log.includes('ok free disk: 12 GB free'), log.join('\n'));
    assert.ok(log.includes('The worker is healthy'), log.join('\n'));

    const again = await agent.call('POST', `/api/agent/health-checks/${checkId}`, HEALTHY);
    assert.equal(again.status, 409);
    assert.equal((await h.api('POST', `/api/tasks/${taskId}/cancel`)).status, 409);
  });

  test('a poll waiting for work is answered when a check is requested', async () => {
    const polling = agent.poll([], 10, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const { checkId, taskId } = (await h.api('POST', '/api/workers/checked/health-checks')).body;
    const answer = await polling;
    assert.deepEqual(
      answer.healthChecks.map((c: { id: string }) => c.id),
      [checkId],
    );
    const unhealthy = {
      checks: [
        { name: 'server reachable', ok: true, detail: 'poll answered' },
        { name: 'pods/create in namespace longshore', ok: false, detail: 'forbidden' },
      ],
      facts: { version: '0.1.0' },
    };
    assert.equal((await agent.call('POST', `/api/agent/health-checks/${checkId}`, unhealthy)).status, 204);
    const shown = await worker('checked');
    assert.equal(shown.health, 'unhealthy');
    assert.deepEqual(shown.healthReasons, ['pods/create in namespace longshore: forbidden']);
    const task = (await h.api('GET', `/api/tasks/${taskId}`)).body;
    assert.equal(task.state, 'failed');
    assert.match(task.error, /pods\/create in namespace longshore: forbidden/);
    assert.ok((await taskLog(taskId)).includes('FAILED pods/create in namespace longshore: forbidden'));
  });

  test("only the worker a check is for may report it, and a report's shape is checked", async () => {
    const other = await registerFakeAgent(h, 'other');
    const { checkId } = (await h.api('POST', '/api/workers/checked/health-checks')).body;
    assert.equal((await other.call('POST', `/api/agent/health-checks/${checkId}`, HEALTHY)).status, 403);
    assert.equal((await agent.call('POST', '/api/agent/health-checks/hc_nothing', HEALTHY)).status, 404);
    const malformed = await agent.call('POST', `/api/agent/health-checks/${checkId}`, { checks: 'all fine' });
    assert.equal(malformed.status, 400);
    await agent.poll();
    assert.equal((await agent.call('POST', `/api/agent/health-checks/${checkId}`, HEALTHY)).status, 204);
  });

  test('no report within the timeout makes the worker unavailable', async () => {
    await h.api('POST', '/api/machine-policies', { name: 'Quick', healthCheckTimeoutSeconds: 1 });
    const silent = await registerFakeAgent(h, 'silent');
    await h.api('PUT', '/api/workers/silent/machine-policy', { machinePolicy: 'Quick' });
    const { taskId } = (await h.api('POST', '/api/workers/silent/health-checks')).body;
    assert.equal((await silent.poll()).healthChecks.length, 1);
    const shown = await waitFor(
      'the check to time out',
      async () => {
        const w = await worker('silent');
        return w.health === 'unavailable' && w;
      },
      5_000,
    );
    assert.deepEqual(shown.healthReasons, ['no answer within 1 s']);
    assert.equal((await h.api('GET', `/api/tasks/${taskId}`)).body.state, 'failed');

    // A worker that does not poll never collects its check: unavailable as well.
    const { taskId: uncollected } = (await h.api('POST', '/api/workers/silent/health-checks')).body;
    await waitFor(
      'the uncollected check to time out',
      async () => (await h.api('GET', `/api/tasks/${uncollected}`)).body.state === 'failed',
      5_000,
    );
    assert.match((await worker('silent')).healthReasons[0], /not polling/);
  });

  test("checks are scheduled at the policy's interval", async () => {
    await h.api('POST', '/api/machine-policies', { name: 'Frequent', healthCheckIntervalSeconds: 1 });
    const frequent = await registerFakeAgent(h, 'frequent');
    await h.api('PUT', '/api/workers/frequent/machine-policy', { machinePolicy: 'Frequent' });
    const reported: string[] = [];
    await waitFor(
      'two scheduled checks',
      async () => {
        const answer = await frequent.poll();
        for (const c of answer.healthChecks ?? []) {
          assert.equal((await frequent.call('POST', `/api/agent/health-checks/${c.id}`, HEALTHY)).status, 204);
          reported.push(c.id);
        }
        return reported.length >= 2;
      },
      10_000,
      100,
    );
    assert.equal((await worker('frequent')).health, 'healthy');
  });

  test('an unavailable worker is removed when its policy says delete', async () => {
    await h.api('POST', '/api/machine-policies', {
      name: 'Ruthless',
      healthCheckTimeoutSeconds: 1,
      unavailableWorkers: { action: 'delete', deleteAfterHours: 0.0005 },
    });
    await registerFakeAgent(h, 'doomed');
    await h.api('PUT', '/api/workers/doomed/machine-policy', { machinePolicy: 'Ruthless' });
    const { taskId } = (await h.api('POST', '/api/workers/doomed/health-checks')).body;
    await waitFor(
      'the worker to be removed',
      async () => (await h.api('GET', '/api/workers/doomed')).status === 404,
      10_000,
    );
    assert.equal((await h.api('GET', `/api/tasks/${taskId}`)).body.state, 'failed');
  });
});

describe('clean stop', () => {
  test('a worker that says it stopped is offline at once, and online again when it polls', async () => {
    const stopping = await registerFakeAgent(h, 'stopping');
    await stopping.poll();
    assert.equal((await worker('stopping')).status, 'online');
    assert.equal((await stopping.call('POST', '/api/agent/worker/offline')).status, 204);
    assert.equal((await worker('stopping')).status, 'offline');
    await stopping.poll();
    assert.equal((await worker('stopping')).status, 'online');
  });

  test('an upgrade is offered to a worker behind the server', async () => {
    const old = await registerFakeAgent(h, 'old-version');
    await old.call('PUT', '/api/agent/worker', { version: '0.0.1', capacity: 1, metadata: {} });
    const shown = await worker('old-version');
    assert.equal(shown.upgradeAvailable, true);
    assert.match(shown.upgradeCommand, /longshore worker --server .* --name old-version/);
    assert.equal((await worker('stopping')).upgradeAvailable, false);
  });
});

describe('the CLI', () => {
  const cli = (args: string[]) => runCli([...args, '--url', h.url], { LONGSHORE_API_KEY: h.apiKey });

  test('apply -f with machine policies, machine-policies, workers check --follow and workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-health-cli-'));
    try {
      writeFileSync(
        join(dir, 'longshore.yaml'),
        'machinePolicies: [{ name: FromFile, healthCheckTimeoutSeconds: 30, unavailableWorkers: { action: delete, deleteAfterHours: 24 } }]\n' +
          'workerPools: [{ name: FilePool, machinePolicy: FromFile }]\n',
      );
      const applied = await cli(['apply', '-f', join(dir, 'longshore.yaml')]);
      assert.equal(applied.code, 0, applied.output);
      assert.match(applied.output, /machinePolicies: FromFile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const listed = await cli(['machine-policies']);
    assert.match(listed.output, /FromFile\s+600s\s+30s\s+delete after 24h/);

    const cliAgent = await registerFakeAgent(h, 'cli-checked', ['FilePool']);
    const following = startCli(['workers', 'check', 'cli-checked', '--follow', '--url', h.url], {
      LONGSHORE_API_KEY: h.apiKey,
    });
    const [request] = await waitFor('the check to reach the worker', async () => (await cliAgent.poll()).healthChecks);
    assert.equal(request.timeoutSeconds, 30);
    await cliAgent.call('POST', `/api/agent/health-checks/${request.id}`, HEALTHY);
    assert.equal(await following.exited, 0, following.output());
    assert.match(following.output(), /\[cli-checked\] ok server reachable: poll answered/);
    assert.match(following.output(), /\[cli-checked\] The worker is healthy/);

    const workers = await cli(['workers']);
    assert.match(workers.output, /cli-checked\s+online\s+local\s+FilePool\s+0\/10\s+0\.1\.0\s+healthy\s/);
    const refused = await cli(['workers', 'check']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /Name one worker to check, or give --all/);
  });
});
