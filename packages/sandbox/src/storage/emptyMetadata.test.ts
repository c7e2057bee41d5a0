// ObjectMeta's empty lists and maps are not stored, as kube-apiserver (Go's omitempty) writes none:
// a pod whose last finalizer the Job controller removed has no `finalizers` field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findResource } from '../resources/registry.js';
import { RestStorage } from './rest.js';
import { ObjectStore } from './store.js';

const configMaps = findResource('', 'v1', 'configmaps')!;
const jobs = findResource('batch', 'v1', 'jobs')!;

function storageWithNamespace(): RestStorage {
  const rest = new RestStorage(new ObjectStore());
  rest.create(findResource('', 'v1', 'namespaces')!, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'ns' },
  });
  return rest;
}

test('a create with empty labels, annotations and finalizers stores none of them', () => {
  const rest = storageWithNamespace();
  const { object } = rest.create(configMaps, 'ns', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', labels: {}, annotations: {}, finalizers: [], ownerReferences: [] },
  });
  const meta = object.metadata as Record<string, unknown>;
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) assert.equal(k in meta, false, k);
});

test('removing the last finalizer drops the field, for any kind', () => {
  const rest = storageWithNamespace();
  rest.create(configMaps, 'ns', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', finalizers: ['example.com/keep'] },
  });
  const stored = rest.get(configMaps, 'ns', 'c');
  const { object } = rest.replace(
    configMaps,
    stored,
    { ...structuredClone(stored), metadata: { ...structuredClone(stored.metadata), finalizers: [] } },
    {},
  );
  assert.equal('finalizers' in (object.metadata as Record<string, unknown>), false);
  assert.equal('finalizers' in rest.get(configMaps, 'ns', 'c').metadata, false);

  rest.create(jobs, 'ns', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', finalizers: ['batch.kubernetes.io/job-tracking'] },
    spec: {
      suspend: true,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } },
    },
  });
  const job = rest.get(jobs, 'ns', 'j');
  rest.replace(
    jobs,
    job,
    { ...structuredClone(job), metadata: { ...structuredClone(job.metadata), finalizers: [] } },
    {},
  );
  assert.equal('finalizers' in rest.get(jobs, 'ns', 'j').metadata, false);
});
