import { ACTIVE_OPERATION_STATES, PENDING_OPERATION_STATES, isLongshoreError } from '@longshore/protocol';
import { lockOperations, lockTask } from '../store/lockOrder.js';
import type { Store } from '../store/database.js';
import { writeWithEvent } from '../webhooks/webhookEvents.js';
import { DEPLOY_TASK_KIND } from './taskCreation.js';
import type { TaskRunnerParts } from './taskRunnerParts.js';
import { isActiveTaskState, type TerminalTaskState } from './taskState.js';

/** What a user reads about a failure: our own errors say what to do; anything else is shown as it is. */
export function failureMessage(err: unknown): string {
  if (isLongshoreError(err)) return err.message;
  return `internal error: ${err instanceof Error ? err.message : String(err)} (the server log has the details)`;
}

/**
 * How a task ends: its last log lines, its end state with the deployment's webhook event in the
 * same transaction, and its operations stopped (those not started end at once, workers are asked
 * to stop the others).
 */
export class TaskEnding {
  readonly #parts: Pick<TaskRunnerParts, 'db' | 'log' | 'taskLog' | 'workers' | 'observer' | 'events'>;

  constructor(parts: Pick<TaskRunnerParts, 'db' | 'log' | 'taskLog' | 'workers' | 'observer' | 'events'>) {
    this.#parts = parts;
  }

  /** Ends what the task has not started and asks workers to stop what they run. */
  async stopOperations(taskId: string, message: string): Promise<void> {
    const { ended, held } = await this.#parts.db.transaction().execute(async (trx) => {
      await lockTask(trx, taskId);
      await lockOperations(trx, (q) =>
        q.where('task_id', '=', taskId).where('state', 'in', [...PENDING_OPERATION_STATES, ...ACTIVE_OPERATION_STATES]),
      );
      const ended = await trx
        .updateTable('operations')
        .set({ state: 'finished', outcome: 'cancelled', message, finished_at: Date.now() })
        .where('task_id', '=', taskId)
        .where('state', 'in', PENDING_OPERATION_STATES)
        .executeTakeFirst();
      const held = await trx
        .updateTable('operations')
        .set({ cancel_requested: 1 })
        .where('task_id', '=', taskId)
        .where('state', 'in', ACTIVE_OPERATION_STATES)
        .returning('worker_id')
        .execute();
      return { ended: Number(ended.numUpdatedRows), held };
    });
    if (ended) this.#parts.observer?.operationsFinished('cancelled', ended);
    for (const h of held) if (h.worker_id) this.#parts.workers.wakeWorker(h.worker_id);
  }

  /**
   * Fails a task whose advancing threw. Each part is tried on its own, so that what is broken (a
   * log write, the operations) cannot keep the task itself from ending.
   */
  async fail(taskId: string, err: unknown): Promise<void> {
    const { db, log, taskLog } = this.#parts;
    log.error({ err, taskId }, 'advancing a task failed; failing the task');
    const task = await db.selectFrom('tasks').select(['state', 'kind']).where('id', '=', taskId).executeTakeFirst();
    if (!task || !isActiveTaskState(task.state)) return;
    const message = failureMessage(err);
    const attempt = (what: string, work: () => Promise<void>) =>
      work().catch((e: unknown) => log.error({ err: e, taskId }, `failing a task: ${what} failed`));
    await attempt('stopping its operations', () =>
      this.stopOperations(taskId, `Not started: the deployment failed (${message})`),
    );
    await attempt('writing its log', async () => {
      await taskLog.system(taskId, `The deployment cannot continue: ${message}`, 'error');
      await taskLog.system(taskId, 'Deployment failed', 'error');
    });
    await this.#endState(taskId, task.kind, 'failed', { failed: 1, error: message });
    taskLog.notify(taskId);
  }

  /** A deployment that ran all its steps (or was cancelled between them). */
  async finish(taskId: string, state: TerminalTaskState): Promise<void> {
    const { taskLog } = this.#parts;
    // The last line goes in before the state changes, so a follower that sees the end has it.
    await taskLog.system(
      taskId,
      `Deployment ${state}`,
      state === 'succeeded' ? 'info' : state === 'cancelled' ? 'warning' : 'error',
    );
    await this.#endState(taskId, DEPLOY_TASK_KIND, state);
    taskLog.notify(taskId);
  }

  /** The write, and the deployment's event (when there is one) in its transaction. */
  writeWithEvent(
    taskId: string,
    state: 'running' | TerminalTaskState | undefined,
    write: (store: Store) => Promise<unknown>,
  ): Promise<void> {
    const { db, log, events } = this.#parts;
    const queue = events && state ? (trx: Store) => events.deploymentChanged(trx, taskId, state) : undefined;
    return writeWithEvent(db, log, write, queue, { taskId });
  }

  /** Writes a task's end; a deployment's queues its webhook event with it. */
  #endState(
    taskId: string,
    kind: string,
    state: TerminalTaskState,
    extra: { failed?: number; error?: string } = {},
  ): Promise<void> {
    const write = (store: Store) =>
      store
        .updateTable('tasks')
        .set({ state, completed_at: Date.now(), ...extra })
        .where('id', '=', taskId)
        .execute();
    return this.writeWithEvent(taskId, kind === DEPLOY_TASK_KIND ? state : undefined, write);
  }
}
