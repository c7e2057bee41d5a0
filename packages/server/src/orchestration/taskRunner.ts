import {
  ACTIVE_OPERATION_STATES,
  PENDING_OPERATION_STATES,
  isLongshoreError,
  type OperationResult,
} from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { openSnapshot, type ReleaseSnapshot } from '../resources/releases.js';
import { insertOperations } from './operationInserts.js';
import { planStep, type TaskContext } from './planner.js';
import { releaseWaiting, stepProgress } from './stepOperations.js';
import { ACTIVE_TASK_STATES, isActiveTaskState, type TerminalTaskState } from './taskState.js';

/** What a user reads about a failure: our own errors say what to do; anything else is shown as it is. */
function failureMessage(err: unknown): string {
  if (isLongshoreError(err)) return err.message;
  return `internal error: ${err instanceof Error ? err.message : String(err)} (the server log has the details)`;
}

/**
 * Moves deployment tasks forward from what is stored, so a restarted server picks up where it
 * stopped: each call looks at the task's current step and its operations and takes the next
 * step when they are all done. Calls for one task run one at a time. Whatever goes wrong while
 * advancing fails the task with the error: a task is never left running with nothing to wait for.
 */
export class TaskRunner {
  readonly #ctx: () => ServerContext;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #snapshots = new Map<string, ReleaseSnapshot>();

  constructor(ctx: () => ServerContext) {
    this.#ctx = ctx;
  }

  advance(taskId: string): Promise<void> {
    const previous = this.#chains.get(taskId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#advance(taskId))
      .catch((err: unknown) => this.#fail(taskId, err))
      .catch((err: unknown) =>
        this.#ctx().log.error({ err, taskId }, 'a task could not advance and could not be marked failed'),
      );
    this.#chains.set(taskId, next);
    void next.finally(() => {
      if (this.#chains.get(taskId) === next) this.#chains.delete(taskId);
    });
    return next;
  }

  /** Resumes every unfinished task, failing those that cannot go on; called once at start. */
  async resumeAll(): Promise<void> {
    const rows = await this.#ctx()
      .db.selectFrom('tasks')
      .select('id')
      .where('state', 'in', [...ACTIVE_TASK_STATES])
      .execute();
    await Promise.all(rows.map((r) => this.advance(r.id)));
  }

  async cancel(taskId: string): Promise<void> {
    const { db, dispatcher, taskLog } = this.#ctx();
    const task = await db
      .selectFrom('tasks')
      .select(['state', 'cancel_requested'])
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    if (!isActiveTaskState(task.state) || task.cancel_requested) return;
    await db.updateTable('tasks').set({ cancel_requested: 1, state: 'cancelling' }).where('id', '=', taskId).execute();
    await taskLog.system(taskId, 'Cancellation requested', 'warning');
    await this.#stopOperations(taskId, 'Cancelled before it started');
    await this.advance(taskId);
  }

  /** Ends what the task has not started and asks workers to stop what they run. */
  async #stopOperations(taskId: string, message: string): Promise<void> {
    const { db, dispatcher } = this.#ctx();
    await db
      .updateTable('operations')
      .set({ state: 'finished', outcome: 'cancelled', message, finished_at: Date.now() })
      .where('task_id', '=', taskId)
      .where('state', 'in', PENDING_OPERATION_STATES)
      .execute();
    const held = await db
      .updateTable('operations')
      .set({ cancel_requested: 1 })
      .where('task_id', '=', taskId)
      .where('state', 'in', ACTIVE_OPERATION_STATES)
      .returning('worker_id')
      .execute();
    for (const h of held) if (h.worker_id) dispatcher.wakeWorker(h.worker_id);
  }

  /**
   * Fails a task whose advancing threw. Each part is tried on its own, so that what is broken (a
   * log write, the operations) cannot keep the task itself from ending.
   */
  async #fail(taskId: string, err: unknown): Promise<void> {
    const { db, log, taskLog } = this.#ctx();
    this.#forget(taskId);
    log.error({ err, taskId }, 'advancing a task failed; failing the task');
    const task = await db.selectFrom('tasks').select('state').where('id', '=', taskId).executeTakeFirst();
    if (!task || !isActiveTaskState(task.state)) return;
    const message = failureMessage(err);
    const attempt = (what: string, work: () => Promise<void>) =>
      work().catch((e: unknown) => log.error({ err: e, taskId }, `failing a task: ${what} failed`));
    await attempt('stopping its operations', () =>
      this.#stopOperations(taskId, `Not started: the deployment failed (${message})`),
    );
    await attempt('writing its log', async () => {
      await taskLog.system(taskId, `The deployment cannot continue: ${message}`, 'error');
      await taskLog.system(taskId, 'Deployment failed', 'error');
    });
    await db
      .updateTable('tasks')
      .set({ state: 'failed', failed: 1, error: message, completed_at: Date.now() })
      .where('id', '=', taskId)
      .execute();
    taskLog.notify(taskId);
  }

  /** Records a worker's result for an operation it holds, then moves the task on. */
  async completeOperation(operationId: string, result: OperationResult): Promise<void> {
    const { db, box, taskLog } = this.#ctx();
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
        output_variables: result.outputVariables.length ? box.sealJson(result.outputVariables) : null,
      })
      .where('id', '=', operationId)
      .execute();
    taskLog.forgetOperation(operationId);
    const where = op.target_name ? ` on ${op.target_name}` : '';
    const level = result.outcome === 'succeeded' ? 'info' : result.outcome === 'cancelled' ? 'warning' : 'error';
    await taskLog.system(
      op.task_id,
      `Step '${op.step_name}'${where}: ${result.outcome}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ''}${result.message ? ` - ${result.message}` : ''}`,
      level,
    );
    await this.advance(op.task_id);
  }

  async #advance(taskId: string): Promise<void> {
    const ctx = this.#ctx();
    const { db, box, taskLog, dispatcher } = ctx;
    const readTask = () =>
      db
        .selectFrom('tasks')
        .select(['state', 'current_step', 'failed', 'cancel_requested'])
        .where('id', '=', taskId)
        .executeTakeFirstOrThrow();
    let task = await readTask();
    if (!isActiveTaskState(task.state)) return this.#forget(taskId);
    const snapshot = await this.#snapshot(taskId, task.state);
    const steps = snapshot.process.steps;
    for (;;) {
      task = await readTask();
      const index = task.current_step;
      const step = steps[index];
      if (step === undefined)
        return this.#finish(taskId, task.cancel_requested === 1 ? 'cancelled' : task.failed ? 'failed' : 'succeeded');
      const progress = await stepProgress(db, taskId, index);
      if (progress.state === 'unplanned') {
        if (task.cancel_requested) return this.#finish(taskId, 'cancelled');
        const condition = step.condition ?? 'success';
        const runs = condition === 'always' || (condition === 'success' ? !task.failed : task.failed === 1);
        if (!runs) {
          await taskLog.system(
            taskId,
            `Step ${index + 1}/${steps.length} '${step.name}' skipped: it runs ${condition === 'success' ? 'only when every step before it succeeded' : 'only when a step before it failed'}`,
          );
          await db
            .updateTable('tasks')
            .set({ current_step: index + 1 })
            .where('id', '=', taskId)
            .execute();
          continue;
        }
        let planned: Awaited<ReturnType<typeof planStep>>;
        try {
          const { context } = await db
            .selectFrom('tasks')
            .select('context')
            .where('id', '=', taskId)
            .executeTakeFirstOrThrow();
          planned = await planStep(ctx, taskId, snapshot, box.openJson<TaskContext>(context), index);
          await insertOperations(db, step.name, planned);
        } catch (err) {
          // A step that cannot be planned fails like one whose script failed, so the steps that run after a failure still run.
          const message = failureMessage(err);
          if (!isLongshoreError(err)) ctx.log.error({ err, taskId, step: step.name }, 'planning a step failed');
          await taskLog.system(taskId, `Step ${index + 1}/${steps.length} '${step.name}' failed: ${message}`, 'error');
          await db
            .updateTable('tasks')
            .set({ current_step: index + 1, failed: 1, error: message })
            .where('id', '=', taskId)
            .execute();
          continue;
        }
        const where = planned.onTargets ? ` on ${planned.size} target${planned.size === 1 ? '' : 's'}` : '';
        await taskLog.system(taskId, `Step ${index + 1}/${steps.length} '${step.name}' started${where}`);
        dispatcher.notifyPool(planned.poolId);
        return;
      }
      if (progress.state === 'running') {
        if (progress.waiting) await this.#releaseWaiting(taskId, index, progress.inFlight, step.runOn?.maxParallelism);
        return;
      }
      await db
        .updateTable('tasks')
        .set({ current_step: index + 1, ...(progress.allSucceeded ? {} : { failed: 1 }) })
        .where('id', '=', taskId)
        .execute();
    }
  }

  /**
   * The task's release, kept while the task runs: it is immutable, and reading the release row and
   * decrypting the task's context after every operation that ends costs in proportion to the
   * project's size, on every one of thousands of operations. Starts a queued task.
   */
  async #snapshot(taskId: string, state: string): Promise<ReleaseSnapshot> {
    const known = this.#snapshots.get(taskId);
    if (known && state !== 'queued') return known;
    const ctx = this.#ctx();
    const { db, box, taskLog } = ctx;
    const { context: sealed } = await db
      .selectFrom('tasks')
      .select('context')
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    const context = box.openJson<TaskContext>(sealed);
    const release = await db
      .selectFrom('releases')
      .selectAll()
      .where('id', '=', context.releaseId)
      .executeTakeFirstOrThrow();
    const snapshot = openSnapshot(ctx, release);
    this.#snapshots.set(taskId, snapshot);
    if (state === 'queued') {
      const steps = snapshot.process.steps.length;
      await db
        .updateTable('tasks')
        .set({ state: 'running', started_at: Date.now() })
        .where('id', '=', taskId)
        .execute();
      await taskLog.system(
        taskId,
        `Deploying ${context.projectName} release ${context.releaseVersion} to ${context.environmentName} (${steps} step${steps === 1 ? '' : 's'})`,
      );
    }
    return snapshot;
  }

  #forget(taskId: string): void {
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
    const { db, dispatcher } = this.#ctx();
    const pool = await releaseWaiting(db, taskId, index, room);
    if (pool) dispatcher.notifyPool(pool);
  }

  async #finish(taskId: string, state: TerminalTaskState): Promise<void> {
    const { db, taskLog } = this.#ctx();
    this.#forget(taskId);
    // The last line goes in before the state changes, so a follower that sees the end has it.
    await taskLog.system(
      taskId,
      `Deployment ${state}`,
      state === 'succeeded' ? 'info' : state === 'cancelled' ? 'warning' : 'error',
    );
    await db.updateTable('tasks').set({ state, completed_at: Date.now() }).where('id', '=', taskId).execute();
    taskLog.notify(taskId);
  }
}
