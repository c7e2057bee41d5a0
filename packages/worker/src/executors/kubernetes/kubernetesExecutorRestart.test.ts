import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Operation } from '@longshore/protocol';
import { testOperation } from '../../testing/operation.fixture.js';
import { Sink, setup, started, until } from './executorHarness.fixture.js';
import type { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { LABELS, scriptPodNames } from './kubeNames.js';

/** What an earlier run of the worker left: the operation's Secret and its pod. */
async function leftBehind(api: FakeKubeApi, operation: Operation, workerName = 'k8s-1'): Promise<string> {
  const names = scriptPodNames(operation.id);
  const labels = { [LABELS.worker]: workerName, [LABELS.operation]: operation.id };
  await api.createSecret({ metadata: { name: names.secret, labels }, data: {} });
  await api.createPod({
    metadata: { name: names.pod, labels },
    spec: { containers: [{ name: 'script', image: 'longshore/worker-tools' }] },
  });
  return names.pod;
}

describe('KubernetesExecutor after a worker restart', () => {
  test('resumes a running pod: only the lines the server lacks, the variables set before, no pod created again', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const pod = await leftBehind(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, [
      '1 O before',
      "2 O ##longshore[setVariable name='ZWFybHk=' value='eWVz']",
      '3 O also before',
      '4 O after',
    ]);
    assert.deepEqual(await executor.leftovers(AbortSignal.timeout(5000)), [operation.id]);
    const sink = new Sink();
    const result = executor.start(operation, sink, { lastSource: 3 });
    await until(() => sink.texts().includes('after'), 'the new line');
    api.log(pod, ['5 X 0']);
    api.setContainerState(pod, { terminated: { exitCode: 0 } });
    const outcome = await result;
    assert.equal(outcome.outcome, 'succeeded');
    assert.deepEqual(outcome.outputVariables, [{ name: 'early', value: 'yes', sensitive: false }]);
    assert.deepEqual(sink.texts(), [
      `The worker restarted; resuming script pod ${pod} after line 3 of its output`,
      'after',
    ]);
    assert.equal(api.calls.filter((c) => c.startsWith('createPod')).length, 1, 'only the earlier run created the pod');
    await executor.release(operation.id);
    assert.equal(api.pods.size + api.secrets.size, 0, 'cleaned up once released');
    await executor.close();
  });

  test('a run left to the next start stops being followed and leaves its pod and Secret; one without a pod yet cannot be left', async () => {
    const { api, executor } = setup();
    const operation = testOperation({ purpose: 'worker-upgrade' });
    assert.equal(executor.leave(operation.id), false, 'nothing runs');
    const pod = await leftBehind(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 O helm upgrade']);
    const sink = new Sink();
    const result = executor.start(operation, sink, { lastSource: 0 });
    await until(() => sink.texts().includes('helm upgrade'), 'the first line');
    assert.equal(executor.leave(operation.id), true);
    await result;
    assert.equal(api.pods.size, 1, 'the pod runs on');
    assert.equal(api.secrets.size, 1);
    assert.ok(!api.calls.some((c) => c.startsWith('deletePod')), api.calls.join());
    await executor.close();
  });

  test('a pod still pending is waited for as usual', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const pod = await leftBehind(api, operation);
    const sink = new Sink();
    const result = executor.start(operation, sink, { lastSource: 0 });
    api.event(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    await until(
      () => sink.texts().includes('Waiting for a node: 0/1 nodes are available: 1 Insufficient cpu.'),
      'the scheduler line',
    );
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 O first', '2 X 0']);
    api.setContainerState(pod, { terminated: { exitCode: 0 } });
    assert.equal((await result).outcome, 'succeeded');
    assert.ok(sink.texts().includes('first'));
    await executor.close();
  });

  test('a pod gone while the worker was down: lost, and nothing is created', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const outcome = await executor.start(operation, new Sink(), { lastSource: 12 });
    assert.equal(outcome.outcome, 'lost');
    assert.match(outcome.message, /was gone when the worker restarted/);
    assert.ok(!api.calls.some((c) => c.startsWith('create')));
    await executor.close();
  });

  test("discard removes the pod and the Secret; other workers' objects are not leftovers", async () => {
    const { api, executor } = setup();
    const mine = testOperation();
    const theirs = testOperation();
    await leftBehind(api, mine);
    await leftBehind(api, theirs, 'another-worker');
    assert.deepEqual(await executor.leftovers(AbortSignal.timeout(5000)), [mine.id]);
    await executor.discard(mine.id, AbortSignal.timeout(5000));
    assert.deepEqual([...api.pods.keys()], [scriptPodNames(theirs.id).pod]);
    assert.deepEqual([...api.secrets.keys()], [scriptPodNames(theirs.id).secret]);
    await executor.close();
  });
});

describe('KubernetesExecutor capacity and hints', () => {
  test('capacity counts pending pods against maxPendingPods and tells when it grows', async () => {
    const { api, executor } = setup({ maxConcurrentOperations: 3, maxPendingPods: 2 });
    let told = 0;
    executor.onCapacityChange(() => told++);
    assert.equal(executor.capacity(), 2);
    const [a, b] = [testOperation(), testOperation()];
    const results = [executor.start(a, new Sink()), executor.start(b, new Sink())];
    const [podA, podB] = [await started(api, a), await started(api, b)];
    assert.equal(executor.capacity(), 0, 'two pods pending: no room');
    assert.equal(executor.pendingPods, 2);
    const before = told;
    api.setContainerState(podA, { running: {} });
    await until(() => executor.capacity() === 1 && told > before, 'room for one more');
    for (const pod of [podA, podB]) {
      api.setContainerState(pod, { running: {} });
      api.log(pod, ['1 X 0']);
      api.setContainerState(pod, { terminated: { exitCode: 0 } });
    }
    await Promise.all(results);
    assert.equal(executor.capacity(), 2);
    await executor.close();
  });

  test('a script that finds no docker gets one hint about the Kubernetes worker', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const sink = new Sink();
    const result = executor.start(operation, sink);
    const pod = await started(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 E /bin/sh: 1: docker: not found', '2 E sh: docker: not found', '3 X 127']);
    api.setContainerState(pod, { terminated: { exitCode: 127 } });
    assert.equal((await result).outcome, 'failed');
    const hints = sink.lines.filter((l) => l.stream === 'system' && l.text.startsWith('Hint:'));
    assert.equal(hints.length, 1);
    assert.match(hints[0]!.text, /no Docker/);
    await executor.close();
  });
});

describe('KubernetesExecutor container failures', () => {
  test("a container that cannot start fails with the runtime's reason in the outcome", async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.setContainerState(pod, {
      terminated: { exitCode: 128, reason: 'StartError', message: 'no container runtime: install bubblewrap\n' },
    });
    const outcome = await result;
    assert.equal(outcome.outcome, 'failed');
    assert.equal(
      outcome.message,
      'The script container could not start (StartError): no container runtime: install bubblewrap',
    );
    await executor.close();
  });
});
