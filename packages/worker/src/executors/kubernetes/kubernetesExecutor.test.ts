import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testOperation } from '../../testing/operation.fixture.js';
import { Sink, setup, started, until } from './executorHarness.fixture.js';
import { scriptPodNames } from './kubeNames.js';

describe('KubernetesExecutor', () => {
  test('runs the script in a pod, forwards its output and cleans up the pod and the Secret', async () => {
    const { api, executor } = setup();
    const operation = testOperation({ variables: [{ name: 'P', value: 'pa55word', sensitive: true }] });
    const sink = new Sink();
    const result = executor.start(operation, sink);
    const pod = await started(api, operation);
    const secret = scriptPodNames(operation.id).secret;
    assert.equal(api.secrets.get(secret)?.metadata?.ownerReferences?.[0]?.name, pod);
    api.setContainerState(pod, { running: { startedAt: new Date(1_700_000_123_000) } });
    api.log(pod, [
      '1 O hello',
      '2 E the pa55word leaked',
      "3 O ##longshore[setVariable name='eA==' value='MQ==']",
      '4 X 0',
    ]);
    api.setContainerState(pod, { terminated: { exitCode: 0, startedAt: new Date(1_700_000_123_000) } });
    const outcome = await result;
    assert.equal(outcome.outcome, 'succeeded');
    assert.deepEqual(outcome.outputVariables, [{ name: 'x', value: '1', sensitive: false }]);
    assert.ok(sink.texts().includes('hello'));
    assert.ok(sink.texts().includes('the ******** leaked'));
    assert.ok(sink.texts().some((t) => t.startsWith(`Created script pod ${pod}`)));
    assert.equal(sink.scriptPodName, pod);
    assert.equal(sink.scriptStartedAt, 1_700_000_123_000, 'the script began when the kubelet says it did');
    assert.equal(api.pods.size, 1, 'the pod stays until the result is reported');
    await executor.release(operation.id);
    assert.equal(api.pods.size, 0);
    assert.equal(api.secrets.size, 0);
    assert.ok(!api.calls.some((c) => c.startsWith('deleteSecret')), 'the Secret goes with the pod that owns it');
    assert.ok(api.calls.indexOf(`createSecret ${secret}`) < api.calls.indexOf(`createPod ${pod}`), 'Secret first');
    await executor.close();
  });

  test('a non-zero exit code fails the operation with it', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 O working', '2 X 3']);
    api.setContainerState(pod, { terminated: { exitCode: 3 } });
    assert.deepEqual(
      { ...(await result), outputVariables: undefined },
      { outcome: 'failed', exitCode: 3, message: 'The script exited with code 3', outputVariables: undefined },
    );
    await executor.close();
  });

  test("a script pod's usage is sampled while it runs and reported with its result, beside what it asked for", async () => {
    const { api, executor } = setup({
      usageSampleIntervalMs: 5,
      resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    });
    const operation = testOperation();
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.metrics.set(pod, [{ name: 'script', cpuMillis: 900, memoryBytes: 200 * 2 ** 20 }]);
    api.setContainerState(pod, { running: {} });
    await until(() => api.calls.filter((c) => c === `readPodMetrics ${pod}`).length >= 2, 'two samples');
    api.metrics.set(pod, [{ name: 'script', cpuMillis: 300, memoryBytes: 150 * 2 ** 20 }]);
    await until(() => api.calls.filter((c) => c === `readPodMetrics ${pod}`).length >= 4, 'more samples');
    api.log(pod, ['1 X 137']);
    api.setContainerState(pod, { terminated: { exitCode: 137, reason: 'OOMKilled' } });
    const { usage } = await result;
    assert.ok(usage && usage.samples >= 4);
    assert.equal(usage.peakCpuMillis, 900);
    assert.ok(usage.meanCpuMillis > 300 && usage.meanCpuMillis < 900);
    assert.equal(usage.peakMemoryBytes, 200 * 2 ** 20);
    assert.deepEqual(usage.requests, { cpuMillis: 250, memoryBytes: 128 * 2 ** 20 });
    assert.deepEqual(usage.limits, { memoryBytes: 512 * 2 ** 20 });
    assert.equal(usage.oomKilled, true);
    assert.equal(usage.throttled, false, 'no CPU limit, nothing held it back');
    await executor.close();
  });

  test('cancel deletes the pod with the grace period: cancelled', async () => {
    const { api, executor } = setup({ deleteGracePeriodSeconds: 7 });
    const operation = testOperation();
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 O long job']);
    await until(() => api.calls.some((c) => c.startsWith('streamPodLog')), 'the log reader');
    executor.cancel(operation.id);
    assert.equal((await result).outcome, 'cancelled');
    assert.ok(api.calls.includes(`deletePod(7) ${pod}`));
    await executor.close();
  });

  test('a pod that vanishes under a running script: lost', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.setContainerState(pod, { running: {} });
    api.log(pod, ['1 O working']);
    await until(() => api.calls.some((c) => c.startsWith('streamPodLog')), 'the log reader');
    api.removePod(pod);
    const outcome = await result;
    assert.equal(outcome.outcome, 'lost');
    assert.match(outcome.message, /vanished/);
    await executor.close();
  });

  test('a pending pod is explained live, and NotTriggerScaleUp fails it fast', async () => {
    const { api, executor } = setup();
    const operation = testOperation();
    const sink = new Sink();
    const result = executor.start(operation, sink);
    const pod = await started(api, operation);
    api.event(pod, 'Warning', 'FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.');
    await until(
      () => sink.texts().includes('Waiting for a node: 0/2 nodes are available: 2 Insufficient cpu.'),
      'the scheduler line',
    );
    api.event(
      pod,
      'Normal',
      'NotTriggerScaleUp',
      "pod didn't trigger scale-up: 1 max node group size reached",
      'cluster-autoscaler',
    );
    const outcome = await result;
    assert.equal(outcome.outcome, 'failed');
    assert.match(outcome.message, /cluster autoscaler will not add a node for it: 1 max node group size reached/);
    await executor.release(operation.id);
    assert.equal(api.pods.size, 0, 'the pod is deleted');
    await executor.close();
  });

  test('Docker needs and requests over the cap are rejected before anything is created', async () => {
    const { api, executor } = setup({ resources: { maxAllowed: { memory: '2Gi' } } });
    const docker = await executor.start(testOperation({ container: { dockerfile: 'FROM alpine' } }), new Sink());
    assert.equal(docker.outcome, 'rejected');
    assert.match(docker.message, /no Docker/);
    const big = await executor.start(testOperation({ resources: { requests: { memory: '4Gi' } } }), new Sink());
    assert.equal(big.outcome, 'rejected');
    assert.match(big.message, /maxAllowed\.memory = 2Gi/);
    assert.ok(!api.calls.some((c) => c.startsWith('create')));
    await executor.close();
  });

  test('maxPendingPods holds further operations back until a pod starts', async () => {
    const { api, executor } = setup({ maxPendingPods: 1 });
    const [first, second] = [testOperation(), testOperation()];
    const secondSink = new Sink();
    const firstResult = executor.start(first, new Sink());
    const pod1 = await started(api, first);
    const secondResult = executor.start(second, secondSink);
    await until(() => secondSink.texts().some((t) => t.startsWith('Waiting for a free slot')), 'the waiting line');
    assert.ok(!api.pods.has(scriptPodNames(second.id).pod));
    api.setContainerState(pod1, { running: {} });
    const pod2 = await started(api, second);
    for (const pod of [pod1, pod2]) {
      api.setContainerState(pod, { running: {} });
      api.log(pod, ['1 X 0']);
      api.setContainerState(pod, { terminated: { exitCode: 0 } });
    }
    assert.equal((await firstResult).outcome, 'succeeded');
    assert.equal((await secondResult).outcome, 'succeeded');
    await executor.close();
  });

  test('timeout deletes the pod: timed_out', async () => {
    const { api, executor } = setup();
    const operation = testOperation({ timeoutSeconds: 1 });
    const result = executor.start(operation, new Sink());
    const pod = await started(api, operation);
    api.setContainerState(pod, { running: {} });
    const outcome = await result;
    assert.equal(outcome.outcome, 'timed_out');
    await executor.close();
  });
});
