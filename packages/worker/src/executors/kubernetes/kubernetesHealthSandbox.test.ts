// The Kubernetes health check against the sandbox's API server, as the worker's ServiceAccount
// with a Role like the chart's: SelfSubjectAccessReview is answered by RBAC for the caller, so a
// right taken out of the Role is named in the report.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';
import { tempDir } from '../../testing/tempDirs.fixture.js';
import { ClientNodeKubeApi, kubeConfigFor } from './clientNodeKubeApi.js';
import { kubernetesHealth } from './kubernetesHealth.js';
import { parseScriptPodsConfig } from './scriptPodsConfig.js';
import { WORKER_RULES } from './workerPermissions.js';

const NAMESPACE = 'longshore-health';
const config = parseScriptPodsConfig({ namespace: NAMESPACE, workerName: 'health-worker' });

describe('Kubernetes health against the sandbox', () => {
  let sandbox: Sandbox;
  let rbac: RbacAuthorizationV1Api;
  let api: ClientNodeKubeApi;
  const setRole = async (rules: V1PolicyRule[]): Promise<void> => {
    await rbac.replaceNamespacedRole({
      namespace: NAMESPACE,
      name: 'worker',
      body: { metadata: { name: 'worker', namespace: NAMESPACE }, rules },
    });
  };

  before(async () => {
    sandbox = await startSandbox({ port: 0 });
    const admin = kubeConfigFor({ kubeconfigPath: sandbox.kubeconfigPath, inCluster: false });
    const core = admin.makeApiClient(CoreV1Api);
    rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: 'worker' } } });
    await rbac.createNamespacedRole({
      namespace: NAMESPACE,
      body: { metadata: { name: 'worker' }, rules: WORKER_RULES.map((r) => ({ ...r })) },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'worker' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'worker' },
        subjects: [{ kind: 'ServiceAccount', name: 'worker', namespace: NAMESPACE }],
      },
    });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: NAMESPACE,
      name: 'worker',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const path = join(tempDir('kube'), 'worker-kubeconfig');
    writeFileSync(path, sandbox.kubeconfig.replace(/token: .*/, `token: ${token.status!.token}`), { mode: 0o600 });
    api = new ClientNodeKubeApi(kubeConfigFor({ kubeconfigPath: path, inCluster: false }), NAMESPACE, {
      timeoutMs: 10_000,
    });
  });
  after(async () => {
    await sandbox?.stop();
  });

  test("with the chart's Role every check is ok, and nodes are a fact, not a failure", async () => {
    const health = await kubernetesHealth({ api, config }, AbortSignal.timeout(30_000));
    assert.deepEqual(
      health.checks.filter((c) => !c.ok),
      [],
    );
    assert.match(health.facts.apiServerVersion ?? '', /^v\d+\.\d+/);
    assert.equal(health.facts.allocatable, 'not visible: the worker may not list nodes');
    assert.equal(health.facts.pendingScriptPods, '0');
    assert.deepEqual(await api.listPods(''), [], 'the check pod is gone');
  });

  test('with create taken off pods, the report names pods/create', async () => {
    await setRole(
      WORKER_RULES.map((r) =>
        r.resources.includes('pods') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : { ...r },
      ),
    );
    const { checks } = await kubernetesHealth({ api, config }, AbortSignal.timeout(30_000));
    const failed = checks.filter((c) => !c.ok);
    assert.deepEqual(
      failed.map((c) => c.name),
      [`pods/create in namespace ${NAMESPACE}`, `check pod in namespace ${NAMESPACE}`],
    );
    assert.match(failed[0]!.detail, new RegExp(`^pods/create denied in namespace ${NAMESPACE}`));
    assert.match(failed[1]!.detail, /forbidden/);
  });
});
