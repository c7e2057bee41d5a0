import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/database.js';
import { newId } from '../crypto/tokens.js';
import { Description, ListOf, Name, RefParams, findByRef, inTransaction, iso, now, uniquely } from './common.js';
import { Process, VariableInput, VariableScope, processProblems, type VariableInput as VariableInputT } from './processSchema.js';

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

const Variable = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** null for a sensitive variable: its value is never returned. */
  value: Type.Union([Type.String(), Type.Null()]),
  sensitive: Type.Boolean(),
  scope: VariableScope,
});
const Project = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String(), process: Process, createdAt: Type.String(), updatedAt: Type.String() });

export interface StoredVariable { name: string; value: string; sensitive: boolean; scope: Static<typeof VariableScope> }

async function present(db: Store, id: string): Promise<Static<typeof Project>> {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, description: row.description, process: JSON.parse(row.process) as Process, createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)! };
}

async function validateProcess(db: Store, process: Process): Promise<void> {
  const problems = processProblems(process);
  for (const [i, step] of process.steps.entries()) {
    const pool = step.runOn?.pool;
    if (pool === undefined) continue;
    const found = await db.selectFrom('worker_pools').select('id').where('name', '=', pool).executeTakeFirst();
    if (!found) problems.push(`process.steps[${i}].runOn.pool: worker pool '${pool}' does not exist`);
  }
  if (problems.length > 0) throw new LongshoreError('VALIDATION_FAILED', problems.join('; '), { problems });
}

/** Creates or updates a project by name; process and variables are replaced only when given. */
export async function upsertProject(ctx: ServerContext, input: ProjectInput): Promise<string> {
  if (input.process) await validateProcess(ctx.db, input.process);
  const existing = await ctx.db.selectFrom('projects').select('id').where('name', '=', input.name).executeTakeFirst();
  const t = now();
  let id = existing?.id;
  if (id) {
    await ctx.db
      .updateTable('projects')
      .set({ updated_at: t, ...(input.description !== undefined ? { description: input.description } : {}), ...(input.process ? { process: JSON.stringify(input.process) } : {}) })
      .where('id', '=', id)
      .execute();
  } else {
    id = newId('project');
    const values = { id, name: input.name, description: input.description ?? '', process: JSON.stringify(input.process ?? { steps: [] }), created_at: t, updated_at: t };
    await uniquely(`A project named '${input.name}'`, () => ctx.db.insertInto('projects').values(values).execute());
  }
  if (input.variables) await replaceVariables(ctx, id, input.variables);
  return id;
}

const scopeKey = (name: string, scope: unknown) => `${name.toLowerCase()}\u0000${JSON.stringify(scope ?? {})}`;

async function replaceVariables(ctx: ServerContext, projectId: string, inputs: VariableInputT[]): Promise<void> {
  const current = await ctx.db.selectFrom('variables').selectAll().where('project_id', '=', projectId).execute();
  const kept = new Map(current.filter((v) => v.sensitive === 1).map((v) => [scopeKey(v.name, JSON.parse(v.scope)), v.value]));
  const rows = inputs.map((v, position) => {
    const scope = v.scope ?? {};
    let value: string;
    if (v.value !== undefined) value = v.sensitive ? ctx.box.seal(v.value) : v.value;
    else {
      const previous = v.sensitive ? kept.get(scopeKey(v.name, scope)) : undefined;
      if (previous === undefined) throw new LongshoreError('VALIDATION_FAILED', `variables[${position}] '${v.name}': value is required`);
      value = previous;
    }
    return { id: newId('var'), project_id: projectId, position, name: v.name, value, sensitive: v.sensitive ? 1 : 0, scope: JSON.stringify(scope) };
  });
  await ctx.db.deleteFrom('variables').where('project_id', '=', projectId).execute();
  for (let i = 0; i < rows.length; i += 200) await ctx.db.insertInto('variables').values(rows.slice(i, i + 200)).execute();
}

/** Variables with sensitive values decrypted, for snapshotting into a release. */
export async function loadVariables(ctx: ServerContext, projectId: string): Promise<StoredVariable[]> {
  const rows = await ctx.db.selectFrom('variables').selectAll().where('project_id', '=', projectId).orderBy('position').execute();
  return rows.map((r) => ({ name: r.name, value: r.sensitive ? ctx.box.open(r.value) : r.value, sensitive: r.sensitive === 1, scope: JSON.parse(r.scope) as StoredVariable['scope'] }));
}

export async function projectRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const tags = ['projects'];
  const ref = (req: { params: unknown }) => (req.params as { ref: string }).ref;
  app.get('/api/projects', { schema: { tags, response: { 200: ListOf(Project) } } }, async () => {
    const rows = await ctx.db.selectFrom('projects').select('id').orderBy('name').execute();
    return { items: await Promise.all(rows.map((r) => present(ctx.db, r.id))) };
  });
  app.get('/api/projects/:ref', { schema: { tags, params: RefParams, response: { 200: Project } } }, async (req) =>
    present(ctx.db, (await findByRef(ctx.db, 'projects', ref(req))).id),
  );
  app.post('/api/projects', { schema: { tags, body: ProjectInput, response: { 201: Project } } }, async (req, reply) => {
    const input = req.body as ProjectInput;
    const clash = await ctx.db.selectFrom('projects').select('id').where('name', '=', input.name).executeTakeFirst();
    if (clash) throw new LongshoreError('CONFLICT', `A project named '${input.name}' already exists`);
    const id = await inTransaction(ctx, (tx) => upsertProject(tx, input));
    return reply.status(201).send(await present(ctx.db, id));
  });
  app.put('/api/projects/:ref/process', { schema: { tags, params: RefParams, body: Process, response: { 200: Project } } }, async (req) => {
    const row = await findByRef(ctx.db, 'projects', ref(req));
    await inTransaction(ctx, (tx) => upsertProject(tx, { name: row.name, process: req.body as Process }));
    return present(ctx.db, row.id);
  });
  app.get('/api/projects/:ref/variables', { schema: { tags, params: RefParams, response: { 200: ListOf(Variable) } } }, async (req) => {
    const row = await findByRef(ctx.db, 'projects', ref(req));
    const rows = await ctx.db.selectFrom('variables').selectAll().where('project_id', '=', row.id).orderBy('position').execute();
    return { items: rows.map((v) => ({ id: v.id, name: v.name, value: v.sensitive ? null : v.value, sensitive: v.sensitive === 1, scope: JSON.parse(v.scope) as Static<typeof VariableScope> })) };
  });
  app.put('/api/projects/:ref/variables', { schema: { tags, params: RefParams, body: Type.Array(VariableInput, { maxItems: 5000 }) } }, async (req, reply) => {
    const row = await findByRef(ctx.db, 'projects', ref(req));
    await inTransaction(ctx, (tx) => replaceVariables(tx, row.id, req.body as VariableInputT[]));
    return reply.status(204).send();
  });
  app.delete('/api/projects/:ref', { schema: { tags, params: RefParams } }, async (req, reply) => {
    const row = await findByRef(ctx.db, 'projects', ref(req));
    const running = await ctx.db
      .selectFrom('deployments')
      .innerJoin('tasks', 'tasks.id', 'deployments.task_id')
      .select('tasks.id')
      .where('deployments.project_id', '=', row.id)
      .where('tasks.state', 'in', ['queued', 'running', 'cancelling'])
      .executeTakeFirst();
    if (running) throw new LongshoreError('CONFLICT', `Project '${row.name}' has a deployment in progress (task ${running.id}); cancel it first`);
    await ctx.db.deleteFrom('projects').where('id', '=', row.id).execute();
    return reply.status(204).send();
  });
}
