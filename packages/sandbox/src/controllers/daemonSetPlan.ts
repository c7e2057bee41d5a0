// One sync of a DaemonSet as a pure function (pkg/controller/daemon: manage, rollingUpdate,
// updateDaemonSetStatus): from the nodes and the DaemonSet's pods, the nodes that need a pod,
// the pods to delete (failed, surplus, misscheduled, old ones a RollingUpdate replaces within
// maxUnavailable) and the status `kubectl rollout status ds` reads.
import type { K8sObject } from '../client/kubeClient.js';
import { nodeShouldRunDaemonPod, targetNodeOf, type NodeDecision } from './daemonSetNodes.js';
import { isPodAvailable, isPodReady, scaledValue, type Obj } from './podUtil.js';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface DaemonSetPlan {
  /** Nodes to create a daemon pod on. */
  create: string[];
  /** Pods to delete; `failed` ones are reported as kube reports a failed daemon pod. */
  delete: { pod: K8sObject; failed: boolean }[];
  status: Obj;
}

const phase = (p: K8sObject): string => String(((p.status ?? {}) as Obj).phase ?? '');
const byAge = (a: K8sObject, b: K8sObject): number =>
  String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
  a.metadata.name.localeCompare(b.metadata.name);
const isUpdated = (p: K8sObject, hash: string): boolean =>
  ((p.metadata.labels ?? {}) as Record<string, string>)[REVISION_HASH_LABEL] === hash;

export function planDaemonSet(
  ds: K8sObject,
  nodes: readonly K8sObject[],
  pods: readonly K8sObject[],
  hash: string,
): DaemonSetPlan {
  const spec = (ds.spec ?? {}) as Obj;
  const templateSpec = (((spec.template ?? {}) as Obj).spec ?? {}) as Obj;
  const minReady = Number(spec.minReadySeconds ?? 0);
  const byNode = new Map<string, K8sObject[]>();
  for (const p of pods) {
    const node = targetNodeOf(p);
    if (!node || p.metadata.deletionTimestamp) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), p].sort(byAge));
  }
  const decisions = new Map<string, NodeDecision>(
    nodes.map((n) => [n.metadata.name, nodeShouldRunDaemonPod(templateSpec, n)]),
  );
  const create: string[] = [];
  const del: DaemonSetPlan['delete'] = [];
  for (const [node, d] of decisions) {
    const here = byNode.get(node) ?? [];
    if (!d.shouldContinueRunning) {
      for (const pod of here) del.push({ pod, failed: false });
      continue;
    }
    const running = here.filter((p) => phase(p) !== 'Failed' && phase(p) !== 'Succeeded');
    for (const pod of here) if (!running.includes(pod)) del.push({ pod, failed: phase(pod) === 'Failed' });
    if (running.length === 0 && d.shouldRun) create.push(node);
    for (const pod of running.slice(1)) del.push({ pod, failed: false }); // keep the oldest
  }
  // Pods for nodes that no longer exist: unbound ones are the controller's to delete.
  for (const [node, here] of byNode)
    if (!decisions.has(node))
      for (const pod of here) if (!((pod.spec ?? {}) as Obj).nodeName) del.push({ pod, failed: false });

  const strategy = (spec.updateStrategy ?? {}) as Obj;
  if (strategy.type !== 'OnDelete') del.push(...rollingUpdate(spec, decisions, byNode, hash, minReady, del));
  return { create, delete: del, status: status(ds, decisions, byNode, hash, minReady) };
}

/** maxSurge 0: old pods are replaced node by node, at most maxUnavailable unavailable at once. */
function rollingUpdate(
  spec: Obj,
  decisions: Map<string, NodeDecision>,
  byNode: Map<string, K8sObject[]>,
  hash: string,
  minReady: number,
  already: DaemonSetPlan['delete'],
): DaemonSetPlan['delete'] {
  const desired = [...decisions.values()].filter((d) => d.shouldRun).length;
  const ru = (((spec.updateStrategy ?? {}) as Obj).rollingUpdate ?? {}) as Obj;
  const maxUnavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true) || 1;
  const deleting = new Set(already.map((d) => d.pod));
  let unavailable = 0;
  const replaceNow: K8sObject[] = [];
  const candidates: K8sObject[] = [];
  for (const [node, d] of decisions) {
    if (!d.shouldRun) continue;
    const here = (byNode.get(node) ?? []).filter((p) => !deleting.has(p));
    if (here.length > 1) {
      unavailable++;
      continue;
    }
    const pod = here[0];
    if (!pod) continue; // created by the manage step
    if (isUpdated(pod, hash)) {
      if (!isPodAvailable(pod, minReady)) unavailable++;
    } else if (!isPodAvailable(pod, minReady)) replaceNow.push(pod);
    else candidates.push(pod);
  }
  const room = Math.min(candidates.length, Math.max(0, maxUnavailable - unavailable));
  return [...replaceNow, ...candidates.sort(byAge).slice(0, room)].map((pod) => ({ pod, failed: false }));
}

function status(
  ds: K8sObject,
  decisions: Map<string, NodeDecision>,
  byNode: Map<string, K8sObject[]>,
  hash: string,
  minReady: number,
): Obj {
  let desired = 0,
    current = 0,
    ready = 0,
    available = 0,
    updated = 0,
    misscheduled = 0;
  for (const [node, d] of decisions) {
    const pod = byNode.get(node)?.[0];
    if (!d.shouldRun) {
      if (pod) misscheduled++;
      continue;
    }
    desired++;
    if (!pod) continue;
    current++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady)) available++;
    }
    if (isUpdated(pod, hash)) updated++;
  }
  return {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
}
