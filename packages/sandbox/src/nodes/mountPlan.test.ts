import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs } from './bubblewrapRuntime.js';
import { planMounts, type HostFs } from './mountPlan.js';
import { unshareScript, type UnshareTools } from './unshareRuntime.js';

const tree: Record<string, string[]> = { '/': ['usr', 'run', 'bin', 'var'], '/run': ['lock'], '/var': ['run', 'lib'] };
const fs: HostFs = {
  exists: (p) => ['/', '/usr', '/run', '/run/lock', '/var', '/var/lib', '/var/run', '/etc/s'].includes(p),
  realpath: (p) => (p === '/var/run' ? '/run' : p),
  children: (d) =>
    (tree[d] ?? []).map((name) =>
      name === 'bin'
        ? { name, symlinkTo: 'usr/bin' }
        : name === 'run' && d === '/var'
          ? { name, symlinkTo: '/run' }
          : { name },
    ),
};
const tools = Object.fromEntries(
  ['unshare', 'setpriv', 'chroot', 'mount', 'umount', 'findmnt', 'mountpoint', 'mkdir', 'ln'].map((n) => [
    n,
    `/bin/${n}`,
  ]),
) as unknown as UnshareTools;

test('mount plan: paths that exist are bound over the host root as it is', () => {
  const plan = planMounts(fs, [{ source: '/v/s', target: '/etc/s', readOnly: true }], [], '/');
  assert.deepEqual(plan, {
    root: 'host',
    steps: [{ op: 'bind', path: '/etc/s', source: '/v/s', readOnly: true }],
    cwd: '/',
  });
  assert.deepEqual(bwrapArgs(plan), [
    '--die-with-parent',
    '--dev-bind',
    '/',
    '/',
    '--ro-bind',
    '/v/s',
    '/etc/s',
    '--chdir',
    '/',
  ]);
});

test('mount plan: a missing mount path is built in the tmpfs root, never on the host', () => {
  const plan = planMounts(fs, [{ source: '/v/t', target: '/var/run/secrets/sa', readOnly: true }], [], '/');
  assert.equal(plan.root, 'rebuilt');
  assert.deepEqual(bwrapArgs(plan), [
    '--die-with-parent',
    '--dev-bind',
    '/usr',
    '/usr',
    '--dir',
    '/run',
    '--dev-bind',
    '/run/lock',
    '/run/lock',
    '--symlink',
    'usr/bin',
    '/bin',
    '--dev-bind',
    '/var',
    '/var',
    '--ro-bind',
    '/v/t',
    '/run/secrets/sa',
    '--chdir',
    '/',
  ]);
});

test('mount plan: a missing working directory is made after the mounts, inside a volume mounted over its parent', () => {
  const plan = planMounts(fs, [{ source: '/v/w', target: '/usr/w', readOnly: false }], ['/usr/w/sub'], '/usr/w/sub');
  assert.deepEqual(plan.steps.slice(-2), [
    { op: 'bind', path: '/usr/w', source: '/v/w', readOnly: false },
    { op: 'dir', path: '/usr/w/sub' },
  ]);
});

test('unshare prelude: the same plan as sh, every path quoted, the new root entered by chroot', () => {
  const plan = planMounts(fs, [{ source: "/v/it's", target: '/var/run/secrets/sa', readOnly: true }], [], '/work');
  const script = unshareScript(plan, tools, '/tmp/s');
  const lines = script.split('\n');
  assert.ok(lines.includes(`'/bin/mount' -t tmpfs -o mode=0755 longshore-root "$R"`));
  assert.ok(lines.includes(`place '/usr' "$R"'/usr'`));
  assert.ok(lines.includes(`'/bin/mkdir' -p "$R"'/run'`));
  assert.ok(lines.includes(`'/bin/ln' -s 'usr/bin' "$R"'/bin'`));
  assert.ok(lines.includes(`place '/v/it'\\''s' "$R"'/run/secrets/sa'`));
  assert.ok(lines.includes(`remount_ro "$R"'/run/secrets/sa'`));
  assert.equal(
    lines.at(-1),
    `exec '/bin/setpriv' --pdeathsig KILL -- '/bin/chroot' "$R" /bin/sh -c 'cd "$0" && exec "$@"' '/work' "$@"`,
  );

  const inPlace = unshareScript(
    planMounts(fs, [{ source: '/v/s', target: '/etc/s', readOnly: false }], [], '/home'),
    tools,
    '/tmp/s',
  ).split('\n');
  assert.ok(!inPlace.some((l) => l.includes('chroot') || l.includes('tmpfs')));
  assert.deepEqual(inPlace.slice(-2), [`cd '/home'`, `exec '/bin/setpriv' --pdeathsig KILL -- "$@"`]);
  assert.ok(inPlace.includes(`place '/v/s' '/etc/s'`));
});

test('mount plan: a volume whose source another volume would hide (an emptyDir on /tmp) rebuilds the root', () => {
  const plan = planMounts(
    fs,
    [
      { source: '/tmp/node/tmp-volume', target: '/tmp', readOnly: false },
      { source: '/tmp/node/hosts', target: '/etc/hosts', readOnly: true },
    ],
    [],
    '/',
  );
  assert.equal(plan.root, 'rebuilt');
  assert.deepEqual(
    plan.steps.filter((s) => s.op === 'bind').map((s) => s.path),
    ['/tmp', '/etc/hosts'],
  );
  assert.equal(
    planMounts(
      fs,
      [
        { source: '/v/s', target: '/etc/s', readOnly: true },
        { source: '/v/t', target: '/run/lock', readOnly: false },
      ],
      [],
      '/',
    ).root,
    'host',
  );
});
