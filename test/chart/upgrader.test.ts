// The upgrader: the ServiceAccount the server's upgrade pod runs `helm upgrade` / `helm rollback`
// of the worker's own release under. Rendered: a Role (never a ClusterRole) of everything in the
// release namespace, bound to that account, named in the worker's ConfigMap, and none of it with
// upgrader.enabled false. In a cluster (the sandbox, and a real kube-apiserver where
// test/control-plane is built): its token may do anything in the worker's namespace, including
// upgrading the release to a new chart version and rolling it back, and gets 403 in another
// namespace and on anything cluster-scoped; and an upgrader with less than everything in the
// namespace could not upgrade, as Kubernetes refuses it the script pods' Role.
// Run: node --conditions=source --import tsx --test test/chart/upgrader.test.ts
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startSandbox } from '@longshore/sandbox';
import { parse as parseYaml } from 'yaml';
import { referenceClusterAvailable, startReferenceCluster } from '../control-plane/referenceCluster.js';
import { ClientEnv, clientsMissing, succeeded } from '../sandbox/support.js';
import {
  CHART,
  NAMESPACE,
  RELEASE,
  find,
  noHelm,
  readYaml,
  renderChart,
  schemaProblems,
  type Manifest,
} from './helmChart.js';

const UPGRADER = `${RELEASE}-upgrader`;
const CHART_VERSION = readYaml<{ version: string }>(`${CHART}/Chart.yaml`).version;
const CI_FILES = readdirSync(`${CHART}/ci`)
  .filter((f) => f.endsWith('-values.yaml'))
  .map((f) => `${CHART}/ci/${f}`);

interface RoleDoc {
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}
interface RoleBindingDoc {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

/** The worker's script pod settings, as the chart renders them into its ConfigMap. */
function scriptPodSettings(docs: Manifest[]): Record<string, unknown> {
  const cm = find<{ data: Record<string, string> }>(docs, 'ConfigMap', `${RELEASE}-script-pods`);
  return parseYaml(cm.data['script-pods.yaml']!) as Record<string, unknown>;
}

const isUpgrader = (d: Manifest): boolean =>
  d.metadata.name === UPGRADER ||
  (d.metadata.labels as Record<string, string> | undefined)?.['app.kubernetes.io/component'] === 'upgrader';

describe('the upgrader, rendered', { skip: noHelm }, () => {
  test('no ClusterRole or ClusterRoleBinding for any CI value set, with the upgrader on or off and script pod rules or none', async () => {
    assert.ok(CI_FILES.length >= 2, `found ${CI_FILES.join(', ')}`);
    for (const file of CI_FILES) {
      for (const extra of [
        [],
        ['--set', 'upgrader.enabled=true'],
        ['--set', 'upgrader.enabled=false'],
        ['--set', 'upgrader.enabled=true', '--set-json', 'permissions.scriptPodRules=[]'],
      ]) {
        const docs = await renderChart(file, extra);
        const what = `${file} ${extra.join(' ')}`;
        assert.deepEqual(
          docs.filter((d) => /^Cluster/.test(d.kind)).map((d) => `${d.kind}/${d.metadata.name}`),
          [],
          what,
        );
        for (const d of docs) assert.equal(d.metadata.namespace, NAMESPACE, `${d.kind}/${d.metadata.name}, ${what}`);
      }
    }
  });

  test('enabled (the default): its ServiceAccount with a token, a Role of everything in the release namespace, bound to it, and named in the ConfigMap', async () => {
    const docs = await renderChart(CI_FILES.find((f) => f.endsWith('/default-values.yaml'))!);
    const upgraderDocs = docs.filter(isUpgrader);
    assert.deepEqual(upgraderDocs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      `Role/${UPGRADER}`,
      `RoleBinding/${UPGRADER}`,
      `ServiceAccount/${UPGRADER}`,
    ]);
    assert.deepEqual(upgraderDocs.flatMap(schemaProblems), []);
    for (const d of upgraderDocs) {
      assert.equal(d.metadata.namespace, NAMESPACE);
      assert.deepEqual(
        d.metadata.labels,
        {
          ...(find(docs, 'ServiceAccount', RELEASE).metadata.labels as object),
          'app.kubernetes.io/component': 'upgrader',
        },
        `${d.kind}: the chart's labels, component upgrader`,
      );
    }
    const sa = find<{ automountServiceAccountToken?: boolean }>(docs, 'ServiceAccount', UPGRADER);
    assert.equal(sa.automountServiceAccountToken, true, 'the upgrade pod uses the in-cluster configuration');

    const role = find<RoleDoc>(docs, 'Role', UPGRADER);
    assert.equal(role.kind, 'Role');
    assert.deepEqual(role.rules, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);

    const binding = find<RoleBindingDoc>(docs, 'RoleBinding', UPGRADER);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: UPGRADER });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: UPGRADER, namespace: NAMESPACE }]);

    assert.equal(scriptPodSettings(docs).upgraderServiceAccountName, UPGRADER);
  });

  test('upgrader.enabled false: none of its objects, no upgraderServiceAccountName, everything else unchanged', async () => {
    const file = CI_FILES.find((f) => f.endsWith('/default-values.yaml'))!;
    const on = await renderChart(file);
    const off = await renderChart(file, ['--set', 'upgrader.enabled=false']);
    assert.deepEqual(off.filter(isUpgrader), []);
    assert.ok(!('upgraderServiceAccountName' in scriptPodSettings(off)));
    const names = (docs: Manifest[]): string[] => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
    assert.deepEqual(names(off), names(on.filter((d) => !isUpgrader(d))));
    const { upgraderServiceAccountName: _, ...rest } = scriptPodSettings(on);
    assert.deepEqual(scriptPodSettings(off), rest);
    // ci/full-values.yaml turns it off too (it sets every value to something other than its default).
    const full = await renderChart(CI_FILES.find((f) => f.endsWith('/full-values.yaml'))!);
    assert.deepEqual(full.filter(isUpgrader), []);
    assert.ok(!('upgraderServiceAccountName' in scriptPodSettings(full)));
  });
});

const statusOf = (err: unknown): number | undefined => (err as { code?: number }).code;

interface Cluster {
  kubeconfig: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

/** The cluster's kubeconfig with this bearer token as its user. */
function withToken(kubeconfig: string, token: string): k8s.KubeConfig {
  const admin = new k8s.KubeConfig();
  admin.loadFromString(kubeconfig);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: admin.clusters,
    users: [{ name: 'bearer', token }],
    contexts: [{ name: 'bearer', cluster: admin.getCurrentCluster()!.name, user: 'bearer' }],
    currentContext: 'bearer',
  });
  return kc;
}

/** The chart installed into two namespaces, the worker's and another worker's, and what the upgrader's token may do. */
function upgraderInCluster(title: string, skip: string | false, start: () => Promise<Cluster>): void {
  describe(title, { skip }, () => {
    const OWN = 'upgrader-own';
    const OTHER = 'upgrader-other';
    const USER = `system:serviceaccount:${OWN}:${UPGRADER}`;
    let cluster: Cluster;
    let env: ClientEnv;
    let token: string;
    let as: { core: k8s.CoreV1Api; rbac: k8s.RbacAuthorizationV1Api };
    let admin: { core: k8s.CoreV1Api; rbac: k8s.RbacAuthorizationV1Api };
    /** This chart at the next patch version: an upgrade to it changes every object (their helm.sh/chart label). */
    let nextChart: string;

    before(async () => {
      cluster = await start();
      env = new ClientEnv(cluster.kubeconfigPath);
      for (const namespace of [OWN, OTHER]) {
        await succeeded(
          env.helm([
            'install',
            RELEASE,
            CHART,
            '--namespace',
            namespace,
            '--create-namespace',
            // No node runs the worker's pod here: the server and the token can be dummies.
            '--set',
            'server.url=https://longshore.invalid',
            '--set',
            'registration.token=unused',
          ]),
          `helm install into ${namespace}`,
        );
      }
      // The TokenRequest API: the upgrade pod's projected token comes from it too.
      token = (
        await succeeded(env.kubectl(['create', 'token', UPGRADER, '--namespace', OWN]), 'kubectl create token')
      ).trim();
      const kc = withToken(cluster.kubeconfig, token);
      as = { core: kc.makeApiClient(k8s.CoreV1Api), rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api) };
      const adminKc = new k8s.KubeConfig();
      adminKc.loadFromString(cluster.kubeconfig);
      admin = { core: adminKc.makeApiClient(k8s.CoreV1Api), rbac: adminKc.makeApiClient(k8s.RbacAuthorizationV1Api) };
      nextChart = join(env.dir, 'longshore-worker');
      cpSync(CHART, nextChart, { recursive: true });
      const chartYaml = join(nextChart, 'Chart.yaml');
      writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 99.0.0'));
    });
    after(async () => {
      await cluster?.stop();
      env?.cleanup();
    });

    /** The call is refused with 403, and the refusal names the upgrader. */
    async function forbidden(what: string, call: () => Promise<unknown>): Promise<void> {
      await assert.rejects(call, (err) => {
        assert.equal(statusOf(err), 403, `${what}: ${String(err)}`);
        assert.ok(String((err as { body?: unknown }).body).includes(USER), `${what}: ${String(err)}`);
        return true;
      });
    }

    // Under the upgrader's own account: it exists in its namespace whether or not a controller made the default one.
    const pod = (name: string): k8s.V1Pod => ({
      metadata: { name },
      spec: {
        serviceAccountName: UPGRADER,
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
      },
    });
    const secret = (name: string): k8s.V1Secret => ({ metadata: { name }, stringData: { k: 'v' } });

    test("in the worker's namespace it may list and create pods and secrets, and write a Role of everything", async () => {
      await as.core.createNamespacedPod({ namespace: OWN, body: pod('upgrader-made') });
      const pods = await as.core.listNamespacedPod({ namespace: OWN });
      assert.ok(pods.items.some((p) => p.metadata?.name === 'upgrader-made'));
      await as.core.createNamespacedSecret({ namespace: OWN, body: secret('upgrader-made') });
      const secrets = await as.core.listNamespacedSecret({ namespace: OWN });
      assert.ok(secrets.items.some((s) => s.metadata?.name === `${RELEASE}-credential`));
      // What helm upgrade must be able to do with the script pods' Role.
      await as.rbac.createNamespacedRole({
        namespace: OWN,
        body: { metadata: { name: 'upgrader-made' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
      });
    });

    test('in another namespace, and on anything cluster-scoped, the API server answers 403', async () => {
      await forbidden('list pods in another namespace', () => as.core.listNamespacedPod({ namespace: OTHER }));
      await forbidden('create a pod in another namespace', () =>
        as.core.createNamespacedPod({ namespace: OTHER, body: pod('escaped') }),
      );
      await forbidden('list secrets in another namespace', () => as.core.listNamespacedSecret({ namespace: OTHER }));
      await forbidden('create a secret in another namespace', () =>
        as.core.createNamespacedSecret({ namespace: OTHER, body: secret('escaped') }),
      );
      await forbidden('list secrets in kube-system', () => as.core.listNamespacedSecret({ namespace: 'kube-system' }));
      await forbidden('list namespaces', () => as.core.listNamespace());
      await forbidden('list pods in all namespaces', () => as.core.listPodForAllNamespaces());
      await forbidden('create a ClusterRole', () =>
        as.rbac.createClusterRole({
          body: { metadata: { name: 'escaped' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
        }),
      );
      await forbidden('create a ClusterRoleBinding', () =>
        as.rbac.createClusterRoleBinding({
          body: {
            metadata: { name: 'escaped' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: UPGRADER, namespace: OWN }],
          },
        }),
      );
      await assert.rejects(
        admin.core.readNamespacedPod({ namespace: OTHER, name: 'escaped' }),
        (e) => statusOf(e) === 404,
      );
      await assert.rejects(
        admin.core.readNamespacedSecret({ namespace: OTHER, name: 'escaped' }),
        (e) => statusOf(e) === 404,
      );
    });

    test("with its token, helm upgrades the worker's release to a new chart version and rolls it back; another namespace's release it cannot touch", async () => {
      const asUpgrader = ['--kube-token', token];
      const values = join(env.dir, 'values.yaml');
      // What the server's upgrade pod does: the release's own values, then helm upgrade with them.
      writeFileSync(
        values,
        await succeeded(
          env.helm(['get', 'values', RELEASE, '--namespace', OWN, '--output', 'yaml', ...asUpgrader]),
          'helm get values as the upgrader',
        ),
      );
      const chartVersion = async (): Promise<string | undefined> =>
        (await as.core.readNamespacedConfigMap({ namespace: OWN, name: `${RELEASE}-script-pods` })).metadata?.labels?.[
          'helm.sh/chart'
        ];
      assert.equal(await chartVersion(), `longshore-worker-${CHART_VERSION}`);
      await succeeded(
        env.helm(['upgrade', RELEASE, nextChart, '--namespace', OWN, '-f', values, ...asUpgrader]),
        'helm upgrade as the upgrader',
      );
      assert.equal(await chartVersion(), 'longshore-worker-99.0.0');
      await succeeded(
        env.helm(['rollback', RELEASE, '1', '--namespace', OWN, ...asUpgrader]),
        'helm rollback as the upgrader',
      );
      assert.equal(await chartVersion(), `longshore-worker-${CHART_VERSION}`);
      const history = JSON.parse(
        await succeeded(env.helm(['history', RELEASE, '--namespace', OWN, '--output', 'json'])),
      ) as { revision: number; status: string }[];
      assert.deepEqual(
        history.map((h) => `${h.revision} ${h.status}`),
        ['1 superseded', '2 superseded', '3 deployed'],
      );

      for (const args of [
        ['get', 'values', RELEASE, '--namespace', OTHER],
        ['upgrade', RELEASE, nextChart, '--namespace', OTHER, '-f', values],
        ['rollback', RELEASE, '1', '--namespace', OTHER],
        ['list', '--all-namespaces'],
      ]) {
        const r = await env.helm([...args, ...asUpgrader]);
        assert.notEqual(r.code, 0, `helm ${args.join(' ')} as the upgrader succeeded`);
        assert.match(r.stderr, /forbidden/i, `helm ${args.join(' ')}`);
      }
    });

    test("why everything in the namespace: an upgrader with helm's verbs on just the chart's kinds cannot write the script pods' Role", async () => {
      const NARROW = 'narrow-upgrader';
      // What helm does to objects; not `*`, which on roles includes escalate and bind, and so every right.
      const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
      const every = (apiGroup: string, resources: string[]) => ({ apiGroups: [apiGroup], resources, verbs: VERBS });
      await admin.core.createNamespacedServiceAccount({ namespace: OTHER, body: { metadata: { name: NARROW } } });
      await admin.rbac.createNamespacedRole({
        namespace: OTHER,
        body: {
          metadata: { name: NARROW },
          // The kinds of the chart's objects, and what the worker's Role grants, so that only the scripts' Role is beyond it.
          rules: [
            every('', ['configmaps', 'events', 'pods', 'pods/log', 'secrets', 'serviceaccounts', 'services']),
            every('apps', ['deployments']),
            every('policy', ['poddisruptionbudgets']),
            every('rbac.authorization.k8s.io', ['roles', 'rolebindings']),
          ],
        },
      });
      await admin.rbac.createNamespacedRoleBinding({
        namespace: OTHER,
        body: {
          metadata: { name: NARROW },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NARROW },
          subjects: [{ kind: 'ServiceAccount', name: NARROW, namespace: OTHER }],
        },
      });
      const narrowToken = (await succeeded(env.kubectl(['create', 'token', NARROW, '--namespace', OTHER]))).trim();
      const r = await env.helm([
        'upgrade',
        RELEASE,
        nextChart,
        '--namespace',
        OTHER,
        '--reuse-values',
        '--kube-token',
        narrowToken,
      ]);
      assert.notEqual(r.code, 0, 'the narrow upgrader upgraded the chart');
      assert.match(
        r.stderr,
        new RegExp(`"${RELEASE}-scripts" is forbidden: .*attempting to grant RBAC permissions not currently held`),
      );
    });
  });
}

upgraderInCluster(
  'the upgrader ServiceAccount in the sandbox: its own namespace only',
  clientsMissing(),
  // An API server with its controllers and no nodes: the worker's pod is created, never run.
  () => startSandbox({ cluster: { enabled: false } }),
);

// The same against a real kube-apiserver (no controllers, no nodes), where it is built.
upgraderInCluster(
  'the upgrader ServiceAccount on the reference kube-apiserver: its own namespace only',
  clientsMissing() ||
    (referenceClusterAvailable() ? false : 'reference control plane not built (bash test/control-plane/build.sh)'),
  () => startReferenceCluster(),
);
