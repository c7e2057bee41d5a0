// The scheduler's filters as pure functions, in kube-scheduler's plugin order
// (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit): a node that fails an
// earlier filter is not checked by later ones, so each node contributes the reasons of its
// first failing filter, worded as the plugins word them (the FailedScheduling message is built
// from these strings and clients such as the worker read it).
import { add, nodeAllocatable, podRequests, ZERO, type Obj, type Resources } from './resources.js';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

/** Taints with effect NoSchedule/NoExecute that no toleration of the pod matches. */
export function untoleratedTaint(pod: Obj, node: Obj): Taint | undefined {
  const taints = ((((node.spec ?? {}) as Obj).taints ?? []) as Taint[]).filter(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  const tols = (((pod.spec ?? {}) as Obj).tolerations ?? []) as Toleration[];
  return taints.find((taint) => !tols.some((t) => tolerates(t, taint)));
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

function matchRequirement(r: Requirement, get: (k: string) => string | undefined): boolean {
  const v = get(r.key);
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return v !== undefined && vals.includes(v);
    case 'NotIn':
      return v === undefined || !vals.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
      return v !== undefined && Number(v) > Number(vals[0]);
    case 'Lt':
      return v !== undefined && Number(v) < Number(vals[0]);
    default:
      return false;
  }
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms ORed, expressions ANDed). */
export function matchesNodeSelectorAndAffinity(pod: Obj, node: Obj): boolean {
  const spec = (pod.spec ?? {}) as Obj;
  const meta = (node.metadata ?? {}) as Obj;
  const labels = (meta.labels ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries((spec.nodeSelector ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  const required = ((((spec.affinity ?? {}) as Obj).nodeAffinity ?? {}) as Obj)
    .requiredDuringSchedulingIgnoredDuringExecution as Obj | undefined;
  const terms = (required?.nodeSelectorTerms ?? []) as Obj[];
  if (!required || !terms.length) return true;
  return terms.some((term) => {
    const exprs = (term.matchExpressions ?? []) as Requirement[];
    const fields = (term.matchFields ?? []) as Requirement[];
    if (!exprs.length && !fields.length) return false; // an empty term matches nothing
    return (
      exprs.every((r) => matchRequirement(r, (k) => labels[k])) &&
      fields.every((r) => matchRequirement(r, (k) => (k === 'metadata.name' ? String(meta.name) : undefined)))
    );
  });
}

/** Sum of the requests of pods already on the node (the scheduler's NodeInfo.Requested). */
export function requestedOn(podsOnNode: readonly Obj[]): Resources {
  return podsOnNode.reduce<Resources>((acc, p) => add(acc, podRequests(p)), ZERO);
}

/** NodeResourcesFit: "Too many pods" first, then each insufficient resource. */
export function insufficientResources(pod: Obj, node: Obj, requested: Resources): string[] {
  const want = podRequests(pod);
  const alloc = nodeAllocatable(node);
  const out: string[] = [];
  if (requested.pods + 1 > alloc.pods) out.push('Too many pods');
  if (want.cpuMilli > 0 && requested.cpuMilli + want.cpuMilli > alloc.cpuMilli) out.push('Insufficient cpu');
  if (want.memoryBytes > 0 && requested.memoryBytes + want.memoryBytes > alloc.memoryBytes)
    out.push('Insufficient memory');
  return out;
}

/** Why `pod` cannot go on `node` (empty: it fits). */
export function fitFailures(pod: Obj, node: Obj, requested: Resources): string[] {
  if (((node.spec ?? {}) as Obj).unschedulable === true) {
    const tolerated = ((((pod.spec ?? {}) as Obj).tolerations as Toleration[] | undefined) ?? []).some((t) =>
      tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }),
    );
    if (!tolerated) return ['node(s) were unschedulable'];
  }
  const taint = untoleratedTaint(pod, node);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  if (!matchesNodeSelectorAndAffinity(pod, node)) return ["node(s) didn't match Pod's node affinity/selector"];
  return insufficientResources(pod, node, requested);
}

/** The FailedScheduling message kube-scheduler writes: reasons counted over nodes, sorted. */
export function failedSchedulingMessage(totalNodes: number, perNode: readonly (readonly string[])[]): string {
  if (totalNodes === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const reasons of perNode) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${totalNodes} nodes are available: ${parts.join(', ')}.`;
}

/** A node is a candidate when it is Ready (nodes without a Ready=True condition are skipped, as
 *  the node lifecycle controller's not-ready taint would make them). */
export function nodeReady(node: Obj): boolean {
  const conds = (((node.status ?? {}) as Obj).conditions ?? []) as Obj[];
  return (
    conds.some((c) => c.type === 'Ready' && c.status === 'True') && !((node.metadata ?? {}) as Obj).deletionTimestamp
  );
}

/** Picks the feasible node with the most CPU left after placing the pod (LeastAllocated), then by name. */
export function chooseNode(
  pod: Obj,
  nodes: readonly Obj[],
  requestedByNode: (name: string) => Resources,
): { node?: Obj; reasons: string[][] } {
  const reasons: string[][] = [];
  let best: { node: Obj; score: number; name: string } | undefined;
  for (const node of nodes) {
    const name = String(((node.metadata ?? {}) as Obj).name);
    const requested = requestedByNode(name);
    const why = fitFailures(pod, node, requested);
    if (why.length) {
      reasons.push(why);
      continue;
    }
    const alloc = nodeAllocatable(node);
    const want = podRequests(pod);
    const score =
      (alloc.cpuMilli ? (alloc.cpuMilli - requested.cpuMilli - want.cpuMilli) / alloc.cpuMilli : 0) +
      (alloc.memoryBytes ? (alloc.memoryBytes - requested.memoryBytes - want.memoryBytes) / alloc.memoryBytes : 0);
    if (!best || score > best.score || (score === best.score && name < best.name)) best = { node, score, name };
  }
  return best ? { node: best.node, reasons } : { reasons };
}
