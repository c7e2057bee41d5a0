// The pods of a Job (pkg/controller/job): built from its template, owned by it, carrying the
// tracking finalizer that keeps a finished pod until the Job has counted it, and for an Indexed
// Job the completion index (annotation, label, JOB_COMPLETION_INDEX and a hostname).
import type { K8sObject } from '../client/kubeClient.js';
import { controllerOf, type Obj } from './podUtil.js';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

export function podForJob(job: K8sObject, index?: number): Obj {
  const spec = (job.spec ?? {}) as Obj;
  const tmpl = (spec.template ?? {}) as Obj;
  const tm = (tmpl.metadata ?? {}) as Obj;
  const podSpec = structuredClone((tmpl.spec ?? {}) as Obj);
  const labels = { ...((tm.labels ?? {}) as Obj) };
  const annotations = { ...((tm.annotations ?? {}) as Obj) };
  if (index !== undefined) {
    labels[COMPLETION_INDEX] = String(index);
    annotations[COMPLETION_INDEX] = String(index);
    podSpec.hostname ??= `${job.metadata.name}-${index}`;
    for (const list of ['containers', 'initContainers'])
      for (const c of (podSpec[list] ?? []) as Obj[]) {
        const env = ((c.env ?? []) as Obj[]).filter((e) => e.name !== 'JOB_COMPLETION_INDEX');
        env.push({
          name: 'JOB_COMPLETION_INDEX',
          valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } },
        });
        c.env = env;
      }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-`,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [TRACKING_FINALIZER],
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: job.metadata.name,
          uid: job.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: podSpec,
  };
}

export const phaseOf = (p: K8sObject): string => String((p.status as Obj | undefined)?.phase ?? '');
export const isFinished = (p: K8sObject): boolean => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed';
export const hasTrackingFinalizer = (p: K8sObject): boolean =>
  ((p.metadata.finalizers ?? []) as string[]).includes(TRACKING_FINALIZER);

export function ownedPods(job: K8sObject, pods: K8sObject[]): K8sObject[] {
  return pods.filter(
    (p) => p.metadata.namespace === job.metadata.namespace && controllerOf(p, 'Job')?.uid === job.metadata.uid,
  );
}

export function indexOf(p: K8sObject): number | undefined {
  const v = ((p.metadata.annotations ?? {}) as Obj)[COMPLETION_INDEX];
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** status.completedIndexes: "1,3-5,7". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}

export function parseIndexes(text: unknown): number[] {
  if (typeof text !== 'string' || !text) return [];
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) return [];
    const end = Number.isInteger(b) ? b! : a!;
    return Array.from({ length: end - a! + 1 }, (_, k) => a! + k);
  });
}

/** Restarts of a pod's containers: with restartPolicy OnFailure they count toward backoffLimit. */
export function restartsOf(p: K8sObject): number {
  const st = (p.status ?? {}) as Obj;
  return [...((st.containerStatuses ?? []) as Obj[]), ...((st.initContainerStatuses ?? []) as Obj[])].reduce(
    (n, c) => n + Number(c.restartCount ?? 0),
    0,
  );
}
