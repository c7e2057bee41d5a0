// Battery steps for batch/v1: the defaults kube-apiserver gives a Job (the selector and pod
// template labels generated from its uid, compared as '{uid}') and a CronJob, reads, lists and
// `kubectl get` tables, the 422 causes of their validation, the updates a Job refuses, and the
// status subresource. No Job's pods may run: the reference runs no controllers, so Jobs are
// created suspended (and their pods name a scheduler nobody serves); a Job that is not
// suspended exists only to be refused a template change. Status and resourceVersions are not
// compared where the sandbox's Job controller writes status (the Suspended condition).
import type { Step } from './battery.js';
import { JSON_PATCH, MERGE, NO_SCHEDULER, grouped, invalid, pod, core } from './kit.js';
import { fields, list, object, ownUid, table } from './normalize.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function podTemplate(spec: Record<string, unknown> = {}, labels?: Record<string, string>): object {
  return {
    ...(labels ? { metadata: { labels } } : {}),
    spec: {
      schedulerName: NO_SCHEDULER,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }],
      ...spec,
    },
  };
}

function job(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { suspend: true, template: podTemplate(), ...spec },
  };
}

function cronJob(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: { schedule: '*/5 * * * *', suspend: true, jobTemplate: { spec: { template: podTemplate() } }, ...spec },
  };
}

const JOB_FIELDS = ownUid(
  fields(
    'metadata.name',
    'metadata.labels',
    'metadata.generation',
    'spec.selector',
    'spec.manualSelector',
    'spec.parallelism',
    'spec.completions',
    'spec.backoffLimit',
    'spec.completionMode',
    'spec.suspend',
    'spec.podReplacementPolicy',
    'spec.template.metadata.labels',
    'spec.template.spec.restartPolicy',
    'spec.template.spec.containers[].imagePullPolicy',
  ),
);

const GENERATED_LABELS = {
  'batch.kubernetes.io/controller-uid': '{uid}',
  'batch.kubernetes.io/job-name': 'sleeper',
  'controller-uid': '{uid}',
  'job-name': 'sleeper',
};

const jobDefaults = (generation: number): Record<string, unknown> => ({
  kind: 'Job',
  'metadata.name': 'sleeper',
  'metadata.labels': GENERATED_LABELS,
  'metadata.generation': generation,
  'spec.selector': { matchLabels: { 'batch.kubernetes.io/controller-uid': '{uid}' } },
  'spec.manualSelector': false,
  'spec.parallelism': 1,
  'spec.completions': 1,
  'spec.backoffLimit': 6,
  'spec.completionMode': 'NonIndexed',
  'spec.suspend': true,
  'spec.podReplacementPolicy': 'TerminatingOrFailed',
  'spec.template.metadata.labels': GENERATED_LABELS,
  'spec.template.spec.restartPolicy': 'Never',
  'spec.template.spec.containers[].imagePullPolicy': ['IfNotPresent'],
});

export const jobs: Step = {
  name: 'jobs',
  async run(c) {
    const ns = await c.namespace();
    const path = grouped('batch/v1', ns, 'jobs');
    await c.call('create', { method: 'POST', path, body: job('sleeper') }, JOB_FIELDS, {
      http: 201,
      ...jobDefaults(1),
    });
    await c.call('get', { path: `${path}/sleeper` }, JOB_FIELDS, { http: 200, ...jobDefaults(1) });
    await c.call('list', { path }, list(), {
      http: 200,
      kind: 'JobList',
      items: ['sleeper'],
      'metadata.resourceVersion': 'present:current',
    });
    await c.call('table', { path: `${path}/sleeper`, accept: TABLE }, table('Age', 'Status'), {
      http: 200,
      kind: 'Table',
      rows: [
        [
          'sleeper',
          '<skipped>',
          '0/1',
          '',
          '<skipped>',
          'main',
          'busybox:1.36',
          'batch.kubernetes.io/controller-uid={uid}',
        ],
      ],
      'rows[].object.kind': ['PartialObjectMetadata'],
    });
    await c.call(
      'restartPolicy Always, negative counts',
      {
        method: 'POST',
        path,
        body: job('bad-a', {
          parallelism: -1,
          completions: -1,
          backoffLimit: -1,
          activeDeadlineSeconds: -1,
          template: podTemplate({ restartPolicy: 'Always' }),
        }),
      },
      fields(),
      invalid('Job', 'bad-a', [
        'spec.activeDeadlineSeconds|FieldValueInvalid',
        'spec.backoffLimit|FieldValueInvalid',
        'spec.completions|FieldValueInvalid',
        'spec.parallelism|FieldValueInvalid',
        'spec.template.spec.restartPolicy|FieldValueRequired',
      ]),
    );
    await c.call(
      'manualSelector with a selector that does not match',
      {
        method: 'POST',
        path,
        body: job('bad-b', {
          manualSelector: true,
          selector: { matchLabels: { app: 'other' } },
          template: podTemplate({}, { app: 'bad-b' }),
        }),
      },
      fields(),
      invalid('Job', 'bad-b', ['spec.template.metadata.labels|FieldValueInvalid']),
    );
    await c.call(
      'a selector without manualSelector',
      {
        method: 'POST',
        path,
        body: job('bad-c', {
          selector: { matchLabels: { app: 'bad-c' } },
          template: podTemplate({}, { app: 'bad-c' }),
        }),
      },
      fields(),
      invalid('Job', 'bad-c', ['spec.selector|FieldValueInvalid']),
    );
    await c.call(
      'podFailurePolicy rules',
      {
        method: 'POST',
        path,
        body: job('bad-d', {
          podFailurePolicy: {
            rules: [
              { action: 'Explode', onExitCodes: { operator: 'In', values: [1] } },
              { action: 'FailJob', onExitCodes: { operator: 'In', values: [0] } },
              { action: 'Ignore', onExitCodes: { containerName: 'nope', operator: 'NotIn', values: [2, 1] } },
              {
                action: 'Count',
                onExitCodes: { operator: 'In', values: [3] },
                onPodConditions: [{ type: 'DisruptionTarget' }],
              },
            ],
          },
        }),
      },
      fields(),
      invalid('Job', 'bad-d', [
        'spec.podFailurePolicy.rules[0].action|FieldValueNotSupported',
        'spec.podFailurePolicy.rules[1].onExitCodes.values[0]|FieldValueInvalid',
        'spec.podFailurePolicy.rules[2].onExitCodes.containerName|FieldValueInvalid',
        'spec.podFailurePolicy.rules[2].onExitCodes.values|FieldValueInvalid',
        'spec.podFailurePolicy.rules[3]|FieldValueInvalid',
      ]),
    );
    await c.call(
      'podFailurePolicy with restartPolicy OnFailure',
      {
        method: 'POST',
        path,
        body: job('bad-e', {
          podFailurePolicy: { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
          template: podTemplate({ restartPolicy: 'OnFailure' }),
        }),
      },
      fields(),
      invalid('Job', 'bad-e', ['spec.template.spec.restartPolicy|FieldValueInvalid']),
    );
    await c.call(
      'selector is immutable',
      {
        method: 'PATCH',
        path: `${path}/sleeper`,
        contentType: MERGE,
        body: { spec: { selector: { matchLabels: { extra: 'x' } } } },
      },
      fields(),
      // Checked as a new Job and again as an update: each cause twice, as kube-apiserver reports it.
      invalid('Job', 'sleeper', [
        'spec.selector|FieldValueInvalid',
        'spec.selector|FieldValueInvalid',
        'spec.template.metadata.labels|FieldValueInvalid',
        'spec.template.metadata.labels|FieldValueInvalid',
      ]),
    );
    await c.call(
      'completionMode is immutable',
      { method: 'PATCH', path: `${path}/sleeper`, contentType: MERGE, body: { spec: { completionMode: 'Indexed' } } },
      fields(),
      invalid('Job', 'sleeper', ['spec.completionMode|FieldValueInvalid']),
    );
    await c.call(
      'a suspended Job that never started takes a new nodeSelector',
      {
        method: 'PATCH',
        path: `${path}/sleeper`,
        contentType: MERGE,
        body: { spec: { template: { spec: { nodeSelector: { disk: 'ssd' } } } } },
      },
      ownUid(fields('metadata.generation', 'spec.template.spec.nodeSelector')),
      { http: 200, kind: 'Job', 'metadata.generation': 2, 'spec.template.spec.nodeSelector': { disk: 'ssd' } },
    );
    await c.call(
      'a suspended Job keeps its image',
      {
        method: 'PATCH',
        path: `${path}/sleeper`,
        contentType: JSON_PATCH,
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'busybox:1.37' }],
      },
      fields(),
      invalid('Job', 'sleeper', ['spec.template|FieldValueInvalid']),
    );
    await c.setup('a Job that is not suspended', {
      method: 'POST',
      path,
      body: job('runner', { suspend: false }),
    });
    await c.call(
      'a running Job keeps its template',
      {
        method: 'PATCH',
        path: `${path}/runner`,
        contentType: MERGE,
        body: { spec: { template: { spec: { nodeSelector: { disk: 'ssd' } } } } },
      },
      fields(),
      invalid('Job', 'runner', ['spec.template|FieldValueInvalid']),
    );
    await c.call(
      'status: negative counts',
      {
        method: 'PATCH',
        path: `${path}/sleeper/status`,
        contentType: MERGE,
        body: { status: { active: -1, failed: -2 } },
      },
      fields(),
      // failed: negative, and lower than before.
      invalid('Job', 'sleeper', [
        'status.active|FieldValueInvalid',
        'status.failed|FieldValueInvalid',
        'status.failed|FieldValueInvalid',
      ]),
    );
    await c.call(
      'status write leaves the spec',
      {
        method: 'PATCH',
        path: `${path}/sleeper/status`,
        contentType: MERGE,
        body: { spec: { parallelism: 3 }, status: { failed: 1 } },
      },
      fields('spec.parallelism', 'status.failed'),
      { http: 200, kind: 'Job', 'spec.parallelism': 1, 'status.failed': 1 },
    );
    const pods = core(ns, 'pods');
    const tracked = pod('tracked');
    (tracked as { metadata: Record<string, unknown> }).metadata.finalizers = ['batch.kubernetes.io/job-tracking'];
    await c.setup('a pod with the tracking finalizer', { method: 'POST', path: pods, body: tracked });
    await c.call(
      'removing the last finalizer leaves no finalizers field',
      {
        method: 'PATCH',
        path: `${pods}/tracked`,
        contentType: JSON_PATCH,
        body: [
          { op: 'test', path: '/metadata/finalizers/0', value: 'batch.kubernetes.io/job-tracking' },
          { op: 'remove', path: '/metadata/finalizers/0' },
        ],
      },
      object('metadata.finalizers'),
      { http: 200, kind: 'Pod', 'metadata.name': 'tracked', 'metadata.finalizers': undefined },
    );
  },
};

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
              template: podTemplate({ restartPolicy: 'Always' }, { app: 'x' }),
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
