// The resources the sandbox serves: one table drives discovery, routing, storage keys, the
// OpenAPI stub and RBAC's resource names. Field names follow metav1.APIResource.

export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, lower case: the URL segment and RBAC's resource name. */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  subresources: SubresourceDef[];
  /** Stored under another resource's key (events.k8s.io/v1 events live with core/v1 events). */
  storageOf?: { group: string; resource: string };
  /** metadata.generation tracks spec changes (kube-apiserver sets it for these kinds). */
  generation?: boolean;
  /** Main-resource updates keep the stored status; /status updates keep everything else. */
  hasStatus?: boolean;
  /** A virtual resource: only create is served and nothing is stored (reviews). */
  createOnly?: boolean;
  /** DELETE answers the deleted object instead of a Status (pods, namespaces, services). */
  returnDeletedObject?: boolean;
  /** PUT on a missing object creates it (leases, rbac objects as in kube-apiserver). */
  allowCreateOnUpdate?: boolean;
  /** Served from the virtual nodes' kubelet endpoints, never stored (metrics.k8s.io). */
  fromNodes?: boolean;
}

export interface SubresourceDef {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const status = (kind: string): SubresourceDef => ({ name: 'status', kind, verbs: ['get', 'patch', 'update'] });
const scale: SubresourceDef = {
  name: 'scale',
  kind: 'Scale',
  group: 'autoscaling',
  version: 'v1',
  verbs: ['get', 'patch', 'update'],
};

function def(
  d: Omit<ResourceDef, 'verbs' | 'subresources'> & Partial<Pick<ResourceDef, 'verbs' | 'subresources'>>,
): ResourceDef {
  return { verbs: CRUD, subresources: [], ...d };
}

/** Events are served twice, core and events.k8s.io, from one storage. */
const EVENT = {
  version: 'v1',
  resource: 'events',
  kind: 'Event',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
} satisfies Partial<ResourceDef>;

/** A review: a virtual resource only created, its answer computed, nothing stored. */
function review(group: string, kind: string, { namespaced = false } = {}): ResourceDef {
  const singular = kind.toLowerCase();
  return def({
    group,
    version: 'v1',
    resource: `${singular}s`,
    kind,
    singular,
    namespaced,
    verbs: ['create'],
    createOnly: true,
  });
}

export const RESOURCES: readonly ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    hasStatus: true,
    returnDeletedObject: true,
    subresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }, status('Namespace')],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    returnDeletedObject: true,
    subresources: [
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      status('Pod'),
    ],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    hasStatus: true,
    subresources: [status('Node')],
  }),
  def({ group: '', ...EVENT }),
  def({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', singular: 'secret', namespaced: true }),
  def({
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    subresources: [
      { name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
    ],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    hasStatus: true,
    returnDeletedObject: true,
    subresources: [status('Service')],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'endpoints',
    kind: 'Endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
  }),
  def({
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    kind: 'EndpointSlice',
    singular: 'endpointslice',
    namespaced: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [scale, status('Deployment')],
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [scale, status('ReplicaSet')],
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [status('DaemonSet')],
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'replicationcontrollers',
    kind: 'ReplicationController',
    singular: 'replicationcontroller',
    namespaced: true,
    shortNames: ['rc'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [scale, status('ReplicationController')],
  }),
  // Stored and listed only: the sandbox aggregates no API servers, so the group an APIService
  // names is not added to discovery.
  def({
    group: 'apiregistration.k8s.io',
    version: 'v1',
    resource: 'apiservices',
    kind: 'APIService',
    singular: 'apiservice',
    namespaced: false,
    categories: ['api-extensions'],
    hasStatus: true,
    subresources: [status('APIService')],
  }),
  def({
    group: 'batch',
    version: 'v1',
    resource: 'jobs',
    kind: 'Job',
    singular: 'job',
    namespaced: true,
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [status('Job')],
  }),
  def({
    group: 'batch',
    version: 'v1',
    resource: 'cronjobs',
    kind: 'CronJob',
    singular: 'cronjob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    generation: true,
    hasStatus: true,
    subresources: [status('CronJob')],
  }),
  def({
    group: 'policy',
    version: 'v1',
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    singular: 'poddisruptionbudget',
    namespaced: true,
    shortNames: ['pdb'],
    generation: true,
    hasStatus: true,
    subresources: [status('PodDisruptionBudget')],
  }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'roles',
    kind: 'Role',
    singular: 'role',
    namespaced: true,
    allowCreateOnUpdate: true,
  }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    singular: 'rolebinding',
    namespaced: true,
    allowCreateOnUpdate: true,
  }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    singular: 'clusterrole',
    namespaced: false,
    allowCreateOnUpdate: true,
  }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    singular: 'clusterrolebinding',
    namespaced: false,
    allowCreateOnUpdate: true,
  }),
  def({
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    kind: 'Lease',
    singular: 'lease',
    namespaced: true,
    allowCreateOnUpdate: true,
  }),
  def({ group: 'events.k8s.io', ...EVENT, storageOf: { group: '', resource: 'events' } }),
  def({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    resource: 'pods',
    kind: 'PodMetrics',
    singular: '',
    namespaced: true,
    verbs: ['get', 'list'],
    fromNodes: true,
  }),
  def({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    resource: 'nodes',
    kind: 'NodeMetrics',
    singular: '',
    namespaced: false,
    verbs: ['get', 'list'],
    fromNodes: true,
  }),
  review('authorization.k8s.io', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'SubjectAccessReview'),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', { namespaced: true }),
  review('authentication.k8s.io', 'TokenReview'),
  review('authentication.k8s.io', 'SelfSubjectReview'),
];

/** The version each group is served at (one each, as in a cluster with no deprecated versions). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of RESOURCES) if (!seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([group, version]) => ({ group, version }));
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function findByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind && !r.storageOf);
}

export const apiVersionOf = (r: { group: string; version: string }): string =>
  r.group ? `${r.group}/${r.version}` : r.version;

/** The key of the storage a resource lives in: "group/resource". */
export function storageKey(r: ResourceDef): string {
  const s = r.storageOf ?? r;
  return `${s.group}/${s.resource}`;
}
