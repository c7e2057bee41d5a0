import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { newId } from '../crypto/tokens.js';
import { Description, ListOf, Name, RefParams, findByRef, iso, now, uniquely } from './common.js';

/** Environments and worker pools are the same shape: a name and a description. */
export const NamedInput = Type.Object({ name: Name, description: Type.Optional(Description) }, { additionalProperties: false });
export type NamedInput = Static<typeof NamedInput>;

const Environment = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String(), createdAt: Type.String() });
const WorkerPool = Type.Composite([Environment, Type.Object({ isDefault: Type.Boolean() })]);

type Table = 'environments' | 'worker_pools';
interface Row { id: string; name: string; description: string; created_at: number; is_default?: number }

const tables: Record<Table, { path: string; prefix: string; what: string; tag: string }> = {
  environments: { path: '/api/environments', prefix: 'env', what: 'An environment', tag: 'environments' },
  worker_pools: { path: '/api/worker-pools', prefix: 'pool', what: 'A worker pool', tag: 'worker pools' },
};

function present(row: Row) {
  const base = { id: row.id, name: row.name, description: row.description, createdAt: iso(row.created_at)! };
  return row.is_default === undefined ? base : { ...base, isDefault: row.is_default === 1 };
}

export async function upsertNamed(ctx: ServerContext, table: Table, input: NamedInput): Promise<string> {
  const t = tables[table];
  const existing = await ctx.db.selectFrom(table).select('id').where('name', '=', input.name).executeTakeFirst();
  if (existing) {
    await ctx.db.updateTable(table).set({ description: input.description ?? '' }).where('id', '=', existing.id).execute();
    return existing.id;
  }
  const id = newId(t.prefix);
  const row = { id, name: input.name, description: input.description ?? '', created_at: now() };
  await uniquely(`${t.what} named '${input.name}'`, () =>
    table === 'worker_pools'
      ? ctx.db.insertInto('worker_pools').values({ ...row, is_default: 0 }).execute()
      : ctx.db.insertInto('environments').values(row).execute(),
  );
  return id;
}

export async function ensureDefaultPool(ctx: Pick<ServerContext, 'db'>): Promise<void> {
  const existing = await ctx.db.selectFrom('worker_pools').select('id').where('is_default', '=', 1).executeTakeFirst();
  if (!existing) {
    await ctx.db
      .insertInto('worker_pools')
      .values({ id: newId('pool'), name: 'default', description: 'The pool every worker joins unless told otherwise', is_default: 1, created_at: now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export function namedResourceRoutes(table: Table) {
  const t = tables[table];
  const Item = table === 'worker_pools' ? WorkerPool : Environment;
  return async (app: FastifyInstance, ctx: ServerContext) => {
    const schema = (extra: object) => ({ tags: [t.tag], ...extra });
    app.get(t.path, { schema: schema({ response: { 200: ListOf(Item) } }) }, async () => {
      const rows = (await ctx.db.selectFrom(table).selectAll().orderBy('name').execute()) as Row[];
      return { items: rows.map(present) };
    });
    app.get(`${t.path}/:ref`, { schema: schema({ params: RefParams, response: { 200: Item } }) }, async (req) => {
      return present((await findByRef(ctx.db, table, (req.params as { ref: string }).ref)) as Row);
    });
    app.post(t.path, { schema: schema({ body: NamedInput, response: { 201: Item } }) }, async (req, reply) => {
      const input = req.body as NamedInput;
      const exists = await ctx.db.selectFrom(table).select('id').where('name', '=', input.name).executeTakeFirst();
      if (exists) throw new LongshoreError('CONFLICT', `${t.what} named '${input.name}' already exists`);
      const id = await upsertNamed(ctx, table, input);
      return reply.status(201).send(present((await findByRef(ctx.db, table, id)) as Row));
    });
    app.put(`${t.path}/:ref`, { schema: schema({ params: RefParams, body: NamedInput, response: { 200: Item } }) }, async (req) => {
      const row = await findByRef(ctx.db, table, (req.params as { ref: string }).ref);
      const input = req.body as NamedInput;
      await uniquely(`${t.what} named '${input.name}'`, () =>
        ctx.db.updateTable(table).set({ name: input.name, description: input.description ?? '' }).where('id', '=', row.id).execute(),
      );
      return present((await findByRef(ctx.db, table, row.id)) as Row);
    });
    app.delete(`${t.path}/:ref`, { schema: schema({ params: RefParams }) }, async (req, reply) => {
      const row = (await findByRef(ctx.db, table, (req.params as { ref: string }).ref)) as Row;
      if (row.is_default === 1) throw new LongshoreError('CONFLICT', 'The default worker pool cannot be deleted');
      await assertUnused(ctx, table, row);
      await ctx.db.deleteFrom(table).where('id', '=', row.id).execute();
      return reply.status(204).send();
    });
  };
}

async function assertUnused(ctx: ServerContext, table: Table, row: Row): Promise<void> {
  if (table === 'environments') {
    const used = await ctx.db.selectFrom('deployments').select('id').where('environment_id', '=', row.id).executeTakeFirst();
    if (used) throw new LongshoreError('CONFLICT', `Environment '${row.name}' has deployments and cannot be deleted`);
    return;
  }
  const active = await ctx.db
    .selectFrom('operations')
    .select('id')
    .where('pool_id', '=', row.id)
    .where('state', '!=', 'finished')
    .executeTakeFirst();
  if (active) throw new LongshoreError('CONFLICT', `Worker pool '${row.name}' has operations in progress and cannot be deleted`);
}
