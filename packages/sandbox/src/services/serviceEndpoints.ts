// What the endpoints and EndpointSlice controllers write for one Service, as pure functions: the
// pods its selector picks (with an IP, not finished), each port's targetPort resolved against
// the pod's container ports (a name like `http` becomes that container port's number), pods
// grouped by the ports they resolve to. Endpoints lists ready pods in addresses and the others
// in notReadyAddresses; an EndpointSlice carries ready/serving/terminating per endpoint.
import type { K8sObject } from '../client/kubeClient.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
/** The endpoints controller's mark on the Endpoints it writes (kube-controller-manager 1.33+). */
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_MANAGED_BY = 'endpoint-controller';

export interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
}
export interface Backend {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  targetRef: Obj;
}
export interface BackendGroup {
  ports: EndpointPort[];
  backends: Backend[];
}

/** Services the endpoint controllers manage: with a selector, not ExternalName. */
export function hasManagedEndpoints(service: K8sObject): boolean {
  const spec = obj(service.spec);
  return spec.type !== 'ExternalName' && Object.keys(obj(spec.selector)).length > 0;
}

export function selects(service: K8sObject, pod: K8sObject): boolean {
  if (pod.metadata.namespace !== service.metadata.namespace) return false;
  const labels = obj(pod.metadata.labels);
  return Object.entries(obj(obj(service.spec).selector)).every(([k, v]) => labels[k] === v);
}

/** podutil.FindPort: a number is itself; a name is the container port of that name and protocol. */
export function resolveTargetPort(targetPort: unknown, protocol: string, pod: K8sObject): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(String(targetPort))) return Number(targetPort);
  for (const c of arr(obj(pod.spec).containers)) {
    for (const p of arr(c.ports))
      if (p.name === targetPort && String(p.protocol ?? 'TCP') === protocol) return Number(p.containerPort);
  }
  return undefined;
}

const isReady = (pod: K8sObject): boolean =>
  arr(obj(pod.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True');

export function backendGroups(service: K8sObject, pods: readonly K8sObject[]): BackendGroup[] {
  const groups = new Map<string, BackendGroup>();
  for (const pod of pods) {
    const status = obj(pod.status);
    if (!selects(service, pod) || !status.podIP || status.phase === 'Succeeded' || status.phase === 'Failed') continue;
    const ports: EndpointPort[] = [];
    for (const sp of arr(obj(service.spec).ports)) {
      const protocol = String(sp.protocol ?? 'TCP');
      const port = resolveTargetPort(sp.targetPort ?? sp.port, protocol, pod);
      if (port !== undefined) ports.push({ name: String(sp.name ?? ''), port, protocol });
    }
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, backends: [] };
    groups.set(key, group);
    const spec = obj(pod.spec);
    group.backends.push({
      ip: String(status.podIP),
      ready: isReady(pod) && !pod.metadata.deletionTimestamp,
      serving: isReady(pod),
      terminating: Boolean(pod.metadata.deletionTimestamp),
      ...(spec.nodeName ? { nodeName: String(spec.nodeName) } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    });
  }
  return [...groups.values()];
}

/** The Endpoints object's subsets (omitted when no pod backs the Service, as kube-controller-manager does). */
export function endpointSubsets(groups: readonly BackendGroup[]): Obj[] {
  const address = (b: Backend): Obj => ({
    ip: b.ip,
    ...(b.nodeName ? { nodeName: b.nodeName } : {}),
    targetRef: b.targetRef,
  });
  return groups
    .filter((g) => g.ports.length > 0 && g.backends.length > 0)
    .map((g) => {
      const ready = g.backends.filter((b) => b.ready).map(address);
      const notReady = g.backends.filter((b) => !b.ready && !b.terminating).map(address);
      return {
        ...(ready.length ? { addresses: ready } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady } : {}),
        ports: g.ports,
      };
    })
    .filter((s) => s.addresses || s.notReadyAddresses);
}

/** One EndpointSlice body per group (without metadata). */
export function sliceBody(group: BackendGroup): Obj {
  return {
    addressType: 'IPv4',
    endpoints: group.backends.map((b) => ({
      addresses: [b.ip],
      conditions: { ready: b.ready, serving: b.serving, terminating: b.terminating },
      ...(b.nodeName ? { nodeName: b.nodeName } : {}),
      targetRef: b.targetRef,
    })),
    ports: group.ports,
  };
}
