// Which nodes a DaemonSet's pod belongs on, as the DaemonSet controller decides it
// (pkg/controller/daemon: NodeShouldRunDaemonPod, AddOrUpdateDaemonPodTolerations,
// ReplaceDaemonSetPodNodeNameNodeAffinity). Pure functions over plain objects.
import { matchesNodeSelectorAndAffinity, tolerates, type Taint, type Toleration } from '../scheduler/predicates.js';
import type { Obj } from './podUtil.js';

/** The tolerations every daemon pod gets, so that node conditions do not evict or block it. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  return [
    t('node.kubernetes.io/not-ready', 'NoExecute'),
    t('node.kubernetes.io/unreachable', 'NoExecute'),
    t('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    t('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    t('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    t('node.kubernetes.io/unschedulable', 'NoSchedule'),
    ...(hostNetwork ? [t('node.kubernetes.io/network-unavailable', 'NoSchedule')] : []),
  ];
}

/** The template's pod spec with the daemon tolerations added (or updated, keyed by key and effect). */
export function withDaemonTolerations(spec: Obj): Obj {
  const own = (spec.tolerations ?? []) as Toleration[];
  const added = daemonTolerations(spec.hostNetwork === true);
  const kept = own.filter((t) => !added.some((a) => a.key === t.key && a.effect === t.effect));
  return { ...spec, tolerations: [...kept, ...added] };
}

export interface NodeDecision {
  /** A daemon pod should be created here if there is none. */
  shouldRun: boolean;
  /** A daemon pod already here may stay (a NoSchedule taint added later does not evict it). */
  shouldContinueRunning: boolean;
}

export function nodeShouldRunDaemonPod(templateSpec: Obj, node: Obj): NodeDecision {
  const spec = withDaemonTolerations(templateSpec);
  const name = String(((node.metadata ?? {}) as Obj).name);
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec.nodeName && spec.nodeName !== name) return no;
  if (!matchesNodeSelectorAndAffinity({ spec }, node)) return no;
  const taints = (((node.spec ?? {}) as Obj).taints ?? []) as Taint[];
  const tols = spec.tolerations as Toleration[];
  const untolerated = (effect: string): boolean =>
    taints.some((taint) => taint.effect === effect && !tols.some((t) => tolerates(t, taint)));
  if (untolerated('NoExecute')) return no;
  if (untolerated('NoSchedule')) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The required node affinity of a daemon pod: exactly the node it is for, so the scheduler binds it there. */
export function withNodeAffinity(spec: Obj, nodeName: string): Obj {
  const affinity = { ...((spec.affinity ?? {}) as Obj) };
  affinity.nodeAffinity = {
    ...((affinity.nodeAffinity ?? {}) as Obj),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    },
  };
  return { ...spec, affinity };
}

/** util.GetTargetNodeName: the node a daemon pod is bound to, or the one its affinity names. */
export function targetNodeOf(pod: Obj): string | undefined {
  const spec = (pod.spec ?? {}) as Obj;
  if (typeof spec.nodeName === 'string' && spec.nodeName) return spec.nodeName;
  const terms = (((((spec.affinity ?? {}) as Obj).nodeAffinity ?? {}) as Obj)
    .requiredDuringSchedulingIgnoredDuringExecution ?? {}) as Obj;
  for (const term of (terms.nodeSelectorTerms ?? []) as Obj[])
    for (const f of (term.matchFields ?? []) as Obj[]) {
      const values = (f.values ?? []) as string[];
      if (f.key === 'metadata.name' && f.operator === 'In' && values.length === 1) return values[0];
    }
  return undefined;
}
