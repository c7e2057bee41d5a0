// The worker's watches against the sandbox's API server: renewed when the server ends them or
// when they fall silent, resumed from their resourceVersion (no relist), and nothing missed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { ClientNodeKubeApi, kubeConfigFor } from './clientNodeKubeApi.js';
import type { WatchTiming } from './apiWatch.js';

const NAMESPACE = 'longshore-watch';
const pod = (name: string): V1Pod => ({
  metadata: { name, labels: { 'longshore.io/worker': 'watcher' } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ApiWatch against the sandbox', () => {
  let sandbox: Sandbox;
  let core: CoreV1Api;
  const kc = () => kubeConfigFor({ kubeconfigPath: sandbox.kubeconfigPath, inCluster: false });

  before(async () => {
    sandbox = await startSandbox({ port: 0 });
    core = kc().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  });
  after(async () => {
    await sandbox?.stop();
  });

  /** Watches pods with `timing`, idles `idleMs`, creates a pod, and returns what the watch saw and cost. */
  async function idleThenCreate(timing: WatchTiming, idleMs: number, name: string) {
    const api = new ClientNodeKubeApi(kc(), NAMESPACE, { timeoutMs: 10_000, watchRetryMs: 100, watchTiming: timing });
    const seen: string[] = [];
    const errors: unknown[] = [];
    const from = sandbox.audit.lastSeq;
    const watch = api.watchPods('longshore.io/worker=watcher', {
      event: (type, p) => seen.push(`${type} ${p.metadata?.name}`),
      error: (e) => errors.push(e),
    });
    await watch.ready;
    try {
      await sleep(idleMs);
      await core.createNamespacedPod({ namespace: NAMESPACE, body: pod(name) });
      for (let i = 0; i < 50 && !seen.includes(`ADDED ${name}`); i++) await sleep(100);
    } finally {
      await watch.stop();
    }
    const requests = sandbox.audit
      .entries({ namespace: NAMESPACE, resource: 'pods', afterSeq: from })
      .filter((e) => e.method === 'GET');
    return {
      seen,
      errors,
      lists: requests.filter((e) => e.verb === 'list').length,
      watches: requests.filter((e) => e.verb === 'watch'),
    };
  }

  test('a watch the server ends is renewed from its resourceVersion, asking for bookmarks and a server-side timeout', async () => {
    const r = await idleThenCreate({ minSeconds: 1, maxSeconds: 1, silenceMs: 30_000 }, 2_600, 'after-timeouts');
    assert.deepEqual(r.errors, []);
    assert.ok(r.seen.includes('ADDED after-timeouts'), r.seen.join(', '));
    assert.equal(r.lists, 1, 'renewing a watch does not list again');
    assert.ok(r.watches.length >= 3, `renewed after each server-side timeout: ${r.watches.length} watches`);
    for (const w of r.watches) {
      const query = new URL(w.path, 'https://x').searchParams;
      assert.equal(query.get('allowWatchBookmarks'), 'true');
      assert.equal(query.get('timeoutSeconds'), '1');
      assert.match(query.get('resourceVersion') ?? '', /^\d+$/);
    }
  });

  test('a watch that falls silent is taken for a dead connection and resumed at once, without an error or a relist', async () => {
    const r = await idleThenCreate({ minSeconds: 300, maxSeconds: 300, silenceMs: 500 }, 1_800, 'after-silence');
    assert.deepEqual(r.errors, []);
    assert.ok(r.seen.includes('ADDED after-silence'), r.seen.join(', '));
    assert.equal(r.lists, 1);
    assert.ok(r.watches.length >= 3, `resumed after each silence: ${r.watches.length} watches`);
  });
});
