import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentRoutes } from '@longshore/protocol';
import { buildServer, type BuiltServer } from './app.js';

/** A built server, never listening: every request goes through `app.inject`. */
async function withBuiltServer(work: (server: BuiltServer, call: Call) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'longshore-app-'));
  const server = await buildServer({ dataDir, logLevel: 'silent', insecureHttp: true, port: 0 });
  const apiKey = readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
  const call: Call = async (method, url, payload, credential = apiKey) => {
    const res = await server.app.inject({
      method,
      url,
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  };
  try {
    await work(server, call);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Call = (
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  credential?: string,
) => Promise<{ status: number; body: any }>;

async function deploy(call: Call, steps: string[]): Promise<string> {
  assert.equal((await call('POST', '/api/environments', { name: 'Test' })).status, 201);
  const project = await call('POST', '/api/projects', {
    name: 'P',
    process: { steps: steps.map((name) => ({ name, script: { body: `echo ${name}` } })) },
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const deployed = await call('POST', '/api/deployments', { project: 'P', environment: 'Test' });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  return deployed.body.taskId as string;
}

async function registerWorker(call: Call): Promise<string> {
  const { token } = (await call('POST', '/api/registration-tokens', {})).body as { token: string };
  const registered = await call(
    'POST',
    agentRoutes.register,
    { token, name: 'w1', executor: 'local', version: '0.1.0', capacity: 2 },
    '', // registration is public: its one-time token is in the body
  );
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  return registered.body.credential as string;
}

test('a built server answers requests without listening', async () => {
  await withBuiltServer(async (server, call) => {
    assert.equal(server.app.server.listening, false);
    assert.deepEqual((await call('GET', '/livez')).body, { status: 'ok' });
    assert.ok(server.routes.some((r) => r.url === '/api/deployments' && r.method === 'POST'));
  });
});

test('a deployment runs through the routes: queued for a worker, polled, completed', async () => {
  await withBuiltServer(async (_server, call) => {
    const taskId = await deploy(call, ['Only']);
    const credential = await registerWorker(call);
    const polled = await call('POST', agentRoutes.poll, { free: 2, running: [], waitMs: 0 }, credential);
    assert.equal(polled.status, 200);
    const [operation] = polled.body.operations as { id: string; taskId: string }[];
    assert.equal(operation?.taskId, taskId);
    const done = await call(
      'POST',
      agentRoutes.complete(operation.id),
      { outcome: 'succeeded', exitCode: 0, message: '', outputVariables: [], finalSeq: 0 },
      credential,
    );
    assert.equal(done.status, 204);
    assert.equal((await call('GET', `/api/tasks/${taskId}`)).body.state, 'succeeded');
  });
});

test('cancelling a task no worker has taken ends it at once', async () => {
  await withBuiltServer(async (_server, call) => {
    const taskId = await deploy(call, ['First', 'Second']);
    const cancelled = await call('POST', `/api/tasks/${taskId}/cancel`);
    assert.equal(cancelled.status, 202);
    const task = (await call('GET', `/api/tasks/${taskId}`)).body;
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(
      task.steps[0].operations.map((o: { state: string; outcome: string }) => [o.state, o.outcome]),
      [['finished', 'cancelled']],
    );
  });
});
