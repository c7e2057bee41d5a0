// The CronJob controller (pkg/controller/cronjob, the v2 controller): at each schedule time it
// creates a Job named after the time, honours suspend, startingDeadlineSeconds and the
// concurrency policy (Allow, Forbid: skip while one runs, Replace: delete the running one),
// keeps status.active, lastScheduleTime and lastSuccessfulTime, and deletes the oldest finished
// Jobs beyond the history limits. The clock is an option so schedules can be tested quickly.
import { apiPath, type K8sObject, type KubeClient } from '../client/kubeClient.js';
import { EventRecorder } from './events.js';
import { Informer, WorkQueue, keyOf } from './informer.js';
import { finishedType, jobFor, jobsBeyondHistory, scheduleTimes } from './cronJobPlan.js';
import { controllerOf, type Obj } from './podUtil.js';

export interface CronJobControllerOptions {
  /** The clock (default the real one). */
  now?: () => Date;
}

const iso = (t: Date): string => t.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class CronJobController {
  private readonly cronJobs: Informer;
  private readonly jobs: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly now: () => Date;

  constructor(
    private readonly client: KubeClient,
    opts: CronJobControllerOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.events = new EventRecorder(client, 'cronjob-controller');
    this.queue = new WorkQueue((k) => this.sync(k));
    this.cronJobs = new Informer(client, apiPath('batch/v1', 'cronjobs')).on((_t, o) => this.queue.add(keyOf(o)));
    this.jobs = new Informer(client, apiPath('batch/v1', 'jobs')).on((_t, job) => {
      const ref = controllerOf(job, 'CronJob');
      if (ref) this.queue.add(`${job.metadata.namespace}/${ref.name}`);
    });
  }

  start(): void {
    this.cronJobs.start();
    this.jobs.start();
  }
  stop(): void {
    this.queue.stop();
    this.cronJobs.stop();
    this.jobs.stop();
  }

  private async sync(key: string): Promise<void> {
    await Promise.all([this.cronJobs.hasSynced, this.jobs.hasSynced]);
    const cj = this.cronJobs.get(key);
    if (!cj || cj.metadata.deletionTimestamp) return;
    const spec = (cj.spec ?? {}) as Obj;
    const ns = cj.metadata.namespace!;
    const owned = this.jobs
      .list()
      .filter((j) => j.metadata.namespace === ns && controllerOf(j, 'CronJob')?.uid === cj.metadata.uid);
    const status = structuredClone((cj.status ?? {}) as Obj);
    let running = owned.filter((j) => !finishedType(j) && !j.metadata.deletionTimestamp);
    for (const j of owned) {
      const type = finishedType(j);
      const wasActive = ((status.active ?? []) as Obj[]).some((r) => r.uid === j.metadata.uid);
      if (type && wasActive)
        void this.events.record(
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata.name}, condition: ${type}`,
        );
      const done = (j.status as Obj | undefined)?.completionTime;
      if (
        type === 'Complete' &&
        typeof done === 'string' &&
        (!status.lastSuccessfulTime || done > String(status.lastSuccessfulTime))
      )
        status.lastSuccessfulTime = done;
    }
    const now = this.now();
    const times = scheduleTimes(cj, now);
    if (times.tooManyMissed)
      void this.events.record(
        cj,
        'Warning',
        'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
      );
    const due = spec.suspend === true ? undefined : times.due;
    const sds = spec.startingDeadlineSeconds;
    const tooLate = due && typeof sds === 'number' && due.getTime() + sds * 1000 < now.getTime();
    if (due && tooLate)
      void this.events.record(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${due.toUTCString()}`,
      );
    const skip = spec.concurrencyPolicy === 'Forbid' && running.length > 0;
    if (due && !tooLate && !skip) {
      if (spec.concurrencyPolicy === 'Replace') {
        for (const j of running) await this.deleteJob(cj, j, 'SuccessfulDelete');
        running = [];
      }
      const r = await this.client.request('POST', apiPath('batch/v1', 'jobs', ns), jobFor(cj, due));
      if (r.status === 201) {
        const job = r.body as K8sObject;
        running.push(job);
        void this.events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
      } else if (r.status !== 409) {
        void this.events.record(
          cj,
          'Warning',
          'FailedCreate',
          `Error creating job: ${String((r.body as Obj).message ?? r.status)}`,
        );
        throw new Error(`creating a job for ${key}: ${r.status}`);
      }
      status.lastScheduleTime = iso(due);
    }
    status.active = running.map((j) => ({
      kind: 'Job',
      namespace: ns,
      name: j.metadata.name,
      uid: j.metadata.uid,
      apiVersion: 'batch/v1',
      resourceVersion: j.metadata.resourceVersion,
    }));
    if ((status.active as Obj[]).length === 0) delete status.active;
    for (const j of jobsBeyondHistory(cj, owned)) await this.deleteJob(cj, j, 'SuccessfulDelete');
    await this.writeStatus(cj, status);
    if (times.next && spec.suspend !== true)
      this.queue.addAfter(key, Math.max(0, times.next.getTime() - now.getTime()) + 100);
  }

  private async deleteJob(cj: K8sObject, job: K8sObject, reason: string): Promise<void> {
    const r = await this.client.request(
      'DELETE',
      apiPath('batch/v1', 'jobs', job.metadata.namespace, job.metadata.name),
      { propagationPolicy: 'Background' },
    );
    if (r.status === 200 || r.status === 202)
      void this.events.record(cj, 'Normal', reason, `Deleted job ${job.metadata.name}`);
  }

  private async writeStatus(cj: K8sObject, status: Obj): Promise<void> {
    if (JSON.stringify(cj.status ?? {}) === JSON.stringify(status)) return;
    const r = await this.client.request(
      'PUT',
      apiPath('batch/v1', 'cronjobs', cj.metadata.namespace, cj.metadata.name, 'status'),
      { ...cj, status },
    );
    if (r.status !== 200 && r.status !== 404) throw new Error(`status of cronjob ${keyOf(cj)}: ${r.status}`);
  }
}
