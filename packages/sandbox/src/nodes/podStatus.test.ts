import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computePodStatus, podPhase, qosClass, type ContainerStatus } from './podStatus.js';

const cs = (state: ContainerStatus['state'], lastState: ContainerStatus['lastState'] = {}): ContainerStatus => ({
  name: 'c',
  image: 'busybox',
  imageID: '',
  ready: Boolean(state.running),
  restartCount: 0,
  state,
  lastState,
});
const run = cs({ running: { startedAt: 't' } });
const ok = cs({ terminated: { exitCode: 0, reason: 'Completed', startedAt: 't', finishedAt: 't' } });
const bad = cs({ terminated: { exitCode: 2, reason: 'Error', startedAt: 't', finishedAt: 't' } });
const wait = cs({ waiting: { reason: 'ContainerCreating' } });

test('pod phase follows the kubelet getPhase rules', () => {
  const cases: [string, string, ContainerStatus[], ContainerStatus[], number, string][] = [
    ['waiting', 'Always', [], [wait], 0, 'Pending'],
    ['running', 'Always', [], [run], 0, 'Running'],
    ['done ok Never', 'Never', [], [ok], 0, 'Succeeded'],
    ['failed Never', 'Never', [], [bad, ok], 0, 'Failed'],
    ['failed OnFailure restarts', 'OnFailure', [], [bad], 0, 'Running'],
    ['exited Always restarts', 'Always', [], [ok], 0, 'Running'],
    ['init running', 'Never', [run], [wait], 1, 'Pending'],
    ['init failed Never', 'Never', [bad], [wait], 1, 'Failed'],
    ['init failed retried', 'Always', [bad], [wait], 1, 'Pending'],
    ['init done', 'Never', [ok], [run], 1, 'Running'],
  ];
  for (const [name, policy, init, containers, n, want] of cases)
    assert.equal(podPhase(policy, { init, containers }, n), want, name);
  assert.equal(podPhase('Never', { init: [], containers: [run], deadlineExceeded: true }, 0), 'Failed');
});

test('conditions: Ready with running containers, PodCompleted when finished, DeadlineExceeded reason', () => {
  const pod = { spec: { restartPolicy: 'Never', containers: [{ name: 'c' }] } };
  const running = computePodStatus(pod, {
    init: [],
    containers: [run],
    hostIP: '127.0.0.1',
    podIP: '10.244.0.2',
    sandboxReady: true,
  });
  const cond = (s: Record<string, unknown>, t: string) =>
    (s.conditions as { type: string; status: string; reason?: string }[]).find((c) => c.type === t);
  assert.equal(running.phase, 'Running');
  assert.equal(cond(running, 'Ready')?.status, 'True');
  const done = computePodStatus(pod, {
    init: [],
    containers: [ok],
    hostIP: '127.0.0.1',
    podIP: '10.244.0.2',
    sandboxReady: true,
  });
  assert.equal(done.phase, 'Succeeded');
  assert.equal(cond(done, 'Ready')?.reason, 'PodCompleted');
  const late = computePodStatus(pod, {
    init: [],
    containers: [bad],
    hostIP: '127.0.0.1',
    podIP: '10.244.0.2',
    sandboxReady: true,
    deadlineExceeded: true,
  });
  assert.equal(late.reason, 'DeadlineExceeded');
  assert.equal(late.phase, 'Failed');
});

test('QoS class', () => {
  assert.equal(qosClass({ containers: [{}] }), 'BestEffort');
  assert.equal(
    qosClass({
      containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }],
    }),
    'Guaranteed',
  );
  assert.equal(qosClass({ containers: [{ resources: { limits: { memory: '1Gi' } } }] }), 'Burstable');
});
