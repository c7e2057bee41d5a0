/**
 * Every Kubernetes right the worker needs, all in its own namespace: the
 * chart's Role (templates/rbac-worker.yaml) grants exactly these, test/chart/workerRole.test.ts
 * checks that it does and that the worker's sources make no call outside them, and the health
 * check asks the API server for each (SelfSubjectAccessReview), so a Role edited by hand is
 * found before an operation fails on it.
 */
export interface PermissionRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const WORKER_RULES: readonly PermissionRule[] = [
  // One script pod per operation: created, followed through one watch, read when re-adopted
  // after a restart, deleted on cancel, completion and by the sweeper. The health check's pod too.
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  // The script's output, followed and resumed with sinceTime.
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  // Workspace Secrets (created, owned by their pod, swept) and the worker's credential Secret.
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'delete', 'patch', 'update'] },
  // Scheduler and autoscaler events copied into the task log while a pod is pending.
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  // A running script pod's CPU and memory (metrics-server), sampled for right-sizing its step.
  { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['get'] },
];

/** One right, as a SelfSubjectAccessReview asks for it. */
export interface Permission {
  group: string;
  /** `pods`, or `pods` with subresource `log` for `pods/log`. */
  resource: string;
  subresource?: string;
  verb: string;
}

/** The rules as single rights: `pods/log` is resource pods, subresource log. */
export function workerPermissions(rules: readonly PermissionRule[] = WORKER_RULES): Permission[] {
  return rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((path) => {
        const [resource = path, subresource] = path.split('/');
        return rule.verbs.map((verb) => ({ group, resource, ...(subresource ? { subresource } : {}), verb }));
      }),
    ),
  );
}

/** `pods/create`, `pods/log/get`: how a health check names a right. */
export function permissionName(permission: Permission): string {
  const group = permission.group ? `${permission.group}/` : '';
  const sub = permission.subresource ? `/${permission.subresource}` : '';
  return `${group}${permission.resource}${sub}/${permission.verb}`;
}
