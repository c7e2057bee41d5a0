import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyJsonPatch, PatchError } from './jsonPatch.js';
import { applyMergePatch } from './mergePatch.js';
import { applyStrategicMergePatch } from './strategicMerge.js';

const podSpec = (containers: object[]) => ({ spec: { containers } });

test('containers merge by name, env by name, with $patch: delete and patch order as kube-apiserver orders them', () => {
  const orig = podSpec([
    {
      name: 'main',
      image: 'a:1',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
    },
    { name: 'side', image: 'b:1' },
  ]);
  const out = applyStrategicMergePatch(
    orig,
    podSpec([
      {
        name: 'main',
        env: [
          { name: 'C', value: '4' },
          { name: 'B', value: '3' },
          { name: 'A', $patch: 'delete' },
        ],
      },
      { name: 'side', image: 'b:2' },
    ]),
  ) as ReturnType<typeof podSpec>;
  assert.deepEqual(
    out,
    podSpec([
      {
        name: 'main',
        image: 'a:1',
        env: [
          { name: 'C', value: '4' },
          { name: 'B', value: '3' },
        ],
      },
      { name: 'side', image: 'b:2' },
    ]),
  );
});

test('container ports merge by containerPort, Service ports by port, unlisted lists are replaced', () => {
  const c = applyStrategicMergePatch(
    podSpec([{ name: 'm', ports: [{ containerPort: 80, name: 'http' }] }]),
    podSpec([{ name: 'm', ports: [{ containerPort: 443 }] }]),
  );
  // New items come first, in patch order (checked against kube-apiserver v1.34: normalizeElementOrder).
  assert.deepEqual((c as ReturnType<typeof podSpec>).spec.containers[0], {
    name: 'm',
    ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }],
  });
  const s = applyStrategicMergePatch(
    { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
    { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
  );
  assert.deepEqual(s, { spec: { ports: [{ port: 80, targetPort: 9090 }] } });
  const args = applyStrategicMergePatch(
    podSpec([{ name: 'm', args: ['a', 'b'] }]),
    podSpec([{ name: 'm', args: ['c'] }]),
  );
  assert.deepEqual((args as ReturnType<typeof podSpec>).spec.containers[0], { name: 'm', args: ['c'] });
});

test('directives: $setElementOrder, $deleteFromPrimitiveList, $retainKeys, $patch: replace, null deletes', () => {
  const orig = {
    metadata: { finalizers: ['a', 'b'], labels: { x: '1', y: '2' } },
    spec: {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      containers: [{ name: 'a' }, { name: 'b' }],
    },
  };
  const out = applyStrategicMergePatch(orig, {
    metadata: { labels: { y: null } },
    spec: {
      '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
      strategy: { $retainKeys: ['type'], type: 'Recreate' },
    },
  });
  assert.deepEqual(out, {
    metadata: { finalizers: ['a', 'b'], labels: { x: '1' } },
    spec: { strategy: { type: 'Recreate' }, containers: [{ name: 'b' }, { name: 'a' }] },
  });
  const fin = applyStrategicMergePatch(orig, {
    metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
  }) as typeof orig;
  assert.deepEqual(fin.metadata.finalizers, ['b']);
  const replaced = applyStrategicMergePatch(orig, { spec: { $patch: 'replace', x: 1 } });
  assert.deepEqual((replaced as { spec: unknown }).spec, { x: 1 });
});

test('property: with no lists involved, a strategic merge patch is a JSON merge patch', () => {
  const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
  const tree = fc.letrec((tie) => ({
    node: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof({ depthSize: 'small' }, scalar, tie('node'))),
  })).node;
  const patch = fc.letrec((tie) => ({
    node: fc.dictionary(
      fc.constantFrom('a', 'b', 'c', 'd'),
      fc.oneof({ depthSize: 'small' }, scalar, fc.constant(null), tie('node')),
    ),
  })).node;
  fc.assert(
    fc.property(tree, patch, (doc, p) => {
      assert.deepEqual(applyStrategicMergePatch(doc, p), applyMergePatch(doc, p));
    }),
  );
});

test('property: patching containers by name keeps every other container and changes only the named one', () => {
  const name = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const containers = fc.uniqueArray(fc.record({ name, image: fc.constantFrom('x:1', 'y:1') }), {
    selector: (c) => c.name,
    maxLength: 5,
  });
  fc.assert(
    fc.property(containers, name, fc.constantFrom('z:9', 'w:2'), (cs, target, image) => {
      const out = (
        applyStrategicMergePatch(podSpec(cs), podSpec([{ name: target, image }])) as ReturnType<typeof podSpec>
      ).spec.containers as { name: string; image: string }[];
      // A new container goes first (kube-apiserver's order for items only the patch has).
      const expected = cs.some((c) => c.name === target)
        ? cs.map((c) => (c.name === target ? { ...c, image } : c))
        : [{ name: target, image }, ...cs];
      assert.deepEqual(out, expected);
    }),
  );
});

test('json patch: test failure and missing paths are apply failures, not crashes', () => {
  assert.deepEqual(
    applyJsonPatch({ a: [1, 2] }, [
      { op: 'add', path: '/a/1', value: 9 },
      { op: 'move', from: '/a/0', path: '/b' },
    ]),
    { a: [9, 2], b: 1 },
  );
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]),
    (e) => e instanceof PatchError && e.code === 'PATCH_APPLY_FAILED',
  );
  assert.throws(
    () => applyJsonPatch({}, [{ op: 'remove', path: '/x/y' }]),
    (e) => e instanceof PatchError && e.code === 'PATCH_APPLY_FAILED',
  );
  assert.throws(
    () => applyJsonPatch({}, [{ op: 'frobnicate', path: '/x' }]),
    (e) => e instanceof PatchError && e.code === 'MALFORMED_PATCH',
  );
});
