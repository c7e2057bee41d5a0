import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { K8sObject } from '../client/kubeClient.js';
import { countFinished, planPods } from './jobProgress.js';
import { TRACKING_FINALIZER, formatIndexes, parseIndexes } from './jobPods.js';

const job = (spec: Record<string, unknown>): K8sObject => ({ metadata: { name: 'j', namespace: 'n', uid: 'J' }, spec });
const pod = (uid: string, phase: string, extra: Record<string, unknown> = {}): K8sObject => ({
  metadata: { name: uid, namespace: 'n', uid, finalizers: [TRACKING_FINALIZER], ...extra },
  status: { phase },
});

test('parallelism bounds the pods at once; completions end it', () => {
  const j = job({ parallelism: 2, completions: 4 });
  assert.equal(planPods(j, [], { succeeded: 0 }).create.length, 2);
  assert.equal(planPods(j, [pod('a', 'Running')], { succeeded: 0 }).create.length, 1);
  assert.equal(planPods(j, [], { succeeded: 3 }).create.length, 1);
  assert.deepEqual(planPods(j, [], { succeeded: 4 }), { create: [], done: true });
});

test('Indexed Jobs create the missing indexes', () => {
  const j = job({ parallelism: 3, completions: 5, completionMode: 'Indexed' });
  const running = pod('a', 'Running', { annotations: { 'batch.kubernetes.io/job-completion-index': '1' } });
  assert.deepEqual(planPods(j, [running], { completedIndexes: '0,2' }).create, [3, 4]);
  assert.deepEqual(parseIndexes(formatIndexes([4, 0, 1, 2, 7])), [0, 1, 2, 4, 7]);
  assert.equal(formatIndexes([4, 0, 1, 2, 7]), '0-2,4,7');
});

test('finished pods are counted once; a deleted pod counts as failed; Ignore is not counted', () => {
  const j = job({
    podFailurePolicy: {
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    },
  });
  const disrupted = pod('d', 'Failed');
  (disrupted.status as Record<string, unknown>).conditions = [{ type: 'DisruptionTarget', status: 'True' }];
  const pods = [pod('s', 'Succeeded'), pod('f', 'Failed'), pod('t', 'Running', { deletionTimestamp: 'x' }), disrupted];
  const r = countFinished(j, pods, { uncountedTerminatedPods: { failed: ['f'] } });
  assert.deepEqual(
    r.newlySucceeded.map((p) => p.metadata.uid),
    ['s'],
  );
  assert.deepEqual(
    r.newlyFailed.map((p) => p.metadata.uid),
    ['t'],
  );
  assert.deepEqual(
    r.ignored.map((p) => p.metadata.uid),
    ['d'],
  );
});
