import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { maySeeEnvironment } from '../identity/authorization.js';
import { newId } from '../crypto/tokens.js';
import {
  Description,
  assertNameFree,
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
import { normaliseName } from './names.js';
import { assertUnreferenced } from './references.js';
import { policyIdOf } from './machinePolicies.js';

/** Environments and worker pools are the same shape: a name and a description. */
export const NamedInput = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type NamedInput = Static<typeof NamedInput>;

/** A pool may name the machine policy its workers follow (unless a worker names its own). */
export const WorkerPoolInput = Type.Object(
  { name: Name, description: Type.Optional(Description), machinePolicy: Type.Optional(Name) },
  { additionalProperties: false },
);
export type WorkerPoolInput = Static<typeof WorkerPoolInput>;

const Environment = Type.Object({
  ...NamedRow,
  description: Type.String(),
  createdAt: Type.String(),
});
const WorkerPool = Type.Composite([
  Environment,
  Type.Object({
    isDefault: Type.Boolean(),
    machinePolicy: Type.Union([Type.String(), Type.Null()], {
      description: 'The machine policy it names; null: the default policy',
    }),
  }),
]);

type Table = 'environments' | 'worker_pools';
interface Row {
  id: string;
  name: string;
  description: string;
  created_at: number;
  is_default?: number;
  machine_policy_id?: string | null;
}

const tables: Record<Table, { path: string; prefix: string; what: string; tag: string }> = {
  environments: { path: '/api/environments', prefix: 'env', what: 'An environment', tag: 'environments' },
  worker_pools: { path: '/api/worker-pools', prefix: 'pool', what: 'A worker pool', tag: 'worker pools' },
};

async function present(ctx: ServerContext, row: Row) {
  const base = { id: row.id, name: row.name, description: row.description, createdAt: iso(row.created_at)! };
  if (row.is_default === undefined) return base;
  const policy = row.machine_policy_id
    ? await ctx.db
        .selectFrom('machine_policies')
        .select('name')
        .where('id', '=', row.machine_policy_id)
        .executeTakeFirst()
    : undefined;
  return { ...base, isDefault: row.is_default === 1, machinePolicy: policy?.name ?? null };
}

/** The policy column a pool input sets; environments have none. */
async function policyColumn(ctx: ServerContext, table: Table, input: WorkerPoolInput) {
  if (table !== 'worker_pools') return {};
  return {
    machine_policy_id: input.machinePolicy ? await policyIdOf(ctx, input.machinePolicy, 'machinePolicy') : null,
  };
}

export async function upsertNamed(ctx: ServerContext, table: Table, input: WorkerPoolInput): Promise<string> {
  const t = tables[table];
  const name = normaliseName(input.name);
  const policy = await policyColumn(ctx, table, input);
  const existing = await nameHolder(ctx.db, table, name);
  if (existing) {
    await ctx.db
      .updateTable(table)
      .set({ description: input.description ?? '', ...policy })
      .where('id', '=', existing.id)
      .execute();
    return existing.id;
  }
  const id = newId(t.prefix);
  const row = { id, name, description: input.description ?? '', created_at: now() };
  await uniquely(`${t.what} named '${name}'`, () =>
    table === 'worker_pools'
      ? ctx.db
          .insertInto('worker_pools')
          .values({ ...row, ...policy, is_default: 0 })
          .execute()
      : ctx.db.insertInto('environments').values(row).execute(),
  );
  return id;
}

export async function ensureDefaultPool(ctx: Pick<ServerContext, 'db'>): Promise<void> {
  const existing = await ctx.db.selectFrom('worker_pools').select('id').where('is_default', '=', 1).executeTakeFirst();
  if (!existing) {
    await ctx.db
      .insertInto('worker_pools')
      .values({
        id: newId('pool'),
        name: 'default',
        description: 'The pool every worker joins unless told otherwise',
        is_default: 1,
        created_at: now(),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export function namedResourceRoutes(table: Table) {
  const t = tables[table];
  const Item = table === 'worker_pools' ? WorkerPool : Environment;
  const Input = table === 'worker_pools' ? WorkerPoolInput : NamedInput;
  return async (scope: FastifyInstance, ctx: ServerContext) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();
    const tags = [t.tag];
    app.get(t.path, { schema: { tags, response: { 200: ListOf(Item) } } }, async (req) => {
      const rows = (await ctx.db.selectFrom(table).selectAll().orderBy('name').execute()) as Row[];
      const shown = table === 'environments' ? rows.filter((r) => maySeeEnvironment(req, r.id)) : rows;
      return { items: await Promise.all(shown.map((r) => present(ctx, r))) };
    });
    app.get(`${t.path}/:ref`, { schema: { tags, params: RefParams, response: { 200: Item } } }, async (req) => {
      return present(ctx, (await findByRef(ctx.db, table, req.params.ref)) as Row);
    });
    app.post(t.path, { schema: { tags, body: Input, response: { 201: Item } } }, async (req, reply) => {
      const id = await createUnderFreeName(ctx, table, t.what, req.body.name, (tx) => upsertNamed(tx, table, req.body));
      return reply.status(201).send(await present(ctx, (await findByRef(ctx.db, table, id)) as Row));
    });
    app.put(
      `${t.path}/:ref`,
      { schema: { tags, params: RefParams, body: Input, response: { 200: Item } } },
      async (req) => {
        const input = req.body;
        const name = normaliseName(input.name);
        const id = await inTransaction(ctx, async (tx) => {
          const row = await findByRef(tx.db, table, req.params.ref);
          await assertNameFree(tx.db, table, t.what, name, row.id);
          const policy = await policyColumn(tx, table, input);
          await uniquely(`${t.what} named '${name}'`, () =>
            tx.db
              .updateTable(table)
              .set({ name, description: input.description ?? '', ...policy })
              .where('id', '=', row.id)
              .execute(),
          );
          return row.id;
        });
        return present(ctx, (await findByRef(ctx.db, table, id)) as Row);
      },
    );
    app.delete(
      `${t.path}/:ref`,
      { schema: { tags, params: RefParams, response: { 204: NoContent } } },
      async (req, reply) => {
        await inTransaction(ctx, async (tx) => {
          const row = (await findByRef(tx.db, table, req.params.ref)) as Row;
          if (row.is_default === 1) throw new LongshoreError('CONFLICT', 'The default worker pool cannot be deleted');
          await assertUnused(tx, table, row);
          await assertUnreferenced(tx.db, table, row);
          await tx.db.deleteFrom(table).where('id', '=', row.id).execute();
        });
        return reply.status(204).send();
      },
    );
  };
}

async function assertUnused(ctx: ServerContext, table: Table, row: Row): Promise<void> {
  if (table === 'environments') {
    const used = await ctx.db
      .selectFrom('deployments')
      .select('id')
      .where('environment_id', '=', row.id)
      .executeTakeFirst();
    if (used) throw new LongshoreError('CONFLICT', `Environment '${row.name}' has deployments and cannot be deleted`);
    return;
  }
  const active = await ctx.db
    .selectFrom('operations')
    .select('id')
    .where('pool_id', '=', row.id)
    .where('state', '!=', 'finished')
    .executeTakeFirst();
  if (active)
    throw new LongshoreError('CONFLICT', `Worker pool '${row.name}' has operations in progress and cannot be deleted`);
}
