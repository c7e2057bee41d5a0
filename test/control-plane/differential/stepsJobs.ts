// Battery step for batch/v1 Jobs: the defaults kube-apiserver gives a Job (the selector and pod
// template labels generated from its uid, compared as '{uid}'), reads, lists and the `kubectl get`
// table, the 422 causes of its validation, the updates it refuses, the status subresource, and a
// pod's last finalizer removed as the Job controller removes it. No Job's pods may run: the
// reference runs no controllers, so Jobs are created suspended (and their pods name a scheduler
// nobody serves); a Job that is not suspended exists only to be refused a template change.
// Status and resourceVersions are not compared where the sandbox's Job controller writes status
// (the Suspended condition).
import type { Step } from './battery.js';
import { JSON_PATCH, MERGE, TABLE, core, grouped, invalid, jobPodTemplate, pod } from './kit.js';
import { fields, list, object, ownUid, table } from './normalize.js';

function job(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { suspend: true, template: jobPodTemplate(), ...spec },
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
          template: jobPodTemplate({ restartPolicy: 'Always' }),
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
          template: jobPodTemplate({}, { app: 'bad-b' }),
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
          template: jobPodTemplate({}, { app: 'bad-c' }),
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
          template: jobPodTemplate({ restartPolicy: 'OnFailure' }),
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
