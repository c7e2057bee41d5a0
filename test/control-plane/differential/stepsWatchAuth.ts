// Battery steps for watches (replay, resume, live, 410 Gone after compaction) and for
// authentication/authorization (TokenRequest, SelfSubjectReview, RBAC 403, SelfSubjectAccessReview).
import { apiRequest } from './cluster.js';
import type { Step } from './battery.js';
import { MERGE, configMap, core, forbidden, grouped, invalid, notFound, pod, resourceVersionOf } from './kit.js';
import { fields, list, object, status } from './normalize.js';

const eventRv = (e: { object: Record<string, unknown> } | undefined): string =>
  String((e?.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '');

export const watches: Step = {
  name: 'watch',
  async run(c) {
    const ns = await c.namespace();
    const sel = { labelSelector: 'app=w' };
    const cms = core(ns, 'configmaps');
    const listed = await c.call('list before writes', { path: core(ns, 'configmaps', undefined, sel) }, list(), {
      http: 200,
      items: [],
    });
    await c.call('create w1', { method: 'POST', path: cms, body: configMap('w1', { app: 'w' }) }, object(), {
      http: 201,
      'metadata.resourceVersion': 'rv1:new:newest',
    });
    await c.call(
      'patch w1',
      { method: 'PATCH', path: core(ns, 'configmaps', 'w1'), contentType: MERGE, body: { data: { a: '1' } } },
      object(),
      { http: 200, 'metadata.resourceVersion': 'rv2:new:newest' },
    );
    await c.call('create other (not selected)', { method: 'POST', path: cms, body: configMap('other') }, object(), {
      http: 201,
    });
    await c.call('delete w1', { method: 'DELETE', path: core(ns, 'configmaps', 'w1') }, status(), {
      http: 200,
      status: 'Success',
    });
    // Replay: a watch from the list's resourceVersion sees every later change, in order, filtered by the selector.
    const replay = await c.watch(
      'watch from list resourceVersion',
      {
        path: core(ns, 'configmaps', undefined, { ...sel, watch: 1, resourceVersion: resourceVersionOf(listed) }),
        count: 3,
      },
      { http: 200, events: ['ADDED w1 rv1', 'MODIFIED w1 rv2', 'DELETED w1 rv4:new:newest'], ended: 'until' },
    ).done;
    await c.call('create w2', { method: 'POST', path: cms, body: configMap('w2', { app: 'w' }) }, object(), {
      http: 201,
      'metadata.resourceVersion': 'rv5:new:newest',
    });
    await c.call(
      'patch w2',
      { method: 'PATCH', path: core(ns, 'configmaps', 'w2'), contentType: MERGE, body: { data: { b: '1' } } },
      object(),
      { http: 200, 'metadata.resourceVersion': 'rv6:new:newest' },
    );
    // Resume: what a reflector does after a dropped connection, from the last event it saw.
    await c.watch(
      'resume from last event',
      { path: core(ns, 'configmaps', undefined, { ...sel, watch: 1, resourceVersion: eventRv(replay[2]) }), count: 2 },
      { http: 200, events: ['ADDED w2 rv5', 'MODIFIED w2 rv6'], ended: 'until' },
    ).done;
    // resourceVersion=0: "any version", starts with the current state as ADDED events.
    await c.watch(
      'watch from resourceVersion 0',
      { path: core(ns, 'configmaps', undefined, { ...sel, watch: 1, resourceVersion: 0 }), count: 1 },
      { http: 200, events: ['ADDED w2 rv6'], ended: 'until' },
    ).done;

    // Live: events for writes made after the watch is established (pods go through the watch cache).
    const pods = await c.call('list pods', { path: core(ns, 'pods') }, list(), { http: 200, items: [] });
    const live = c.watch(
      'live pod watch',
      { path: core(ns, 'pods', undefined, { watch: 1, resourceVersion: resourceVersionOf(pods) }), count: 4 },
      {
        http: 200,
        events: [
          'ADDED lw rv7:new:newest',
          'MODIFIED lw rv8:new:newest',
          'MODIFIED lw rv9:new:newest',
          'DELETED lw rv10:new:newest',
        ],
        ended: 'until',
      },
    );
    await live.started;
    await c.setup('create pod lw', { method: 'POST', path: core(ns, 'pods'), body: pod('lw') });
    await c.setup('label pod lw', {
      method: 'PATCH',
      path: core(ns, 'pods', 'lw'),
      contentType: MERGE,
      body: { metadata: { labels: { seen: 'yes' } } },
    });
    // Never bound to a node, so no kubelet has to confirm: two events at once, MODIFIED
    // (deletionTimestamp set, grace 0) then DELETED.
    await c.setup('delete pod lw', { method: 'DELETE', path: core(ns, 'pods', 'lw') });
    await live.done;
  },
};

export const gone: Step = {
  name: 'gone',
  // 410 Gone needs history the server no longer has. ConfigMaps bypass the reference's watch cache
  // (see REFERENCE_APISERVER_ARGS) so a watch reads etcd, and compactHistory() compacts etcd now
  // instead of waiting for the apiserver's 5-minute compaction.
  async run(c) {
    const ns = await c.namespace();
    const first = await c.call(
      'create g',
      { method: 'POST', path: core(ns, 'configmaps'), body: configMap('g') },
      object(),
      { http: 201, 'metadata.resourceVersion': 'rv1:new:newest' },
    );
    const g = core(ns, 'configmaps', 'g');
    for (const v of ['1', '2'])
      await c.setup(`patch g ${v}`, { method: 'PATCH', path: g, contentType: MERGE, body: { data: { v } } });
    await c.endpoint.compactHistory?.();
    const byName = { fieldSelector: 'metadata.name=g' };
    // The watch itself is accepted (200); the expiry arrives as an ERROR event carrying a 410 Status.
    await c.watch(
      'watch from compacted resourceVersion',
      {
        path: core(ns, 'configmaps', undefined, { ...byName, watch: 1, resourceVersion: resourceVersionOf(first) }),
        count: 1,
      },
      { http: 200, events: ['ERROR Expired 410'], ended: 'until' },
    ).done;
    await c.call(
      'list at compacted resourceVersion (Exact)',
      {
        path: core(ns, 'configmaps', undefined, {
          ...byName,
          resourceVersion: resourceVersionOf(first),
          resourceVersionMatch: 'Exact',
        }),
      },
      status(),
      { http: 410, kind: 'Status', reason: 'Expired', code: 410 },
    );
    // Recovery as client-go does it: relist, then watch from the new list's resourceVersion.
    const relist = await c.call('relist', { path: core(ns, 'configmaps', undefined, byName) }, list(), {
      http: 200,
      items: ['g'],
    });
    await c.setup('patch g 3', { method: 'PATCH', path: g, contentType: MERGE, body: { data: { v: '3' } } });
    await c.watch(
      'watch from relist',
      {
        path: core(ns, 'configmaps', undefined, { ...byName, watch: 1, resourceVersion: resourceVersionOf(relist) }),
        count: 1,
      },
      { http: 200, events: ['MODIFIED g rv2:new:newest'], ended: 'until' },
    ).done;
  },
};

export const rbac: Step = {
  name: 'rbac',
  async run(c) {
    const ns = await c.namespace();
    const other = await c.namespace('b');
    const user = `system:serviceaccount:{ns}:runner`;
    await c.call(
      'create serviceaccount',
      {
        method: 'POST',
        path: core(ns, 'serviceaccounts'),
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'runner' } },
      },
      object(),
      { http: 201, kind: 'ServiceAccount', 'metadata.name': 'runner' },
    );
    const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] }];
    await c.call(
      'create role',
      {
        method: 'POST',
        path: grouped('rbac.authorization.k8s.io/v1', ns, 'roles'),
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'cm-user' },
          rules,
        },
      },
      object('rules'),
      { http: 201, kind: 'Role', rules: [{ ...rules[0], verbs: ['get', 'list', 'create'] }] },
    );
    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-user' };
    const subjects = [{ kind: 'ServiceAccount', name: 'runner', namespace: ns }];
    await c.call(
      'create rolebinding',
      {
        method: 'POST',
        path: grouped('rbac.authorization.k8s.io/v1', ns, 'rolebindings'),
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'cm-user' },
          roleRef,
          subjects,
        },
      },
      object('roleRef', 'subjects'),
      { http: 201, kind: 'RoleBinding', roleRef, subjects: [{ ...subjects[0], namespace: '{ns}' }] },
    );

    const tokenPath = (sa: string) => core(ns, 'serviceaccounts', `${sa}/token`);
    const tokenRequest = (seconds?: number) => ({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: seconds ? { expirationSeconds: seconds } : {},
    });
    const tr = await c.call(
      'token request',
      { method: 'POST', path: tokenPath('runner'), body: tokenRequest(3600) },
      fields(
        'metadata.name',
        'spec.expirationSeconds',
        'spec.audiences',
        'status.token?',
        'status.expirationTimestamp?',
      ),
      {
        http: 201,
        kind: 'TokenRequest',
        'metadata.name': 'runner',
        'spec.expirationSeconds': 3600,
        'status.token?': true,
        'status.expirationTimestamp?': true,
      },
    );
    const token = String((tr.body as { status?: { token?: string } }).status?.token ?? '');
    await c.call(
      'token request for missing serviceaccount',
      { method: 'POST', path: tokenPath('nobody'), body: tokenRequest() },
      status(),
      notFound('serviceaccounts', 'nobody'),
    );
    await c.call(
      'token request too short',
      { method: 'POST', path: tokenPath('runner'), body: tokenRequest(60) },
      status(),
      {
        ...invalid('TokenRequest', undefined, ['spec.expirationSeconds|FieldValueInvalid']),
        'details.group': 'authentication.k8s.io',
      },
    );

    const ssar = (namespace: string, verb: string, resource = 'configmaps') => ({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      token,
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb, resource } },
      },
    });
    // RBAC decisions come from caches fed by watches; wait (uncompared) until the binding is in effect.
    await c.settle(
      'binding in effect',
      async () =>
        ((await apiRequest(c.endpoint, ssar(ns, 'list'))).body as { status?: { allowed?: boolean } }).status
          ?.allowed === true,
    );

    await c.call(
      'whoami with the token',
      {
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        token,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview',
        },
      },
      fields('status.userInfo.username', 'status.userInfo.groups#sorted'),
      {
        http: 201,
        kind: 'SelfSubjectReview',
        'status.userInfo.username': user,
        'status.userInfo.groups#sorted': [
          'system:authenticated',
          'system:serviceaccounts',
          'system:serviceaccounts:{ns}',
        ],
      },
    );
    await c.call(
      'list allowed namespace',
      { path: core(ns, 'configmaps', undefined, { labelSelector: 'app' }), token },
      list(),
      { http: 200, kind: 'ConfigMapList', items: [] },
    );
    await c.call(
      'create allowed',
      { method: 'POST', path: core(ns, 'configmaps'), token, body: configMap('by-runner', { app: 'r' }) },
      object(),
      { http: 201, 'metadata.name': 'by-runner' },
    );
    await c.call(
      'list other namespace',
      { path: core(other, 'configmaps'), token },
      status(),
      forbidden(user, 'list', 'configmaps', '{ns-b}'),
    );
    await c.call(
      'get other namespace',
      { path: core(other, 'configmaps', 'x'), token },
      status(),
      forbidden(user, 'get', 'configmaps', '{ns-b}', 'x'),
    );
    await c.call(
      'delete not granted',
      { method: 'DELETE', path: core(ns, 'configmaps', 'by-runner'), token },
      status(),
      forbidden(user, 'delete', 'configmaps', '{ns}', 'by-runner'),
    );
    await c.call(
      'list pods not granted',
      { path: core(ns, 'pods'), token },
      status(),
      forbidden(user, 'list', 'pods', '{ns}'),
    );
    const review = fields('status.allowed', 'status.denied');
    await c.call('access review allowed', ssar(ns, 'list'), review, {
      http: 201,
      kind: 'SelfSubjectAccessReview',
      'status.allowed': true,
    });
    await c.call('access review other namespace', ssar(other, 'list'), review, { http: 201, 'status.allowed': false });
    await c.call('access review verb not granted', ssar(ns, 'delete'), review, { http: 201, 'status.allowed': false });
    await c.call('bogus token', { path: core(ns, 'configmaps'), token: 'not-a-token' }, status(), {
      http: 401,
      reason: 'Unauthorized',
      code: 401,
      message: 'Unauthorized',
    });
    await c.call(
      'anonymous',
      { path: core(ns, 'configmaps'), token: null },
      status(),
      forbidden('system:anonymous', 'list', 'configmaps', '{ns}'),
    );
  },
};
