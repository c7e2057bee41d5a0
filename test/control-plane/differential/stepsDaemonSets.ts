// Battery steps for DaemonSets, ReplicationControllers and APIServices: the defaults
// kube-apiserver fills in (update strategy, revision history, the template generation
// annotation; an RC's selector, labels and replicas from its template; an APIService's service
// port), the 422 causes of their validation, DaemonSet selector immutability and the RC scale
// subresource. Templates name a node no cluster has, so no controller makes pods, and neither
// resourceVersions nor status are compared (the sandbox's controllers write status).
// APIServices are only created with dryRun=All: a stored one would join the reference's
// discovery for a group nobody serves.
import type { Step } from './battery.js';
import { MERGE, NO_SCHEDULER, core, grouped, invalid } from './kit.js';
import { fields } from './normalize.js';

const UNUSED_NODE = { 'longshore.io/differential': 'no-such-node' };

function template(app: string, spec: Record<string, unknown> = {}): object {
  return {
    metadata: { labels: { app } },
    spec: {
      schedulerName: NO_SCHEDULER,
      nodeSelector: UNUSED_NODE,
      containers: [{ name: 'main', image: 'busybox:1.36' }],
      ...spec,
    },
  };
}

function daemonSet(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: template(name), ...spec },
  };
}

function replicationController(name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: { replicas: 0, template: template(name), ...spec },
  };
}

const DS_FIELDS = fields(
  'metadata.name',
  'metadata.generation',
  'metadata.annotations',
  'spec.updateStrategy',
  'spec.revisionHistoryLimit',
  'spec.template.spec.restartPolicy',
  'spec.template.spec.containers[].imagePullPolicy',
);

export const daemonSets: Step = {
  name: 'daemonsets',
  async run(c) {
    const ns = await c.namespace();
    const dss = grouped('apps/v1', ns, 'daemonsets');
    const defaults = (generation: number, templateGeneration: string): Record<string, unknown> => ({
      'metadata.name': 'agent',
      'metadata.generation': generation,
      'metadata.annotations': { 'deprecated.daemonset.template.generation': templateGeneration },
      'spec.updateStrategy': { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      'spec.revisionHistoryLimit': 10,
      'spec.template.spec.restartPolicy': 'Always',
      'spec.template.spec.containers[].imagePullPolicy': ['IfNotPresent'],
    });
    await c.call('create', { method: 'POST', path: dss, body: daemonSet('agent') }, DS_FIELDS, {
      http: 201,
      kind: 'DaemonSet',
      ...defaults(1, '1'),
    });
    await c.call('get', { path: `${dss}/agent` }, DS_FIELDS, { http: 200, kind: 'DaemonSet', ...defaults(1, '1') });
    await c.call(
      'template change bumps the template generation',
      {
        method: 'PATCH',
        path: `${dss}/agent`,
        contentType: MERGE,
        body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } },
      },
      DS_FIELDS,
      { http: 200, kind: 'DaemonSet', ...defaults(2, '2') },
    );
    await c.call(
      'selector is immutable',
      {
        method: 'PATCH',
        path: `${dss}/agent`,
        contentType: MERGE,
        body: { spec: { selector: { matchLabels: { app: 'agent', tier: 'x' } } } },
      },
      fields(),
      invalid('DaemonSet', 'agent', [
        'spec.selector|FieldValueInvalid',
        'spec.template.metadata.labels|FieldValueInvalid',
      ]),
    );
    await c.call(
      'no selector, restartPolicy Never',
      {
        method: 'POST',
        path: dss,
        body: daemonSet('bad-a', { selector: undefined, template: template('bad-a', { restartPolicy: 'Never' }) }),
      },
      fields(),
      invalid('DaemonSet', 'bad-a', [
        'spec.template.metadata.labels|FieldValueInvalid',
        'spec.template.spec.restartPolicy|FieldValueNotSupported',
      ]),
    );
    await c.call(
      'empty selector, unknown strategy',
      { method: 'POST', path: dss, body: daemonSet('bad-b', { selector: {}, updateStrategy: { type: 'Sometimes' } }) },
      fields(),
      invalid('DaemonSet', 'bad-b', ['spec.selector|FieldValueInvalid', 'spec.updateStrategy|FieldValueNotSupported']),
    );
    await c.call(
      'rolling update with nothing unavailable, negative counts',
      {
        method: 'POST',
        path: dss,
        body: daemonSet('bad-c', {
          minReadySeconds: -1,
          revisionHistoryLimit: -1,
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
        }),
      },
      fields(),
      invalid('DaemonSet', 'bad-c', [
        'spec.minReadySeconds|FieldValueInvalid',
        'spec.revisionHistoryLimit|FieldValueInvalid',
        'spec.updateStrategy.rollingUpdate.maxUnavailable|FieldValueRequired',
      ]),
    );
    await c.call(
      'OnDelete has no rollingUpdate',
      {
        method: 'POST',
        path: `${dss}?dryRun=All`,
        body: daemonSet('manual', { updateStrategy: { type: 'OnDelete' } }),
      },
      fields('spec.updateStrategy'),
      { http: 201, kind: 'DaemonSet', 'spec.updateStrategy': { type: 'OnDelete' } },
    );
  },
};

const RC_FIELDS = fields('metadata.name', 'metadata.labels', 'metadata.generation', 'spec.selector', 'spec.replicas');

export const replicationControllers: Step = {
  name: 'replicationcontrollers',
  async run(c) {
    const ns = await c.namespace();
    const rcs = core(ns, 'replicationcontrollers');
    const body = replicationController('web', { replicas: undefined });
    await c.call(
      'selector and labels from the template, replicas 1 (dry run)',
      { method: 'POST', path: `${rcs}?dryRun=All`, body },
      RC_FIELDS,
      {
        http: 201,
        kind: 'ReplicationController',
        'metadata.name': 'web',
        'metadata.labels': { app: 'web' },
        'metadata.generation': 1,
        'spec.selector': { app: 'web' },
        'spec.replicas': 1,
      },
    );
    await c.call(
      'create with replicas 0',
      { method: 'POST', path: rcs, body: replicationController('idle') },
      RC_FIELDS,
      {
        http: 201,
        kind: 'ReplicationController',
        'metadata.name': 'idle',
        'metadata.labels': { app: 'idle' },
        'metadata.generation': 1,
        'spec.selector': { app: 'idle' },
        'spec.replicas': 0,
      },
    );
    const scale = fields('apiVersion', 'spec.replicas', 'status.replicas', 'status.selector');
    await c.call('get scale', { path: `${rcs}/idle/scale` }, scale, {
      http: 200,
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      'spec.replicas': undefined, // omitempty
      'status.replicas': 0,
      'status.selector': 'app=idle',
    });
    await c.call(
      'no selector, no template',
      {
        method: 'POST',
        path: rcs,
        body: { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'x' }, spec: {} },
      },
      fields(),
      invalid('ReplicationController', 'x', ['spec.selector|FieldValueRequired', 'spec.template|FieldValueRequired']),
    );
    await c.call(
      'selector mismatch, negative replicas, restartPolicy OnFailure',
      {
        method: 'POST',
        path: rcs,
        body: replicationController('y', {
          replicas: -1,
          selector: { app: 'other' },
          template: template('y', { restartPolicy: 'OnFailure' }),
        }),
      },
      fields(),
      invalid('ReplicationController', 'y', [
        'spec.replicas|FieldValueInvalid',
        'spec.template.metadata.labels|FieldValueInvalid',
        'spec.template.spec.restartPolicy|FieldValueNotSupported',
      ]),
    );
  },
};

function apiService(name: string, spec: Record<string, unknown>): object {
  return { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name }, spec };
}

export const apiServices: Step = {
  name: 'apiservices',
  async run(c) {
    const ns = await c.namespace();
    const path = '/apis/apiregistration.k8s.io/v1/apiservices?dryRun=All';
    const group = `${ns}.example.com`;
    await c.call(
      'service port defaults to 443',
      {
        method: 'POST',
        path,
        body: apiService(`v1.${group}`, {
          group,
          version: 'v1',
          groupPriorityMinimum: 100,
          versionPriority: 10,
          insecureSkipTLSVerify: true,
          service: { namespace: ns, name: 'metrics' },
        }),
      },
      fields('metadata.name', 'spec.service'),
      {
        http: 201,
        kind: 'APIService',
        'metadata.name': 'v1.{ns}.example.com',
        'spec.service': { namespace: '{ns}', name: 'metrics', port: 443 },
      },
    );
    await c.call(
      'name, group, version and priorities; a local one with TLS settings',
      {
        method: 'POST',
        path,
        body: apiService('wrong', {
          group: 'Bad_Group',
          version: 'V1',
          groupPriorityMinimum: 30000,
          versionPriority: 0,
          insecureSkipTLSVerify: true,
          caBundle: 'YWJj',
        }),
      },
      fields(),
      invalid('APIService', 'wrong', [
        'metadata.name|FieldValueInvalid',
        'spec.caBundle|FieldValueInvalid',
        'spec.groupPriorityMinimum|FieldValueInvalid',
        'spec.group|FieldValueInvalid',
        'spec.insecureSkipTLSVerify|FieldValueInvalid',
        'spec.versionPriority|FieldValueInvalid',
        'spec.version|FieldValueInvalid',
      ]),
    );
    await c.call(
      'a service without name, namespace or a valid port',
      {
        method: 'POST',
        path,
        body: apiService(`v1.${group}`, {
          group,
          version: 'v1',
          groupPriorityMinimum: 1,
          versionPriority: 1,
          service: { port: 70000 },
          insecureSkipTLSVerify: true,
          caBundle: 'YWJj',
        }),
      },
      fields(),
      invalid('APIService', 'v1.{ns}.example.com', [
        'spec.insecureSkipTLSVerify|FieldValueInvalid',
        'spec.service.namespace|FieldValueRequired',
        'spec.service.name|FieldValueRequired',
        'spec.service.port|FieldValueInvalid',
      ]),
    );
  },
};
