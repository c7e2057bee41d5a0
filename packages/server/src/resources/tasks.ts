import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError, type OutputVariable } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { maySee } from '../identity/authorization.js';
import { WithDefaults } from '../http/validation.js';
import { ListOf, iso } from './common.js';
import { isActiveTaskState, type TaskState } from '../orchestration/taskState.js';
import { HEALTH_CHECK_TASK_KIND } from '../health/healthChecks.js';

const TaskParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const OperationView = Type.Object({
  id: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  outcome: Type.Union([Type.String(), Type.Null()]),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  worker: Type.Union([Type.String(), Type.Null()]),
  /** The Kubernetes pod its script runs in. */
  scriptPod: Type.Union([Type.String(), Type.Null()]),
  progress: Type.Union([Type.Integer(), Type.Null()]),
  progressMessage: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  /** Its timeline: joined its pool's queue, taken by a worker, first log line, script began, ended. */
  queuedAt: Type.Union([Type.String(), Type.Null()]),
  leasedAt: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  scriptStartedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  /** What the script set; a sensitive one's value is never shown (null). */
  outputVariables: Type.Array(
    Type.Object({ name: Type.String(), value: Type.Union([Type.String(), Type.Null()]), sensitive: Type.Boolean() }),
  ),
});
const Task = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  project: Type.Union([Type.String(), Type.Null()], { description: "A deployment's project; null for other tasks" }),
  environment: Type.Union([Type.String(), Type.Null()], {
    description: "A deployment's environment; null for other tasks",
  }),
  state: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  completedAt: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(Type.Object({ index: Type.Integer(), name: Type.String(), operations: Type.Array(OperationView) })),
});
type TaskView = Static<typeof Task>;

export const isTerminal = (state: string) => !isActiveTaskState(state);

/**
 * An operation's output variables as the API shows them, sensitive values withheld. Ones that
 * cannot be read (a damaged store) are left out with a warning: the task itself stays viewable,
 * and planning, which needs them, fails the task with the reason.
 */
function shownOutputs(
  ctx: ServerContext,
  operationId: string,
  sealed: string | null,
): TaskView['steps'][number]['operations'][number]['outputVariables'] {
  if (sealed === null) return [];
  try {
    return ctx.box
      .openJson<OutputVariable[]>(sealed)
      .map((v) => ({ name: v.name, value: v.sensitive ? null : v.value, sensitive: v.sensitive }));
  } catch (err) {
    ctx.log.warn({ err, operationId }, "an operation's output variables cannot be read");
    return [];
  }
}

export async function loadTask(ctx: ServerContext, id: string): Promise<TaskView> {
  const row = await ctx.db
    .selectFrom('tasks')
    .leftJoin('deployments', 'deployments.task_id', 'tasks.id')
    .leftJoin('projects', 'projects.id', 'deployments.project_id')
    .leftJoin('environments', 'environments.id', 'deployments.environment_id')
    .selectAll('tasks')
    .select(['projects.name as project', 'environments.name as environment'])
    .where('tasks.id', '=', id)
    .executeTakeFirst();
  if (!row) throw new LongshoreError('NOT_FOUND', `Task '${id}' does not exist`);
  const ops = await ctx.db
    .selectFrom('operations')
    .leftJoin('workers', 'workers.id', 'operations.worker_id')
    .select([
      'operations.id',
      'step_index',
      'step_name',
      'target_name',
      'state',
      'outcome',
      'exit_code',
      'message',
      'workers.name as worker',
      'script_pod',
      'progress',
      'progress_message',
      'operations.created_at',
      'queued_at',
      'leased_at',
      'started_at',
      'script_started_at',
      'finished_at',
      'output_variables',
    ])
    .where('task_id', '=', id)
    .orderBy('step_index')
    .orderBy('operations.created_at')
    .execute();
  const steps: TaskView['steps'] = [];
  for (const o of ops) {
    let step = steps.find((s) => s.index === o.step_index);
    if (!step) steps.push((step = { index: o.step_index, name: o.step_name, operations: [] }));
    step.operations.push({
      id: o.id,
      target: o.target_name,
      state: o.state,
      outcome: o.outcome,
      exitCode: o.exit_code,
      message: o.message,
      worker: o.worker,
      scriptPod: o.script_pod,
      progress: o.progress,
      progressMessage: o.progress_message,
      createdAt: iso(o.created_at)!,
      queuedAt: iso(o.queued_at),
      leasedAt: iso(o.leased_at),
      startedAt: iso(o.started_at),
      scriptStartedAt: iso(o.script_started_at),
      finishedAt: iso(o.finished_at),
      outputVariables: shownOutputs(ctx, o.id, o.output_variables),
    });
  }
  return {
    id: row.id,
    kind: row.kind,
    description: row.description,
    project: row.project,
    environment: row.environment,
    state: row.state,
    error: row.error,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    steps,
  };
}

export async function taskRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tasks'];
  app.get(
    '/api/tasks',
    {
      schema: {
        tags,
        querystring: WithDefaults(
          Type.Object({
            state: Type.Optional(Type.String({ maxLength: 20 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          }),
        ),
        response: { 200: ListOf(Task) },
      },
    },
    async (req) => {
      const { state, limit } = req.query;
      let q = ctx.db
        .selectFrom('tasks')
        .leftJoin('deployments', 'deployments.task_id', 'tasks.id')
        .select(['tasks.id', 'deployments.project_id', 'deployments.environment_id'])
        .orderBy('tasks.created_at', 'desc')
        .limit(limit);
      // An unknown state matches no task, as any filter value would.
      if (state) q = q.where('tasks.state', '=', state as TaskState);
      const rows = (await q.execute()).filter((r) =>
        maySee(req, 'task:view', {
          ...(r.project_id !== null && { project: r.project_id }),
          ...(r.environment_id !== null && { environment: r.environment_id }),
        }),
      );
      return { items: await Promise.all(rows.map((r) => loadTask(ctx, r.id))) };
    },
  );
  app.get('/api/tasks/:id', { schema: { tags, params: TaskParams, response: { 200: Task } } }, async (req) =>
    loadTask(ctx, req.params.id),
  );
  app.post(
    '/api/tasks/:id/cancel',
    { schema: { tags, params: TaskParams, response: { 202: Task } } },
    async (req, reply) => {
      const { id } = req.params;
      const task = await loadTask(ctx, id);
      if (isTerminal(task.state))
        throw new LongshoreError('CONFLICT', `Task '${id}' already ${task.state}; there is nothing to cancel`);
      if (task.kind === HEALTH_CHECK_TASK_KIND)
        throw new LongshoreError(
          'CONFLICT',
          `Task '${id}' is a health check: it ends with the worker's report or its timeout`,
        );
      await ctx.tasks.cancel(id);
      return reply.status(202).send(await loadTask(ctx, id));
    },
  );
}
