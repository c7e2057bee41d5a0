// charts/longshore-server installed as a user installs it, with real helm into a cluster (the
// sandbox), on a real PostgreSQL: two server nodes become ready, the first admin's key is read
// from a node as NOTES.txt says, the API answers with it through `kubectl port-forward` to the
// Service, and a database outage takes both nodes out of the Service (NotReady) until the
// database is back. Needs the built CLI (`npm run build`): the sandbox runs longshore/server from it.
// Run: node --conditions=source --import tsx --test test/e2e/serverChartInstall.test.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { SERVER_CHART } from '../chart/helmChart.js';
import { clientsMissing, eventually, kubeClientsDir } from '../sandbox/support.js';
import { freePort } from '../support/cliProcess.js';
import { helmShell, type HelmLab } from '../support/helmLab.js';
import { freshPostgresDatabase, restartPostgres, stopPostgres, TEST_DATABASE_PASSWORD } from '../support/postgres.js';

const NAMESPACE = 'longshore';
const RELEASE = 'longshore';
const SELECTOR = `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=server`;

let sandbox: Sandbox;
let core: CoreV1Api;
let shell: HelmLab['shell'];
let home: string;
let port: number;

const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function serverPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: SELECTOR })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );
}

/** Waits until `count` server pods are all ready (true) or all not ready (false). */
async function podsReady(ready: boolean, timeoutMs: number): Promise<V1Pod[]> {
  return eventually(
    `2 server pods ${ready ? 'Ready' : 'NotReady'}`,
    async () => {
      const pods = await serverPods();
      return pods.length === 2 && pods.every((p) => Boolean(isReady(p)) === ready) && pods;
    },
    timeoutMs,
  );
}

async function noRestarts(pods: V1Pod[]): Promise<void> {
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    if ((pod.status?.containerStatuses?.[0]?.restartCount ?? 0) === 0) continue;
    const log = await shell(`kubectl -n ${NAMESPACE} logs ${name} --previous | tail -5`);
    assert.fail(`${name} restarted: ${log.output}`);
  }
}

/** `kubectl port-forward svc/<release>` on a free local port, for as long as `use` runs. */
async function throughPortForward<T>(use: (url: string) => Promise<T>): Promise<T> {
  const local = await freePort();
  const child = spawn(
    join(kubeClientsDir(), 'kubectl'),
    ['-n', NAMESPACE, 'port-forward', `svc/${RELEASE}`, `${local}:8080`],
    { env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('Forwarding from')) resolve();
      });
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${output}`)));
    });
    return await use(`http://127.0.0.1:${local}`);
  } finally {
    child.kill();
  }
}

describe('helm install of charts/longshore-server on PostgreSQL', { skip: clientsMissing() }, () => {
  before(async () => {
    sandbox = await startSandbox();
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    home = mkdtempSync(join(tmpdir(), 'longshore-helm-home-'));
    shell = helmShell(home, sandbox.kubeconfigPath);
    port = await freePort();
  });
  after(async () => {
    await shell?.(`helm uninstall ${RELEASE} --namespace ${NAMESPACE}`);
    await sandbox?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('2 nodes ready → the API answers through the Service → NotReady while PostgreSQL is down → ready again', async () => {
    const database = await freshPostgresDatabase();
    // Pods of the sandbox share this machine's network, so both nodes listen on one port (as
    // two pods of a real cluster do in their own networks): they share it with SO_REUSEPORT.
    const install = await shell(
      [
        `helm install ${RELEASE} ${SERVER_CHART} --namespace ${NAMESPACE} --create-namespace`,
        `--set-string database.url='${database}'`,
        `--set server.port=${port}`,
        `--set server.extraEnv[0].name=LONGSHORE_REUSE_PORT --set-string server.extraEnv[0].value=true`,
        '--wait --timeout 3m',
      ].join(' '),
    );
    assert.equal(install.code, 0, install.output);
    assert.doesNotMatch(install.output, new RegExp(TEST_DATABASE_PASSWORD), 'helm printed the database password');
    const pods = await podsReady(true, 60_000);
    // Nodes starting together on a new database: none fails its start over who makes the first admin.
    await noRestarts(pods);

    // NOTES.txt: the first node wrote the admin's key into its data directory.
    const keys: string[] = [];
    for (const pod of pods) {
      const read = await shell(
        `kubectl -n ${NAMESPACE} exec ${pod.metadata!.name} -- sh -c 'cat /var/lib/longshore/admin-api-key 2>/dev/null; true'`,
      );
      assert.equal(read.code, 0, read.output);
      if (read.output.trim()) keys.push(read.output.trim());
    }
    assert.ok(keys.length >= 1, 'a node made the admin key');
    const key = keys[0]!;

    await throughPortForward(async (url) => {
      const api = await fetch(`${url}/api`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(api.status, 200, await api.clone().text());
      assert.equal(((await api.json()) as { name: string }).name, 'Longshore');
      const refused = await fetch(`${url}/api`);
      assert.equal(refused.status, 401);
    });
    const tested = await shell(`helm test ${RELEASE} -n ${NAMESPACE} --timeout 2m`);
    assert.equal(tested.code, 0, tested.output);

    await stopPostgres();
    try {
      await podsReady(false, 45_000);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /STORE_UNAVAILABLE/);
      // Unready, not dead: liveness holds, so Kubernetes does not restart them over an outage.
      await noRestarts(await serverPods());
    } finally {
      await restartPostgres();
    }
    await podsReady(true, 45_000);
    const api = await fetch(`http://127.0.0.1:${port}/api`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(api.status, 200);

    const uninstall = await shell(`helm uninstall ${RELEASE} --namespace ${NAMESPACE} --wait`);
    assert.equal(uninstall.code, 0, uninstall.output);
    const kept = await shell(`kubectl -n ${NAMESPACE} get secret ${RELEASE}-master-key -o name`);
    assert.equal(kept.output.trim(), `secret/${RELEASE}-master-key`, 'helm uninstall keeps the master key');
  });
});
