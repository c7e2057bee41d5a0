// RBAC evaluation as k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac does it, over plain
// objects so it can be unit-tested without a server: a request is allowed when some binding that
// applies to its namespace names the user (directly, by group, or as a ServiceAccount) and the
// role it refers to has a rule covering the verb, API group, resource/subresource and name (or
// the non-resource path).
import type { UserInfo } from '../auth/user.js';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}
export interface RoleRef {
  kind: string;
  name: string;
  apiGroup?: string;
}
export interface Binding {
  metadata: { name: string; namespace?: string };
  roleRef: RoleRef;
  subjects?: Subject[];
}
export interface Role {
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
}

export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** Resource requests. */
  namespace?: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** Non-resource requests. */
  path?: string;
}

/** Where the roles and bindings come from (the sandbox's store, or a fake in tests). */
export interface RbacSource {
  clusterRoleBindings(): readonly Binding[];
  roleBindings(namespace: string): readonly Binding[];
  clusterRole(name: string): Role | undefined;
  role(namespace: string, name: string): Role | undefined;
}

const has = (list: readonly string[] | undefined, v: string): boolean =>
  !!list && (list.includes('*') || list.includes(v));

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const resource = a.resource ?? '';
  const combined = a.subresource ? `${resource}/${a.subresource}` : resource;
  const resOk = (rule.resources ?? []).some(
    (r) =>
      r === '*' ||
      r === combined ||
      (a.subresource !== undefined && a.subresource !== '' && r === `*/${a.subresource}`),
  );
  if (!resOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && a.name !== '' && names.includes(a.name));
}

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace || '';
      return user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

export interface Decision {
  allowed: boolean;
  /** Why it was allowed ("RBAC: allowed by RoleBinding ..."), as SubjectAccessReview's status.reason. */
  reason: string;
}

function rulesOf(src: RbacSource, ref: RoleRef, namespace: string | undefined): PolicyRule[] {
  if (ref.kind === 'ClusterRole') return src.clusterRole(ref.name)?.rules ?? [];
  if (ref.kind === 'Role' && namespace) return src.role(namespace, ref.name)?.rules ?? [];
  return [];
}

export function authorize(src: RbacSource, a: RequestAttributes): Decision {
  // system:masters is not an RBAC subject: kube-apiserver's privileged-group authorizer lets it through first.
  if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
  for (const b of src.clusterRoleBindings()) {
    if (!(b.subjects ?? []).some((s) => subjectMatches(s, a.user, undefined))) continue;
    if (rulesOf(src, b.roleRef, undefined).some((r) => ruleAllows(r, a))) {
      return {
        allowed: true,
        reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${b.roleRef.name}" to ${describe(b, a.user)}`,
      };
    }
  }
  if (a.isResourceRequest && a.namespace) {
    for (const b of src.roleBindings(a.namespace)) {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, a.user, a.namespace))) continue;
      if (rulesOf(src, b.roleRef, a.namespace).some((r) => ruleAllows(r, a))) {
        return {
          allowed: true,
          reason: `RBAC: allowed by RoleBinding "${b.metadata.name}/${a.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describe(b, a.user)}`,
        };
      }
    }
  }
  return { allowed: false, reason: '' };
}

function describe(b: Binding, user: UserInfo): string {
  const s = (b.subjects ?? []).find((x) => subjectMatches(x, user, b.metadata.namespace));
  return s
    ? `${s.kind} "${s.kind === 'ServiceAccount' ? `${s.name}/${s.namespace ?? b.metadata.namespace ?? ''}` : s.name}"`
    : '';
}

/** All rules that apply to the user in a namespace (SelfSubjectRulesReview). */
export function rulesFor(src: RbacSource, user: UserInfo, namespace: string): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const b of src.clusterRoleBindings())
    if ((b.subjects ?? []).some((s) => subjectMatches(s, user, undefined)))
      out.push(...rulesOf(src, b.roleRef, undefined));
  if (namespace)
    for (const b of src.roleBindings(namespace))
      if ((b.subjects ?? []).some((s) => subjectMatches(s, user, namespace)))
        out.push(...rulesOf(src, b.roleRef, namespace));
  return out;
}

/** The 403 message kube-apiserver writes (forbidden.go), e.g.
 *  configmaps "x" is forbidden: User "u" cannot get resource "configmaps" in API group "" in the namespace "n" */
export function forbiddenMessage(a: RequestAttributes): string {
  if (!a.isResourceRequest) return `forbidden: User "${a.user.username}" cannot ${a.verb} path "${a.path ?? ''}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const group = a.apiGroup ?? '';
  const subject = `${a.resource}${group ? `.${group}` : ''}${a.name ? ` "${a.name}"` : ''}`;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${a.user.username}" cannot ${a.verb} resource "${res}" in API group "${group}" ${scope}`;
}
