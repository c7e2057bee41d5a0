// The sandbox driven by @kubernetes/client-node 1.4 (the client Longshore's worker uses):
// watch resume and 410 Gone, optimistic concurrency (409), strategic merge patch of
// containers, RBAC (a ServiceAccount bound in namespace A is refused in B, and
// SelfSubjectAccessReview agrees), and the audit of each call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '@longshore/sandbox';

const statusOf = (err: unknown): number | undefined => (err as { code?: number }).code;

describe('@kubernetes/client-node against the sandbox', () => {
  let sb: Sandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  before(async () => {
    sb = await startSandbox({ bookmarkIntervalMs: 200 });
    kc = new k8s.KubeConfig();
    kc.loadFromString(sb.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    for (const ns of ['cn-a', 'cn-b']) await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    await sb?.stop();
  });

  test('watch resumes from a resourceVersion, and answers 410 Expired once history is compacted', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'cn-a', labelSelector: 'w=1' });
    const from = list.metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({
      namespace: 'cn-a',
      body: { metadata: { name: 'w1', labels: { w: '1' } }, data: { a: '1' } },
    });
    await core.patchNamespacedConfigMap(
      { namespace: 'cn-a', name: 'w1', body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    const got = new Promise<void>((resolve, reject) => {
      void watch
        .watch(
          '/api/v1/namespaces/cn-a/configmaps',
          { labelSelector: 'w=1', resourceVersion: from, allowWatchBookmarks: true },
          (type, obj: k8s.V1ConfigMap) => {
            if (type === 'BOOKMARK') return;
            seen.push(`${type} ${obj.metadata?.name} ${obj.data?.a}`);
            if (seen.length === 2) resolve();
          },
          (err) => {
            if (err) reject(err);
          },
        )
        .then((req) => {
          void got.finally(() => req.abort());
        });
    });
    await got;
    assert.deepEqual(seen, ['ADDED w1 1', 'MODIFIED w1 2']);

    await sb.compactHistory();
    const expired = await new Promise<unknown>((resolve) => {
      void watch.watch(
        '/api/v1/namespaces/cn-a/configmaps',
        { resourceVersion: from },
        (type, obj) => {
          if (type === 'ERROR') resolve(obj);
        },
        () => {},
      );
    });
    assert.equal((expired as { code: number }).code, 410);
    assert.equal((expired as { reason: string }).reason, 'Expired');
  });

  test('an update with a stale resourceVersion is a 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'cn-a',
      body: { metadata: { name: 'c1' }, data: { v: '1' } },
    });
    await core.replaceNamespacedConfigMap({ namespace: 'cn-a', name: 'c1', body: { ...cm, data: { v: '2' } } });
    await assert.rejects(
      core.replaceNamespacedConfigMap({ namespace: 'cn-a', name: 'c1', body: { ...cm, data: { v: '3' } } }),
      (err) => {
        assert.equal(statusOf(err), 409);
        assert.match(
          String((err as { body?: unknown }).body),
          /Operation cannot be fulfilled on configmaps \\"c1\\": the object has been modified/,
        );
        return true;
      },
    );
  });

  test('a strategic merge patch merges containers by name', async () => {
    await core.createNamespacedPod({
      namespace: 'cn-a',
      body: {
        metadata: { name: 'p1' },
        spec: {
          containers: [
            { name: 'main', image: 'a:1' },
            { name: 'side', image: 'b:1' },
          ],
        },
      },
    });
    const pod = await core.patchNamespacedPod(
      { namespace: 'cn-a', name: 'p1', body: { spec: { containers: [{ name: 'side', image: 'b:2' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(
      pod.spec!.containers.map((c) => `${c.name}=${c.image}`),
      ['main=a:1', 'side=b:2'],
    );
    assert.equal(
      pod.spec!.containers[0]!.terminationMessagePath,
      '/dev/termination-log',
      'server-side defaults are kept',
    );
  });

  test('RBAC: a ServiceAccount bound in cn-a is refused in cn-b, SelfSubjectAccessReview agrees, and the audit shows each call', async () => {
    await core.createNamespacedServiceAccount({ namespace: 'cn-a', body: { metadata: { name: 'runner' } } });
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'cn-a',
      body: {
        metadata: { name: 'cm' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'cn-a',
      body: {
        metadata: { name: 'cm' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm' },
        subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'cn-a' }],
      },
    });
    const tr = await core.createNamespacedServiceAccountToken({
      namespace: 'cn-a',
      name: 'runner',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const saKc = new k8s.KubeConfig();
    saKc.loadFromString(sb.kubeconfig.replace(/token: .*/, `token: ${tr.status!.token}`));
    const saCore = saKc.makeApiClient(k8s.CoreV1Api);
    const mark = sb.audit.lastSeq;
    await saCore.listNamespacedConfigMap({ namespace: 'cn-a' });
    await assert.rejects(saCore.listNamespacedConfigMap({ namespace: 'cn-b' }), (err) => {
      assert.equal(statusOf(err), 403);
      assert.match(
        String((err as { body?: unknown }).body),
        /configmaps is forbidden: User \\"system:serviceaccount:cn-a:runner\\" cannot list resource \\"configmaps\\" in API group \\"\\" in the namespace \\"cn-b\\"/,
      );
      return true;
    });
    const authz = saKc.makeApiClient(k8s.AuthorizationV1Api);
    const review = async (namespace: string): Promise<boolean> =>
      (
        await authz.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { namespace, verb: 'list', resource: 'configmaps' } } },
        })
      ).status!.allowed;
    assert.equal(await review('cn-a'), true);
    assert.equal(await review('cn-b'), false);
    const calls = sb.audit
      .entries({ afterSeq: mark, user: 'system:serviceaccount:cn-a:runner' })
      .map((e) => `${e.verb} ${e.resource} ${e.namespace ?? '-'} ${e.code}`);
    assert.deepEqual(calls, [
      'list configmaps cn-a 200',
      'list configmaps cn-b 403',
      'create selfsubjectaccessreviews - 201',
      'create selfsubjectaccessreviews - 201',
    ]);
  });

  test('an invalid object is 422 and a wrong token 401', async () => {
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: 'cn-a', body: { metadata: { name: 'Bad_Name' } } }),
      (e) => statusOf(e) === 422,
    );
    const bad = new k8s.KubeConfig();
    bad.loadFromString(sb.kubeconfig.replace(/token: .*/, 'token: not-a-token'));
    await assert.rejects(bad.makeApiClient(k8s.CoreV1Api).listNamespace(), (e) => statusOf(e) === 401);
  });
});
