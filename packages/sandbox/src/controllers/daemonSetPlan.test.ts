import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { K8sObject } from '../client/kubeClient.js';
import { nodeShouldRunDaemonPod, targetNodeOf, withNodeAffinity } from './daemonSetNodes.js';
import { planDaemonSet, REVISION_HASH_LABEL } from './daemonSetPlan.js';

const node = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): K8sObject => ({
  metadata: { name, labels },
  spec,
});
const ready = [{ type: 'Ready', status: 'True', lastTransitionTime: '2020-01-01T00:00:00Z' }];
const pod = (name: string, nodeName: string, hash: string, extra: Record<string, unknown> = {}): K8sObject => ({
  metadata: {
    name,
    namespace: 'ns',
    labels: { [REVISION_HASH_LABEL]: hash },
    creationTimestamp: `2020-01-01T00:00:0${name.length}Z`,
  },
  spec: { nodeName },
  status: { phase: 'Running', conditions: ready },
  ...extra,
});
const ds = (spec: Record<string, unknown> = {}): K8sObject => ({
  metadata: { name: 'agent', namespace: 'ns', generation: 3 },
  spec: {
    template: { spec: {} },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    ...spec,
  },
});

test('a node with an untolerated NoSchedule taint keeps its daemon pod; NoExecute evicts it; condition taints are tolerated', () => {
  const taint = (key: string, effect: string) => ({ taints: [{ key, effect }] });
  assert.deepEqual(nodeShouldRunDaemonPod({}, node('a', taint('dedicated', 'NoSchedule'))), {
    shouldRun: false,
    shouldContinueRunning: true,
  });
  assert.deepEqual(nodeShouldRunDaemonPod({}, node('a', taint('dedicated', 'NoExecute'))), {
    shouldRun: false,
    shouldContinueRunning: false,
  });
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'])
    assert.equal(nodeShouldRunDaemonPod({}, node('a', taint(key, 'NoExecute'))).shouldRun, true, key);
  assert.equal(
    nodeShouldRunDaemonPod({}, node('a', taint('node.kubernetes.io/network-unavailable', 'NoSchedule'))).shouldRun,
    false,
  );
  assert.equal(
    nodeShouldRunDaemonPod(
      { hostNetwork: true },
      node('a', taint('node.kubernetes.io/network-unavailable', 'NoSchedule')),
    ).shouldRun,
    true,
  );
  assert.equal(nodeShouldRunDaemonPod({ nodeSelector: { disk: 'ssd' } }, node('a')).shouldRun, false);
  assert.equal(
    nodeShouldRunDaemonPod({ nodeSelector: { disk: 'ssd' } }, node('a', {}, { disk: 'ssd' })).shouldRun,
    true,
  );
});

test('the daemon pod names its node by affinity, replacing the template’s required terms', () => {
  const spec = withNodeAffinity(
    {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }],
          },
        },
      },
    },
    'node-1',
  );
  assert.equal(targetNodeOf({ spec }), 'node-1');
  assert.equal(targetNodeOf({ spec: { ...spec, nodeName: 'node-2' } }), 'node-2');
});

test('create where missing, delete failed and surplus pods, keep the oldest', () => {
  const plan = planDaemonSet(
    ds(),
    [node('a'), node('b'), node('c')],
    [pod('x', 'a', 'h'), pod('yy', 'a', 'h'), pod('z', 'b', 'h', { status: { phase: 'Failed' } })],
    'h',
  );
  assert.deepEqual(plan.create.sort(), ['b', 'c']);
  assert.deepEqual(
    plan.delete.map((d) => [d.pod.metadata.name, d.failed]),
    [
      ['yy', false],
      ['z', true],
    ],
  );
  assert.deepEqual(
    {
      desired: plan.status.desiredNumberScheduled,
      current: plan.status.currentNumberScheduled,
      ready: plan.status.numberReady,
    },
    { desired: 3, current: 2, ready: 1 },
  );
});

test('RollingUpdate replaces old pods one unavailable at a time; OnDelete waits', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const pods = [pod('p1', 'a', 'old'), pod('p22', 'b', 'old'), pod('p333', 'c', 'old')];
  assert.deepEqual(
    planDaemonSet(ds(), nodes, pods, 'new').delete.map((d) => d.pod.metadata.name),
    ['p1'],
  );
  const oneUnavailable = [pod('n', 'a', 'new', { status: { phase: 'Pending' } }), ...pods.slice(1)];
  assert.deepEqual(planDaemonSet(ds(), nodes, oneUnavailable, 'new').delete, []);
  const onDelete = ds({ updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual(planDaemonSet(onDelete, nodes, pods, 'new').delete, []);
  assert.equal(planDaemonSet(onDelete, nodes, pods, 'new').status.updatedNumberScheduled, 0);
});
