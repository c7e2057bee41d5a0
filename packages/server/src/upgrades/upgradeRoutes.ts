import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorResponses } from '../http/openApiResponses.js';
import { ListOf, RefParams, findByRef } from '../resources/common.js';

const RequestedUpgrade = Type.Object({
  worker: Type.String(),
  taskId: Type.Union([Type.String(), Type.Null()], {
    description: "The upgrade's task, whose log shows helm's output; null when the worker was not upgraded",
  }),
  message: Type.String({ description: 'What was done, or why the worker was not upgraded' }),
});

/** Server-driven upgrades of Kubernetes workers (see workerUpgrades.ts). */
export async function upgradeRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['workers'];
  app.post(
    '/api/workers/upgrades',
    {
      schema: {
        tags,
        description:
          'Upgrades every enabled worker that is behind what this server ships and can be upgraded by it; the answer says for each worker what was done or why not',
        response: { 202: ListOf(RequestedUpgrade) },
      },
    },
    async (_req, reply) => {
      const rows = await ctx.db.selectFrom('workers').select('id').where('disabled', '=', 0).execute();
      const items = await ctx.upgrades.request(
        rows.map((r) => r.id),
        false,
      );
      return reply.status(202).send({ items });
    },
  );
  app.post(
    '/api/workers/:ref/upgrades',
    {
      schema: {
        tags,
        description:
          'Upgrades a Kubernetes worker to the chart and worker this server ships: its own release, with its values, through helm upgrade run by the worker, rolled back if the new worker does not come back; an upgrade under way is answered instead. 409 when the worker cannot be upgraded, saying why',
        params: RefParams,
        response: { 202: RequestedUpgrade, ...errorResponses(409) },
      },
    },
    async (req, reply) => {
      const worker = await findByRef(ctx.db, 'workers', req.params.ref);
      const [started] = await ctx.upgrades.request([worker.id], true);
      return reply.status(202).send(started!);
    },
  );
}
