// Scale-down candidacy as the cluster autoscaler decides it, as a pure function: a node is
// unneeded when its requested share is under the utilization threshold and every pod on it
// could go: none annotated safe-to-evict "false", none whose PodDisruptionBudget allows no
// disruption, none without a controller (a bare pod would be lost), and all fit elsewhere.
// DaemonSet pods count towards utilization but need not fit elsewhere.
import { fitFailures } from '../scheduler/predicates.js';
import { add, nodeAllocatable, podRequests, ZERO, type Obj } from '../scheduler/resources.js';
import type { SimNode } from './scaleUp.js';

export const SAFE_TO_EVICT = 'cluster-autoscaler.kubernetes.io/safe-to-evict';

const meta = (o: Obj): Obj => (o.metadata ?? {}) as Obj;

/** A DaemonSet's pod: cluster-autoscaler neither scales up for one (it names its node) nor
 *  lets one keep a node (its DaemonSet puts one on every node anyway). */
export const isDaemonSetPod = (p: Obj): boolean =>
  ((meta(p).ownerReferences ?? []) as Obj[]).some((r) => r.controller === true && r.kind === 'DaemonSet');

const active = (p: Obj): boolean => !['Succeeded', 'Failed'].includes(String(((p.status ?? {}) as Obj).phase));

function matchesSelector(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  const ml = (sel.matchLabels ?? {}) as Record<string, string>;
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return ((sel.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]).every((e) => {
    const v = labels[e.key];
    if (e.operator === 'In') return v !== undefined && (e.values ?? []).includes(v);
    if (e.operator === 'NotIn') return v === undefined || !(e.values ?? []).includes(v);
    if (e.operator === 'Exists') return v !== undefined;
    return v === undefined;
  });
}

/** The disruptions a PDB allows now: its status when written, else computed from the pods. */
export function pdbAllows(pdb: Obj, podsInNamespace: readonly Obj[]): number {
  const status = (pdb.status ?? {}) as Obj;
  if (typeof status.disruptionsAllowed === 'number' && status.observedGeneration !== undefined)
    return status.disruptionsAllowed;
  const spec = (pdb.spec ?? {}) as Obj;
  const matching = podsInNamespace.filter(
    (p) =>
      active(p) && matchesSelector(spec.selector as Obj | undefined, (meta(p).labels ?? {}) as Record<string, string>),
  );
  const healthy = matching.filter((p) =>
    ((((p.status ?? {}) as Obj).conditions as Obj[] | undefined) ?? []).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    ),
  ).length;
  const resolve = (v: unknown, roundUp: boolean): number => {
    const m = /^(\d+)%$/.exec(String(v));
    if (!m) return Number(v ?? 0);
    const x = (Number(m[1]) * matching.length) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  };
  const desired =
    spec.maxUnavailable !== undefined
      ? Math.max(0, matching.length - resolve(spec.maxUnavailable, true))
      : resolve(spec.minAvailable ?? 1, true);
  return Math.max(0, healthy - desired);
}

/** Why the node must stay (undefined: it may be removed). `others` are the nodes that would remain. */
export function scaleDownBlocker(
  node: Obj,
  podsOnNode: readonly Obj[],
  pdbs: readonly Obj[],
  allPods: readonly Obj[],
  others: readonly SimNode[],
  utilizationThreshold = 0.5,
): string | undefined {
  const pods = podsOnNode.filter((p) => active(p) && !meta(p).deletionTimestamp);
  const alloc = nodeAllocatable(node);
  const req = pods.reduce((a, p) => add(a, podRequests(p)), ZERO);
  const util = Math.max(
    alloc.cpuMilli ? req.cpuMilli / alloc.cpuMilli : 0,
    alloc.memoryBytes ? req.memoryBytes / alloc.memoryBytes : 0,
  );
  if (util >= utilizationThreshold) return `node utilization ${util.toFixed(2)} is not below ${utilizationThreshold}`;
  const sim = others.map((n) => ({ ...n }));
  for (const p of pods) {
    if (isDaemonSetPod(p)) continue;
    const m = meta(p);
    const name = `${String(m.namespace)}/${String(m.name)}`;
    const annotations = (m.annotations ?? {}) as Record<string, string>;
    if (annotations[SAFE_TO_EVICT] === 'false') return `pod ${name} is annotated ${SAFE_TO_EVICT}: "false"`;
    const ownedByController = ((m.ownerReferences ?? []) as Obj[]).some((r) => r.controller === true);
    if (!ownedByController && annotations[SAFE_TO_EVICT] !== 'true')
      return `pod ${name} is not replicated (no controller)`;
    const labels = (m.labels ?? {}) as Record<string, string>;
    const nsPods = allPods.filter((x) => meta(x).namespace === m.namespace);
    for (const pdb of pdbs) {
      if (
        meta(pdb).namespace !== m.namespace ||
        !matchesSelector(((pdb.spec ?? {}) as Obj).selector as Obj | undefined, labels)
      )
        continue;
      if (pdbAllows(pdb, nsPods) < 1)
        return `pod ${name} is protected by PodDisruptionBudget ${String(meta(pdb).name)}`;
    }
    const target = sim.find((n) => fitFailures(p, n.node, n.requested).length === 0);
    if (!target) return `pod ${name} fits on no other node`;
    target.requested = add(target.requested, podRequests(p));
  }
  return undefined;
}
