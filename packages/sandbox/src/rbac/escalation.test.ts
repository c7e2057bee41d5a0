import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceAccountUser } from '../auth/user.js';
import { confirmNoEscalation, uncovered } from './escalation.js';
import type { Binding, PolicyRule, RbacSource, Role } from './evaluate.js';

const RBAC = 'rbac.authorization.k8s.io';
const writer = serviceAccountUser('ns', 'writer', 'uid-1');

/** The writer holds `rules` in namespace ns through one Role and RoleBinding; `others` are roles there to bind. */
function holding(rules: PolicyRule[], others: Role[] = []): RbacSource {
  const own: Role = { metadata: { name: 'writer', namespace: 'ns' }, rules };
  const binding: Binding = {
    metadata: { name: 'writer', namespace: 'ns' },
    roleRef: { kind: 'Role', name: 'writer' },
    subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace: 'ns' }],
  };
  const roles = [own, ...others];
  return {
    clusterRoleBindings: () => [],
    roleBindings: (ns) => (ns === 'ns' ? [binding] : []),
    clusterRole: () => undefined,
    role: (ns, name) => roles.find((r) => r.metadata.name === name && r.metadata.namespace === ns),
  };
}

const writesRoles: PolicyRule = {
  apiGroups: [RBAC],
  resources: ['roles', 'rolebindings'],
  verbs: ['create', 'update'],
};

test('covering compares as kube-apiserver does: a wildcard asked for must be held as a wildcard; */sub and resourceNames', () => {
  const held: PolicyRule[] = [
    { apiGroups: [''], resources: ['pods', '*/status'], verbs: ['get', 'list'] },
    { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get'] },
  ];
  assert.deepEqual(uncovered(held, [{ apiGroups: [''], resources: ['pods', 'pods/status'], verbs: ['get'] }]), []);
  assert.deepEqual(uncovered(held, [{ apiGroups: [''], resources: ['*'], verbs: ['get'] }]), [
    { verb: 'get', group: '', resource: '*' },
  ]);
  assert.deepEqual(uncovered(held, [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }]).length, 1);
  assert.deepEqual(
    uncovered(held, [{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get'] }]),
    [],
  );
  assert.deepEqual(
    uncovered(
      [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
      [{ apiGroups: ['x'], resources: ['*'], verbs: ['*'] }],
    ),
    [],
  );
});

test('a Role granting what its writer lacks is refused, naming what; held rights, escalate, and bind on a role pass', () => {
  const lacking = holding([writesRoles, { apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
  const role = { metadata: { name: 'scripts' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] };
  assert.throws(
    () => confirmNoEscalation(lacking, writer, 'roles', 'ns', role),
    /roles\.rbac\.authorization\.k8s\.io "scripts" is forbidden: user "system:serviceaccount:ns:writer" .*attempting to grant RBAC permissions not currently held in namespace "ns":\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/,
  );
  confirmNoEscalation(lacking, writer, 'roles', 'ns', {
    metadata: { name: 'r' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  });
  confirmNoEscalation(
    holding([{ apiGroups: [RBAC], resources: ['roles'], verbs: ['escalate'] }]),
    writer,
    'roles',
    'ns',
    role,
  );

  const big: Role = { metadata: { name: 'big', namespace: 'ns' }, rules: role.rules };
  const binding = { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'big' }, subjects: [] };
  assert.throws(
    () => confirmNoEscalation(holding([writesRoles], [big]), writer, 'rolebindings', 'ns', binding),
    /not currently held/,
  );
  confirmNoEscalation(
    holding([writesRoles, { apiGroups: [RBAC], resources: ['roles'], resourceNames: ['big'], verbs: ['bind'] }], [big]),
    writer,
    'rolebindings',
    'ns',
    binding,
  );
  confirmNoEscalation(
    holding([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], [big]),
    writer,
    'rolebindings',
    'ns',
    binding,
  );
});
