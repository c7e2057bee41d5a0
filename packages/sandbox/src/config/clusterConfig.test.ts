import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSandboxConfig } from './sandboxConfig.js';

test('cluster config: defaults, and errors that name the path', () => {
  const d = parseSandboxConfig({});
  assert.deepEqual(
    d.cluster.nodeGroups.map((g) => [g.name, g.min, g.max]),
    [
      ['default', 1, 1],
      ['autoscaled', 0, 5],
    ],
  );
  const c = parseSandboxConfig({
    cluster: {
      nodeGroups: [{ name: 'big', cpu: '8', max: 2, taints: [{ key: 'k', effect: 'NoSchedule' }] }],
      images: { 'my/tool': { entrypoint: ['/bin/echo'] } },
    },
  });
  assert.equal(c.cluster.nodeGroups[0]!.cpu, '8');
  assert.deepEqual(
    c.cluster.images['my/tool'],
    { entrypoint: ['/bin/echo'] },
    'what is left out comes from its base (`from`), or is empty',
  );
  assert.equal(
    parseSandboxConfig({ cluster: { images: { app: { cmd: ['sh'], workingDir: '/app' } } } }).cluster.images.app
      ?.workingDir,
    '/app',
  );
  assert.equal(d.cluster.containerRuntime, 'auto');
  assert.equal(parseSandboxConfig({ cluster: { containerRuntime: 'unshare' } }).cluster.containerRuntime, 'unshare');
  const bad: [unknown, RegExp][] = [
    [
      { cluster: { nodeGroups: [{ name: 'x', cpu: 'lots' }] } },
      /cluster\.nodeGroups\[0\]\.cpu must be a positive quantity/,
    ],
    [
      { cluster: { nodeGroups: [{ name: 'x', min: 3, max: 1 }] } },
      /cluster\.nodeGroups\[0\]\.max must be at least min/,
    ],
    [
      { cluster: { nodeGroups: [{ name: 'x', taints: [{ key: 'k', effect: 'Sometimes' }] }] } },
      /cluster\.nodeGroups\[0\]\.taints\[0\]\.effect/,
    ],
    [{ cluster: { nodegroups: [] } }, /unknown key cluster\.nodegroups/],
    [
      { cluster: { images: { a: { entrypoint: 'sh' } } } },
      /cluster\.images\["a"\]\.entrypoint must be a list of strings/,
    ],
    [
      { cluster: { images: { a: { workingDir: 'app' } } } },
      /cluster\.images\["a"\]\.workingDir must be an absolute path/,
    ],
    [
      { cluster: { autoscaler: { scaleDownUtilizationThreshold: 2 } } },
      /cluster\.autoscaler\.scaleDownUtilizationThreshold/,
    ],
    [{ cluster: { nodeGroups: [{ name: 'a' }, { name: 'a' }] } }, /distinct names/],
    [{ cluster: { containerRuntime: 'docker' } }, /cluster\.containerRuntime must be auto, bubblewrap or unshare/],
  ];
  for (const [input, re] of bad)
    assert.throws(
      () => parseSandboxConfig(input),
      (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && re.test(e.message),
    );
});
