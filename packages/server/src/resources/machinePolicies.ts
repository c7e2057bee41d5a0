import type { Selectable } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError, UnavailableWorkerAction, WorkerUpdates } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { newId } from '../crypto/tokens.js';
import type { Database } from '../store/schema.js';
import {
  Description,
  ListOf,
  Name,
  NamedRow,
  NoContent,
  RefParams,
  assertNameFree,
  createUnderFreeName,
  findByRef,
  inTransaction,
  iso,
  lookUpByRef,
  nameHolder,
  now,
  uniquely,
} from './common.js';
import { normaliseName } from './names.js';

/** How often workers are checked, how long a check may take, and what happens to a worker that stops answering. */
export const MachinePolicyInput = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    healthCheckIntervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 600 })),
    healthCheckTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, default: 60 })),
    unavailableWorkers: Type.Optional(
      Type.Object(
        {
          action: UnavailableWorkerAction,
          deleteAfterHours: Type.Optional(
            Type.Number({
              minimum: 0.0001,
              maximum: 24 * 365,
              description: "With action 'delete': hours a worker may stay unavailable (decimals allowed)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    updates: Type.Optional(WorkerUpdates),
  },
  { additionalProperties: false },
);
export type MachinePolicyInput = Static<typeof MachinePolicyInput>;

export const MachinePolicy = Type.Object({
  ...NamedRow,
  description: Type.String(),
  healthCheckIntervalSeconds: Type.Integer(),
  healthCheckTimeoutSeconds: Type.Integer(),
  unavailableWorkers: Type.Object({
    action: UnavailableWorkerAction,
    deleteAfterHours: Type.Union([Type.Number(), Type.Null()]),
  }),
  updates: WorkerUpdates,
  isDefault: Type.Boolean(),
  createdAt: Type.String(),
});

type PolicyRow = Selectable<Database['machine_policies']>;

function present(row: PolicyRow): Static<typeof MachinePolicy> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    healthCheckIntervalSeconds: row.health_check_interval_seconds,
    healthCheckTimeoutSeconds: row.health_check_timeout_seconds,
    unavailableWorkers: { action: row.unavailable_action, deleteAfterHours: row.delete_after_hours },
    updates: row.updates,
    isDefault: row.is_default === 1,
    createdAt: iso(row.created_at)!,
  };
}

/** The columns an input sets; a deleting policy without its hours (or hours without deleting) is refused. */
function columns(input: MachinePolicyInput) {
  const action = input.unavailableWorkers?.action ?? 'keep';
  const hours = input.unavailableWorkers?.deleteAfterHours;
  if (action === 'delete' && hours === undefined)
    throw new LongshoreError(
      'VALIDATION_FAILED',
      "unavailableWorkers.deleteAfterHours is required when unavailableWorkers.action is 'delete'",
    );
  if (action === 'keep' && hours !== undefined)
    throw new LongshoreError(
      'VALIDATION_FAILED',
      "unavailableWorkers.deleteAfterHours applies only when unavailableWorkers.action is 'delete'",
    );
  return {
    description: input.description ?? '',
    health_check_interval_seconds: input.healthCheckIntervalSeconds ?? 600,
    health_check_timeout_seconds: input.healthCheckTimeoutSeconds ?? 60,
    unavailable_action: action,
    delete_after_hours: hours ?? null,
    updates: input.updates ?? 'manual',
  };
}

/** Creates the policy, or replaces the one of that name (config as code). Answers its id. */
export async function upsertMachinePolicy(ctx: ServerContext, input: MachinePolicyInput): Promise<string> {
  const name = normaliseName(input.name);
  const values = columns(input);
  const existing = await nameHolder(ctx.db, 'machine_policies', name);
  if (existing) {
    await ctx.db.updateTable('machine_policies').set(values).where('id', '=', existing.id).execute();
    return existing.id;
  }
  const id = newId('policy');
  await uniquely(`A machine policy named '${name}'`, () =>
    ctx.db
      .insertInto('machine_policies')
      .values({ id, name, ...values, is_default: 0, created_at: now() })
      .execute(),
  );
  return id;
}

/** A policy's id from its name or id, for a worker or pool naming it; `path` says where in the input it was. */
export async function policyIdOf(ctx: Pick<ServerContext, 'db'>, ref: string, path: string): Promise<string> {
  const row = await lookUpByRef(ctx.db, 'machine_policies', ref);
  if (!row) throw new LongshoreError('VALIDATION_FAILED', `${path}: machine policy '${ref}' does not exist`);
  return row.id;
}

/** Refuses to delete the default policy or one a worker or pool names, naming who uses it. */
async function assertDeletable(ctx: ServerContext, row: PolicyRow): Promise<void> {
  if (row.is_default === 1)
    throw new LongshoreError('CONFLICT', `Machine policy '${row.name}' is the default policy and cannot be deleted`);
  const users = [
    ...(await ctx.db.selectFrom('workers').select('name').where('machine_policy_id', '=', row.id).execute()).map(
      (w) => `worker '${w.name}'`,
    ),
    ...(await ctx.db.selectFrom('worker_pools').select('name').where('machine_policy_id', '=', row.id).execute()).map(
      (p) => `worker pool '${p.name}'`,
    ),
  ];
  if (users.length)
    throw new LongshoreError(
      'CONFLICT',
      `Machine policy '${row.name}' is used by ${users.join(', ')}; give them another policy first`,
      { usedBy: users },
    );
}

export async function machinePolicyRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['machine policies'];
  const path = '/api/machine-policies';
  const what = 'A machine policy';
  app.get(path, { schema: { tags, response: { 200: ListOf(MachinePolicy) } } }, async () => {
    const rows = await ctx.db.selectFrom('machine_policies').selectAll().orderBy('name').execute();
    return { items: rows.map(present) };
  });
  app.get(`${path}/:ref`, { schema: { tags, params: RefParams, response: { 200: MachinePolicy } } }, async (req) =>
    present(await findByRef(ctx.db, 'machine_policies', req.params.ref)),
  );
  app.post(
    path,
    { schema: { tags, body: MachinePolicyInput, response: { 201: MachinePolicy } } },
    async (req, reply) => {
      const id = await createUnderFreeName(ctx, 'machine_policies', what, req.body.name, (tx) =>
        upsertMachinePolicy(tx, req.body),
      );
      return reply.status(201).send(present(await findByRef(ctx.db, 'machine_policies', id)));
    },
  );
  app.put(
    `${path}/:ref`,
    { schema: { tags, params: RefParams, body: MachinePolicyInput, response: { 200: MachinePolicy } } },
    async (req) => {
      const name = normaliseName(req.body.name);
      const values = columns(req.body);
      const id = await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'machine_policies', req.params.ref);
        await assertNameFree(tx.db, 'machine_policies', what, name, row.id);
        await uniquely(`${what} named '${name}'`, () =>
          tx.db
            .updateTable('machine_policies')
            .set({ name, ...values })
            .where('id', '=', row.id)
            .execute(),
        );
        return row.id;
      });
      return present(await findByRef(ctx.db, 'machine_policies', id));
    },
  );
  app.delete(
    `${path}/:ref`,
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'machine_policies', req.params.ref);
        await assertDeletable(tx, row);
        await tx.db.deleteFrom('machine_policies').where('id', '=', row.id).execute();
      });
      return reply.status(204).send();
    },
  );
}
