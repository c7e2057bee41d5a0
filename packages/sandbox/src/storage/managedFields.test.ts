import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appliedFields, withApplyEntry } from './managedFields.js';

test('applied fields: identity and status left out, atomic selectors and lists whole, keyed items with ".", set items by value', () => {
  const fields = appliedFields(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'n', labels: { app: 'd' }, finalizers: ['x/y'] },
      spec: {
        selector: { matchLabels: { app: 'd' } },
        template: {
          spec: {
            containers: [
              {
                name: 'c',
                command: ['sh'],
                ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
                resources: {},
              },
            ],
          },
        },
      },
      status: { replicas: 1 },
    },
    true,
  );
  assert.deepEqual(fields, {
    'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:finalizers': { 'v:"x/y"': {} } },
    'f:spec': {
      'f:selector': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"c"}': {
              '.': {},
              'f:name': {},
              'f:command': {},
              'f:resources': {},
              'f:ports': {
                'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                'k:{"containerPort":53,"protocol":"UDP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
              },
            },
          },
        },
      },
    },
  });
  assert.deepEqual(
    appliedFields({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, false),
    { 'f:data': { 'f:a': {} } },
  );
});

test("an apply replaces its manager's Apply entry and keeps the others", () => {
  const other = {
    manager: 'kubectl-create',
    operation: 'Update',
    apiVersion: 'v1',
    time: 't',
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  const first = withApplyEntry([other], 'me', 'v1', { 'f:data': { 'f:a': {} } });
  assert.deepEqual(
    first.map((e) => [e.manager, e.operation]),
    [
      ['kubectl-create', 'Update'],
      ['me', 'Apply'],
    ],
  );
  const second = withApplyEntry(first, 'me', 'v1', { 'f:data': { 'f:b': {} } });
  assert.equal(second.length, 2);
  assert.deepEqual(second[1]!.fieldsV1, { 'f:data': { 'f:b': {} } });
  assert.equal(second[0], other);
});
