import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LongshoreError, type HealthCheckResult } from '@longshore/protocol';
import { FakeKubeApi } from './fakeKubeApi.fixture.js';
import { LABELS } from './kubeNames.js';
import { kubernetesHealth } from './kubernetesHealth.js';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';
import { workerPermissions } from './workerPermissions.js';

const config = parseScriptPodsConfig({ namespace: 'longshore', workerName: 'k8s-1', pendingTimeoutMs: 60_000 });
const signal = new AbortController().signal;
const named = (checks: HealthCheckResult[], name: string) => checks.find((c) => c.name === name);

describe('kubernetesHealth', () => {
  it('with every right and a reachable API server, every check is ok and the check pod is gone', async () => {
    const api = new FakeKubeApi();
    const health = await kubernetesHealth({ api, config, chartVersion: '1.2.3', now: () => api.now() }, signal);
    assert.deepEqual(
      health.checks.filter((c) => !c.ok),
      [],
    );
    assert.equal(health.checks.length, 1 + workerPermissions().length + 2);
    assert.deepEqual(named(health.checks, 'Kubernetes API server'), {
      name: 'Kubernetes API server',
      ok: true,
      detail: 'reachable, version v1.34.0-fake',
    });
    assert.equal(named(health.checks, 'pods/create in namespace longshore')?.detail, 'allowed');
    assert.ok(named(health.checks, 'pods/log/get in namespace longshore'));
    assert.match(
      named(health.checks, 'check pod in namespace longshore')?.detail ?? '',
      /^created and deleted pod longshore-health-/,
    );
    assert.equal(api.pods.size, 0, 'the check pod was deleted');
    assert.equal(named(health.checks, 'pending script pods')?.detail, 'none');
    assert.deepEqual(health.facts, {
      chartVersion: '1.2.3',
      apiServerVersion: 'v1.34.0-fake',
      pendingScriptPods: '0',
      schedulableNodes: '0',
      allocatableCpu: '0',
      allocatableMemory: '0',
    });
  });

  it('names each denied right, and a denied pod creation fails the check pod too', async () => {
    const api = new FakeKubeApi();
    api.denied.add('create pods');
    api.denied.add('get pods/log');
    const { checks } = await kubernetesHealth({ api, config }, signal);
    assert.deepEqual(
      checks.filter((c) => !c.ok).map((c) => c.name),
      ['pods/create in namespace longshore', 'pods/log/get in namespace longshore', 'check pod in namespace longshore'],
    );
    assert.match(
      named(checks, 'pods/create in namespace longshore')!.detail,
      /^pods\/create denied in namespace longshore/,
    );
    assert.match(named(checks, 'check pod in namespace longshore')!.detail, /forbidden/);
    assert.ok(
      api.calls.some((c) => c.startsWith('deletePod(0) longshore-health-')),
      'deleted even when the check failed',
    );
  });

  it('the check pod is tiny, labelled as a health check of this worker, in the script pods image', async () => {
    const api = new FakeKubeApi();
    let seen: unknown;
    const createPod = api.createPod.bind(api);
    api.createPod = async (pod, options) => {
      seen = pod;
      return createPod(pod, options);
    };
    await kubernetesHealth({ api, config }, signal);
    const pod = seen as {
      metadata: { labels: Record<string, string> };
      spec: { containers: { image: string; resources: unknown }[] };
    };
    assert.equal(pod.metadata.labels[LABELS.worker], 'k8s-1');
    assert.equal(pod.metadata.labels[LABELS.healthCheck], 'true');
    assert.equal(pod.metadata.labels[LABELS.operation], undefined, 'not an operation: leftovers pass it by');
    assert.equal(pod.spec.containers[0]!.image, config.worker.image);
    assert.deepEqual(pod.spec.containers[0]!.resources, {
      requests: { cpu: '1m', memory: '8Mi' },
      limits: { cpu: '10m', memory: '16Mi' },
    });
  });

  it('an unreachable API server is one failed check; the rest is not asked', async () => {
    const api = new FakeKubeApi();
    api.versionFailure = new LongshoreError('SERVER_UNREACHABLE', 'connect ECONNREFUSED 10.0.0.1:443');
    const health = await kubernetesHealth({ api, config }, signal);
    assert.deepEqual(health.checks, [
      { name: 'Kubernetes API server', ok: false, detail: 'connect ECONNREFUSED 10.0.0.1:443' },
    ]);
    assert.deepEqual(api.calls, ['serverVersion']);
  });

  it('explains pending script pods; one that the explainer would fail makes the check fail', async () => {
    const api = new FakeKubeApi();
    const labels = { [LABELS.worker]: 'k8s-1', [LABELS.operation]: 'op-1' };
    await api.createPod({ metadata: { name: 'longshore-op-1', labels }, spec: { containers: [{ name: 'script' }] } });
    api.event('longshore-op-1', 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    api.advance(10_000);
    let health = await kubernetesHealth({ api, config, now: () => api.now() }, signal);
    assert.deepEqual(named(health.checks, 'pending script pods'), {
      name: 'pending script pods',
      ok: true,
      detail: '1 pending: longshore-op-1 (10 s): Waiting for a node: 0/3 nodes are available: 3 Insufficient cpu.',
    });
    assert.equal(health.facts.pendingScriptPods, '1');
    api.advance(60_000);
    health = await kubernetesHealth({ api, config, now: () => api.now() }, signal);
    const pending = named(health.checks, 'pending script pods')!;
    assert.equal(pending.ok, false);
    assert.match(pending.detail, /still pending after 70 s/);
  });

  it("sums the schedulable nodes' allocatable capacity when it may list nodes; without the right, a fact says so", async () => {
    const api = new FakeKubeApi();
    api.nodes = [
      { metadata: { name: 'a' }, status: { allocatable: { cpu: '3500m', memory: '8Gi' } } },
      { metadata: { name: 'b' }, status: { allocatable: { cpu: '2', memory: '4Gi' } } },
      { metadata: { name: 'c' }, spec: { unschedulable: true }, status: { allocatable: { cpu: '8', memory: '32Gi' } } },
    ];
    let health = await kubernetesHealth({ api, config }, signal);
    assert.equal(health.facts.allocatableCpu, '5500m');
    assert.equal(health.facts.allocatableMemory, String(12 * 2 ** 30));
    assert.equal(health.facts.schedulableNodes, '2');
    api.denied.add('list nodes');
    health = await kubernetesHealth({ api, config }, signal);
    assert.equal(health.facts.allocatable, 'not visible: the worker may not list nodes');
    assert.equal(health.facts.allocatableCpu, undefined);
    assert.deepEqual(
      health.checks.filter((c) => !c.ok),
      [],
      'not a failure',
    );
    assert.equal(api.calls.filter((c) => c === 'listNodes').length, 1, 'asked first: not listed the second time');
  });
});
