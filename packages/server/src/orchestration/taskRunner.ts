import { isLongshoreError, type OperationResult, type OutputVariable } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { openSnapshot, type ReleaseSnapshot } from '../resources/releases.js';
import { outputVariableNames, planStep, type TaskContext } from './planner.js';

export const ACTIVE_TASK_STATES = ['queued', 'running', 'cancelling'] as const;
const ACTIVE_OPERATION_STATES = ['waiting', 'queued', 'leased', 'running'];

/**
 * Moves deployment tasks forward from what is stored, so a restarted server picks up where it
 * stopped: each call looks at the task's current step and its operations and takes the next
 * step when they are all done. Calls for one task run one at a time.
 */
export class TaskRunner {
  readonly #ctx: () => ServerContext;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(ctx: () => ServerContext) {
    this.#ctx = ctx;
  }

  advance(taskId: string): Promise<void> {
    const previous = this.#chains.get(taskId) ?? Promise.resolve();
    const next = previous.then(() => this.#advance(taskId)).catch((err: unknown) => this.#ctx().log.error({ err, taskId }, 'advancing a task failed'));
    this.#chains.set(taskId, next);
    void next.finally(() => {
      if (this.#chains.get(taskId) === next) this.#chains.delete(taskId);
    });
    return next;
  }

  /** Resumes every unfinished task; called once at start. */
  async resumeAll(): Promise<void> {
    const rows = await this.#ctx().db.selectFrom('tasks').select('id').where('state', 'in', [...ACTIVE_TASK_STATES]).execute();
    await Promise.all(rows.map((r) => this.advance(r.id)));
  }

  async cancel(taskId: string): Promise<void> {
    const { db, dispatcher, taskLog } = this.#ctx();
    const task = await db.selectFrom('tasks').select(['state', 'cancel_requested']).where('id', '=', taskId).executeTakeFirstOrThrow();
    if (!(ACTIVE_TASK_STATES as readonly string[]).includes(task.state) || task.cancel_requested) return;
    await db.updateTable('tasks').set({ cancel_requested: 1, state: 'cancelling' }).where('id', '=', taskId).execute();
    await taskLog.system(taskId, 'Cancellation requested', 'warning');
    const t = Date.now();
    await db
      .updateTable('operations')
      .set({ state: 'finished', outcome: 'cancelled', message: 'Cancelled before it started', finished_at: t })
      .where('task_id', '=', taskId)
      .where('state', 'in', ['waiting', 'queued'])
      .execute();
    const held = await db
      .updateTable('operations')
      .set({ cancel_requested: 1 })
      .where('task_id', '=', taskId)
      .where('state', 'in', ['leased', 'running'])
      .returning('worker_id')
      .execute();
    for (const h of held) if (h.worker_id) dispatcher.wakeWorker(h.worker_id);
    await this.advance(taskId);
  }

  /** Records a worker's result for an operation it holds, then moves the task on. */
  async completeOperation(operationId: string, result: OperationResult): Promise<void> {
    const { db, box, taskLog } = this.#ctx();
    const op = await db.selectFrom('operations').select(['task_id', 'state', 'step_name', 'target_name']).where('id', '=', operationId).executeTakeFirstOrThrow();
    if (op.state === 'finished') return;
    await db.transaction().execute(async (trx) => {
      await trx
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
      if (result.outputVariables.length) {
        const task = await trx.selectFrom('tasks').select('context').where('id', '=', op.task_id).executeTakeFirstOrThrow();
        const context = box.openJson<TaskContext>(task.context);
        const added: OutputVariable[] = result.outputVariables.flatMap((v) =>
          outputVariableNames(op.step_name, op.target_name, v.name).map((name) => ({ name, value: v.value, sensitive: v.sensitive })),
        );
        const replaced = new Set(added.map((v) => v.name.toLowerCase()));
        context.outputs = [...context.outputs.filter((v) => !replaced.has(v.name.toLowerCase())), ...added];
        await trx.updateTable('tasks').set({ context: box.sealJson(context) }).where('id', '=', op.task_id).execute();
      }
    });
    taskLog.forgetOperation(operationId);
    const where = op.target_name ? ` on ${op.target_name}` : '';
    const level = result.outcome === 'succeeded' ? 'info' : result.outcome === 'cancelled' ? 'warning' : 'error';
    await taskLog.system(op.task_id, `Step '${op.step_name}'${where}: ${result.outcome}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ''}${result.message ? ` - ${result.message}` : ''}`, level);
    await this.advance(op.task_id);
  }

  async #advance(taskId: string): Promise<void> {
    const ctx = this.#ctx();
    const { db, box, taskLog, dispatcher } = ctx;
    let task = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
    if (!(ACTIVE_TASK_STATES as readonly string[]).includes(task.state)) return;
    const context = box.openJson<TaskContext>(task.context);
    const release = await db.selectFrom('releases').selectAll().where('id', '=', context.releaseId).executeTakeFirstOrThrow();
    const snapshot: ReleaseSnapshot = openSnapshot(ctx, release);
    const steps = snapshot.process.steps;
    if (task.state === 'queued') {
      await db.updateTable('tasks').set({ state: 'running', started_at: Date.now() }).where('id', '=', taskId).execute();
      await taskLog.system(taskId, `Deploying ${context.projectName} release ${context.releaseVersion} to ${context.environmentName} (${steps.length} step${steps.length === 1 ? '' : 's'})`);
    }
    for (;;) {
      task = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
      const index = task.current_step;
      const step = steps[index];
      if (step === undefined) return this.#finish(taskId, task.cancel_requested === 1 ? 'cancelled' : task.failed ? 'failed' : 'succeeded');
      // Counts, not rows: this runs after every operation, and a step may have hundreds.
      const counts = await db
        .selectFrom('operations')
        .select((eb) => [
          eb.fn.countAll<number>().as('total'),
          eb.fn.sum<number>(eb.case().when('state', 'in', ACTIVE_OPERATION_STATES).then(1).else(0).end()).as('active'),
          eb.fn.sum<number>(eb.case().when('state', '=', 'waiting').then(1).else(0).end()).as('waiting'),
          eb.fn.sum<number>(eb.case().when('outcome', '=', 'succeeded').then(0).else(1).end()).as('unsuccessful'),
        ])
        .where('task_id', '=', taskId)
        .where('step_index', '=', index)
        .executeTakeFirstOrThrow();
      if (Number(counts.total) === 0) {
        if (task.cancel_requested) return this.#finish(taskId, 'cancelled');
        const condition = step.condition ?? 'success';
        const runs = condition === 'always' || (condition === 'success' ? !task.failed : task.failed === 1);
        if (!runs) {
          await taskLog.system(taskId, `Step ${index + 1}/${steps.length} '${step.name}' skipped: it runs ${condition === 'success' ? 'only when every step before it succeeded' : 'only when a step before it failed'}`);
          await db.updateTable('tasks').set({ current_step: index + 1 }).where('id', '=', taskId).execute();
          continue;
        }
        try {
          const planned = await planStep(ctx, taskId, snapshot, box.openJson<TaskContext>(task.context), index);
          await db.insertInto('operations').values(planned).execute();
          const where = planned[0]!.target_id ? ` on ${planned.length} target${planned.length === 1 ? '' : 's'}` : '';
          await taskLog.system(taskId, `Step ${index + 1}/${steps.length} '${step.name}' started${where}`);
          dispatcher.notifyPool(planned[0]!.pool_id);
          return;
        } catch (err) {
          if (!isLongshoreError(err)) throw err;
          await taskLog.system(taskId, `Step ${index + 1}/${steps.length} '${step.name}' failed: ${err.message}`, 'error');
          await db.updateTable('tasks').set({ current_step: index + 1, failed: 1, error: err.message }).where('id', '=', taskId).execute();
          continue;
        }
      }
      if (Number(counts.active) > 0) {
        if (Number(counts.waiting) > 0) await this.#releaseWaiting(taskId, index, Number(counts.active) - Number(counts.waiting), step.runOn?.maxParallelism);
        return;
      }
      const failed = Number(counts.unsuccessful) > 0;
      if (failed) await db.updateTable('tasks').set({ failed: 1 }).where('id', '=', taskId).execute();
      await db.updateTable('tasks').set({ current_step: index + 1 }).where('id', '=', taskId).execute();
    }
  }

  async #releaseWaiting(taskId: string, index: number, busy: number, maxParallelism: number | undefined): Promise<void> {
    const room = (maxParallelism ?? Infinity) - busy;
    if (room <= 0) return;
    const { db, dispatcher } = this.#ctx();
    const release = await db
      .selectFrom('operations')
      .select(['id', 'pool_id'])
      .where('task_id', '=', taskId)
      .where('step_index', '=', index)
      .where('state', '=', 'waiting')
      .orderBy('created_at')
      .limit(Math.min(room, 1000))
      .execute();
    if (release.length === 0) return;
    await db.updateTable('operations').set({ state: 'queued' }).where('id', 'in', release.map((o) => o.id)).where('state', '=', 'waiting').execute();
    dispatcher.notifyPool(release[0]!.pool_id);
  }

  async #finish(taskId: string, state: 'succeeded' | 'failed' | 'cancelled'): Promise<void> {
    const { db, taskLog } = this.#ctx();
    // The last line goes in before the state changes, so a follower that sees the end has it.
    await taskLog.system(taskId, `Deployment ${state}`, state === 'succeeded' ? 'info' : state === 'cancelled' ? 'warning' : 'error');
    await db.updateTable('tasks').set({ state, completed_at: Date.now() }).where('id', '=', taskId).execute();
    taskLog.notify(taskId);
  }
}
