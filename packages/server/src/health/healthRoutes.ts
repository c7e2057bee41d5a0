import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ListOf, RefParams, findByRef } from '../resources/common.js';

const StartedCheck = Type.Object({
  worker: Type.String(),
  checkId: Type.String(),
  taskId: Type.String({ description: "The check's task: its log has the results" }),
});

/** Health checks on demand; the server's timer starts the scheduled ones (see healthSchedule.ts). */
export async function healthCheckRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['workers'];
  app.post(
    '/api/workers/health-checks',
    {
      schema: {
        tags,
        description: 'Checks every enabled worker; a worker with a check under way answers that one',
        response: { 202: ListOf(StartedCheck) },
      },
    },
    async (_req, reply) => {
      const rows = await ctx.db.selectFrom('workers').select('id').where('disabled', '=', 0).orderBy('name').execute();
      const items = await ctx.health.request(rows.map((r) => r.id));
      return reply.status(202).send({ items });
    },
  );
  app.post(
    '/api/workers/:ref/health-checks',
    {
      schema: {
        tags,
        description: 'Checks one worker (disabled or not); a check already under way is answered instead',
        params: RefParams,
        response: { 202: StartedCheck },
      },
    },
    async (req, reply) => {
      const worker = await findByRef(ctx.db, 'workers', req.params.ref);
      const [started] = await ctx.health.request([worker.id]);
      return reply.status(202).send(started!);
    },
  );
}
