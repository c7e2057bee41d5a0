import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { K8sObject } from '../client/kubeClient.js';
import { jobFor, jobsBeyondHistory, scheduleTimes } from './cronJobPlan.js';

const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): K8sObject => ({
  metadata: { name: 'tick', namespace: 'default', uid: 'u1', creationTimestamp: '2025-01-01T00:00:30Z' },
  spec: { jobTemplate: { spec: { template: {} } }, ...spec },
  status,
});

test('the schedule time due now and the next, from an injected clock', () => {
  const t = scheduleTimes(cj({ schedule: '* * * * *' }), new Date('2025-01-01T00:03:10Z'));
  assert.equal(t.due?.toISOString(), '2025-01-01T00:03:00.000Z');
  assert.equal(t.next?.toISOString(), '2025-01-01T00:04:00.000Z');
  const after = scheduleTimes(
    cj({ schedule: '* * * * *' }, { lastScheduleTime: '2025-01-01T00:03:00Z' }),
    new Date('2025-01-01T00:03:50Z'),
  );
  assert.equal(after.due, undefined);
  // startingDeadlineSeconds bounds how far back missed times are looked for.
  const late = scheduleTimes(
    cj({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }),
    new Date('2025-01-01T05:30:00Z'),
  );
  assert.equal(late.due, undefined);
});

test('the Job for a scheduled time: name in minutes since the epoch, annotation, owner', () => {
  const job = jobFor(cj({ schedule: '* * * * *', timeZone: 'Europe/Paris' }), new Date('2025-01-01T00:03:00Z'));
  const meta = job.metadata as Record<string, any>;
  assert.equal(meta.name, `tick-${Date.parse('2025-01-01T00:03:00Z') / 60000}`);
  assert.equal(meta.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-01-01T01:03:00+01:00');
  assert.deepEqual(meta.ownerReferences[0], {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    name: 'tick',
    uid: 'u1',
    controller: true,
    blockOwnerDeletion: true,
  });
});

test('history limits delete the oldest finished Jobs', () => {
  const job = (name: string, start: string, type: string): K8sObject => ({
    metadata: { name },
    status: { startTime: start, conditions: [{ type, status: 'True' }] },
  });
  const jobs = [
    job('a', '2025-01-01T00:01:00Z', 'Complete'),
    job('b', '2025-01-01T00:02:00Z', 'Complete'),
    job('c', '2025-01-01T00:03:00Z', 'Failed'),
    job('d', '2025-01-01T00:04:00Z', 'Failed'),
  ];
  const gone = jobsBeyondHistory(cj({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }), jobs);
  assert.deepEqual(
    gone.map((j) => j.metadata.name),
    ['a', 'c'],
  );
});
