// RBAC escalation prevention, as kube-apiserver's rbac registry does it (pkg/registry/rbac): a
// user may write a Role or ClusterRole only with rights it holds itself, or with the `escalate`
// verb on it; and bind a role only if it holds the role's rights, or has `bind` on it. Without
// this anyone allowed to write Roles could grant itself anything. Covering compares rules as
// kube-apiserver's validation.Covers does: a '*' asked for must be held as '*'.
import type { UserInfo } from '../auth/user.js';
import { errors } from '../errors.js';
import { authorize, rulesFor, type PolicyRule, type RbacSource } from './evaluate.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** One verb on one group/resource/name, or on one non-resource URL: the unit Covers compares. */
interface SimpleRule {
  verb: string;
  group?: string;
  resource?: string;
  name?: string;
  url?: string;
}

function simplify(rule: PolicyRule): SimpleRule[] {
  const verbs = rule.verbs ?? [];
  if (rule.nonResourceURLs?.length) return verbs.flatMap((verb) => rule.nonResourceURLs!.map((url) => ({ verb, url })));
  const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
  return verbs.flatMap((verb) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        names.map((name) => ({ verb, group, resource, ...(name !== undefined ? { name } : {}) })),
      ),
    ),
  );
}

const holds = (list: readonly string[] | undefined, value: string) =>
  !!list && (list.includes('*') || list.includes(value));

function resourceCovered(owned: readonly string[] | undefined, resource: string): boolean {
  if (holds(owned, resource)) return true;
  const [, sub] = resource.split('/');
  return (owned ?? []).some(
    (r) => (sub !== undefined && r === `*/${sub}`) || (r.endsWith('/*') && resource.startsWith(r.slice(0, -1))),
  );
}

function ruleCovers(owner: PolicyRule, want: SimpleRule): boolean {
  if (!holds(owner.verbs, want.verb)) return false;
  if (want.url !== undefined)
    return (owner.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === want.url || (u.endsWith('*') && want.url!.startsWith(u.slice(0, -1))),
    );
  if (!holds(owner.apiGroups, want.group!) || !resourceCovered(owner.resources, want.resource!)) return false;
  const names = owner.resourceNames ?? [];
  return names.length === 0 || (want.name !== undefined && names.includes(want.name));
}

/** The rules of `wanted` that `owned` does not cover, one simple rule each. */
export function uncovered(owned: readonly PolicyRule[], wanted: readonly PolicyRule[]): SimpleRule[] {
  return wanted.flatMap(simplify).filter((w) => !owned.some((o) => ruleCovers(o, w)));
}

function describeRule(r: SimpleRule): string {
  if (r.url !== undefined) return `{NonResourceURLs:["${r.url}"], Verbs:["${r.verb}"]}`;
  const name = r.name !== undefined ? `, ResourceNames:["${r.name}"]` : '';
  return `{APIGroups:["${r.group}"], Resources:["${r.resource}"]${name}, Verbs:["${r.verb}"]}`;
}

function refuse(user: UserInfo, resource: string, name: string, missing: SimpleRule[], namespace: string | undefined) {
  const scope = namespace ? ` in namespace "${namespace}"` : '';
  return errors.forbidden(
    `${resource}.${RBAC_GROUP} "${name}" is forbidden: user "${user.username}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held${scope}:\n${missing.map(describeRule).join('\n')}`,
    { name, group: RBAC_GROUP, kind: resource },
  );
}

/**
 * Throws 403 when `user` writing `obj` (a Role, ClusterRole, RoleBinding or ClusterRoleBinding)
 * would grant rights it does not hold and may not grant.
 */
export function confirmNoEscalation(
  rbac: RbacSource,
  user: UserInfo,
  resource: string,
  namespace: string | undefined,
  obj: Record<string, unknown>,
): void {
  const name = String((obj.metadata as { name?: unknown } | undefined)?.name ?? '');
  const allowed = (verb: string, on: string, onName: string) =>
    authorize(rbac, {
      user,
      verb,
      isResourceRequest: true,
      apiGroup: RBAC_GROUP,
      resource: on,
      name: onName,
      ...(namespace ? { namespace } : {}),
    }).allowed;
  const held = () => rulesFor(rbac, user, namespace ?? '');
  if (resource === 'roles' || resource === 'clusterroles') {
    if (allowed('escalate', resource, name)) return;
    const missing = uncovered(held(), (obj.rules ?? []) as PolicyRule[]);
    if (missing.length) throw refuse(user, resource, name, missing, namespace);
    return;
  }
  if (resource !== 'rolebindings' && resource !== 'clusterrolebindings') return;
  const ref = (obj.roleRef ?? {}) as { kind?: string; name?: string };
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
  if (allowed('bind', refResource, ref.name ?? '')) return;
  const role =
    ref.kind === 'ClusterRole' ? rbac.clusterRole(ref.name ?? '') : rbac.role(namespace ?? '', ref.name ?? '');
  // A role that does not exist grants nothing yet: kube-apiserver then refuses the binding too.
  const missing = role
    ? uncovered(held(), role.rules ?? [])
    : [{ verb: 'bind', group: RBAC_GROUP, resource: refResource, name: ref.name ?? '' }];
  if (missing.length) throw refuse(user, resource, name, missing, namespace);
}
