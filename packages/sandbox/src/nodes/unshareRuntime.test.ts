// The unshare runtime on this host, forced even where bubblewrap exists: a container gets a
// read-only secret at a path the host lacks, a writable volume and a new working directory,
// and nothing of it appears on the host.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { launchContainer, type ContainerExit } from './container.js';
import { unavailableRuntime } from './containerRuntime.js';
import { probeUnshare, unshareRuntime } from './unshareRuntime.js';

const probe = probeUnshare();
const dir = mkdtempSync(join(tmpdir(), 'longshore-unshare-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(
  argv: string[],
  mounts: { source: string; target: string; readOnly: boolean }[],
  workingDir = '/',
): Promise<{ exit: ContainerExit; out: string }> {
  if ('failure' in probe) throw new Error(probe.failure);
  let out = '';
  const c = launchContainer({
    argv,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    mounts,
    runtime: unshareRuntime(probe.tools),
    onOutput: (_s, chunk) => {
      out += chunk;
    },
    workingDir,
  });
  return { exit: await c.exited, out };
}

describe('unshare runtime', { skip: 'failure' in probe ? probe.failure : false }, () => {
  test('volumes at their mount paths, read-only where asked, in a working directory the host lacks', async () => {
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'token'), 'tok-123');
    mkdirSync(join(dir, 'work'));
    const sa = '/var/run/secrets/longshore.test/serviceaccount';
    const { exit, out } = await run(
      [
        'sh',
        '-c',
        `pwd; cat ${sa}/token; echo; echo written > /longshore-test-work/file; echo x > ${sa}/token || echo read-only`,
      ],
      [
        { source: join(dir, 'secret'), target: sa, readOnly: true },
        { source: join(dir, 'work'), target: '/longshore-test-work', readOnly: false },
      ],
      '/longshore-test-work/sub',
    );
    assert.equal(exit.exitCode, 0, out);
    assert.match(out, /^\/longshore-test-work\/sub\ntok-123\n/);
    assert.match(out, /read-only/);
    assert.equal(readFileSync(join(dir, 'work', 'file'), 'utf8'), 'written\n');
    assert.ok(existsSync(join(dir, 'work', 'sub')), 'the working directory is made in the volume');
    assert.ok(
      !existsSync('/run/secrets/longshore.test') && !existsSync('/longshore-test-work'),
      'nothing is created on the host',
    );
    assert.equal(readFileSync(join(dir, 'secret', 'token'), 'utf8'), 'tok-123');
  });

  test('over a path the host has, the mount is made in place, seen by the container only', async () => {
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'app.conf'), 'port=8080');
    const target = join(dir, 'existing');
    mkdirSync(target);
    const { exit, out } = await run(
      ['sh', '-c', `cat ${target}/app.conf; touch ${target}/x || echo read-only`],
      [{ source: join(dir, 'config'), target, readOnly: true }],
    );
    assert.equal(exit.exitCode, 0, out);
    assert.match(out, /^port=8080/);
    assert.match(out, /read-only/);
    assert.deepEqual(readdirSync(target), []);
  });

  test('a mount that cannot be made is a StartError with the reason, not a hang', async () => {
    const { exit } = await run(
      ['true'],
      [{ source: join(dir, 'missing-volume'), target: '/longshore-test-missing', readOnly: false }],
    );
    assert.equal(exit.exitCode, 128);
    assert.match(exit.startError ?? '', /could not be set up with unshare: .*missing-volume.*; install bubblewrap/);
  });
});

test('without any runtime a container with mounts fails at once, naming what to install', async () => {
  const c = launchContainer({
    argv: ['true'],
    env: {},
    mounts: [{ source: dir, target: '/x', readOnly: false }],
    runtime: unavailableRuntime('bwrap (bubblewrap) is not installed; install bubblewrap'),
    onOutput: () => undefined,
    workingDir: '/',
  });
  const exit = await c.exited;
  assert.equal(exit.exitCode, 128);
  assert.match(exit.startError ?? '', /cannot give a container its volume mounts.*install bubblewrap/);
});
