// Admission: the checks kube-apiserver's default plugins make before storage.
// NamespaceLifecycle (no writes into a missing or terminating namespace) and ServiceAccount
// (a pod's ServiceAccount must exist; its token is mounted as a projected volume).
import { errors } from '../errors.js';
import type { ResourceDef } from '../resources/registry.js';
import { isObj, randomSuffix, type Obj } from './objectMeta.js';
import type { ObjectStore } from './store.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

export function admitNamespace(
  store: ObjectStore,
  def: ResourceDef,
  namespace: string | undefined,
  verb: 'create' | 'update' | 'delete',
): void {
  if (def.resource === 'namespaces' && verb === 'delete' && namespace && IMMORTAL.has(namespace)) {
    throw errors.forbidden(`namespaces "${namespace}" is forbidden: this namespace may not be deleted`, {
      name: namespace,
      kind: 'namespaces',
    });
  }
  if (!def.namespaced || !namespace || verb !== 'create') return;
  const ns = store.get('/namespaces', namespace);
  if (!ns) throw errors.notFound('namespaces', '', namespace);
  // Events may still be written into a terminating namespace (controllers report why it is stuck).
  if (ns.metadata.deletionTimestamp && def.resource !== 'events') {
    const e = errors.forbidden(
      `${def.resource} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      {
        name: '',
        kind: def.resource,
        ...(def.group ? { group: def.group } : {}),
        causes: [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${namespace} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      },
    );
    throw e;
  }
}

/** The ServiceAccount admission plugin for a new pod. */
export function admitPod(store: ObjectStore, namespace: string, pod: Obj, name: string): void {
  const spec = isObj(pod.spec) ? pod.spec : {};
  const sa =
    typeof spec.serviceAccountName === 'string' && spec.serviceAccountName ? spec.serviceAccountName : 'default';
  spec.serviceAccountName = sa;
  spec.serviceAccount = sa;
  const account = store.get('/serviceaccounts', `${namespace}/${sa}`);
  if (!account) {
    throw errors.forbidden(
      `pods "${name}" is forbidden: error looking up service account ${namespace}/${sa}: serviceaccount "${sa}" not found`,
      { name, kind: 'pods' },
    );
  }
  // DefaultTolerationSeconds: pods survive a node's NotReady/Unreachable for five minutes.
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key || (t.operator === 'Exists' && !t.key))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec.tolerations = tolerations;
  const automount = spec.automountServiceAccountToken ?? (account as Obj).automountServiceAccountToken ?? true;
  if (automount === false) return;
  const containers = [
    ...(Array.isArray(spec.containers) ? spec.containers : []),
    ...(Array.isArray(spec.initContainers) ? spec.initContainers : []),
  ] as Obj[];
  const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
  if (
    containers.every(
      (c) => Array.isArray(c.volumeMounts) && (c.volumeMounts as Obj[]).some((m) => m.mountPath === mountPath),
    )
  )
    return;
  const volName = `kube-api-access-${randomSuffix()}`;
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : [];
  volumes.push({
    name: volName,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  });
  spec.volumes = volumes;
  for (const c of containers) {
    const mounts = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Obj[]) : [];
    if (!mounts.some((m) => m.mountPath === mountPath)) mounts.push({ name: volName, readOnly: true, mountPath });
    c.volumeMounts = mounts;
  }
  pod.spec = spec;
}
