import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { maySee } from '../identity/authorization.js';
import type { Store } from '../store/database.js';
import { newId } from '../crypto/tokens.js';
import {
  Description,
  createUnderFreeName,
  ListOf,
  Name,
  NamedRow,
  NoContent,
  RefParams,
  findByRef,
  inTransaction,
  iso,
  nameHolder,
  now,
  uniquely,
} from './common.js';
import { Process, VariableInput, processProblems, type VariableInput as VariableInputT } from './processSchema.js';
import { normaliseName } from './names.js';
import { Variable, presentVariables, variableRows, writeVariables } from './projectVariables.js';
import { namesById, refuseProblems, resolveRef } from './references.js';
import { ACTIVE_TASK_STATES } from '../orchestration/taskState.js';

export { loadVariables, type StoredVariable } from './projectVariables.js';

export const ProjectInput = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    process: Type.Optional(Process),
    variables: Type.Optional(Type.Array(VariableInput, { maxItems: 5000 })),
  },
  { additionalProperties: false },
);
export type ProjectInput = Static<typeof ProjectInput>;

const Project = Type.Object({
  ...NamedRow,
  description: Type.String(),
  process: Process,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/** Stored steps name their worker pool by id; the API shows its current name. */
async function present(db: Store, id: string): Promise<Static<typeof Project>> {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const poolName = await namesById(db, 'worker_pools');
  const process = JSON.parse(row.process) as Process;
  for (const step of process.steps) if (step.runOn?.pool !== undefined) step.runOn.pool = poolName(step.runOn.pool);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    process,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

/** The process as stored: checked, step names normalised, pools by id. */
async function storedProcess(db: Store, process: Process, problems: string[]): Promise<Process> {
  problems.push(...processProblems(process));
  const steps = [];
  for (const [i, step] of process.steps.entries()) {
    const pool = step.runOn?.pool;
    const poolId =
      pool === undefined
        ? undefined
        : await resolveRef(db, 'worker_pools', pool, `process.steps[${i}].runOn.pool`, problems);
    steps.push({
      ...step,
      name: normaliseName(step.name),
      ...(step.runOn && poolId !== undefined ? { runOn: { ...step.runOn, pool: poolId } } : {}),
    });
  }
  return { ...process, steps };
}

/**
 * Creates or updates a project by name; process and variables are replaced only when given.
 * Everything is checked before the first write.
 */
export async function upsertProject(ctx: ServerContext, input: ProjectInput): Promise<string> {
  const name = normaliseName(input.name);
  const existing = await nameHolder(ctx.db, 'projects', name);
  const problems: string[] = [];
  const process = input.process ? await storedProcess(ctx.db, input.process, problems) : undefined;
  refuseProblems(problems);
  const variables = input.variables ? await variableRows(ctx, existing?.id, input.variables) : undefined;
  const t = now();
  let id = existing?.id;
  if (id) {
    await ctx.db
      .updateTable('projects')
      .set({
        updated_at: t,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(process ? { process: JSON.stringify(process) } : {}),
      })
      .where('id', '=', id)
      .execute();
  } else {
    id = newId('project');
    const values = {
      id,
      name,
      description: input.description ?? '',
      process: JSON.stringify(process ?? { steps: [] }),
      created_at: t,
      updated_at: t,
    };
    await uniquely(`A project named '${name}'`, () => ctx.db.insertInto('projects').values(values).execute());
  }
  if (variables) await writeVariables(ctx.db, id, variables);
  return id;
}

export async function projectRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['projects'];
  app.get('/api/projects', { schema: { tags, response: { 200: ListOf(Project) } } }, async (req) => {
    const rows = await ctx.db.selectFrom('projects').select('id').orderBy('name').execute();
    const visible = rows.filter((r) => maySee(req, 'project:view', { project: r.id }));
    return { items: await Promise.all(visible.map((r) => present(ctx.db, r.id))) };
  });
  app.get('/api/projects/:ref', { schema: { tags, params: RefParams, response: { 200: Project } } }, async (req) =>
    present(ctx.db, (await findByRef(ctx.db, 'projects', req.params.ref)).id),
  );
  app.post(
    '/api/projects',
    { schema: { tags, body: ProjectInput, response: { 201: Project } } },
    async (req, reply) => {
      const id = await createUnderFreeName(ctx, 'projects', 'A project', req.body.name, (tx) =>
        upsertProject(tx, req.body),
      );
      return reply.status(201).send(await present(ctx.db, id));
    },
  );
  app.put(
    '/api/projects/:ref/process',
    { schema: { tags, params: RefParams, body: Process, response: { 200: Project } } },
    async (req) => {
      const id = await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'projects', req.params.ref);
        return upsertProject(tx, { name: row.name, process: req.body });
      });
      return present(ctx.db, id);
    },
  );
  app.get(
    '/api/projects/:ref/variables',
    { schema: { tags, params: RefParams, response: { 200: ListOf(Variable) } } },
    async (req) => {
      const row = await findByRef(ctx.db, 'projects', req.params.ref);
      return { items: await presentVariables(ctx.db, row.id) };
    },
  );
  app.get(
    '/api/projects/:ref/variables/sensitive',
    {
      schema: {
        tags,
        description: "The project's variables with their sensitive values revealed",
        params: RefParams,
        response: { 200: ListOf(Variable) },
      },
    },
    async (req) => {
      const row = await findByRef(ctx.db, 'projects', req.params.ref);
      return { items: await presentVariables(ctx.db, row.id, ctx) };
    },
  );
  app.put(
    '/api/projects/:ref/variables',
    {
      schema: {
        tags,
        params: RefParams,
        body: Type.Array(VariableInput, { maxItems: 5000 }),
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'projects', req.params.ref);
        await writeVariables(tx.db, row.id, await variableRows(tx, row.id, req.body));
      });
      return reply.status(204).send();
    },
  );
  app.delete(
    '/api/projects/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'projects', req.params.ref);
        const running = await tx.db
          .selectFrom('deployments')
          .innerJoin('tasks', 'tasks.id', 'deployments.task_id')
          .select('tasks.id')
          .where('deployments.project_id', '=', row.id)
          .where('tasks.state', 'in', ACTIVE_TASK_STATES)
          .executeTakeFirst();
        if (running)
          throw new LongshoreError(
            'CONFLICT',
            `Project '${row.name}' has a deployment in progress (task ${running.id}); cancel it first`,
          );
        await tx.db.deleteFrom('projects').where('id', '=', row.id).execute();
      });
      return reply.status(204).send();
    },
  );
}
