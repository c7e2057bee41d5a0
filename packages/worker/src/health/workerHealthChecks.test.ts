// The worker's side of health: checks handed out in poll answers are run and reported beside
// operations, and a clean stop tells the server the worker is offline, briefly.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Executor } from '../executors/executor.js';
import { FakeServer } from '../testing/fakeServer.fixture.js';
import { silentLog } from '../testing/operation.fixture.js';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { Worker } from '../worker.js';
import { parseWorkerConfig } from '../workerConfig.js';

function setup() {
  const server = new FakeServer();
  const executor: Executor = {
    kind: 'local',
    start: () => new Promise(() => {}),
    cancel() {},
    health: async () => ({ checks: [{ name: 'executor part', ok: true, detail: 'fine' }], facts: { extra: 'yes' } }),
  };
  const config = parseWorkerConfig({
    serverUrl: 'http://server.test',
    registrationToken: 'token-1',
    name: 'worker-1',
    dataDir: tempDir('data'),
    pollWaitMs: 100,
    rejectedRetryMs: 100,
  });
  const worker = new Worker(config, { channel: server, executor, log: silentLog, random: () => 0 });
  return { server, worker };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('Worker health', () => {
  it('runs a health check from a poll answer and reports it, with the executor’s part', async () => {
    const { server, worker } = setup();
    await worker.start();
    server.offer({ healthCheck: { id: 'hc-1', timeoutSeconds: 10 } });
    await until(() => server.healthReports.length > 0, 'a health report');
    const { checkId, report } = server.healthReports[0]!;
    assert.equal(checkId, 'hc-1');
    assert.equal(report.checks.find((c) => c.name === 'server channel')?.ok, true);
    assert.ok(report.checks.some((c) => c.name === 'executor part'));
    assert.equal(report.facts.extra, 'yes');
    assert.match(report.facts.pollRoundTripMs ?? '', /^\d+$/);
    assert.equal(server.offlineCalls, 0);
    await worker.stop();
    assert.equal(server.offlineCalls, 1, 'a clean stop tells the server');
  });

  it('a server that does not answer the offline call does not hold the stop up', async () => {
    const { server, worker } = setup();
    await worker.start();
    server.offlineHangs = true;
    const started = Date.now();
    await worker.stop();
    assert.equal(worker.state, 'stopped');
    assert.equal(server.offlineCalls, 1);
    assert.ok(Date.now() - started < 4500, `stopped in ${Date.now() - started} ms`);
  });

  it('a worker stopped before it registered says nothing', async () => {
    const { server, worker } = setup();
    await worker.stop();
    assert.equal(server.offlineCalls, 0);
  });
});
