import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerRuntimeUnavailable, type ContainerRuntime } from './containerRuntime.js';
import { selectContainerRuntime, type RuntimeCandidates } from './runtimeSelection.js';

const fake = (kind: 'bubblewrap' | 'unshare'): ContainerRuntime => ({
  kind,
  isolate: () => ({ argv: [kind], supervised: false, setupFailure: () => undefined, cleanup: () => undefined }),
});
const candidates = (bwrap: boolean, unshare: boolean): RuntimeCandidates => ({
  bubblewrap: () => (bwrap ? fake('bubblewrap') : 'bwrap (bubblewrap) is not installed'),
  unshare: () => (unshare ? fake('unshare') : '`unshare --user ...` failed: Operation not permitted'),
});

test('auto takes bubblewrap where it works, else unshare', () => {
  assert.equal(selectContainerRuntime('auto', candidates(true, true)).kind, 'bubblewrap');
  const fallback = selectContainerRuntime('auto', candidates(false, true));
  assert.equal(fallback.kind, 'unshare');
  assert.equal(fallback.reason, undefined);
});

test('a preference is honoured where it works, and a fallback says why it was not', () => {
  assert.equal(selectContainerRuntime('unshare', candidates(true, true)).kind, 'unshare');
  const other = selectContainerRuntime('unshare', candidates(true, false));
  assert.equal(other.kind, 'bubblewrap');
  assert.match(other.reason ?? '', /unshare was asked for but does not work here: .*Operation not permitted/);
});

test('where neither works, containers that need mounts fail at once with what to install', () => {
  const none = selectContainerRuntime('auto', candidates(false, false));
  assert.equal(none.kind, 'none');
  assert.match(
    none.reason ?? '',
    /bwrap \(bubblewrap\) is not installed; .*Operation not permitted; install bubblewrap .*apt-get install bubblewrap/,
  );
  assert.throws(
    () => none.isolate({ argv: ['sh'], mounts: [], dirs: [], workingDir: '/' }),
    (e: unknown) =>
      e instanceof ContainerRuntimeUnavailable &&
      /cannot give a container its volume mounts.*apt-get install bubblewrap/.test(e.message),
  );
});
