// Strategic-merge metadata: which lists merge by which key, as the Go struct tags of
// k8s.io/api declare it (patchStrategy / patchMergeKey). Lists not named here are atomic and
// a patch replaces them, exactly as for a Go field without a patchStrategy tag.

export interface ListMeta {
  /** 'merge' lists of maps need `key`; 'merge' without key is a set of scalars (finalizers). */
  strategy: 'merge' | 'replace';
  key?: string;
  /** Items carry retainKeys semantics (volumes: a volume source replaced, not merged). */
  retainKeys?: boolean;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

const BY_FIELD: Record<string, ListMeta> = {
  containers: { strategy: 'merge', key: 'name' },
  initContainers: { strategy: 'merge', key: 'name' },
  ephemeralContainers: { strategy: 'merge', key: 'name' },
  volumes: { strategy: 'merge', key: 'name', retainKeys: true },
  imagePullSecrets: { strategy: 'merge', key: 'name' },
  hostAliases: { strategy: 'merge', key: 'ip' },
  topologySpreadConstraints: { strategy: 'merge', key: 'topologyKey' },
  resourceClaims: { strategy: 'merge', key: 'name', retainKeys: true },
  schedulingGates: { strategy: 'merge', key: 'name' },
  volumeMounts: { strategy: 'merge', key: 'mountPath' },
  volumeDevices: { strategy: 'merge', key: 'devicePath' },
  conditions: { strategy: 'merge', key: 'type' },
  addresses: { strategy: 'merge', key: 'type' },
  ownerReferences: { strategy: 'merge', key: 'uid' },
  finalizers: { strategy: 'merge' },
  podCIDRs: { strategy: 'merge' },
};

/** `path` is the chain of field names from the object root (array positions omitted). */
export function listMeta(path: readonly string[]): ListMeta {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  if (field === 'ports') {
    if (CONTAINER_LISTS.has(parent)) return { strategy: 'merge', key: 'containerPort' };
    if (parent === 'spec' && path.length === 2) return { strategy: 'merge', key: 'port' }; // Service
    return { strategy: 'replace' };
  }
  if (field === 'env')
    return CONTAINER_LISTS.has(parent) ? { strategy: 'merge', key: 'name' } : { strategy: 'replace' };
  // A finalizers list only merges in metadata; Namespace spec.finalizers is atomic.
  if (field === 'finalizers' && parent !== 'metadata') return { strategy: 'replace' };
  return BY_FIELD[field] ?? { strategy: 'replace' };
}

/** Maps whose patch strategy is retainKeys (Deployment spec.strategy). */
export function mapRetainsKeys(path: readonly string[]): boolean {
  return path.length >= 2 && path[path.length - 1] === 'strategy' && path[path.length - 2] === 'spec';
}
