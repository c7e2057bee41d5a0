// The Job controller (pkg/controller/job): runs a Job's pods to completion. It creates up to
// `parallelism` pods at a time (Indexed: one per missing index), counts finished pods through
// the tracking finalizer (uid first into status.uncountedTerminatedPods, then the finalizer
// removed, then the counters), retries failed pods with a doubling back-off until
// `backoffLimit`, applies podFailurePolicy and activeDeadlineSeconds, suspends, and finishes the
// Job as 1.34 does: FailureTarget or SuccessCriteriaMet first, then Failed or Complete once no
// pod of it still runs. A finished Job with ttlSecondsAfterFinished is deleted in the
// foreground, as the ttl-after-finished controller deletes it, so its pods go first.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from './events.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import {
  BACKOFF_LIMIT_EXCEEDED,
  COMPLETED,
  DEADLINE_EXCEEDED,
  isTrue,
  withCondition,
  type JobCondition,
} from './jobConditions.js';
import { matchPodFailurePolicy } from './jobFailurePolicy.js';
import { completedIndexes, countFinished, isActive, planPods } from './jobProgress.js';
import { TRACKING_FINALIZER, hasTrackingFinalizer, isFinished, ownedPods, podForJob, restartsOf } from './jobPods.js';
import { controllerOf, isPodReady, type Obj } from './podUtil.js';

export interface JobControllerOptions {
  /** First delay before a failed pod is replaced; it doubles with each further failure (kube: 10 s). */
  podBackoffMs?: number;
  /** The most the back-off grows to (kube: 6 min). */
  podBackoffMaxMs?: number;
}

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class JobController {
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  /** job key → pods asked for but not yet seen through the watch. */
  private readonly expectations = new Map<string, { adds: number; until: number }>();
  /** job key → the resourceVersion of our last status write, until the watch brings it back:
   *  a sync on an older copy would count the same pods again. */
  private readonly written = new Map<string, { rv: string; until: number }>();
  /** job key → uids of the pods already counted (their finalizer removal may not be seen yet). */
  private readonly counted = new Map<string, Set<string>>();
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly client: KubeClient,
    opts: JobControllerOptions = {},
  ) {
    this.backoffMs = opts.podBackoffMs ?? 1_000;
    this.backoffMaxMs = opts.podBackoffMaxMs ?? 30_000;
    this.events = new EventRecorder(client, 'job-controller');
    this.queue = new WorkQueue((k) => this.sync(k));
    this.jobs = new Informer(client, apiPath('batch/v1', 'jobs')).on((_t, o) => {
      const key = keyOf(o);
      if (this.written.get(key)?.rv === o.metadata.resourceVersion) this.written.delete(key);
      this.queue.add(key);
    });
    this.pods = new Informer(client, apiPath('v1', 'pods')).on((type, pod) => {
      const ref = controllerOf(pod, 'Job');
      if (!ref) return;
      const key = `${pod.metadata.namespace}/${ref.name}`;
      const exp = this.expectations.get(key);
      if (exp && type === 'ADDED') exp.adds = Math.max(0, exp.adds - 1);
      this.queue.add(key);
    });
  }

  start(): void {
    this.jobs.start();
    this.pods.start();
  }
  stop(): void {
    this.queue.stop();
    this.jobs.stop();
    this.pods.stop();
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.jobs.hasSynced, this.pods.hasSynced]);
    const cached = this.jobs.get(key);
    // A copy: status writes update it, and the cache must keep what the watch said.
    const job = cached && structuredClone(cached);
    const allPods = this.pods.list();
    if (!job) {
      this.expectations.delete(key);
      this.counted.delete(key);
      this.written.delete(key);
      // A deleted Job leaves its pods to the garbage collector, but not their finalizers.
      const [ns, name] = key.split('/');
      for (const p of allPods)
        if (p.metadata.namespace === ns && controllerOf(p, 'Job')?.name === name && hasTrackingFinalizer(p))
          await this.dropFinalizer(p);
      return;
    }
    const exp = this.expectations.get(key);
    if (exp && exp.adds > 0 && Date.now() < exp.until) return;
    const w = this.written.get(key);
    if (w && w.rv !== job.metadata.resourceVersion && Date.now() < w.until) return;
    const pods = ownedPods(job, allPods);
    const status = structuredClone((job.status ?? {}) as Obj);
    if (isTrue(status, 'Complete') || isTrue(status, 'Failed')) {
      for (const p of pods) if (hasTrackingFinalizer(p)) await this.dropFinalizer(p);
      await this.expireIfDue(job, status);
      return;
    }
    const spec = (job.spec ?? {}) as Obj;
    const now = nowIso();
    await this.countFinishedPods(job, pods, status);

    const suspended = spec.suspend === true;
    if (suspended) {
      status.conditions = withCondition(
        status.conditions,
        { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' },
        now,
      );
      delete status.startTime;
    } else {
      if (isTrue(status, 'Suspended')) {
        status.conditions = withCondition(
          status.conditions,
          { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' },
          now,
        );
      }
      status.startTime ??= now;
    }

    if (!suspended && !isTrue(status, 'FailureTarget') && !isTrue(status, 'SuccessCriteriaMet')) {
      const target = this.failureTarget(job, pods, status);
      if (target) {
        status.conditions = withCondition(status.conditions, { type: 'FailureTarget', status: 'True', ...target }, now);
      } else if (planPods(job, pods, status).done) {
        status.conditions = withCondition(
          status.conditions,
          { type: 'SuccessCriteriaMet', status: 'True', ...COMPLETED },
          now,
        );
      }
    }
    const ending = isTrue(status, 'FailureTarget') || isTrue(status, 'SuccessCriteriaMet');
    const active = pods.filter(isActive);
    if (ending || suspended) {
      for (const p of active) await this.deletePod(job, p);
    } else {
      await this.createPods(job, key, pods, status);
    }
    const live = this.pods.list().filter((p) => ownedPods(job, [p]).length && !isFinished(p));
    const uncounted = (status.uncountedTerminatedPods ?? {}) as Obj;
    const settled =
      live.length === 0 &&
      ((uncounted.succeeded ?? []) as unknown[]).length === 0 &&
      ((uncounted.failed ?? []) as unknown[]).length === 0;
    if (ending && settled) await this.finish(job, status, now);

    status.active = ending || suspended ? 0 : active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = live.filter((p) => p.metadata.deletionTimestamp).length;
    status.uncountedTerminatedPods ??= {};
    status.succeeded ??= 0;
    status.failed ??= 0;
    await this.writeStatus(job, status);
    this.requeueForDeadline(job, status, key);
  }

  /** Moves finished pods into the counters: uid recorded, finalizer removed, then counted. */
  private async countFinishedPods(job: K8sObject, pods: K8sObject[], status: Obj): Promise<void> {
    const seen = this.counted.get(keyOf(job)) ?? new Set<string>();
    this.counted.set(keyOf(job), seen);
    const fresh = pods.filter((p) => !seen.has(p.metadata.uid!));
    const { newlySucceeded, newlyFailed, ignored } = countFinished(job, fresh, status);
    for (const p of ignored) await this.dropFinalizer(p);
    const uncounted = (status.uncountedTerminatedPods ?? {}) as Obj;
    const succeeded = [...((uncounted.succeeded ?? []) as string[]), ...newlySucceeded.map((p) => p.metadata.uid!)];
    const failed = [...((uncounted.failed ?? []) as string[]), ...newlyFailed.map((p) => p.metadata.uid!)];
    if (!succeeded.length && !failed.length) return;
    if (newlySucceeded.length || newlyFailed.length) {
      status.uncountedTerminatedPods = {
        ...(succeeded.length ? { succeeded } : {}),
        ...(failed.length ? { failed } : {}),
      };
      await this.writeStatus(job, status);
    }
    const recorded = new Set([...succeeded, ...failed]);
    for (const p of pods) if (recorded.has(p.metadata.uid!) && hasTrackingFinalizer(p)) await this.dropFinalizer(p);
    for (const uid of recorded) seen.add(uid);
    status.succeeded = Number(status.succeeded ?? 0) + succeeded.length;
    status.failed = Number(status.failed ?? 0) + failed.length;
    status.uncountedTerminatedPods = {};
    if ((job.spec as Obj | undefined)?.completionMode === 'Indexed')
      status.completedIndexes = completedIndexes(
        status,
        pods.filter((p) => succeeded.includes(p.metadata.uid!)),
      );
  }

  /** Why the Job fails now, if it does: podFailurePolicy FailJob, back-off limit, deadline. */
  private failureTarget(
    job: K8sObject,
    pods: K8sObject[],
    status: Obj,
  ): Omit<JobCondition, 'type' | 'status'> | undefined {
    const spec = (job.spec ?? {}) as Obj;
    for (const p of pods) {
      if ((p.status as Obj | undefined)?.phase !== 'Failed') continue;
      const m = matchPodFailurePolicy(job, p);
      if (m?.action === 'FailJob') return { reason: 'PodFailurePolicy', message: m.message };
    }
    const limit = Number(spec.backoffLimit ?? 6);
    const restartPolicy = ((spec.template as Obj | undefined)?.spec as Obj | undefined)?.restartPolicy;
    const restarts =
      restartPolicy === 'OnFailure' ? pods.filter((p) => !isFinished(p)).reduce((n, p) => n + restartsOf(p), 0) : 0;
    if (Number(status.failed ?? 0) > limit || (restartPolicy === 'OnFailure' && limit > 0 && restarts >= limit))
      return BACKOFF_LIMIT_EXCEEDED;
    if (restartPolicy === 'OnFailure' && limit === 0 && restarts > 0) return BACKOFF_LIMIT_EXCEEDED;
    const deadline = spec.activeDeadlineSeconds;
    if (typeof deadline === 'number' && typeof status.startTime === 'string') {
      if (Date.now() >= Date.parse(status.startTime) + deadline * 1000) return DEADLINE_EXCEEDED;
    }
    return undefined;
  }

  private async createPods(job: K8sObject, key: string, pods: K8sObject[], status: Obj): Promise<void> {
    const plan = planPods(job, pods, status);
    if (!plan.create.length) return;
    const wait = this.backoffRemaining(pods);
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return;
    }
    this.expectations.set(key, { adds: plan.create.length, until: Date.now() + 5_000 });
    for (const index of plan.create) {
      const r = await this.client.request('POST', apiPath('v1', 'pods', job.metadata.namespace), podForJob(job, index));
      if (r.status === 201) {
        void this.events.record(
          job,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${(r.body as K8sObject).metadata.name}`,
        );
      } else {
        this.expectations.delete(key);
        void this.events.record(
          job,
          'Warning',
          'FailedCreate',
          `Error creating: ${String((r.body as Obj).message ?? r.status)}`,
        );
        throw new Error(`creating a pod for job ${key}: ${r.status}`);
      }
    }
  }

  /** The pod back-off: base × 2^(failures since the last success − 1), from the last failure. */
  private backoffRemaining(pods: K8sObject[]): number {
    const finishedAt = (p: K8sObject): number => {
      const cs = (((p.status as Obj | undefined)?.containerStatuses ?? []) as Obj[]).map(
        (c) => Date.parse(String(((c.state as Obj | undefined)?.terminated as Obj | undefined)?.finishedAt ?? '')) || 0,
      );
      return Math.max(0, ...cs);
    };
    const finished = pods.filter(isFinished).sort((a, b) => finishedAt(a) - finishedAt(b));
    let failures = 0;
    for (const p of finished) failures = (p.status as Obj).phase === 'Failed' ? failures + 1 : 0;
    if (failures === 0) return 0;
    const delay = Math.min(this.backoffMaxMs, this.backoffMs * 2 ** (failures - 1));
    return finishedAt(finished[finished.length - 1]!) + delay - Date.now();
  }

  private async finish(job: K8sObject, status: Obj, now: string): Promise<void> {
    const failure = isTrue(status, 'FailureTarget');
    const target = ((status.conditions ?? []) as Obj[]).find(
      (c) => c.type === (failure ? 'FailureTarget' : 'SuccessCriteriaMet'),
    )!;
    const type = failure ? 'Failed' : 'Complete';
    const c = { type, status: 'True' as const, reason: String(target.reason), message: String(target.message) };
    status.conditions = withCondition(status.conditions, c, now);
    if (!failure) status.completionTime = now;
    if (failure) void this.events.record(job, 'Warning', c.reason, c.message);
    else void this.events.record(job, 'Normal', 'Completed', 'Job completed');
  }

  private async expireIfDue(job: K8sObject, status: Obj): Promise<void> {
    const ttl = (job.spec as Obj | undefined)?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number' || job.metadata.deletionTimestamp) return;
    const finished = ((status.conditions ?? []) as Obj[]).find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    const at = Date.parse(String(status.completionTime ?? finished?.lastTransitionTime ?? '')) + ttl * 1000;
    if (Date.now() < at) {
      this.queue.addAfter(keyOf(job), at - Date.now());
      return;
    }
    const r = await this.client.request(
      'DELETE',
      apiPath('batch/v1', 'jobs', job.metadata.namespace, job.metadata.name),
      {
        propagationPolicy: 'Foreground',
        preconditions: { uid: job.metadata.uid },
      },
    );
    if (r.status >= 300 && r.status !== 404 && r.status !== 409)
      throw new Error(`deleting job ${keyOf(job)}: ${r.status}`);
  }

  private requeueForDeadline(job: K8sObject, status: Obj, key: string): void {
    const deadline = (job.spec as Obj | undefined)?.activeDeadlineSeconds;
    if (typeof deadline !== 'number' || typeof status.startTime !== 'string') return;
    const left = Date.parse(status.startTime) + deadline * 1000 - Date.now();
    if (left > 0) this.queue.addAfter(key, left + 10);
  }

  private async deletePod(job: K8sObject, p: K8sObject): Promise<void> {
    const r = await this.client.request('DELETE', apiPath('v1', 'pods', p.metadata.namespace, p.metadata.name));
    if (r.status === 200 || r.status === 202)
      void this.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
  }

  private async dropFinalizer(p: K8sObject): Promise<void> {
    const i = ((p.metadata.finalizers ?? []) as string[]).indexOf(TRACKING_FINALIZER);
    if (i < 0) return;
    // The test makes it safe against a list that changed meanwhile (then the sync is retried).
    const r = await this.client.request(
      'PATCH',
      apiPath('v1', 'pods', p.metadata.namespace, p.metadata.name),
      [
        { op: 'test', path: `/metadata/finalizers/${i}`, value: TRACKING_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ],
      'application/json-patch+json',
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`finalizer of pod ${keyOf(p)}: ${r.status}`);
  }

  private async writeStatus(job: K8sObject, status: Obj): Promise<void> {
    const cur = (job.status ?? {}) as Obj;
    if (JSON.stringify(cur) === JSON.stringify(status)) return;
    const r = await this.client.request(
      'PUT',
      apiPath('batch/v1', 'jobs', job.metadata.namespace, job.metadata.name, 'status'),
      { ...job, status },
    );
    if (r.status === 200) {
      Object.assign(job, r.body);
      this.written.set(keyOf(job), { rv: String(job.metadata.resourceVersion), until: Date.now() + 5_000 });
      return;
    }
    if (r.status !== 404) throw new Error(`status of job ${keyOf(job)}: ${r.status}`);
  }
}
