import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseNode, failedSchedulingMessage, fitFailures } from './predicates.js';
import { podRequests, ZERO, type Obj } from './resources.js';

const node = (name: string, cpu: string, extra: Obj = {}, labels: Record<string, string> = {}): Obj => ({
  metadata: { name, labels },
  spec: extra,
  status: { allocatable: { cpu, memory: '4Gi', pods: '2' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (cpu: string, spec: Obj = {}): Obj => ({
  metadata: { name: 'p', namespace: 'd' },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }], ...spec },
});

test('fit predicates, in kube-scheduler order, with its wording', () => {
  const cases: [string, Obj, Obj, string[]][] = [
    ['fits', pod('1'), node('n', '2'), []],
    ['cpu', pod('1500m'), node('n', '1'), ['Insufficient cpu']],
    [
      'memory',
      { spec: { containers: [{ resources: { requests: { memory: '5Gi' } } }] } },
      node('n', '2'),
      ['Insufficient memory'],
    ],
    [
      'taint',
      pod('1'),
      node('n', '2', { taints: [{ key: 'dedicated', value: 'ci', effect: 'NoSchedule' }] }),
      ['node(s) had untolerated taint {dedicated: ci}'],
    ],
    [
      'tolerated',
      pod('1', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }] }),
      node('n', '2', { taints: [{ key: 'dedicated', value: 'ci', effect: 'NoSchedule' }] }),
      [],
    ],
    ['PreferNoSchedule ignored', pod('1'), node('n', '2', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), []],
    [
      'selector',
      pod('1', { nodeSelector: { pool: 'a' } }),
      node('n', '2', {}, { pool: 'b' }),
      ["node(s) didn't match Pod's node affinity/selector"],
    ],
    [
      'affinity In',
      pod('1', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      }),
      node('n', '2', {}, { pool: 'a' }),
      [],
    ],
    [
      'affinity NotIn',
      pod('1', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a'] }] }],
            },
          },
        },
      }),
      node('n', '2', {}, { pool: 'a' }),
      ["node(s) didn't match Pod's node affinity/selector"],
    ],
    ['cordoned', pod('1'), node('n', '2', { unschedulable: true }), ['node(s) were unschedulable']],
  ];
  for (const [name, p, n, want] of cases) assert.deepEqual(fitFailures(p, n, ZERO), want, name);
  assert.deepEqual(fitFailures(pod('1'), node('n', '2'), { cpuMilli: 0, memoryBytes: 0, pods: 2 }), ['Too many pods']);
});

test('requests: sum of containers, max with init containers, limits default requests', () => {
  assert.deepEqual(
    podRequests({
      spec: {
        containers: [
          { resources: { requests: { cpu: '250m' } } },
          { resources: { limits: { cpu: '1', memory: '1Mi' } } },
        ],
        initContainers: [{ resources: { requests: { cpu: '2' } } }],
      },
    }),
    { cpuMilli: 2000, memoryBytes: 1048576, pods: 1 },
  );
});

test('FailedScheduling message counts reasons over nodes, sorted, as kube-scheduler writes it', () => {
  assert.equal(
    failedSchedulingMessage(3, [['Insufficient cpu'], ['Insufficient cpu'], ['Insufficient cpu']]),
    '0/3 nodes are available: 3 Insufficient cpu.',
  );
  assert.equal(
    failedSchedulingMessage(2, [
      ['Insufficient memory', 'Insufficient cpu'],
      ["node(s) didn't match Pod's node affinity/selector"],
    ]),
    "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector.",
  );
  assert.equal(failedSchedulingMessage(0, []), 'no nodes available to schedule pods');
});

test('chooseNode prefers the least allocated feasible node', () => {
  const r = chooseNode(pod('1'), [node('a', '2'), node('b', '4'), node('c', '0.5')], () => ZERO);
  assert.equal((r.node?.metadata as Obj).name, 'b');
  assert.deepEqual(r.reasons, [['Insufficient cpu']]);
});
