import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZERO, type Obj } from '../scheduler/resources.js';
import { templateNode, type NodeGroupConfig } from './autoscaler.js';
import { scaleDownBlocker } from './scaleDown.js';
import { planScaleUp } from './scaleUp.js';

const group = (name: string, cpu: string, min = 0, max = 5, extra: Partial<NodeGroupConfig> = {}): NodeGroupConfig => ({
  name,
  min,
  max,
  cpu,
  memory: '4Gi',
  pods: 110,
  labels: {},
  taints: [],
  provisioningDelayMs: 0,
  ...extra,
});
const pod = (name: string, cpu: string, meta: Obj = {}): Obj => ({
  metadata: { name, namespace: 'd', ...meta },
  spec: { containers: [{ resources: { requests: { cpu } } }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const state = (g: NodeGroupConfig, target: number) => ({
  name: g.name,
  min: g.min,
  max: g.max,
  target,
  template: templateNode(g),
});

test('scale-up: one node per pod that does not fit together, the message names the group and sizes', () => {
  const g = group('autoscaled', '2');
  const plan = planScaleUp([pod('a', '1500m'), pod('b', '1500m'), pod('c', '1500m')], [state(g, 0)], []);
  assert.equal(plan.increases.get('autoscaled'), 3);
  assert.equal(plan.triggered.get('d/a'), 'pod triggered scale-up: [{autoscaled 0->3 (max: 5)}]');
});

test('scale-up: pods sharing a new node, pods waiting for a provisioning node, and the reasons when none can', () => {
  const g = group('autoscaled', '2');
  assert.equal(planScaleUp([pod('a', '500m'), pod('b', '500m')], [state(g, 0)], []).increases.get('autoscaled'), 1);
  const waiting = planScaleUp(
    [pod('a', '500m')],
    [state(g, 1)],
    [{ node: templateNode(g), requested: ZERO, group: 'autoscaled' }],
  );
  assert.equal(waiting.increases.size, 0);
  assert.equal(waiting.triggered.size, 0);
  const huge = planScaleUp([pod('big', '64')], [state(g, 0), state(group('other', '4'), 0)], []);
  assert.equal(huge.notTriggered.get('d/big'), "pod didn't trigger scale-up: 2 Insufficient cpu");
  const full = planScaleUp([pod('a', '1')], [state(group('small', '2', 0, 2), 2)], []);
  assert.equal(full.notTriggered.get('d/a'), "pod didn't trigger scale-up: 1 max node group size reached");
  const tainted = planScaleUp(
    [pod('a', '1')],
    [state(group('t', '2', 0, 2, { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), 0)],
    [],
  );
  assert.equal(tainted.notTriggered.get('d/a'), "pod didn't trigger scale-up: 1 node(s) had untolerated taint {k: v}");
});

test('scale-down candidacy: empty nodes go; safe-to-evict false, budgets, bare pods and full clusters keep a node', () => {
  const n = templateNode(group('g', '2'));
  const other = [{ node: templateNode(group('h', '2')), requested: ZERO }];
  const owned = {
    ownerReferences: [{ controller: true, kind: 'ReplicaSet', name: 'rs', uid: 'u' }],
    labels: { app: 'x' },
  };
  assert.equal(scaleDownBlocker(n, [], [], [], other), undefined);
  assert.equal(
    scaleDownBlocker(
      n,
      [pod('done', '1', { ...owned }), { ...pod('fin', '1'), status: { phase: 'Succeeded' } }].slice(1),
      [],
      [],
      other,
    ),
    undefined,
  );
  assert.equal(scaleDownBlocker(n, [pod('r', '100m', owned)], [], [], other), undefined);
  assert.match(
    scaleDownBlocker(
      n,
      [pod('r', '100m', { ...owned, annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' } })],
      [],
      [],
      other,
    )!,
    /safe-to-evict/,
  );
  assert.match(scaleDownBlocker(n, [pod('bare', '100m')], [], [], other)!, /not replicated/);
  const pdb = {
    metadata: { name: 'b', namespace: 'd' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } },
  };
  const p = pod('r', '100m', owned);
  assert.match(scaleDownBlocker(n, [p], [pdb], [p], other)!, /PodDisruptionBudget b/);
  assert.match(scaleDownBlocker(n, [pod('r', '100m', owned)], [], [], [])!, /fits on no other node/);
  assert.match(scaleDownBlocker(n, [pod('r', '1500m', owned)], [], [], other)!, /utilization/);
});
