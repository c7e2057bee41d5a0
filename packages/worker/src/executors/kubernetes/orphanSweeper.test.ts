import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLog } from '../../testing/operation.fixture.js';
import { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { buildCheckPod } from './checkPod.js';
import { LABELS, scriptPodNames } from './kubeNames.js';
import { OrphanSweeper } from './orphanSweeper.js';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';

describe('OrphanSweeper', () => {
  it("removes the pods and Secrets of operations nobody claims, and only this worker's", async () => {
    const api = new FakeKubeApi();
    const objects = (id: string, worker = 'w1') => ({
      name: scriptPodNames(id),
      labels: { [LABELS.worker]: worker, [LABELS.operation]: id },
    });
    for (const { name, labels } of [objects('running'), objects('orphan'), objects('other', 'w2')]) {
      await api.createSecret({ metadata: { name: name.secret, labels } });
      await api.createPod({ metadata: { name: name.pod, labels }, spec: { containers: [{ name: 'script' }] } });
    }
    // A Secret whose pod was never created (the worker died in between).
    await api.createSecret({ metadata: { name: scriptPodNames('half').secret, labels: objects('half').labels } });
    // Named by hand: found by its labels, not by the name the executor would give it.
    await api.createSecret({ metadata: { name: 'hand-made', labels: objects('stray').labels } });
    const sweeper = new OrphanSweeper({
      api,
      workerName: 'w1',
      intervalMs: 60_000,
      claimed: (id) => id === 'running',
      log: silentLog,
    });
    assert.deepEqual((await sweeper.sweep()).sort(), ['half', 'orphan', 'stray']);
    assert.deepEqual([...api.pods.keys()].sort(), [scriptPodNames('other').pod, scriptPodNames('running').pod].sort());
    assert.deepEqual(
      [...api.secrets.keys()].sort(),
      [scriptPodNames('other').secret, scriptPodNames('running').secret].sort(),
    );
    assert.ok(api.calls.includes(`deletePod(0) ${scriptPodNames('orphan').pod}`), 'no grace: nobody reads its log');
  });

  it("removes health-check pods left behind (by a failed delete or a dead worker), only this worker's", async () => {
    const api = new FakeKubeApi();
    const mine = await api.createPod(
      buildCheckPod(parseScriptPodsConfig({ namespace: 'longshore', workerName: 'w1' })),
    );
    const theirs = await api.createPod(
      buildCheckPod(parseScriptPodsConfig({ namespace: 'longshore', workerName: 'w2' })),
    );
    const sweeper = new OrphanSweeper({
      api,
      workerName: 'w1',
      intervalMs: 60_000,
      claimed: () => false,
      log: silentLog,
    });
    assert.deepEqual(await sweeper.sweep(), [], 'not an operation');
    assert.deepEqual([...api.pods.keys()], [theirs.metadata!.name]);
    assert.ok(api.calls.includes(`deletePod(0) ${mine.metadata!.name}`));
  });
});
