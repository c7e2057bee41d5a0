import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LongshoreError } from '@longshore/protocol';
import { pino } from 'pino';
import { FakeServer } from '../testing/fakeServer.fixture.js';
import { testOperation } from '../testing/operation.fixture.js';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { Worker } from '../worker.js';
import { parseWorkerConfig } from '../workerConfig.js';

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

describe('the worker health server', () => {
  it('serves /livez, /readyz with its reason, and /metrics with operations by outcome', async () => {
    const server = new FakeServer();
    // Registration fails first: readiness must say why, while liveness stays fine (no restart loop hiding the reason).
    server.failures.register.push(
      new LongshoreError('REGISTRATION_TOKEN_INVALID', 'The registration token was already used'),
    );
    const config = parseWorkerConfig({
      serverUrl: 'http://server.test',
      registrationToken: 't',
      name: 'w',
      dataDir: tempDir('health'),
      healthPort: 0,
      pollWaitMs: 50,
      rejectedRetryMs: 300,
    });
    const worker = new Worker(config, { channel: server, log: pino({ level: 'silent' }) });
    const started = worker.start();
    for (let i = 0; worker.healthPort === undefined && i < 200; i++) await new Promise((r) => setTimeout(r, 5));
    const port = worker.healthPort!;
    for (let i = 0; !(await get(port, '/readyz')).text.includes('already used') && i < 200; i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await get(port, '/readyz'), {
      status: 503,
      text: 'The worker is starting: The registration token was already used\n',
    });
    assert.equal((await get(port, '/livez')).status, 200);
    await started;
    for (let i = 0; (await get(port, '/readyz')).status !== 200 && i < 200; i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal((await get(port, '/readyz')).status, 200);

    const op = testOperation({ script: { syntax: 'sh', body: 'echo hi' } });
    server.offer({ operation: op });
    for (let i = 0; !server.completed.has(op.id) && i < 2000; i++) await new Promise((r) => setTimeout(r, 5));
    const metrics = await get(port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^longshore_worker_operations_total\{outcome="succeeded"\} 1$/m);
    assert.match(metrics.text, /^longshore_worker_operations_running 0$/m);
    assert.match(metrics.text, /^longshore_worker_script_pods_pending 0$/m);
    assert.match(metrics.text, /^# TYPE longshore_worker_pod_start_seconds histogram$/m);
    assert.equal((await get(port, '/nope')).status, 404);
    await worker.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/livez`), 'closed with the worker');
  });
});
