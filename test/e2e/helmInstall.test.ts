// The install path a user takes: the server hands out one helm command, that exact command runs
// with real helm against a cluster (the sandbox) and waits for the release to be ready, the worker
// pod registers and runs script pods, `helm test` reaches it through its Service, an upgrade
// changes what the next script pod requests, and an uninstall leaves nothing behind but the
// worker's credential (helmReinstall.test.ts: a reinstall reuses it).
// The sandbox's audit of the worker's API calls is then held against the chart's Role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Sandbox } from '@longshore/sandbox';
import { freePort } from '../support/cliProcess.js';
import type { Lab } from '../support/lab.js';
import { CHART, startHelmLab, type HelmLab } from '../support/helmLab.js';
import { deployCatchingPods } from '../support/scriptObjects.js';
import { clientsMissing } from '../sandbox/support.js';

const NAMESPACE = 'longshore-e2e';
const WORKER = 'helm-worker';
const RELEASE = `longshore-worker-${WORKER}`;
const SERVICE_ACCOUNT = `system:serviceaccount:${NAMESPACE}:${RELEASE}`;

let sandbox: Sandbox;
let lab: Lab;
let core: CoreV1Api;
let helm: HelmLab;
let shell: HelmLab['shell'];
let kc: KubeConfig;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function worker(): Promise<{ status: string; metadata: Record<string, string>; pools: string[] } | undefined> {
  const list = (await lab.api('GET', '/api/workers')).body as { items?: unknown[] } | unknown[];
  const items = (Array.isArray(list) ? list : (list.items ?? [])) as {
    name: string;
    status: string;
    metadata: Record<string, string>;
    pools: string[];
  }[];
  return items.find((w) => w.name === WORKER);
}

/** Deploys and returns the script pod the deployment's one step ran in. */
async function deployAndCatchPod(project: string): Promise<V1Pod> {
  const { res, pods } = await deployCatchingPods(lab, sandbox.kubeconfigPath, project, {
    namespace: NAMESPACE,
    labelSelector: `longshore.io/worker=${WORKER}`,
  });
  assert.equal(res.code, 0, res.output);
  assert.equal(pods.length, 1, res.output);
  return pods[0]!;
}

describe('helm install of a Kubernetes worker from the install command', { skip: clientsMissing() }, () => {
  before(async () => {
    helm = await startHelmLab(`
environments: [ { name: Cluster } ]
projects:
  - name: InCluster
    process:
      steps:
        - name: Hello
          script: { body: 'echo "hello from a helm-installed worker"' }
`);
    ({ sandbox, lab, core, shell, kc } = helm);
  });
  after(() => helm?.close(RELEASE, NAMESPACE));

  test('install-command → helm → registered and healthy → script pod → upgrade changes requests → uninstall removes all but the credential, worker offline', async () => {
    const healthPort = await freePort();
    const answer = await lab.api('POST', '/api/workers/install-command', {
      pools: ['default'],
      name: WORKER,
      namespace: NAMESPACE,
      // Pods share the host's network in the sandbox: the worker's health port must be free there.
      values: { 'worker.healthPort': String(healthPort), 'scriptPods.resources.requests.cpu': '300m' },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const command = answer.body.command as string;
    assert.match(command, /^helm upgrade --install /);
    assert.match(command, /--create-namespace/);

    // --wait: helm waits for the worker's Deployment to be ready and for its Service's cluster IP.
    const installed = await shell(`${command} --wait --timeout 100s`);
    assert.equal(installed.code, 0, installed.output);
    const registered = await eventually('the worker registers and is online', async () => {
      const w = await worker();
      return w?.status === 'online' ? w : undefined;
    });
    assert.deepEqual(registered.pools, ['default']);
    assert.equal(registered.metadata.namespace, NAMESPACE);
    assert.match(registered.metadata.clusterVersion ?? '', /^v1\./);
    assert.equal(registered.metadata.chartVersion, '0.1.0');
    const workerPod = (
      await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/component=worker' })
    ).items[0];
    assert.ok(workerPod?.spec?.nodeName, 'the worker pod runs on a node');
    // Online at the server comes first: the worker is ready once it has also taken stock of its pods.
    await eventually('the worker is ready', async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined,
    );
    // The chart's test pod asks the worker's Service, by its cluster DNS name, whether it is ready;
    // it ends non-zero unless the answer is 200. (No --logs: the pod is deleted once it succeeded.)
    const tested = await shell(`helm test ${RELEASE} --namespace ${NAMESPACE} --timeout 100s`);
    assert.equal(tested.code, 0, tested.output);
    assert.match(tested.output, new RegExp(`TEST SUITE:\\s+${RELEASE}-test[\\s\\S]*Phase:\\s+Succeeded`));

    const first = await deployAndCatchPod('InCluster');
    assert.equal(first.spec!.containers[0]!.resources!.requests!.cpu, '300m');
    assert.equal(first.spec!.serviceAccountName, `${RELEASE}-scripts`);

    const upgraded = await shell(
      `helm upgrade ${RELEASE} ${CHART} --namespace ${NAMESPACE} --reuse-values --set scriptPods.resources.requests.cpu=750m`,
    );
    assert.equal(upgraded.code, 0, upgraded.output);
    // The new worker pod reads the new script pod settings; it reuses the stored credential (the token was single-use).
    await eventually('the upgraded worker runs', async () => {
      const pods = (
        await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/component=worker' })
      ).items;
      return pods.length === 1 &&
        pods[0]!.metadata!.uid !== workerPod!.metadata!.uid &&
        pods[0]!.status?.phase === 'Running'
        ? true
        : undefined;
    });
    await eventually('the upgraded worker is ready', async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined,
    );
    const second = await deployAndCatchPod('InCluster');
    assert.equal(second.spec!.containers[0]!.resources!.requests!.cpu, '750m');

    const uninstalled = await shell(`helm uninstall ${RELEASE} --namespace ${NAMESPACE} --wait`);
    assert.equal(uninstalled.code, 0, uninstalled.output);
    const left = await eventually('every object of the release is gone but the credential Secret', async () => {
      const everything = await shell(
        `kubectl get all,secrets,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets --namespace ${NAMESPACE} -o name`,
      );
      const objects = everything.output
        .split('\n')
        .filter((n) => n && !/^(serviceaccount\/default|configmap\/kube-root-ca\.crt)$/.test(n));
      return objects.length === 1 ? objects : undefined;
    });
    assert.deepEqual(left, [`secret/${RELEASE}-credential`]);
    await eventually('the server shows the worker offline', async () =>
      (await worker())?.status === 'offline' ? true : undefined,
    );
  });

  test("the worker's API calls (the sandbox's audit) are what the chart's Role allows, and the Role allows nothing more", async () => {
    const calls = sandbox.audit.entries({ user: SERVICE_ACCOUNT });
    assert.ok(calls.length > 0, 'the worker talked to the API server');
    const forbidden = calls.filter((c) => c.code === 403);
    assert.deepEqual(
      forbidden.map((c) => `${c.verb} ${c.path}`),
      [],
      'no call was refused',
    );
    const used = new Set(
      calls.filter((c) => c.resource).map((c) => `${c.resource}${c.subresource ? `/${c.subresource}` : ''}:${c.verb}`),
    );
    assert.ok(
      calls.every((c) => !c.namespace || c.namespace === NAMESPACE),
      'only its own namespace',
    );
    const rendered = await shell(
      `helm template ${RELEASE} ${CHART} --namespace ${NAMESPACE} --set server.url=https://x --set registration.token=t --show-only templates/rbac-worker.yaml`,
    );
    const granted = new Set<string>();
    for (const m of rendered.output.matchAll(/resources: \[([^\]]+)\]\n\s+verbs: \[([^\]]+)\]/g)) {
      for (const resource of m[1]!.split(',').map((r) => r.trim()))
        for (const verb of m[2]!.split(',').map((v) => v.trim())) granted.add(`${resource}:${verb}`);
    }
    assert.ok(granted.size > 0, rendered.output);
    for (const call of used) assert.ok(granted.has(call), `the worker called ${call}, which the Role does not grant`);
    // Used only off the happy path: reading one pod when a restarted worker re-adopts a pod its
    // watch has not shown yet; deleting a Secret when it has no pod to own it (the sweeper, a
    // failed pod creation). Everything else the e2e used.
    const onlyOnRecovery = new Set(['pods:get', 'secrets:delete']);
    for (const grant of granted)
      assert.ok(used.has(grant) || onlyOnRecovery.has(grant), `the Role grants ${grant}, which the worker never used`);
  });

  test("the worker's and the script pods' ServiceAccounts get 403 in another namespace", async () => {
    // Tokens for both ServiceAccounts from the TokenRequest API, then a plain request as each into kube-system.
    await shell(
      `kubectl create namespace ${NAMESPACE}-probe && helm upgrade --install probe ${CHART} --namespace ${NAMESPACE}-probe --set server.url=http://127.0.0.1:9 --set registration.token=unused --set worker.healthPort=${await freePort()}`,
    );
    for (const account of ['probe', 'probe-scripts']) {
      const token = await shell(`kubectl create token ${account} --namespace ${NAMESPACE}-probe`);
      assert.equal(token.code, 0, token.output);
      const res = await shell(`kubectl --token=${token.output.trim()} get pods --namespace kube-system -o name`);
      assert.notEqual(res.code, 0);
      assert.match(res.output, /forbidden/i);
      const own = await shell(`kubectl --token=${token.output.trim()} get pods --namespace ${NAMESPACE}-probe -o name`);
      assert.equal(own.code, 0, `${account} may list pods in its own namespace: ${own.output}`);
    }
    await shell(`helm uninstall probe --namespace ${NAMESPACE}-probe`);
  });
});
