import { recordUsage } from '../rightsizing/usageRecords.js';
import { oomNotice } from '../rightsizing/oomNotice.js';
import {
  LongshoreError,
  PENDING_OPERATION_STATES,
  isLongshoreError,
  type LogLine,
  type OperationResult,
} from '@longshore/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../crypto/secretBox.js';
import type { WorkSignals } from '../dispatch/workerWakeups.js';
import type { TaskLog } from '../logs/taskLog.js';
import { openSnapshot, type ReleaseSnapshot } from '../resources/releases.js';
import type { Store } from '../store/database.js';
import { lockOperations, lockTask } from '../store/lockOrder.js';
import { insertOperations } from './operationInserts.js';
import { planStep } from './planner.js';
import type { TaskControl } from './taskControl.js';
import { DEPLOY_TASK_KIND, type CreatedTask, type TaskContext } from './taskCreation.js';
import { releaseWaiting, stepProgress } from './stepOperations.js';
import { isActiveTaskState, type TerminalTaskState } from './taskState.js';
import { TaskEnding, failureMessage } from './taskEnding.js';
import type { OperationObserver, TaskDriver, TaskRunnerParts } from './taskRunnerParts.js';
import type { TaskOwnership } from '../cluster/taskLeases.js';

/**
 * Moves deployment tasks forward from what is stored, so a restarted server picks up where it
 * stopped: each call looks at the task's current step and its operations and takes the next
 * step when they are all done. Calls for one task run one at a time. Whatever goes wrong while
 * advancing fails the task with the error: a task is never left running with nothing to wait for.
 */
export class TaskRunner implements TaskControl {
  readonly #db: Store;
  readonly #box: SecretBox;
  readonly #log: Pick<FastifyBaseLogger, 'error'>;
  readonly #taskLog: TaskLog;
  readonly #workers: WorkSignals;
  readonly #pools: TaskRunnerParts['pools'];
  readonly #observer: OperationObserver | undefined;
  readonly #drivers: Readonly<Record<string, TaskDriver>>;
  readonly #ownership: TaskOwnership | undefined;
  readonly #ending: TaskEnding;
  readonly #chains = new Map<string, Promise<void>>();
  /** Kept while a task runs: given when it starts, or read once when it resumes. */
  readonly #contexts = new Map<string, TaskContext>();
  readonly #snapshots = new Map<string, ReleaseSnapshot>();

  constructor(parts: TaskRunnerParts) {
    this.#db = parts.db;
    this.#box = parts.box;
    this.#log = parts.log;
    this.#taskLog = parts.taskLog;
    this.#workers = parts.workers;
    this.#pools = parts.pools;
    this.#observer = parts.observer;
    this.#drivers = parts.drivers ?? {};
    this.#ending = new TaskEnding(parts);
    this.#ownership = parts.ownership;
  }

  start(task: CreatedTask): Promise<void> {
    this.#contexts.set(task.id, task.context);
    return this.advance(task.id);
  }

  advance(taskId: string): Promise<void> {
    const previous = this.#chains.get(taskId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#advance(taskId))
      .catch((err: unknown) => {
        this.#forget(taskId);
        return this.#ending.fail(taskId, err);
      })
      .catch((err: unknown) =>
        this.#log.error({ err, taskId }, 'a task could not advance and could not be marked failed'),
      );
    this.#chains.set(taskId, next);
    void next.finally(() => {
      if (this.#chains.get(taskId) === next) this.#chains.delete(taskId);
    });
    return next;
  }

  /** The kinds of task it advances: deployments and those it has a driver for. */
  get kinds(): readonly string[] {
    return [DEPLOY_TASK_KIND, ...Object.keys(this.#drivers)];
  }

  /** Resumes tasks this node took (at its start, or from a node that died), failing those that cannot go on. */
  async resume(taskIds: readonly string[]): Promise<void> {
    await Promise.all(taskIds.map((id) => this.advance(id)));
  }

  async cancel(taskId: string): Promise<void> {
    const db = this.#db;
    const task = await db
      .selectFrom('tasks')
      .select(['state', 'cancel_requested', 'kind'])
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    if (!isActiveTaskState(task.state) || task.cancel_requested) return;
    const refusal = this.#drivers[task.kind]?.cancelRefusal;
    if (refusal) throw new LongshoreError('CONFLICT', refusal);
    await db.updateTable('tasks').set({ cancel_requested: 1, state: 'cancelling' }).where('id', '=', taskId).execute();
    await this.#taskLog.system(taskId, 'Cancellation requested', 'warning');
    await this.#ending.stopOperations(taskId, 'Cancelled before it started');
    await this.advance(taskId);
  }

  /** Records a worker's result for an operation it holds, then moves the task on. */
  async completeOperation(operationId: string, result: OperationResult): Promise<void> {
    const db = this.#db;
    const taskLog = this.#taskLog;
    const op = await db
      .selectFrom('operations')
      .select(['task_id', 'state', 'step_name', 'target_name'])
      .where('id', '=', operationId)
      .executeTakeFirstOrThrow();
    if (op.state === 'finished') return;
    // Its output variables stay with it; the next step to be planned reads them from there.
    await db
      .updateTable('operations')
      .set({
        state: 'finished',
        outcome: result.outcome,
        exit_code: result.exitCode ?? null,
        message: result.message,
        finished_at: Date.now(),
        lease_expires_at: null,
        output_variables: result.outputVariables.length ? this.#box.sealJson(result.outputVariables) : null,
      })
      .where('id', '=', operationId)
      .execute();
    taskLog.forgetOperation(operationId);
    if (result.usage) {
      await recordUsage(db, operationId, result.usage);
      if (result.usage.oomKilled)
        await taskLog.system(op.task_id, await oomNotice(db, operationId, op.step_name, result.usage), 'error');
    }
    this.#observer?.operationsFinished(result.outcome, 1);
    const where = op.target_name ? ` on ${op.target_name}` : '';
    const level = result.outcome === 'succeeded' ? 'info' : result.outcome === 'cancelled' ? 'warning' : 'error';
    await taskLog.system(
      op.task_id,
      `Step '${op.step_name}'${where}: ${result.outcome}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ''}${result.message ? ` - ${result.message}` : ''}`,
      level,
    );
    await this.advance(op.task_id);
  }

  /**
   * Fails what the step has not given to any worker, queued or held back by maxParallelism: its
   * pool has had no usable worker for too long. One update and one log line however many there are.
   */
  async failUnserved(taskId: string, stepIndex: number, message: string): Promise<void> {
    const ended = await this.#db.transaction().execute(async (trx) => {
      await lockTask(trx, taskId);
      await lockOperations(trx, (q) =>
        q
          .where('task_id', '=', taskId)
          .where('step_index', '=', stepIndex)
          .where('state', 'in', PENDING_OPERATION_STATES),
      );
      return trx
        .updateTable('operations')
        .set({ state: 'finished', outcome: 'failed', message, finished_at: Date.now() })
        .where('task_id', '=', taskId)
        .where('step_index', '=', stepIndex)
        .where('state', 'in', PENDING_OPERATION_STATES)
        .returning('step_name')
        .execute();
    });
    const first = ended[0];
    if (!first) return;
    this.#observer?.operationsFinished('failed', ended.length);
    const count = ended.length === 1 ? 'its operation' : `${ended.length} operations`;
    await this.#taskLog.system(
      taskId,
      `Step '${first.step_name}': ${count} failed without starting - ${message}`,
      'error',
    );
    await this.advance(taskId);
  }

  async #advance(taskId: string): Promise<void> {
    const db = this.#db;
    const taskLog = this.#taskLog;
    const readTask = () =>
      db
        .selectFrom('tasks')
        .select(['state', 'current_step', 'failed', 'cancel_requested', 'kind'])
        .where('id', '=', taskId)
        .executeTakeFirstOrThrow();
    // Another node holds the task: it has been asked to advance it instead.
    if (this.#ownership && !(await this.#ownership.hold(this.#db, taskId))) return this.#forget(taskId);
    let task = await readTask();
    if (!isActiveTaskState(task.state)) return this.#forget(taskId);
    if (task.kind !== DEPLOY_TASK_KIND) return this.#drivers[task.kind]?.advance(taskId);
    const context = await this.#context(taskId);
    const snapshot = await this.#snapshot(taskId, task.state, context);
    const steps = snapshot.process.steps;
    for (;;) {
      task = await readTask();
      const index = task.current_step;
      const step = steps[index];
      if (step === undefined)
        return this.#end(taskId, task.cancel_requested === 1 ? 'cancelled' : task.failed ? 'failed' : 'succeeded');
      const progress = await stepProgress(db, taskId, index);
      if (progress.state === 'unplanned') {
        if (task.cancel_requested) return this.#end(taskId, 'cancelled');
        const condition = step.condition ?? 'success';
        const runs = condition === 'always' || (condition === 'success' ? !task.failed : task.failed === 1);
        if (!runs) {
          const moved = await this.#whileHeld(
            taskId,
            (trx) =>
              trx
                .updateTable('tasks')
                .set({ current_step: index + 1 })
                .where('id', '=', taskId)
                .execute(),
            `Step ${index + 1}/${steps.length} '${step.name}' skipped: it runs ${condition === 'success' ? 'only when every step before it succeeded' : 'only when a step before it failed'}`,
          );
          if (!moved) return this.#forget(taskId);
          continue;
        }
        let planned: Awaited<ReturnType<typeof planStep>>;
        let inserted: boolean;
        try {
          const plan = (planned = await planStep({ db, box: this.#box }, taskId, snapshot, context, index));
          const where = plan.onTargets ? ` on ${plan.size} target${plan.size === 1 ? '' : 's'}` : '';
          inserted = await this.#whileHeld(
            taskId,
            (trx) => insertOperations(trx, step.name, plan),
            `Step ${index + 1}/${steps.length} '${step.name}' started${where}`,
          );
        } catch (err) {
          // A step that cannot be planned fails like one whose script failed, so the steps that run after a failure still run.
          const message = failureMessage(err);
          if (!isLongshoreError(err)) this.#log.error({ err, taskId, step: step.name }, 'planning a step failed');
          const moved = await this.#whileHeld(
            taskId,
            (trx) =>
              trx
                .updateTable('tasks')
                .set({ current_step: index + 1, failed: 1, error: message })
                .where('id', '=', taskId)
                .execute(),
            `Step ${index + 1}/${steps.length} '${step.name}' failed: ${message}`,
            'error',
          );
          if (!moved) return this.#forget(taskId);
          continue;
        }
        if (!inserted) return this.#forget(taskId);
        this.#workers.notifyPool(planned.poolId, planned.queued);
        this.#pools?.stepQueued(planned.poolId);
        return;
      }
      if (progress.state === 'running') {
        if (progress.waiting) await this.#releaseWaiting(taskId, index, progress.inFlight, step.runOn?.maxParallelism);
        return;
      }
      const moved = await this.#whileHeld(taskId, (trx) =>
        trx
          .updateTable('tasks')
          .set({ current_step: index + 1, ...(progress.allSucceeded ? {} : { failed: 1 }) })
          .where('id', '=', taskId)
          .execute(),
      );
      if (!moved) return this.#forget(taskId);
    }
  }

  /**
   * Runs a write that moves the task on, with the log line that tells of it, in a transaction that
   * first makes sure this node holds the task's lease (and extends it): a node that lost the task
   * while advancing it (a pause longer than the lease, and another node took it) writes nothing,
   * so no line is written twice. False then.
   */
  async #whileHeld(
    taskId: string,
    write: (trx: Store) => Promise<unknown>,
    line?: string,
    level: LogLine['level'] = 'info',
  ): Promise<boolean> {
    const ownership = this.#ownership;
    const held = await this.#db.transaction().execute(async (trx) => {
      if (!ownership) await lockTask(trx, taskId);
      else if (!(await ownership.hold(trx, taskId))) return false;
      await write(trx);
      if (line !== undefined) await this.#taskLog.systemWithin(trx, taskId, line, level);
      return true;
    });
    if (held && line !== undefined) this.#taskLog.notify(taskId);
    return held;
  }

  /** The task's context: given when it started, else read once (a resumed task). */
  async #context(taskId: string): Promise<TaskContext> {
    const known = this.#contexts.get(taskId);
    if (known) return known;
    const { context: sealed } = await this.#db
      .selectFrom('tasks')
      .select('context')
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    const context = this.#box.openJson<TaskContext>(sealed);
    this.#contexts.set(taskId, context);
    return context;
  }

  /**
   * The task's release, kept while the task runs: it is immutable, and reading the release row
   * after every operation that ends costs in proportion to the project's size, on every one of
   * thousands of operations. Starts a queued task.
   */
  async #snapshot(taskId: string, state: string, context: TaskContext): Promise<ReleaseSnapshot> {
    const known = this.#snapshots.get(taskId);
    if (known && state !== 'queued') return known;
    const db = this.#db;
    const release = await db
      .selectFrom('releases')
      .selectAll()
      .where('id', '=', context.releaseId)
      .executeTakeFirstOrThrow();
    const snapshot = openSnapshot({ box: this.#box }, release);
    this.#snapshots.set(taskId, snapshot);
    if (state === 'queued') {
      const steps = snapshot.process.steps.length;
      await this.#ending.writeWithEvent(taskId, 'running', (store) =>
        store.updateTable('tasks').set({ state: 'running', started_at: Date.now() }).where('id', '=', taskId).execute(),
      );
      await this.#taskLog.system(
        taskId,
        `Deploying ${context.projectName} release ${context.releaseVersion} to ${context.environmentName} (${steps} step${steps === 1 ? '' : 's'})`,
      );
    }
    return snapshot;
  }

  #end(taskId: string, state: TerminalTaskState): Promise<void> {
    this.#forget(taskId);
    return this.#ending.finish(taskId, state);
  }

  #forget(taskId: string): void {
    this.#contexts.delete(taskId);
    this.#snapshots.delete(taskId);
  }

  async #releaseWaiting(
    taskId: string,
    index: number,
    inFlight: number,
    maxParallelism: number | undefined,
  ): Promise<void> {
    // Waiting operations exist only under a maxParallelism, which is at most 1,000; the cap keeps one release bounded whatever is stored.
    const room = Math.min((maxParallelism ?? Infinity) - inFlight, 1000);
    if (room <= 0) return;
    const released = await releaseWaiting(this.#db, taskId, index, room);
    if (released) this.#workers.notifyPool(released.poolId, released.count);
  }
}
