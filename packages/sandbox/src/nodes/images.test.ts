import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerArgv, defaultImageTable, expandVars, imageRepository, lookupImage, qualifiedImage } from './images.js';
import { bwrapArgs, type HostFs } from './mountPlan.js';

test('image names normalise to repositories; unknown images miss', () => {
  assert.equal(imageRepository('docker.io/library/busybox:1.36@sha256:abc'), 'busybox');
  assert.equal(imageRepository('longshore/worker:0.1.0'), 'longshore/worker');
  assert.equal(imageRepository('localhost:5000/x/y:1'), 'localhost:5000/x/y');
  assert.equal(qualifiedImage('nope'), 'docker.io/library/nope:latest');
  const table = defaultImageTable('/repo/cli/main.js');
  assert.ok(lookupImage(table, 'alpine:3.20'));
  assert.equal(lookupImage(table, 'nginx'), undefined);
});

test('command replaces the entrypoint, args the cmd; $(VAR) expands and $$ escapes', () => {
  const env = new Map([['A', 'x']]);
  assert.deepEqual(containerArgv({ entrypoint: ['node', 'w.js'], cmd: ['run'] }, undefined, undefined, env), ['node', 'w.js', 'run']);
  assert.deepEqual(containerArgv({ entrypoint: ['node', 'w.js'], cmd: ['run'] }, undefined, ['other'], env), ['node', 'w.js', 'other']);
  assert.deepEqual(containerArgv({ entrypoint: [], cmd: ['sh'] }, ['echo'], ['$(A)', '$(B)'], env), ['echo', 'x', '$(B)']);
  assert.equal(expandVars('$$(A)', env), '$(A)');
});

test('mount plan: a missing mount path is built in the tmpfs root, never on the host', () => {
  const tree: Record<string, string[]> = { '/': ['usr', 'run', 'bin', 'var'], '/run': ['lock'], '/var': ['run', 'lib'] };
  const fs: HostFs = {
    exists: (p) => ['/', '/usr', '/run', '/run/lock', '/var', '/var/lib', '/var/run', '/etc/s'].includes(p),
    realpath: (p) => (p === '/var/run' ? '/run' : p),
    children: (d) => (tree[d] ?? []).map((name) => (name === 'bin' ? { name, symlinkTo: 'usr/bin' } : name === 'run' && d === '/var' ? { name, symlinkTo: '/run' } : { name })),
  };
  assert.deepEqual(bwrapArgs(fs, [{ source: '/v/s', target: '/etc/s', readOnly: true }], [], undefined), ['--die-with-parent', '--dev-bind', '/', '/', '--ro-bind', '/v/s', '/etc/s']);
  const args = bwrapArgs(fs, [{ source: '/v/t', target: '/var/run/secrets/sa', readOnly: true }], [], '/');
  assert.deepEqual(args, ['--die-with-parent', '--dev-bind', '/usr', '/usr', '--dir', '/run', '--dev-bind', '/run/lock', '/run/lock', '--symlink', 'usr/bin', '/bin',
    '--dev-bind', '/var', '/var', '--ro-bind', '/v/t', '/run/secrets/sa', '--chdir', '/']);
});
