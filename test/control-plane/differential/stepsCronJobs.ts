// Battery step for batch/v1 CronJobs: defaults, reads, lists and the `kubectl get` table, the
// 422 causes of the schedule, time zone, concurrency policy and job template, updates and the
// status subresource. CronJobs are suspended, so no controller creates Jobs from them.
import type { Step } from './battery.js';
import { MERGE, TABLE, grouped, invalid, jobPodTemplate } from './kit.js';
import { fields, list, object, table } from './normalize.js';

function cronJob(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: { schedule: '*/5 * * * *', suspend: true, jobTemplate: { spec: { template: jobPodTemplate() } }, ...spec },
  };
}

const CJ_FIELDS = fields(
  'metadata.name',
  'metadata.labels',
  'metadata.generation',
  'spec.schedule',
  'spec.timeZone',
  'spec.concurrencyPolicy',
  'spec.suspend',
  'spec.successfulJobsHistoryLimit',
  'spec.failedJobsHistoryLimit',
  'spec.jobTemplate',
);

export const cronJobs: Step = {
  name: 'cronjobs',
  async run(c) {
    const ns = await c.namespace();
    const path = grouped('batch/v1', ns, 'cronjobs');
    const defaults = {
      kind: 'CronJob',
      'metadata.name': 'nightly',
      'metadata.labels': undefined,
      'spec.schedule': '*/5 * * * *',
      'spec.timeZone': undefined,
      'spec.concurrencyPolicy': 'Allow',
      'spec.suspend': true,
      'spec.successfulJobsHistoryLimit': 3,
      'spec.failedJobsHistoryLimit': 1,
    };
    await c.call('create', { method: 'POST', path, body: cronJob('nightly') }, CJ_FIELDS, {
      http: 201,
      ...defaults,
      'metadata.generation': 1,
    });
    await c.call('get', { path: `${path}/nightly` }, object(), {
      http: 200,
      kind: 'CronJob',
      'metadata.resourceVersion': 'rv1:new:newest',
    });
    await c.call('list', { path }, list(), { http: 200, kind: 'CronJobList', items: ['nightly'] });
    await c.call('table', { path, accept: TABLE }, table('Age'), {
      http: 200,
      kind: 'Table',
      rows: [['nightly', '*/5 * * * *', '<none>', 'True', 0, '<none>', '<skipped>', 'main', 'busybox:1.36', '<none>']],
    });
    await c.call(
      'a schedule that does not parse, an unknown time zone',
      {
        method: 'POST',
        path,
        body: cronJob('bad-a', { schedule: '61 * * * *', timeZone: 'Mars/Olympus_Mons' }),
      },
      fields(),
      invalid('CronJob', 'bad-a', ['spec.schedule|FieldValueInvalid', 'spec.timeZone|FieldValueInvalid']),
    );
    await c.call(
      'TZ in the schedule with timeZone',
      { method: 'POST', path, body: cronJob('bad-b', { schedule: 'TZ=UTC 0 * * * *', timeZone: 'UTC' }) },
      fields(),
      invalid('CronJob', 'bad-b', ['spec.schedule|FieldValueInvalid']),
    );
    await c.call(
      'concurrencyPolicy, negative limits, a job template that restarts Always with a selector',
      {
        method: 'POST',
        path,
        body: cronJob('bad-c', {
          concurrencyPolicy: 'Sometimes',
          startingDeadlineSeconds: -1,
          successfulJobsHistoryLimit: -1,
          jobTemplate: {
            spec: {
              selector: { matchLabels: { app: 'x' } },
              template: jobPodTemplate({ restartPolicy: 'Always' }, { app: 'x' }),
            },
          },
        }),
      },
      fields(),
      invalid('CronJob', 'bad-c', [
        'spec.concurrencyPolicy|FieldValueNotSupported',
        'spec.jobTemplate.spec.selector|FieldValueInvalid',
        'spec.jobTemplate.spec.template.spec.restartPolicy|FieldValueRequired',
        'spec.startingDeadlineSeconds|FieldValueInvalid',
        'spec.successfulJobsHistoryLimit|FieldValueInvalid',
      ]),
    );
    await c.call(
      'a schedule in words, in a time zone',
      {
        method: 'PATCH',
        path: `${path}/nightly`,
        contentType: MERGE,
        body: { spec: { schedule: '@daily', timeZone: 'Europe/Berlin' } },
      },
      fields('metadata.generation', 'spec.schedule', 'spec.timeZone'),
      {
        http: 200,
        kind: 'CronJob',
        'metadata.generation': 2,
        'spec.schedule': '@daily',
        'spec.timeZone': 'Europe/Berlin',
      },
    );
    await c.call(
      'an update to a schedule that does not parse',
      { method: 'PATCH', path: `${path}/nightly`, contentType: MERGE, body: { spec: { schedule: '* * *' } } },
      fields(),
      invalid('CronJob', 'nightly', ['spec.schedule|FieldValueInvalid']),
    );
    await c.call(
      'status: lastScheduleTime, not the spec',
      {
        method: 'PATCH',
        path: `${path}/nightly/status`,
        contentType: MERGE,
        body: { spec: { suspend: false }, status: { lastScheduleTime: '2025-01-02T03:04:05Z' } },
      },
      fields('spec.suspend', 'status.lastScheduleTime', 'metadata.generation'),
      {
        http: 200,
        kind: 'CronJob',
        'spec.suspend': true,
        'status.lastScheduleTime': '2025-01-02T03:04:05Z',
        'metadata.generation': 2,
      },
    );
  },
};
