// Server-side validation of the objects Longshore sends to Kubernetes: each is created with
// dryRun=All (and fieldValidation=Strict) on the reference kube-apiserver; a rejection fails.
// Until the Kubernetes worker's pod builder and charts/longshore-worker exist, a sample script pod
// and the test chart (test/fixtures/charts/sample) stand in for them; the real chart is picked up
// automatically once it exists. A deliberately broken pod proves the check can fail.
// Run: node scripts/run-tests.mjs differential/objects
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { referenceClusterAvailable, startReferenceCluster, type ReferenceCluster } from '../referenceCluster.js';
import { apiRequest, type ClusterEndpoint } from './cluster.js';
import { Discovery, describeRejection, dryRunCreate, helmPath, renderChart, type Manifest } from './manifests.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE_CHART = join(repoRoot, 'test/fixtures/charts/sample');
const WORKER_CHART = join(repoRoot, 'charts/longshore-worker');
const helm = helmPath();
const skip = referenceClusterAvailable()
  ? false
  : 'reference control plane not built: run `bash test/control-plane/build.sh`';
const noHelm = helm ? false : 'helm not installed: run `bash scripts/install-kube-clients.sh`';
const NS = 'objects';
const IMAGE = 'ghcr.io/example/longshore-worker:1.0.0';

/** What a script pod looks like (DESIGN §4): runs once, never evicted by the autoscaler, the
 *  package fetched by an init container into a shared emptyDir, credentials from a Secret. */
function scriptPod(name: string): Manifest {
  const hardened = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: {
        'app.kubernetes.io/managed-by': 'longshore',
        'longshore.dev/deployment': 'd-42',
        'longshore.dev/step': 'migrate',
      },
      annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: 3600,
      terminationGracePeriodSeconds: 30,
      serviceAccountName: 'script-runner',
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'longshore.dev/scripts', operator: 'Exists', effect: 'NoSchedule' }],
      initContainers: [
        {
          name: 'fetch-package',
          image: IMAGE,
          command: ['longshore-worker', 'fetch-package', '--to', '/workspace'],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          securityContext: hardened,
          volumeMounts: [
            { name: 'workspace', mountPath: '/workspace' },
            { name: 'credentials', mountPath: '/var/run/longshore', readOnly: true },
          ],
        },
      ],
      containers: [
        {
          name: 'script',
          image: IMAGE,
          command: ['/bin/sh', '-c', 'exec /workspace/run.sh'],
          workingDir: '/workspace',
          env: [
            { name: 'LONGSHORE_STEP', value: 'migrate' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: {
            requests: { cpu: '500m', memory: '512Mi', 'ephemeral-storage': '1Gi' },
            limits: { cpu: '2', memory: '1Gi' },
          },
          securityContext: hardened,
          volumeMounts: [
            { name: 'workspace', mountPath: '/workspace' },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'credentials', mountPath: '/var/run/longshore', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'workspace', emptyDir: { sizeLimit: '2Gi' } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'credentials', secret: { secretName: `${name}-credentials`, defaultMode: 0o400 } },
      ],
    },
  };
}

describe('server-side validation of our objects (dryRun=All on the reference)', { skip }, () => {
  let cluster: ReferenceCluster;
  let ep: ClusterEndpoint;
  let discovery: Discovery;

  async function ensure(path: string, body: object): Promise<void> {
    const res = await apiRequest(ep, { method: 'POST', path, body });
    assert.ok(res.status === 201 || res.status === 409, `POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  async function namespace(name: string): Promise<void> {
    await ensure('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  /** Sends every manifest with dryRun=All; returns the rejections (empty when all are accepted). */
  async function rejections(manifests: Manifest[], ns: string): Promise<string[]> {
    const out: string[] = [];
    for (const m of manifests) {
      const res = await dryRunCreate(ep, discovery, m, ns);
      if (res.status !== 201) out.push(describeRejection(m, res));
    }
    return out;
  }

  before(async () => {
    cluster = await startReferenceCluster();
    ep = { server: cluster.server, caPem: cluster.caPem, adminToken: cluster.adminToken };
    discovery = new Discovery(ep);
    await namespace(NS);
    // Admission looks the ServiceAccount up even for a dry run.
    await ensure(`/api/v1/namespaces/${NS}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'script-runner' },
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('a sample script pod is accepted and nothing persists', async () => {
    const pod = scriptPod('script-7f3a');
    const res = await dryRunCreate(ep, discovery, pod, NS);
    assert.equal(res.status, 201, describeRejection(pod, res));
    const created = res.body as {
      metadata: { uid?: string };
      spec: { serviceAccountName?: string; initContainers: unknown[] };
    };
    assert.ok(created.metadata.uid, 'the answer is the object as the server would store it');
    assert.equal(created.spec.serviceAccountName, 'script-runner');
    assert.equal(created.spec.initContainers.length, 1);
    assert.equal(
      (await apiRequest(ep, { path: `/api/v1/namespaces/${NS}/pods/script-7f3a` })).status,
      404,
      'a dry run persists nothing',
    );
  });

  test('a broken pod is rejected with 422 and a cause per mistake', async () => {
    const pod = scriptPod('script-broken');
    const spec = pod.spec as {
      restartPolicy: string;
      activeDeadlineSeconds: number;
      containers: { name: string; volumeMounts: object[] }[];
    };
    spec.restartPolicy = 'Sometimes';
    spec.activeDeadlineSeconds = -5;
    spec.containers[0]!.name = 'Script_Main';
    spec.containers[0]!.volumeMounts.push({ name: 'undeclared', mountPath: '/x' });
    const res = await dryRunCreate(ep, discovery, pod, NS);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    const body = res.body as { reason: string; details: { causes: { field: string }[] } };
    assert.equal(body.reason, 'Invalid');
    const fields = body.details.causes.map((c) => c.field);
    for (const f of [
      'spec.restartPolicy',
      'spec.activeDeadlineSeconds',
      'spec.containers[0].name',
      'spec.containers[0].volumeMounts[3].name',
    ]) {
      assert.ok(fields.includes(f), `no cause for ${f}; causes: ${fields.join(', ')}`);
    }
  });

  test('every document of the test chart (helm template) is accepted', { skip: noHelm }, async () => {
    const ns = 'chart-sample';
    await namespace(ns);
    const manifests = await renderChart(helm!, SAMPLE_CHART, { release: 'sample', namespace: ns });
    assert.deepEqual(manifests.map((m) => m.kind).sort(), [
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Secret',
      'ServiceAccount',
    ]);
    assert.deepEqual(await rejections(manifests, ns), []);
    const got = await apiRequest(ep, { path: `/apis/apps/v1/namespaces/${ns}/deployments/sample-sample` });
    assert.equal(got.status, 404, 'a dry run persists nothing');
  });

  test('the dry-run check rejects a chart document the server would refuse', { skip: noHelm }, async () => {
    const [cm] = (await renderChart(helm!, SAMPLE_CHART, { release: 'sample', namespace: 'chart-sample' })).filter(
      (m) => m.kind === 'ConfigMap',
    );
    assert.ok(cm);
    // Strict field validation: a misspelt field is a rejection, not silently dropped.
    const rejected = await rejections([{ ...cm, dataa: { x: 'y' } }], 'chart-sample');
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /400 BadRequest: .*unknown field "dataa"/);
  });

  test(
    'charts/longshore-worker (when it exists) is accepted',
    { skip: noHelm || (existsSync(WORKER_CHART) ? false : 'charts/longshore-worker does not exist yet') },
    async () => {
      const ns = 'chart-worker';
      await namespace(ns);
      // The chart's test pod runs as the namespace's default ServiceAccount, which the (not running) ServiceAccount controller would create.
      await ensure(`/api/v1/namespaces/${ns}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default' },
      });
      // chart-testing's convention: ci/*-values.yaml are the value sets CI renders the chart with.
      const ciDir = join(WORKER_CHART, 'ci');
      const valueSets = existsSync(ciDir)
        ? readdirSync(ciDir)
            .filter((f) => f.endsWith('-values.yaml'))
            .map((f) => [join(ciDir, f)])
        : [[]];
      for (const valuesFiles of valueSets.length ? valueSets : [[]]) {
        const manifests = await renderChart(helm!, WORKER_CHART, {
          release: 'longshore-worker',
          namespace: ns,
          valuesFiles,
        });
        assert.ok(manifests.length > 0, 'the chart renders something');
        assert.deepEqual(await rejections(manifests, ns), [], `values: ${valuesFiles.join(', ') || '(defaults)'}`);
      }
    },
  );
});
