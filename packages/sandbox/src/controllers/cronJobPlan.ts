// The pure part of the CronJob controller (pkg/controller/cronjob/utils.go): the schedule time
// due now, the next one, the Job made for a scheduled time, and which finished Jobs history
// keeps. The clock is an argument, so these are tested without waiting.
import type { K8sObject } from '../client/kubeClient.js';
import { nextActivation, parseCron } from '../cron/schedule.js';
import type { Obj } from './podUtil.js';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface ScheduleTimes {
  /** The latest schedule time not after now that has not been run, if any. */
  due?: Date;
  /** The schedule time after now. */
  next?: Date;
  /** More than 100 start times were missed (kube records TooManyMissedTimes). */
  tooManyMissed: boolean;
}

export function scheduleTimes(cj: K8sObject, now: Date): ScheduleTimes {
  const spec = (cj.spec ?? {}) as Obj;
  const schedule = parseCron(String(spec.schedule ?? ''));
  const tz = typeof spec.timeZone === 'string' ? spec.timeZone : undefined;
  const last = ((cj.status ?? {}) as Obj).lastScheduleTime ?? cj.metadata.creationTimestamp;
  let earliest = new Date(Date.parse(String(last)));
  const sds = spec.startingDeadlineSeconds;
  if (typeof sds === 'number') {
    const limit = new Date(now.getTime() - sds * 1000);
    if (limit > earliest) earliest = limit;
  }
  let due: Date | undefined;
  let missed = 0;
  let t = nextActivation(schedule, earliest, tz);
  while (t && t <= now) {
    due = t;
    if (++missed > 100) break;
    t = nextActivation(schedule, t, tz);
  }
  const next = due && missed <= 100 ? t : nextActivation(schedule, now, tz);
  return { ...(due ? { due } : {}), ...(next ? { next } : {}), tooManyMissed: missed > 100 };
}

/** getJobName: the CronJob's name and the scheduled time in minutes since the epoch. */
export const jobNameFor = (cj: K8sObject, scheduled: Date): string =>
  `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60_000)}`;

/** The scheduled time as RFC 3339 in the CronJob's time zone (Go's time.Format(time.RFC3339)). */
export function rfc3339In(t: Date, timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'UTC') return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  for (const p of f.formatToParts(t)) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  const offsetMin = Math.round((wall - Math.floor(t.getTime() / 1000) * 1000) / 60_000);
  if (offsetMin === 0)
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

/** getJobFromTemplate2: the template's labels, annotations and spec, owned by the CronJob. */
export function jobFor(cj: K8sObject, scheduled: Date): Obj {
  const spec = (cj.spec ?? {}) as Obj;
  const tmpl = (spec.jobTemplate ?? {}) as Obj;
  const tm = (tmpl.metadata ?? {}) as Obj;
  const tz = typeof spec.timeZone === 'string' ? spec.timeZone : undefined;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      ...(tm.labels ? { labels: tm.labels } : {}),
      annotations: { ...((tm.annotations ?? {}) as Obj), [SCHEDULED_TIMESTAMP]: rfc3339In(scheduled, tz) },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cj.metadata.name,
          uid: cj.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  };
}

export function finishedType(job: K8sObject): 'Complete' | 'Failed' | undefined {
  const conds = (((job.status ?? {}) as Obj).conditions ?? []) as Obj[];
  const c = conds.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c ? (c.type as 'Complete' | 'Failed') : undefined;
}

/** The finished Jobs beyond the history limits, oldest first. */
export function jobsBeyondHistory(cj: K8sObject, jobs: K8sObject[]): K8sObject[] {
  const spec = (cj.spec ?? {}) as Obj;
  const startOf = (j: K8sObject): number =>
    Date.parse(String(((j.status ?? {}) as Obj).startTime ?? j.metadata.creationTimestamp ?? '')) || 0;
  const pick = (type: 'Complete' | 'Failed', limit: unknown): K8sObject[] => {
    if (typeof limit !== 'number') return [];
    const done = jobs.filter((j) => finishedType(j) === type).sort((a, b) => startOf(a) - startOf(b));
    return done.slice(0, Math.max(0, done.length - limit));
  };
  return [...pick('Complete', spec.successfulJobsHistoryLimit), ...pick('Failed', spec.failedJobsHistoryLimit)];
}
