import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ACTIVE_OPERATION_STATES, LongshoreError } from '@longshore/protocol';
import { errorResponses } from '../http/openApiResponses.js';
import type { ServerContext } from '../context.js';
import { hashToken, newId, newSecretToken } from '../crypto/tokens.js';
import { ListOf, Name, NoContent, RefParams, findByRef, inTransaction, iso, now } from './common.js';
import { policyIdOf } from './machinePolicies.js';
import { Worker, presentWorker } from './workerView.js';

const MachinePolicyChoice = Type.Object(
  {
    machinePolicy: Type.Union([Name, Type.Null()], {
      description: "A policy's name or id; null: follow its pool's, else the default",
    }),
  },
  { additionalProperties: false },
);

export const RegistrationTokenInput = Type.Object(
  {
    pools: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 50 })),
    expiresInMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })),
  },
  { additionalProperties: false },
);

const RegistrationToken = Type.Object({
  token: Type.String({ description: 'Single-use: a worker registers with it once' }),
  pools: Type.Array(Type.String()),
  expiresAt: Type.String(),
});

/** Makes the worker follow a policy (a name or id), or with null its pool's (else the default); answers its id. */
export async function setWorkerPolicy(
  ctx: ServerContext,
  workerRef: string,
  policyRef: string | null,
): Promise<string> {
  const row = await findByRef(ctx.db, 'workers', workerRef);
  const machinePolicyId = policyRef === null ? null : await policyIdOf(ctx, policyRef, 'machinePolicy');
  await ctx.db.updateTable('workers').set({ machine_policy_id: machinePolicyId }).where('id', '=', row.id).execute();
  return row.id;
}

export async function createRegistrationToken(ctx: ServerContext, input: Static<typeof RegistrationTokenInput>) {
  // The default pool by its flag, not its name: it may have been renamed.
  const pools = input.pools
    ? []
    : [
        await ctx.db
          .selectFrom('worker_pools')
          .select(['id', 'name'])
          .where('is_default', '=', 1)
          .executeTakeFirstOrThrow(),
      ];
  for (const ref of input.pools ?? []) pools.push(await findByRef(ctx.db, 'worker_pools', ref));
  const ids = pools.map((p) => p.id);
  const names = pools.map((p) => p.name);
  const token = newSecretToken('lsr_');
  const expiresAt = now() + (input.expiresInMinutes ?? ctx.config.registrationTokenTtlMinutes) * 60_000;
  await ctx.db
    .insertInto('registration_tokens')
    .values({
      hash: hashToken(token),
      pools: JSON.stringify(ids),
      worker_name: null,
      expires_at: expiresAt,
      used_at: null,
      created_at: now(),
    })
    .execute();
  return { token, pools: names, expiresAt: iso(expiresAt)! };
}

export async function workerRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['workers'];
  app.get('/api/workers', { schema: { tags, response: { 200: ListOf(Worker) } } }, async () => {
    const rows = await ctx.db.selectFrom('workers').selectAll().orderBy('name').execute();
    return { items: await Promise.all(rows.map((r) => presentWorker(ctx, r))) };
  });
  app.get('/api/workers/:ref', { schema: { tags, params: RefParams, response: { 200: Worker } } }, async (req) =>
    presentWorker(ctx, await findByRef(ctx.db, 'workers', req.params.ref)),
  );
  for (const [verb, disabled] of [
    ['disable', 1],
    ['enable', 0],
  ] as const) {
    app.post(
      `/api/workers/:ref/${verb}`,
      { schema: { tags, params: RefParams, response: { 200: Worker } } },
      async (req) => {
        const row = await findByRef(ctx.db, 'workers', req.params.ref);
        await ctx.db.updateTable('workers').set({ disabled }).where('id', '=', row.id).execute();
        return presentWorker(ctx, await findByRef(ctx.db, 'workers', row.id));
      },
    );
  }
  app.put(
    '/api/workers/:ref/machine-policy',
    { schema: { tags, params: RefParams, body: MachinePolicyChoice, response: { 200: Worker } } },
    async (req) => {
      const id = await setWorkerPolicy(ctx, req.params.ref, req.body.machinePolicy);
      return presentWorker(ctx, await findByRef(ctx.db, 'workers', id));
    },
  );
  app.delete(
    '/api/workers/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const removed = await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'workers', req.params.ref);
        const busy = await tx.db
          .selectFrom('operations')
          .select('id')
          .where('worker_id', '=', row.id)
          .where('state', 'in', ACTIVE_OPERATION_STATES)
          .executeTakeFirst();
        if (busy)
          throw new LongshoreError(
            'CONFLICT',
            `Worker '${row.name}' is running operation ${busy.id}; disable it and wait, or cancel the deployment first`,
          );
        // Its check rows go with it; their tasks are ended once the delete is done.
        const checks = await tx.db
          .selectFrom('health_checks')
          .select('task_id')
          .where('worker_id', '=', row.id)
          .where('state', '!=', 'finished')
          .execute();
        await tx.db.deleteFrom('workers').where('id', '=', row.id).execute();
        return { name: row.name, checkTasks: checks.map((c) => c.task_id) };
      });
      await ctx.health.endOrphans(removed.checkTasks, `Worker ${removed.name} was deleted during the check`);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/registration-tokens',
    { schema: { tags, body: RegistrationTokenInput, response: { 201: RegistrationToken, ...errorResponses(404) } } },
    async (req, reply) => reply.status(201).send(await createRegistrationToken(ctx, req.body)),
  );
}
