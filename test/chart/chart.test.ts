// charts/longshore-worker rendered by the real helm with the CI value sets: every document is a
// valid Kubernetes object, nothing is cluster-scoped, the worker is started to its contract, and
// the script pod configuration is what the worker itself parses and builds pods from.
// Run: node --conditions=source --import tsx --test test/chart/chart.test.ts
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { Operation } from '@longshore/protocol';
import { buildScriptPod, parseScriptPodsConfig, stageWorkspace } from '@longshore/worker';
import { parse as parseYaml } from 'yaml';
import {
  CHART,
  CI_VALUES,
  NAMESPACE,
  RELEASE,
  find,
  noHelm,
  readYaml,
  renderChart,
  schemaProblems,
  selects,
  type LabelSelector,
  type Manifest,
} from './helmChart.js';

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown>;
  startupProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
  readinessProbe?: { httpGet: { path: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[];
}
interface DeploymentDoc {
  spec: {
    replicas: number;
    strategy: { type: string };
    selector: LabelSelector;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface RoleBindingDoc {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

const DEFAULT_VALUES = readYaml<{ registration: { token: string } }>(CI_VALUES.default);

function workerContainer(docs: Manifest[]): Container {
  return find<DeploymentDoc>(docs, 'Deployment', RELEASE).spec.template.spec.containers[0]!;
}

function env(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

function flag(container: Container, name: string): string | undefined {
  const args = container.args ?? [];
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

/** A script pod as the worker builds it from the chart's ConfigMap, with one package so the fetcher init container is there too. */
function scriptPodFrom(docs: Manifest[]): {
  pod: Record<string, unknown> & {
    metadata: { labels: Record<string, string> };
    spec: PodSpec & Record<string, unknown>;
  };
  secret: object;
} {
  const settings: unknown = parseYaml(
    find<{ data: Record<string, string> }>(docs, 'ConfigMap', `${RELEASE}-script-pods`).data['script-pods.yaml']!,
  );
  const workerName = env(workerContainer(docs), 'LONGSHORE_WORKER_NAME')!;
  const config = parseScriptPodsConfig({ ...(settings as object), namespace: NAMESPACE, workerName });
  const operation: Operation = {
    id: randomUUID(),
    taskId: 'task-1',
    step: { index: 0, name: 'Deploy' },
    script: { syntax: 'sh', body: 'echo hello' },
    variables: [],
    timeoutSeconds: 600,
    packages: [
      {
        reference: 'app',
        packageId: 'web',
        version: '1.0.0',
        format: 'tar.gz',
        sha256: 'ab'.repeat(32),
        downloadPath: '/api/agent/packages/web/1.0.0/content',
      },
    ],
  };
  const built = buildScriptPod({
    config,
    operation,
    secretName: `longshore-${operation.id}-workspace`,
    workspace: stageWorkspace(operation, { workerName, serverUrl: 'https://longshore.example.com' }),
    server: { url: 'https://longshore.example.com' },
    packageAccess: { token: 'package-token' },
  });
  return built as unknown as ReturnType<typeof scriptPodFrom>;
}

describe('charts/longshore-worker rendered', { skip: noHelm }, () => {
  const rendered: Record<keyof typeof CI_VALUES, Manifest[]> = { default: [], full: [] };
  before(async () => {
    rendered.default = await renderChart(CI_VALUES.default);
    rendered.full = await renderChart(CI_VALUES.full);
  });

  test('every document validates against the Kubernetes schema', () => {
    for (const [set, docs] of Object.entries(rendered)) {
      assert.deepEqual(docs.flatMap(schemaProblems), [], `${set} values`);
    }
    assert.deepEqual(rendered.default.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      'ConfigMap/rel-script-pods',
      'Deployment/rel',
      'Pod/rel-test',
      'PodDisruptionBudget/rel-script-pods',
      'Role/rel',
      'Role/rel-scripts',
      'Role/rel-upgrader',
      'RoleBinding/rel',
      'RoleBinding/rel-scripts',
      'RoleBinding/rel-upgrader',
      'Secret/rel-credential',
      'Secret/rel-registration',
      'Service/rel',
      'ServiceAccount/rel',
      'ServiceAccount/rel-scripts',
      'ServiceAccount/rel-upgrader',
    ]);
  });

  test('the schema check catches a broken document', () => {
    const [deployment] = rendered.default.filter((d) => d.kind === 'Deployment');
    const broken = structuredClone(deployment!) as unknown as DeploymentDoc;
    (broken.spec as { replicas: unknown }).replicas = 'one';
    assert.match(schemaProblems(broken as unknown as Manifest).join(), /replicas must be integer/);
  });

  test('nothing is cluster-scoped: namespaced kinds only, all in the release namespace, Roles bound as Roles', () => {
    for (const docs of Object.values(rendered)) {
      for (const d of docs) {
        assert.ok(!/^Cluster/.test(d.kind), `${d.kind}/${d.metadata.name} is cluster-scoped`);
        assert.equal(d.metadata.namespace, NAMESPACE, `${d.kind}/${d.metadata.name}`);
        if (d.kind === 'RoleBinding') {
          const rb = d as unknown as RoleBindingDoc;
          assert.equal(rb.roleRef.kind, 'Role');
          for (const s of rb.subjects) assert.equal(s.namespace, NAMESPACE);
        }
        if (d.kind === 'Role') assert.ok(!JSON.stringify(d).includes('nonResourceURLs'));
      }
    }
  });

  test('the worker container is started to its contract', () => {
    const deployment = find<DeploymentDoc>(rendered.default, 'Deployment', RELEASE);
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
    const c = workerContainer(rendered.default);
    assert.deepEqual(c.args, [
      'worker',
      '--executor',
      'kubernetes',
      '--script-pods',
      '/etc/longshore/script-pods.yaml',
      '--health-port',
      '8080',
      '--credential-secret',
      'rel-credential',
      '--data',
      '/tmp/longshore',
      '--drain-deadline-ms',
      '60000',
    ]);
    assert.equal(c.command, undefined, 'the image entrypoint (the longshore CLI) stays');
    assert.deepEqual(c.env?.map((e) => e.name).sort(), [
      'LONGSHORE_CHART_VERSION',
      'LONGSHORE_HELM_RELEASE',
      'LONGSHORE_MAX_CONCURRENT',
      'LONGSHORE_POOLS',
      'LONGSHORE_REGISTRATION_TOKEN',
      'LONGSHORE_URL',
      'LONGSHORE_WORKER_NAME',
    ]);
    assert.equal(env(c, 'LONGSHORE_URL'), 'https://longshore.example.com');
    assert.equal(env(c, 'LONGSHORE_WORKER_NAME'), RELEASE);
    assert.equal(env(c, 'LONGSHORE_MAX_CONCURRENT'), '50');
    assert.equal(env(c, 'LONGSHORE_CHART_VERSION'), readYaml<{ version: string }>(`${CHART}/Chart.yaml`).version);
    assert.equal(env(c, 'LONGSHORE_HELM_RELEASE'), RELEASE, 'the release an upgrade names');
    assert.deepEqual(
      [c.startupProbe?.httpGet.path, c.livenessProbe?.httpGet.path, c.readinessProbe?.httpGet.path],
      ['/livez', '/livez', '/readyz'],
    );

    const full = workerContainer(rendered.full);
    assert.equal(env(full, 'LONGSHORE_POOLS'), 'linux,deploy-eu');
    assert.equal(env(full, 'LONGSHORE_WORKER_NAME'), 'build-cluster-1');
    assert.match(env(full, 'LONGSHORE_SERVER_THUMBPRINT') ?? '', /^AB:CD/);
    assert.equal(full.image, 'registry.example.com:5000/mirror/longshore-worker:0.1.0-rc.1');
  });

  test('the grace period outlasts the drain deadline', () => {
    for (const docs of Object.values(rendered)) {
      const spec = find<DeploymentDoc>(docs, 'Deployment', RELEASE).spec.template.spec;
      const drainMs = Number(flag(spec.containers[0]!, '--drain-deadline-ms'));
      assert.ok(drainMs >= 60_000);
      assert.ok(
        spec.terminationGracePeriodSeconds! * 1000 > drainMs,
        `${spec.terminationGracePeriodSeconds} s vs ${drainMs} ms`,
      );
    }
  });

  test('the worker runs non-root on a read-only root filesystem, writing to an emptyDir at /tmp', () => {
    const spec = find<DeploymentDoc>(rendered.default, 'Deployment', RELEASE).spec.template.spec;
    const c = spec.containers[0]!;
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    assert.ok(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, 'the data dir is on an emptyDir');
    assert.ok(flag(c, '--data')?.startsWith('/tmp/'));
    const config = c.volumeMounts?.find((m) => m.mountPath === '/etc/longshore');
    assert.equal(spec.volumes?.find((v) => v.name === config?.name)?.configMap?.name, `${RELEASE}-script-pods`);
  });

  test('the registration token reaches the worker from a Secret only', () => {
    const c = workerContainer(rendered.default);
    const ref = c.env?.find((e) => e.name === 'LONGSHORE_REGISTRATION_TOKEN')?.valueFrom?.secretKeyRef;
    assert.deepEqual({ name: ref?.name, key: ref?.key }, { name: `${RELEASE}-registration`, key: 'token' });
    const secret = find<{ data: Record<string, string> }>(rendered.default, 'Secret', `${RELEASE}-registration`);
    assert.equal(Buffer.from(secret.data.token!, 'base64').toString(), DEFAULT_VALUES.registration.token);
    for (const d of rendered.default.filter((x) => x.kind !== 'Secret')) {
      assert.ok(
        !JSON.stringify(d).includes(DEFAULT_VALUES.registration.token),
        `${d.kind}/${d.metadata.name} holds the token`,
      );
    }
    // With an existing Secret the chart renders no registration Secret and points at that one; the credential Secret it always renders, empty.
    assert.deepEqual(
      rendered.full.filter((d) => d.kind === 'Secret').map((d) => d.metadata.name),
      [`${RELEASE}-credential`],
    );
    assert.equal(find<{ data?: unknown }>(rendered.full, 'Secret', `${RELEASE}-credential`).data, undefined);
    assert.equal(
      workerContainer(rendered.full).env?.find((e) => e.name === 'LONGSHORE_REGISTRATION_TOKEN')?.valueFrom
        ?.secretKeyRef?.name,
      'longshore-registration',
    );
  });

  test('the worker and the script pods each have their own ServiceAccount, bound to their own Role', () => {
    for (const docs of Object.values(rendered)) {
      assert.equal(find<DeploymentDoc>(docs, 'Deployment', RELEASE).spec.template.spec.serviceAccountName, RELEASE);
      for (const [sa, role] of [
        [RELEASE, RELEASE],
        [`${RELEASE}-scripts`, `${RELEASE}-scripts`],
      ]) {
        find(docs, 'ServiceAccount', sa!);
        const rb = find<RoleBindingDoc>(docs, 'RoleBinding', role!);
        assert.deepEqual([rb.roleRef.name, rb.subjects.map((s) => s.name)], [role, [sa]]);
      }
    }
    const scriptsRole = find<{ rules: unknown[] }>(rendered.default, 'Role', `${RELEASE}-scripts`);
    assert.deepEqual(
      scriptsRole.rules,
      [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
      'everything in the namespace by default',
    );
    const overridden = find<{ rules: unknown[] }>(rendered.full, 'Role', `${RELEASE}-scripts`);
    assert.deepEqual(
      overridden.rules,
      readYaml<{ permissions: { scriptPodRules: unknown[] } }>(CI_VALUES.full).permissions.scriptPodRules,
    );
  });

  test('no script pod rules: no Role, and no token in script pods', async () => {
    const docs = await renderChart(CI_VALUES.default, ['--set-json', 'permissions.scriptPodRules=[]']);
    assert.ok(!docs.some((d) => d.metadata.name === `${RELEASE}-scripts` && d.kind !== 'ServiceAccount'));
    assert.equal(
      find<{ automountServiceAccountToken: boolean }>(docs, 'ServiceAccount', `${RELEASE}-scripts`)
        .automountServiceAccountToken,
      false,
    );
  });

  test('the ConfigMap is what the worker parses, and the script pods it builds are valid and carry the values', () => {
    for (const docs of Object.values(rendered)) {
      const { pod, secret } = scriptPodFrom(docs);
      assert.deepEqual([...schemaProblems(pod as unknown as Manifest), ...schemaProblems(secret as Manifest)], []);
      assert.equal(pod.spec.serviceAccountName, `${RELEASE}-scripts`);
    }
    const { pod } = scriptPodFrom(rendered.full);
    const spec = pod.spec as PodSpec & {
      nodeSelector?: object;
      imagePullSecrets?: { name: string }[];
      priorityClassName?: string;
      initContainers?: Container[];
    };
    assert.deepEqual(spec.nodeSelector, { 'example.com/pool': 'scripts' });
    assert.deepEqual(
      spec.imagePullSecrets?.map((s) => s.name),
      ['scripts-registry', 'registry-credentials'],
    );
    assert.equal(spec.priorityClassName, 'longshore-scripts', 'podSpecPatch applied');
    assert.equal(spec.containers[0]!.image, 'registry.example.com:5000/mirror/worker-tools:0.1.0-rc.1');
    assert.equal(
      spec.initContainers?.[0]?.image,
      workerContainer(rendered.full).image,
      'the package fetcher runs the worker image',
    );
    assert.equal(pod.metadata.labels.team, 'platform');
    const { pod: defaultPod } = scriptPodFrom(rendered.default);
    assert.equal(defaultPod.spec.containers[0]!.image, 'longshore/worker-tools:0.1.0');
  });

  test("the PodDisruptionBudget covers this worker's script pods and never allows an eviction", () => {
    for (const docs of Object.values(rendered)) {
      const pdb = find<{ spec: { selector: LabelSelector; minAvailable: number } }>(
        docs,
        'PodDisruptionBudget',
        `${RELEASE}-script-pods`,
      );
      const { pod } = scriptPodFrom(docs);
      assert.ok(selects(pdb.spec.selector, pod.metadata.labels), 'selects the script pod');
      assert.ok(
        !selects(pdb.spec.selector, { ...pod.metadata.labels, 'longshore.io/worker': 'another-worker' }),
        "not another worker's",
      );
      assert.ok(pdb.spec.minAvailable > 10_000, 'above the most script pods a worker can run');
      const deployment = find<DeploymentDoc>(docs, 'Deployment', RELEASE);
      assert.ok(!selects(pdb.spec.selector, deployment.spec.template.metadata.labels), 'not the worker itself');
    }
  });

  test('the Service selects the worker pod and not script pods; the test pod calls its /readyz', () => {
    for (const docs of Object.values(rendered)) {
      const service = find<{ spec: { selector: Record<string, string>; ports: { port: number }[] } }>(
        docs,
        'Service',
        RELEASE,
      );
      const deployment = find<DeploymentDoc>(docs, 'Deployment', RELEASE);
      assert.ok(selects({ matchLabels: service.spec.selector }, deployment.spec.template.metadata.labels));
      assert.ok(selects(deployment.spec.selector, deployment.spec.template.metadata.labels));
      assert.ok(!selects({ matchLabels: service.spec.selector }, scriptPodFrom(docs).pod.metadata.labels));
      assert.deepEqual(
        service.spec.ports.map((p) => p.port),
        [8080],
      );
      const testPod = find<{ metadata: { annotations: Record<string, string> }; spec: PodSpec }>(
        docs,
        'Pod',
        `${RELEASE}-test`,
      );
      assert.equal(testPod.metadata.annotations['helm.sh/hook'], 'test');
      assert.equal(env(testPod.spec.containers[0]!, 'WORKER_READYZ'), `http://${RELEASE}.${NAMESPACE}.svc:8080/readyz`);
      assert.equal(testPod.spec.containers[0]!.image, deployment.spec.template.spec.containers[0]!.image);
    }
  });
});
