import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPodSpecPatch } from './podSpecPatch.js';

const spec = {
  restartPolicy: 'Never',
  nodeSelector: { a: '1', b: '2' },
  tolerations: [{ key: 'x', operator: 'Exists' }],
  containers: [
    {
      name: 'script',
      image: 'tools:1',
      env: [{ name: 'A', value: '1' }],
      volumeMounts: [{ name: 'ws', mountPath: '/ws' }],
    },
    { name: 'side', image: 'side:1' },
  ],
  volumes: [{ name: 'ws', secret: { secretName: 's' } }],
};

describe('applyPodSpecPatch (strategic merge for pod specs)', () => {
  const table: [string, Record<string, unknown>, (out: typeof spec & Record<string, unknown>) => void][] = [
    ['a new field is added', { priorityClassName: 'batch' }, (o) => assert.equal(o.priorityClassName, 'batch')],
    [
      'maps merge, null removes a key',
      { nodeSelector: { b: null, c: '3' } },
      (o) => assert.deepEqual(o.nodeSelector, { a: '1', c: '3' }),
    ],
    [
      'tolerations are replaced whole (no merge key)',
      { tolerations: [{ key: 'y', operator: 'Exists' }] },
      (o) => assert.deepEqual(o.tolerations, [{ key: 'y', operator: 'Exists' }]),
    ],
    [
      'containers merge by name, env by name, mounts by mountPath',
      {
        containers: [
          { name: 'script', env: [{ name: 'B', value: '2' }], volumeMounts: [{ mountPath: '/cache', name: 'cache' }] },
        ],
      },
      (o) => {
        assert.deepEqual(
          o.containers.map((c) => c.name),
          ['script', 'side'],
        );
        assert.equal(o.containers[0]!.image, 'tools:1');
        assert.deepEqual(o.containers[0]!.env, [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ]);
        assert.equal(o.containers[0]!.volumeMounts.length, 2);
      },
    ],
    [
      'a new container is appended',
      { containers: [{ name: 'proxy', image: 'p:1' }] },
      (o) =>
        assert.deepEqual(
          o.containers.map((c) => c.name),
          ['script', 'side', 'proxy'],
        ),
    ],
    [
      '$patch: delete removes an item',
      { containers: [{ name: 'side', $patch: 'delete' }] },
      (o) =>
        assert.deepEqual(
          o.containers.map((c) => c.name),
          ['script'],
        ),
    ],
    [
      '$patch: replace replaces a keyed list',
      { volumes: [{ $patch: 'replace' }, { name: 'other', emptyDir: {} }] },
      (o) => assert.deepEqual(o.volumes, [{ name: 'other', emptyDir: {} }]),
    ],
    [
      '$patch: replace on a map',
      { nodeSelector: { $patch: 'replace', z: '9' } },
      (o) => assert.deepEqual(o.nodeSelector, { z: '9' }),
    ],
  ];
  for (const [name, patch, check] of table) {
    test(name, () => {
      const before = structuredClone(spec);
      check(applyPodSpecPatch(spec, patch) as typeof spec & Record<string, unknown>);
      assert.deepEqual(spec, before, 'the original is not modified');
    });
  }
});
