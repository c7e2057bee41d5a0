// RBAC's view of the store. The authorizer reads the same objects clients write, so a new
// RoleBinding is in effect for the very next request (kube-apiserver's informer lags a little).
import type { ObjectStore } from '../storage/store.js';
import type { Binding, RbacSource, Role } from './evaluate.js';

export function storeRbacSource(store: ObjectStore): RbacSource {
  const G = 'rbac.authorization.k8s.io';
  return {
    clusterRoleBindings: () => store.list(`${G}/clusterrolebindings`) as unknown as Binding[],
    roleBindings: (ns) => store.list(`${G}/rolebindings`, `${ns}/`) as unknown as Binding[],
    clusterRole: (name) => store.get(`${G}/clusterroles`, name) as unknown as Role | undefined,
    role: (ns, name) => store.get(`${G}/roles`, `${ns}/${name}`) as unknown as Role | undefined,
  };
}
