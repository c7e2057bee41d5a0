// Wiring: ClientNodeKubeApi against the sandbox's API server, through @kubernetes/client-node and
// a kubeconfig, as against a real cluster. Pods need not run: this checks what we send and read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { isErrorCode } from '@longshore/protocol';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { testOperation } from '../../testing/operation.fixture.js';
import { stageWorkspace } from '../../workspace.js';
import { ClientNodeKubeApi, kubeConfigFor } from './clientNodeKubeApi.js';
import { scriptPodNames, workerSelector } from './kubeNames.js';
import { buildScriptPod } from './scriptPodSpec.js';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';

describe('ClientNodeKubeApi against the sandbox', () => {
  let sandbox: Sandbox;
  let api: ClientNodeKubeApi;
  const config = parseScriptPodsConfig({
    namespace: 'longshore-wiring',
    workerName: 'k8s-wiring',
    resources: { requests: { cpu: '300m', memory: '200Mi' }, limits: { memory: '1Gi' } },
  });

  before(async () => {
    sandbox = await startSandbox({ port: 0 });
    const kc = kubeConfigFor({ kubeconfigPath: sandbox.kubeconfigPath, inCluster: false });
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: config.namespace } } });
    api = new ClientNodeKubeApi(kc, config.namespace, { timeoutMs: 10_000, watchRetryMs: 100 });
  });
  after(async () => {
    await sandbox?.stop();
  });

  test('creates the Secret and the Pod, reads them back, and the pod spec holds no sensitive value', async () => {
    const operation = testOperation({
      variables: [{ name: 'DbPassword', value: 'wiring-s3cret-value', sensitive: true }],
      resources: { requests: { cpu: '500m' } },
      container: { image: 'registry.example/tools:1' },
    });
    const names = scriptPodNames(operation.id);
    const { secret, pod } = buildScriptPod({
      config,
      operation,
      secretName: names.secret,
      server: { url: 'https://longshore.example' },
      workspace: stageWorkspace(operation, { workerName: config.workerName, serverUrl: 'https://longshore.example' }),
    });

    const seen: string[] = [];
    const watch = api.watchPods(workerSelector(config.workerName), {
      event: (type, p) => seen.push(`${type} ${p.metadata?.name}`),
    });
    await watch.ready;
    try {
      await api.createSecret(secret);
      const created = await api.createPod(pod);
      await api.setSecretOwner(names.secret, { name: names.pod, uid: created.metadata!.uid! });

      const read = (await api.readPod(names.pod)) as V1Pod;
      const script = read.spec!.containers[0]!;
      assert.equal(script.image, 'registry.example/tools:1');
      assert.deepEqual(script.resources?.requests, { cpu: '500m', memory: '200Mi' });
      assert.equal(read.metadata?.labels?.['longshore.io/worker'], 'k8s-wiring');
      assert.equal(read.metadata?.labels?.['longshore.io/operation'], operation.id);
      assert.equal(read.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'false');
      assert.equal(read.spec?.restartPolicy, 'Never');
      assert.ok(!JSON.stringify(read).includes('wiring-s3cret-value'), 'no sensitive value in the pod as stored');

      const secrets = await api.listSecrets(workerSelector(config.workerName));
      assert.equal(secrets.length, 1);
      assert.equal(secrets[0]!.metadata?.ownerReferences?.[0]?.uid, created.metadata!.uid);
      assert.equal(
        Buffer.from(secrets[0]!.data!['sensitive.sh']!, 'base64').toString().includes('wiring-s3cret-value'),
        true,
      );

      assert.deepEqual(
        (await api.listPods(workerSelector(config.workerName))).map((p) => p.metadata?.name),
        [names.pod],
      );
      assert.ok(Array.isArray(await api.listPodEvents(names.pod)));
      await assert.rejects(api.createPod(pod), (e) => isErrorCode(e, 'CONFLICT'));

      await api.deletePod(names.pod, 0);
      await api.deletePod(names.pod, 0); // gone already: fine
      await api.deleteSecret(names.secret);
      await api.deleteSecret(names.secret);
      for (let i = 0; i < 50 && !seen.includes(`DELETED ${names.pod}`); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        seen.filter((s) => !s.startsWith('MODIFIED')),
        [`ADDED ${names.pod}`, `DELETED ${names.pod}`],
      );
      assert.equal(await api.readPod(names.pod), undefined);
    } finally {
      await watch.stop();
    }
  });

  test('the API server refusing an object is VALIDATION_FAILED with its message', async () => {
    await assert.rejects(
      api.createPod({ metadata: { name: 'Not_A_Valid_Name' }, spec: { containers: [{ name: 'c', image: 'x' }] } }),
      (e) => isErrorCode(e, 'VALIDATION_FAILED'),
    );
  });

  test("a log stream outlives the call time limit: the limit covers the answer's start only", async () => {
    await api.createPod({
      metadata: { name: 'slow-talker' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            image: 'busybox',
            command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo "tick $i"; sleep 0.25; done'],
          },
        ],
      },
    });
    for (let i = 0; i < 100 && (await api.readPod('slow-talker'))?.status?.phase === 'Pending'; i++)
      await new Promise((r) => setTimeout(r, 50));
    let text = '';
    for await (const chunk of api.streamPodLog(
      'slow-talker',
      'main',
      { follow: true, timestamps: false },
      { timeoutMs: 500 },
    ))
      text += Buffer.from(chunk).toString();
    assert.deepEqual(
      text.trim().split('\n'),
      Array.from({ length: 8 }, (_, i) => `tick ${i + 1}`),
    );
  });

  test('a log stream of a pod that does not exist is NOT_FOUND', async () => {
    const stream = api.streamPodLog('no-such-pod', 'script', { follow: false, timestamps: true });
    await assert.rejects(
      async () => {
        for await (const chunk of stream) void chunk;
      },
      (e) => isErrorCode(e, 'NOT_FOUND'),
    );
  });
});
