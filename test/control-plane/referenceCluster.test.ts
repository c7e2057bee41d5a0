// Proves the reference control plane: a real kube-apiserver + etcd started by
// startReferenceCluster(), spoken to by kubectl 1.32 and by plain HTTPS.
// Run: node --import tsx --test test/control-plane/referenceCluster.test.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  longshoreCacheDir,
  referenceClusterAvailable,
  referenceRequest,
  startReferenceCluster,
  type ReferenceCluster,
} from './referenceCluster.js';

const run = promisify(execFile);
const KUBE_CLIENTS_VERSION = '2.1.0'; // keep in step with scripts/install-kube-clients.sh

function kubectlPath(): string | undefined {
  const dir = process.env.LONGSHORE_KUBE_CLIENTS_BIN || join(longshoreCacheDir(), 'kube-clients', KUBE_CLIENTS_VERSION);
  const p = join(dir, 'kubectl');
  return existsSync(p) ? p : undefined;
}

const bin = referenceClusterAvailable();
const kubectl = kubectlPath();
const skip = !bin
  ? 'reference control plane not built: run `bash test/control-plane/build.sh`'
  : !kubectl
    ? 'kubectl not installed: run `bash scripts/install-kube-clients.sh`'
    : false;

describe('reference control plane', { skip }, () => {
  let cluster: ReferenceCluster;

  async function kc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(kubectl!, ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  before(async () => {
    const t0 = Date.now();
    cluster = await startReferenceCluster();
    console.log(`reference cluster ready in ${Date.now() - t0} ms at ${cluster.server}`);
  });
  after(async () => {
    const dir = cluster?.dir;
    await cluster?.stop();
    if (dir) assert.equal(existsSync(dir), false, 'stop() removes the temp dir');
  });

  test('kubectl lists the system namespaces', async () => {
    const r = await kc('get', 'namespaces', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const names = (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items.map(
      (i) => i.metadata.name,
    );
    assert.ok(names.includes('default'), names.join(','));
    assert.ok(names.includes('kube-system'), names.join(','));
  });

  test('server-side dry run accepts a valid Pod and rejects an invalid one with 422', async () => {
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo hi'] }] },
    });
    const good = join(cluster.dir, 'good-pod.json');
    writeFileSync(good, JSON.stringify(pod('sample')));
    const ok = await kc('create', '--dry-run=server', '-o', 'json', '-f', good);
    assert.equal(ok.code, 0, ok.stderr);
    const created = JSON.parse(ok.stdout) as { metadata: { uid?: string }; spec: { serviceAccountName?: string } };
    assert.ok(created.metadata.uid, 'dry-run response is defaulted by the server');
    assert.equal(created.spec.serviceAccountName, 'default');
    assert.equal(
      (await kc('get', 'pod', 'sample', '--ignore-not-found', '-o', 'name')).stdout,
      '',
      'dry run persists nothing',
    );

    const bad = join(cluster.dir, 'bad-pod.json');
    writeFileSync(bad, JSON.stringify(pod('Bad_Name')));
    const rejected = await kc('create', '--dry-run=server', '-f', bad);
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /is invalid/);

    const raw = await referenceRequest(`${cluster.server}/api/v1/namespaces/default/pods?dryRun=All`, cluster.caPem, {
      token: cluster.adminToken,
      method: 'POST',
      body: JSON.stringify(pod('Bad_Name')),
    });
    assert.equal(raw.status, 422, raw.body);
    assert.equal((JSON.parse(raw.body) as { reason: string }).reason, 'Invalid');
  });

  test('requests without a token are refused; a ServiceAccount token has no rights by default', async () => {
    const anon = await referenceRequest(`${cluster.server}/api/v1/namespaces`, cluster.caPem);
    assert.ok(anon.status === 401 || anon.status === 403, `anonymous: ${anon.status} ${anon.body}`);
    const bogus = await referenceRequest(`${cluster.server}/api/v1/namespaces`, cluster.caPem, {
      token: 'not-a-token',
    });
    assert.equal(bogus.status, 401, bogus.body);

    assert.equal((await kc('create', 'serviceaccount', 'probe', '-n', 'default')).code, 0);
    const tok = await kc('create', 'token', 'probe', '-n', 'default');
    assert.equal(tok.code, 0, tok.stderr);
    const sa = await referenceRequest(`${cluster.server}/api/v1/namespaces`, cluster.caPem, {
      token: tok.stdout.trim(),
    });
    assert.equal(sa.status, 403, sa.body);
    assert.match(sa.body, /system:serviceaccount:default:probe/);
  });
});
