// The pure decisions of the Job controller: which finished pods are still to be counted, which
// pods to create next, and whether the Job has all the completions it needs.
import type { K8sObject } from '../client/kubeClient.js';
import { matchPodFailurePolicy } from './jobFailurePolicy.js';
import { formatIndexes, hasTrackingFinalizer, indexOf, isFinished, parseIndexes } from './jobPods.js';
import type { Obj } from './podUtil.js';

const phase = (p: K8sObject): unknown => (p.status as Obj | undefined)?.phase;

/** isPodFailed: a deleted pod that did not succeed counts as failed (an orphan never gets to Failed). */
export const isFailed = (p: K8sObject): boolean =>
  phase(p) === 'Failed' || (!!p.metadata.deletionTimestamp && phase(p) !== 'Succeeded');

/** A pod that still runs for the Job: not finished, not being deleted. */
export const isActive = (p: K8sObject): boolean => !isFinished(p) && !p.metadata.deletionTimestamp;

export interface FinishedPods {
  newlySucceeded: K8sObject[];
  newlyFailed: K8sObject[];
  /** Failed, but podFailurePolicy says Ignore: the finalizer goes, nothing is counted. */
  ignored: K8sObject[];
}

export function countFinished(job: K8sObject, pods: K8sObject[], status: Obj): FinishedPods {
  const uncounted = (status.uncountedTerminatedPods ?? {}) as Obj;
  const known = new Set([...((uncounted.succeeded ?? []) as string[]), ...((uncounted.failed ?? []) as string[])]);
  const out: FinishedPods = { newlySucceeded: [], newlyFailed: [], ignored: [] };
  for (const p of pods) {
    if (!hasTrackingFinalizer(p) || known.has(p.metadata.uid!)) continue;
    if (phase(p) === 'Succeeded') out.newlySucceeded.push(p);
    else if (isFailed(p)) {
      if (phase(p) === 'Failed' && matchPodFailurePolicy(job, p)?.action === 'Ignore') out.ignored.push(p);
      else out.newlyFailed.push(p);
    }
  }
  return out;
}

/** status.completedIndexes with the indexes of newly succeeded pods added. */
export function completedIndexes(status: Obj, succeeded: K8sObject[]): string {
  const done = parseIndexes(status.completedIndexes);
  for (const p of succeeded) {
    const i = indexOf(p);
    if (i !== undefined) done.push(i);
  }
  return formatIndexes(done);
}

export interface PodPlan {
  /** One entry per pod to create: its completion index (Indexed) or undefined. */
  create: (number | undefined)[];
  /** The Job has the completions it needs (SuccessCriteriaMet). */
  done: boolean;
}

export function planPods(job: K8sObject, pods: K8sObject[], status: Obj): PodPlan {
  const spec = (job.spec ?? {}) as Obj;
  const parallelism = Number(spec.parallelism ?? 1);
  const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
  const active = pods.filter(isActive);
  const succeeded = Number(status.succeeded ?? 0);
  if (spec.completionMode === 'Indexed' && completions !== undefined) {
    const done = new Set(parseIndexes(status.completedIndexes));
    const running = new Set(active.map(indexOf));
    const missing: number[] = [];
    for (let i = 0; i < completions; i++) if (!done.has(i) && !running.has(i)) missing.push(i);
    return { create: missing.slice(0, Math.max(0, parallelism - active.length)), done: done.size >= completions };
  }
  if (completions === undefined) {
    // A work queue: done once one pod succeeded and none runs any more.
    const done = succeeded > 0 && active.length === 0;
    const want = succeeded > 0 ? 0 : parallelism;
    return { create: new Array<undefined>(Math.max(0, want - active.length)).fill(undefined), done };
  }
  const want = Math.min(parallelism, Math.max(0, completions - succeeded));
  return {
    create: new Array<undefined>(Math.max(0, want - active.length)).fill(undefined),
    done: succeeded >= completions,
  };
}
