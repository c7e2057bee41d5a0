import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceAccountUser } from '../auth/user.js';
import {
  authorize,
  forbiddenMessage,
  ruleAllows,
  type Binding,
  type RbacSource,
  type RequestAttributes,
  type Role,
} from './evaluate.js';

function source(roles: Role[], clusterRoles: Role[], bindings: Binding[], clusterBindings: Binding[]): RbacSource {
  return {
    clusterRoleBindings: () => clusterBindings,
    roleBindings: (ns) => bindings.filter((b) => b.metadata.namespace === ns),
    clusterRole: (name) => clusterRoles.find((r) => r.metadata.name === name),
    role: (ns, name) => roles.find((r) => r.metadata.name === name && r.metadata.namespace === ns),
  };
}

const sa = serviceAccountUser('a', 'runner', 'uid-1');
const res = (over: Partial<RequestAttributes>): RequestAttributes => ({
  user: sa,
  verb: 'get',
  isResourceRequest: true,
  namespace: 'a',
  apiGroup: '',
  resource: 'pods',
  ...over,
});

test('rules: verbs, groups, resources, subresources, resource names, non-resource URLs', () => {
  const r = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] };
  assert.equal(ruleAllows(r, res({})), true);
  assert.equal(ruleAllows(r, res({ verb: 'delete' })), false);
  assert.equal(ruleAllows(r, res({ apiGroup: 'apps' })), false);
  assert.equal(ruleAllows(r, res({ subresource: 'log' })), true);
  assert.equal(ruleAllows(r, res({ subresource: 'exec' })), false);
  assert.equal(
    ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*/status'] }, res({ subresource: 'status' })),
    true,
  );
  assert.equal(ruleAllows({ ...r, resourceNames: ['p1'] }, res({ name: 'p1' })), true);
  assert.equal(ruleAllows({ ...r, resourceNames: ['p1'] }, res({ name: 'p2' })), false);
  assert.equal(
    ruleAllows({ ...r, resourceNames: ['p1'] }, res({ verb: 'list' })),
    false,
    'resourceNames never match a list',
  );
  const nr: RequestAttributes = { user: sa, verb: 'get', isResourceRequest: false, path: '/apis/apps' };
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, nr), true);
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/api'] }, nr), false);
});

test('bindings: a RoleBinding grants only in its namespace; a ClusterRoleBinding everywhere; groups and ServiceAccount subjects', () => {
  const roles: Role[] = [
    { metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] },
  ];
  const clusterRoles: Role[] = [
    { metadata: { name: 'view-cm' }, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['configmaps'] }] },
  ];
  const bindings: Binding[] = [
    {
      metadata: { name: 'b', namespace: 'a' },
      roleRef: { kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'a' }],
    },
    {
      metadata: { name: 'c', namespace: 'a' },
      roleRef: { kind: 'ClusterRole', name: 'view-cm' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts:a' }],
    },
  ];
  const src = source(roles, clusterRoles, bindings, []);
  assert.equal(authorize(src, res({})).allowed, true);
  assert.equal(authorize(src, res({ namespace: 'b' })).allowed, false);
  assert.equal(authorize(src, res({ verb: 'list', resource: 'configmaps' })).allowed, true);
  assert.equal(authorize(src, res({ verb: 'list', resource: 'configmaps', namespace: 'b' })).allowed, false);
  const everywhere = source(
    [],
    clusterRoles,
    [],
    [
      {
        metadata: { name: 'g' },
        roleRef: { kind: 'ClusterRole', name: 'view-cm' },
        subjects: [{ kind: 'User', name: sa.username }],
      },
    ],
  );
  assert.equal(authorize(everywhere, res({ verb: 'list', resource: 'configmaps', namespace: 'zzz' })).allowed, true);
  assert.equal(
    authorize(source([], [], [], []), res({ user: { username: 'root', groups: ['system:masters'] } })).allowed,
    true,
  );
});

test('the 403 message is worded as kube-apiserver words it', () => {
  assert.equal(
    forbiddenMessage(res({ namespace: 'b', verb: 'list', resource: 'configmaps' })),
    'configmaps is forbidden: User "system:serviceaccount:a:runner" cannot list resource "configmaps" in API group "" in the namespace "b"',
  );
  assert.equal(
    forbiddenMessage(res({ name: 'x', subresource: 'log' })),
    'pods "x" is forbidden: User "system:serviceaccount:a:runner" cannot get resource "pods/log" in API group "" in the namespace "a"',
  );
  assert.equal(
    forbiddenMessage(
      res({ namespace: undefined, apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'list' }),
    ),
    'clusterroles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:a:runner" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
  );
});
