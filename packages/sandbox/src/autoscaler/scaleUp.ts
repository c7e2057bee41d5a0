// The cluster autoscaler's scale-up decision as a pure function: pods that would fit on an
// existing node are left to the scheduler; pods that fit on a node already being provisioned
// wait for it; the rest are packed onto new template nodes of the group that fits them with
// the least waste (the "least-waste" expander). Pods no group could take get the reasons
// counted over groups, worded as cluster-autoscaler words them.
import { fitFailures } from '../scheduler/predicates.js';
import { add, nodeAllocatable, podRequests, ZERO, type Obj, type Resources } from '../scheduler/resources.js';

export interface GroupState {
  name: string;
  min: number;
  max: number;
  /** Nodes that exist or are being provisioned. */
  target: number;
  /** A Node as the group's nodes look (labels, taints, allocatable). */
  template: Obj;
}

export interface SimNode {
  node: Obj;
  requested: Resources;
  group?: string;
  planned?: boolean;
}

export interface ScaleUpPlan {
  /** Group name -> nodes to add. */
  increases: Map<string, number>;
  /** Pod key -> TriggeredScaleUp message (only for pods that caused an increase in this plan). */
  triggered: Map<string, string>;
  /** Pod key -> NotTriggerScaleUp message. */
  notTriggered: Map<string, string>;
}

const podKey = (p: Obj): string => {
  const m = (p.metadata ?? {}) as Obj;
  return `${String(m.namespace)}/${String(m.name)}`;
};

function waste(pod: Obj, template: Obj): number {
  const a = nodeAllocatable(template);
  const r = podRequests(pod);
  return (
    (a.cpuMilli ? (a.cpuMilli - r.cpuMilli) / a.cpuMilli : 1) +
    (a.memoryBytes ? (a.memoryBytes - r.memoryBytes) / a.memoryBytes : 1)
  );
}

export function notTriggerMessage(reasonsPerGroup: readonly (readonly string[])[]): string {
  const counts = new Map<string, number>();
  for (const reasons of reasonsPerGroup) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  if (!counts.size) return "pod didn't trigger scale-up: no node groups";
  return `pod didn't trigger scale-up: ${[...counts]
    .map(([r, n]) => `${n} ${r}`)
    .sort()
    .join(', ')}`;
}

export function triggeredMessage(groups: readonly { name: string; from: number; to: number; max: number }[]): string {
  return `pod triggered scale-up: [${groups.map((g) => `{${g.name} ${g.from}->${g.to} (max: ${g.max})}`).join(' ')}]`;
}

/** Plans a scale-up for `pending` (unschedulable pods, oldest first). `nodes` are the Ready
 *  nodes and the nodes being provisioned (group set), with what is already requested on them. */
export function planScaleUp(
  pending: readonly Obj[],
  groups: readonly GroupState[],
  nodes: readonly SimNode[],
): ScaleUpPlan {
  const sim: SimNode[] = nodes.map((n) => ({ ...n }));
  const increases = new Map<string, number>();
  const podsOnNew = new Map<string, string[]>();
  const notTriggered = new Map<string, string>();
  for (const pod of pending) {
    const req = podRequests(pod);
    const place = sim.find((n) => fitFailures(pod, n.node, n.requested).length === 0);
    if (place) {
      place.requested = add(place.requested, req);
      if (place.planned && place.group) podsOnNew.get(place.group)!.push(podKey(pod));
      continue;
    }
    const reasons: string[][] = [];
    let best: GroupState | undefined;
    for (const g of groups) {
      const why = fitFailures(pod, g.template, ZERO);
      if (why.length) {
        reasons.push(why);
        continue;
      }
      if (g.target + (increases.get(g.name) ?? 0) >= g.max) {
        reasons.push(['max node group size reached']);
        continue;
      }
      if (
        !best ||
        waste(pod, g.template) < waste(pod, best.template) ||
        (waste(pod, g.template) === waste(pod, best.template) && g.name < best.name)
      )
        best = g;
    }
    if (!best) {
      notTriggered.set(podKey(pod), notTriggerMessage(reasons));
      continue;
    }
    increases.set(best.name, (increases.get(best.name) ?? 0) + 1);
    sim.push({ node: best.template, requested: req, group: best.name, planned: true });
    if (!podsOnNew.has(best.name)) podsOnNew.set(best.name, []);
    podsOnNew.get(best.name)!.push(podKey(pod));
  }
  const triggered = new Map<string, string>();
  for (const [group, keys] of podsOnNew) {
    const g = groups.find((x) => x.name === group)!;
    const msg = triggeredMessage([
      { name: g.name, from: g.target, to: g.target + (increases.get(group) ?? 0), max: g.max },
    ]);
    for (const k of keys) triggered.set(k, msg);
  }
  return { increases, triggered, notTriggered };
}
