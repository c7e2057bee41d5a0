// What a platform engineer does to a running Kubernetes worker after installing it, with real helm
// against a cluster (the sandbox): a bad `helm upgrade` is refused before the running worker is
// touched, and after `helm uninstall` the same install command reinstalls the same worker (same
// id) with no new token, from the credential Secret the chart keeps.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Sandbox } from '@longshore/sandbox';
import { freePort } from '../support/cliProcess.js';
import type { Lab } from '../support/lab.js';
import { CHART, startHelmLab, type HelmLab } from '../support/helmLab.js';
import { deployCatchingPods } from '../support/scriptObjects.js';
import { clientsMissing, eventually } from '../sandbox/support.js';

const NAMESPACE = 'longshore-reinstall';
const WORKER = 'kept-worker';
const RELEASE = `longshore-worker-${WORKER}`;

let sandbox: Sandbox;
let lab: Lab;
let core: CoreV1Api;
let helm: HelmLab;
let shell: HelmLab['shell'];

async function onlineWorker(): Promise<{ id: string } | undefined> {
  const { items } = (await lab.api('GET', '/api/workers')).body as {
    items: { id: string; name: string; status: string }[];
  };
  return items.find((w) => w.name === WORKER && w.status === 'online');
}

const workerPods = async () =>
  (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/component=worker' })).items;

/** The install command as a user asks for it; the same request each time. */
const installCommand = (healthPort: number) =>
  lab.api('POST', '/api/workers/install-command', {
    pools: ['default'],
    name: WORKER,
    namespace: NAMESPACE,
    values: { 'worker.healthPort': String(healthPort) },
  });

async function runsAStep(): Promise<void> {
  const { res, pods } = await deployCatchingPods(lab, sandbox.kubeconfigPath, 'Kept', {
    namespace: NAMESPACE,
    labelSelector: `longshore.io/worker=${WORKER}`,
  });
  assert.equal(res.code, 0, res.output);
  assert.equal(pods.length, 1, res.output);
}

describe('a helm-installed worker through a bad upgrade and a reinstall', { skip: clientsMissing() }, () => {
  before(async () => {
    helm = await startHelmLab(`
environments: [ { name: Cluster } ]
projects:
  - name: Kept
    process:
      steps:
        - name: Hello
          script: { body: 'echo "hello again"' }
`);
    ({ sandbox, lab, core, shell } = helm);
  });
  after(() => helm?.close(RELEASE, NAMESPACE));

  test('a bad upgrade is refused with the worker left running; uninstall then the same command brings the same worker back without a token', async () => {
    // Pods share the host's network in the sandbox: the worker's health port must be free there.
    const healthPort = await freePort();
    const first = await installCommand(healthPort);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.reinstall, false);
    const installed = await shell(first.body.command as string);
    assert.equal(installed.code, 0, installed.output);
    const registered = await eventually('the worker is online', onlineWorker, 60_000);
    const [running] = await workerPods();

    // The worker would refuse a default request above maxAllowed at start (CONFIG_INVALID), and
    // under the Recreate strategy the old worker would already be gone: helm refuses it first.
    const refused = await shell(
      `helm upgrade ${RELEASE} ${CHART} --namespace ${NAMESPACE} --reuse-values --atomic --wait --timeout 2m --set scriptPods.resources.requests.cpu=750m --set scriptPods.resources.maxAllowed.cpu=500m`,
    );
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(
      refused.output,
      /scriptPods\.resources\.requests\.cpu \(750m\) is more than scriptPods\.resources\.maxAllowed\.cpu \(500m\): .*raise maxAllowed or lower the request/,
    );
    assert.deepEqual(
      (await workerPods()).map((p) => p.metadata!.uid),
      [running!.metadata!.uid],
      'the running worker was left alone',
    );
    assert.match(
      (await shell(`helm history ${RELEASE} --namespace ${NAMESPACE} -o json`)).output,
      /^\[\{"revision":1,[^\]]*"status":"deployed"[^\]]*\}\]$/m,
      'no new revision',
    );
    await runsAStep();

    const uninstalled = await shell(`helm uninstall ${RELEASE} --namespace ${NAMESPACE} --wait`);
    assert.equal(uninstalled.code, 0, uninstalled.output);
    assert.match(
      uninstalled.output,
      new RegExp(`These resources were kept due to the resource policy:\\s+\\[Secret\\] ${RELEASE}-credential`),
    );
    const kept = await core.readNamespacedSecret({ namespace: NAMESPACE, name: `${RELEASE}-credential` });
    assert.equal(JSON.parse(Buffer.from(kept.data!['credential.json']!, 'base64').toString()).workerId, registered.id);
    await eventually(
      'the worker pod is gone',
      async () => ((await workerPods()).length === 0 ? true : undefined),
      60_000,
    );
    await eventually(
      'the server shows the worker offline',
      async () => ((await onlineWorker()) ? undefined : true),
      60_000,
    );

    const again = await installCommand(healthPort);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.reinstall, true, 'not CONFLICT: the worker is registered, and its credential is kept');
    assert.equal(again.body.token, undefined);
    assert.doesNotMatch(again.body.command as string, /registration\./);
    const reinstalled = await shell(again.body.command as string);
    assert.equal(reinstalled.code, 0, reinstalled.output);
    const back = await eventually('the worker is back online', onlineWorker, 60_000);
    assert.equal(back.id, registered.id, 'the same worker');
    await runsAStep();
  });
});
