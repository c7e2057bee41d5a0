// A Job's status conditions as the job controller writes them: a condition is replaced only
// when its status changes (then lastTransitionTime moves), and the reasons and messages are
// Kubernetes 1.34's.
import type { Obj } from './podUtil.js';

export interface JobCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export const COMPLETED: Omit<JobCondition, 'type' | 'status'> = {
  reason: 'CompletionsReached',
  message: 'Reached expected number of succeeded pods',
};
export const BACKOFF_LIMIT_EXCEEDED: Omit<JobCondition, 'type' | 'status'> = {
  reason: 'BackoffLimitExceeded',
  message: 'Job has reached the specified backoff limit',
};
export const DEADLINE_EXCEEDED: Omit<JobCondition, 'type' | 'status'> = {
  reason: 'DeadlineExceeded',
  message: 'Job was active longer than specified deadline',
};

export function conditionOf(status: Obj, type: string): Obj | undefined {
  return ((status.conditions ?? []) as Obj[]).find((c) => c.type === type);
}

export const isTrue = (status: Obj, type: string): boolean => conditionOf(status, type)?.status === 'True';

/** The conditions with `c` set; an unchanged status keeps the existing entry and its times. */
export function withCondition(conditions: unknown, c: JobCondition, now: string): Obj[] {
  const list = Array.isArray(conditions) ? ([...conditions] as Obj[]) : [];
  const i = list.findIndex((x) => x.type === c.type);
  if (i >= 0 && list[i]!.status === c.status) return list;
  const entry = { ...c, lastProbeTime: now, lastTransitionTime: now };
  if (i >= 0) list[i] = entry;
  else list.push(entry);
  return list;
}
