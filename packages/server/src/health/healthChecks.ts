import { LongshoreError, type HealthCheckRequest, type HealthReport, type WorkerHealth } from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../crypto/secretBox.js';
import { newId } from '../crypto/tokens.js';
import type { WorkSignals } from '../dispatch/workerWakeups.js';
import type { TaskLog } from '../logs/taskLog.js';
import type { Store } from '../store/database.js';
import { insertTask } from '../orchestration/taskCreation.js';
import { endTask } from '../orchestration/taskEnd.js';
import { effectivePolicyId } from './effectivePolicy.js';
import { writeWithEvent, type WebhookEvents } from '../webhooks/webhookEvents.js';

/** The kind of the task a health check is: its log is where the check's results are read. */
export const HEALTH_CHECK_TASK_KIND = 'health-check';

export interface HealthCheckParts {
  db: Store;
  box: SecretBox;
  log: Pick<FastifyBaseLogger, 'error'>;
  taskLog: TaskLog;
  /** Wakes a worker waiting in a poll, so that a new check reaches it without waiting out the poll. */
  workers: WorkSignals;
  /** Told in the same transaction when a check sets a worker's health. */
  events?: WebhookEvents;
  /** After a check found the worker healthy (its automatic upgrade); a sentence for the check's log. */
  afterHealthy?: (workerId: string) => Promise<string | undefined>;
}

export interface RequestedCheck {
  worker: string;
  checkId: string;
  taskId: string;
}

interface Outcome {
  health: WorkerHealth;
  reasons: string[];
  facts?: Record<string, string>;
}

/**
 * Health checks of workers, each a task of its own: requested (pending), carried to the worker by
 * its next poll answer (sent, the deadline running from then), and finished by the worker's
 * report or by the deadline passing. Finishing claims the check first, so a report and an expiry
 * racing each other end it once.
 */
export class HealthChecks {
  readonly #db: Store;
  readonly #box: SecretBox;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  readonly #taskLog: TaskLog;
  readonly #workers: WorkSignals;
  readonly #afterHealthy: HealthCheckParts['afterHealthy'];
  readonly #events: WebhookEvents | undefined;

  constructor(parts: HealthCheckParts) {
    this.#db = parts.db;
    this.#box = parts.box;
    this.#log = parts.log;
    this.#taskLog = parts.taskLog;
    this.#workers = parts.workers;
    this.#afterHealthy = parts.afterHealthy;
    this.#events = parts.events;
  }

  /**
   * A check for each worker (by id) that has none under way; one already under way is answered
   * instead of a second. The timeout is each worker's policy's.
   */
  async request(workerIds: readonly string[]): Promise<RequestedCheck[]> {
    if (workerIds.length === 0) return [];
    const workers = await this.#db
      .selectFrom('workers')
      .innerJoin('machine_policies', (join) => join.on('machine_policies.id', '=', effectivePolicyId(this.#db)))
      .select(['workers.id', 'workers.name', 'machine_policies.health_check_timeout_seconds as timeout'])
      .where('workers.id', 'in', workerIds)
      .execute();
    // One query for the checks under way, not one per worker: `--all` and the schedule ask for hundreds.
    const open = await this.#db
      .selectFrom('health_checks')
      .select(['id', 'task_id', 'worker_id'])
      .where('worker_id', 'in', workerIds)
      .where('state', '!=', 'finished')
      .execute();
    const underWay = new Map(open.map((c) => [c.worker_id, c]));
    const requested: RequestedCheck[] = [];
    for (const w of workers) {
      const active = underWay.get(w.id);
      if (active) {
        requested.push({ worker: w.name, checkId: active.id, taskId: active.task_id });
        continue;
      }
      requested.push({ worker: w.name, ...(await this.#create(w.id, w.name, w.timeout)) });
      this.#workers.wakeWorker(w.id);
    }
    return requested;
  }

  async #create(workerId: string, name: string, timeoutSeconds: number) {
    const checkId = newId('hc');
    const t = Date.now();
    const taskId = await this.#db.transaction().execute(async (trx) => {
      const id = await insertTask(
        { db: trx, box: this.#box },
        { kind: HEALTH_CHECK_TASK_KIND, description: `Health check of worker ${name}`, context: {}, createdAt: t },
      );
      // Until it is sent, the deadline is for the worker to come and collect it.
      await trx
        .insertInto('health_checks')
        .values({
          id: checkId,
          worker_id: workerId,
          task_id: id,
          state: 'pending',
          timeout_seconds: timeoutSeconds,
          requested_at: t,
          sent_at: null,
          deadline_at: t + timeoutSeconds * 1000,
          finished_at: null,
        })
        .execute();
      return id;
    });
    await this.#taskLog.system(taskId, `Waiting for worker ${name} to collect the check`);
    return { checkId, taskId };
  }

  /** Whether a check waits for this worker: its poll then answers at once instead of waiting. */
  async hasPending(workerId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('health_checks')
      .select('id')
      .where('worker_id', '=', workerId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The worker's pending checks, marked sent: a poll answer carries them. */
  async send(workerId: string): Promise<HealthCheckRequest[]> {
    const t = Date.now();
    const sent = await this.#db.transaction().execute(async (trx) => {
      const pending = await trx
        .selectFrom('health_checks')
        .select(['id', 'task_id', 'timeout_seconds'])
        .where('worker_id', '=', workerId)
        .where('state', '=', 'pending')
        .execute();
      for (const p of pending) {
        await trx
          .updateTable('health_checks')
          .set({ state: 'sent', sent_at: t, deadline_at: t + p.timeout_seconds * 1000 })
          .where('id', '=', p.id)
          .execute();
        await trx.updateTable('tasks').set({ state: 'running', started_at: t }).where('id', '=', p.task_id).execute();
      }
      return pending;
    });
    for (const s of sent)
      await this.#taskLog.system(s.task_id, `Sent to the worker; it has ${s.timeout_seconds} s to answer`);
    return sent.map((s) => ({ id: s.id, timeoutSeconds: s.timeout_seconds }));
  }

  /** The worker's report: each check a log line, its health what the failed checks say. */
  async report(workerId: string, checkId: string, report: HealthReport): Promise<void> {
    const check = await this.#db
      .selectFrom('health_checks')
      .select(['worker_id', 'task_id', 'state'])
      .where('id', '=', checkId)
      .executeTakeFirst();
    if (!check) throw new LongshoreError('NOT_FOUND', `Health check '${checkId}' does not exist`);
    if (check.worker_id !== workerId)
      throw new LongshoreError('FORBIDDEN', `Health check '${checkId}' is for another worker`);
    const failed = report.checks.filter((c) => !c.ok);
    const outcome: Outcome = {
      health: failed.length ? 'unhealthy' : 'healthy',
      reasons: failed.map((c) => `${c.name}: ${c.detail}`),
      facts: report.facts,
    };
    if (!(await this.#claim(checkId)))
      throw new LongshoreError('CONFLICT', `Health check '${checkId}' has already ended; a new one will be sent`);
    for (const c of report.checks)
      await this.#taskLog.system(
        check.task_id,
        `${c.ok ? 'ok' : 'FAILED'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`,
        c.ok ? 'info' : 'error',
      );
    const facts = Object.entries(report.facts);
    if (facts.length)
      await this.#taskLog.system(check.task_id, `Facts: ${facts.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    await this.#finish(workerId, check.task_id, outcome);
  }

  /**
   * Ends the checks whose deadline passed: the worker did not answer, or never polled to collect
   * the check. Answers how many.
   */
  async expire(): Promise<number> {
    const due = await this.#db
      .selectFrom('health_checks')
      .select(['id', 'worker_id', 'task_id', 'state', 'timeout_seconds'])
      // By worker and state, so the index on (worker_id, state) finds the open ones among every check ever run.
      .where('worker_id', 'in', this.#db.selectFrom('workers').select('id'))
      .where('state', 'in', ['pending', 'sent'])
      .where('deadline_at', '<=', Date.now())
      .execute();
    for (const c of due) {
      if (!(await this.#claim(c.id))) continue;
      const reason =
        c.state === 'sent'
          ? `no answer within ${c.timeout_seconds} s`
          : `not polling: the check was not collected within ${c.timeout_seconds} s`;
      await this.#finish(c.worker_id, c.task_id, { health: 'unavailable', reasons: [reason] });
    }
    return due.length;
  }

  /** Ends the worker's unfinished checks before it is removed (their rows go with it; their tasks stay). */
  async abandon(workerId: string, why: string): Promise<void> {
    const active = await this.#db
      .selectFrom('health_checks')
      .select(['id', 'task_id'])
      .where('worker_id', '=', workerId)
      .where('state', '!=', 'finished')
      .execute();
    for (const c of active) if (await this.#claim(c.id)) await this.#endTask(c.task_id, false, why);
  }

  /** Fails the tasks of checks whose worker was deleted with them still under way. */
  async endOrphans(taskIds: readonly string[], why: string): Promise<void> {
    for (const taskId of taskIds) await this.#endTask(taskId, false, why);
  }

  /**
   * Fails the checks a previous run of the server left unfinished: their deadlines were kept in
   * memory by no one, and a new check is cheap. Called once at start, before tasks resume.
   */
  async failLeftOvers(): Promise<void> {
    const active = await this.#db
      .selectFrom('health_checks')
      .select(['id', 'task_id'])
      .where('state', '!=', 'finished')
      .execute();
    for (const c of active)
      if (await this.#claim(c.id)) await this.#endTask(c.task_id, false, 'The server restarted during the check');
  }

  /** Marks the check finished unless something else did first; true when this call did. */
  async #claim(checkId: string): Promise<boolean> {
    const claimed = await this.#db
      .updateTable('health_checks')
      .set({ state: 'finished', finished_at: Date.now() })
      .where('id', '=', checkId)
      .where('state', '!=', 'finished')
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1;
  }

  async #finish(workerId: string, taskId: string, outcome: Outcome): Promise<void> {
    const t = Date.now();
    const before = await this.#db.selectFrom('workers').select('health').where('id', '=', workerId).executeTakeFirst();
    const events = this.#events;
    await writeWithEvent(
      this.#db,
      this.#log,
      (db) =>
        db
          .updateTable('workers')
          .set({
            health: outcome.health,
            health_reasons: JSON.stringify(outcome.reasons),
            health_checked_at: t,
            health_check_task_id: taskId,
            ...(outcome.facts ? { health_facts: JSON.stringify(outcome.facts) } : {}),
          })
          .where('id', '=', workerId)
          .execute(),
      before &&
        events &&
        ((trx) =>
          events.workerHealthChanged(trx, {
            workerId,
            before: before.health,
            after: outcome.health,
            reasons: outcome.reasons,
          })),
      { workerId },
    );
    const ok = outcome.health === 'healthy';
    if (ok && this.#afterHealthy) {
      const said = await this.#afterHealthy(workerId).catch((err: unknown) => {
        this.#log.error({ err, workerId }, 'starting an automatic upgrade failed');
        return `Starting its automatic upgrade failed: ${(err as Error).message}`;
      });
      if (said) await this.#taskLog.system(taskId, said);
    }
    await this.#endTask(
      taskId,
      ok,
      ok ? 'The worker is healthy' : `The worker is ${outcome.health}: ${outcome.reasons.join('; ')}`,
    );
  }

  #endTask(taskId: string, succeeded: boolean, message: string): Promise<void> {
    return endTask({ db: this.#db, taskLog: this.#taskLog, log: this.#log }, taskId, succeeded, message);
  }
}
