import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerMetrics } from '../health/workerMetrics.js';
import { FakeServer } from '../testing/fakeServer.fixture.js';
import { silentLog } from '../testing/operation.fixture.js';
import { tempDir } from '../testing/tempDirs.fixture.js';
import { parseWorkerConfig } from '../workerConfig.js';
import { createExecutor } from './registry.js';

const config = (executor: 'local' | 'kubernetes') =>
  parseWorkerConfig({ serverUrl: 'http://127.0.0.1:1', name: 'w', executor, dataDir: tempDir('registry') });
const dependencies = () => ({ channel: new FakeServer(), log: silentLog, metrics: new WorkerMetrics() });

describe('the executor registry', () => {
  it('makes the executor the configuration names', async () => {
    const { executor } = await createExecutor(config('local'), dependencies());
    assert.equal(executor.kind, 'local');
  });

  it('refuses the kubernetes executor without its settings', async () => {
    await assert.rejects(createExecutor(config('kubernetes'), dependencies()), { code: 'CONFIG_INVALID' });
  });
});
