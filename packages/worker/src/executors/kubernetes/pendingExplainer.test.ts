import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { PendingExplainer, scaleUpGroups } from './pendingExplainer.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const policy = { pendingTimeoutMs: 15 * 60_000, scaleUpTimeoutMs: 15 * 60_000, imagePullGraceMs: 30_000 };
let n = 0;

function event(reason: string, message: string, atMs: number, type: 'Normal' | 'Warning' = 'Normal'): CoreV1Event {
  n++;
  return {
    metadata: { name: `e${n}`, uid: `u${n}` },
    involvedObject: { kind: 'Pod', name: 'p' },
    reason,
    message,
    type,
    count: 1,
    lastTimestamp: new Date(T0 + atMs),
  };
}

const unscheduled: V1Pod = {
  metadata: { name: 'p' },
  status: {
    phase: 'Pending',
    conditions: [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/2 nodes are available: 2 Insufficient cpu.',
      },
    ],
  },
};

function waitingPod(reason: string, message?: string): V1Pod {
  const status: V1ContainerStatus = {
    name: 'script',
    image: 'registry.example/tools:9',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  };
  return {
    metadata: { name: 'p' },
    spec: { nodeName: 'node-1', containers: [] },
    status: { phase: 'Pending', containerStatuses: [status] },
  };
}

const failedScheduling = (at: number) =>
  event('FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.', at, 'Warning');
const scaleUp = (at: number) => event('TriggeredScaleUp', 'pod triggered scale-up: [{autoscaled 1->2 (max: 5)}]', at);

describe('PendingExplainer', () => {
  interface Row {
    name: string;
    pod: V1Pod;
    events: (explainerStart: number) => CoreV1Event[];
    at: number;
    lines: RegExp[];
    verdict: 'wait' | RegExp;
  }
  const table: Row[] = [
    {
      name: 'unschedulable, scale-up under way: both explained, keep waiting',
      pod: unscheduled,
      events: () => [failedScheduling(1000), scaleUp(2000)],
      at: 3000,
      lines: [
        /^Waiting for a node: 0\/2 nodes are available: 2 Insufficient cpu\.$/,
        /^The cluster autoscaler is adding a node \(group autoscaled, 1 -> 2\)\.$/,
      ],
      verdict: 'wait',
    },
    {
      name: "NotTriggerScaleUp fails fast with the autoscaler's reason",
      pod: unscheduled,
      events: () => [
        failedScheduling(1000),
        event('NotTriggerScaleUp', "pod didn't trigger scale-up: 1 max node group size reached", 2000),
      ],
      at: 3000,
      lines: [/^Waiting for a node/, /will not add a node for this pod: 1 max node group size reached\.$/],
      verdict:
        /will not add a node for it: 1 max node group size reached\. The scheduler said: 0\/2 nodes are available: 2 Insufficient cpu\. Lower the step's/,
    },
    {
      name: 'a TriggeredScaleUp after a NotTriggerScaleUp supersedes it',
      pod: unscheduled,
      events: () => [
        event('NotTriggerScaleUp', "pod didn't trigger scale-up: 1 in backoff after failed scale-up", 1000),
        scaleUp(5000),
      ],
      at: 6000,
      lines: [/will not add a node/, /is adding a node/],
      verdict: 'wait',
    },
    {
      name: 'pending past the timeout fails with the last scheduler message',
      pod: unscheduled,
      events: () => [failedScheduling(1000)],
      at: 15 * 60_000,
      lines: [/^Waiting for a node/],
      verdict:
        /^The script pod was still pending after 15 min \(scriptPods\.pendingTimeoutMs = 900000\): 0\/2 nodes are available: 2 Insufficient cpu\.$/,
    },
    {
      name: 'a scale-up restarts the pending clock',
      pod: unscheduled,
      events: () => [failedScheduling(1000), scaleUp(10 * 60_000)],
      at: 20 * 60_000,
      lines: [/^Waiting for a node/, /adding a node/],
      verdict: 'wait',
    },
    {
      name: 'no events at all (no RBAC for events): the condition message is used at the timeout',
      pod: unscheduled,
      events: () => [],
      at: 16 * 60_000,
      lines: [],
      verdict: /still pending after 16 min .*: 0\/2 nodes are available/,
    },
    {
      name: 'image pull error within the grace: explained, keep waiting',
      pod: waitingPod('ErrImagePull', 'rpc error: code = NotFound desc = manifest unknown'),
      events: () => [
        event('Scheduled', 'Successfully assigned longshore/p to node-1', 0),
        event('Pulling', 'Pulling image "registry.example/tools:9"', 100),
      ],
      at: 1000,
      lines: [
        /^Scheduled on node node-1\.$/,
        /^Pulling image registry\.example\/tools:9\.$/,
        /^The container 'script' is waiting: ErrImagePull: rpc error/,
      ],
      verdict: 'wait',
    },
    {
      name: 'an invalid image name fails at once',
      pod: waitingPod('InvalidImageName', 'couldn\'t parse image name "Bad Image"'),
      events: () => [],
      at: 10,
      lines: [],
      verdict: /^The container 'script' cannot start: InvalidImageName: couldn't parse image name/,
    },
  ];
  for (const row of table) {
    test(row.name, () => {
      const explainer = new PendingExplainer(policy, T0);
      const update = explainer.update(row.pod, row.events(T0), T0 + row.at);
      assert.equal(update.lines.length, row.lines.length, update.lines.join('\n'));
      row.lines.forEach((re, i) => assert.match(update.lines[i]!, re));
      if (row.verdict === 'wait') assert.equal(update.verdict.kind, 'wait', JSON.stringify(update.verdict));
      else {
        assert.equal(update.verdict.kind, 'fail');
        assert.match((update.verdict as { message: string }).message, row.verdict);
      }
    });
  }

  test("image pull errors fail after the grace with the kubelet's reason", () => {
    const explainer = new PendingExplainer(policy, T0);
    const pod = waitingPod('ImagePullBackOff', 'Back-off pulling image "registry.example/tools:9"');
    const events = [
      event(
        'Failed',
        'Failed to pull image "registry.example/tools:9": rpc error: code = NotFound desc = manifest unknown',
        100,
        'Warning',
      ),
      event('Failed', 'Error: ErrImagePull', 100, 'Warning'),
    ];
    const first = explainer.update(pod, events, T0 + 1000);
    assert.equal(first.verdict.kind, 'wait');
    assert.equal((first.verdict as { deadline: number }).deadline, T0 + 31_000);
    assert.ok(first.lines.some((l) => l.startsWith('Image pull failed: Failed to pull image')));
    assert.ok(!first.lines.some((l) => l.includes('Error: ErrImagePull')), 'the bare reason repeats nothing');
    const later = explainer.update(pod, events, T0 + 31_000);
    assert.equal(later.lines.length, 0, 'nothing is reported twice');
    assert.equal(later.verdict.kind, 'fail');
    assert.match(
      (later.verdict as { message: string }).message,
      /^The image registry\.example\/tools:9 cannot be pulled \(for 30 s\): Failed to pull image .*manifest unknown$/,
    );
  });

  test('a pull error that clears resets the grace', () => {
    const explainer = new PendingExplainer(policy, T0);
    explainer.update(waitingPod('ErrImagePull'), [], T0);
    explainer.update(
      { ...unscheduled, spec: { nodeName: 'n', containers: [] }, status: { phase: 'Pending' } },
      [],
      T0 + 20_000,
    );
    assert.equal(explainer.update(waitingPod('ErrImagePull'), [], T0 + 40_000).verdict.kind, 'wait');
  });

  test('a node on its way extends the wait past the pending timeout, up to the scale-up limit, and the failure says so', () => {
    const explainer = new PendingExplainer(
      { pendingTimeoutMs: 2000, scaleUpTimeoutMs: 10_000, imagePullGraceMs: 30_000 },
      T0,
    );
    const events = [failedScheduling(500), scaleUp(1000)];
    assert.deepEqual(explainer.update(unscheduled, events, T0 + 4000).verdict, { kind: 'wait', deadline: T0 + 11_000 });
    const failed = explainer.update(unscheduled, events, T0 + 11_000).verdict;
    assert.equal(failed.kind, 'fail');
    assert.match(
      (failed as { message: string }).message,
      /^The script pod was still pending after the cluster autoscaler had been adding a node for it for 10 s \(scriptPods\.scaleUpTimeoutMs = 10000\); no node took it\. The scheduler's last message, from before the node: 0\/2 nodes are available: 2 Insufficient cpu\.$/,
    );
  });

  test('repeated scheduler verdicts are reported once, a changed one again', () => {
    const explainer = new PendingExplainer(policy, T0);
    const events = [failedScheduling(1000)];
    assert.equal(explainer.update(unscheduled, events, T0 + 1000).lines.length, 1);
    events.push(failedScheduling(5000));
    assert.equal(explainer.update(unscheduled, events, T0 + 5000).lines.length, 0);
    events.push(event('FailedScheduling', '0/3 nodes are available: 3 Insufficient memory.', 9000, 'Warning'));
    assert.deepEqual(explainer.update(unscheduled, events, T0 + 9000).lines, [
      'Waiting for a node: 0/3 nodes are available: 3 Insufficient memory.',
    ]);
  });

  test("scaleUpGroups reads the autoscaler's message", () => {
    assert.equal(
      scaleUpGroups('pod triggered scale-up: [{a 1->2 (max: 3)} {b 0->1 (max: 5)}]'),
      'groups a, 1 -> 2; b, 0 -> 1',
    );
    assert.equal(scaleUpGroups('something else'), 'something else');
  });
});
