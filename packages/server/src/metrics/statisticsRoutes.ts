import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ListOf } from '../resources/common.js';
import { poolStatistics } from './poolStatistics.js';

const Count = Type.Integer({ minimum: 0 });
const PoolStatistics = Type.Object({
  pool: Type.String(),
  queueDepth: Type.Integer({
    minimum: 0,
    description: "Operations queued for a worker (not those held back by a step's maxParallelism)",
  }),
  oldestWaitSeconds: Type.Number({
    minimum: 0,
    description: 'How long the oldest queued operation has waited; 0 when none does',
  }),
  workersByHealth: Type.Object({ unknown: Count, healthy: Count, unhealthy: Count, unavailable: Count }),
  usableWorkers: Type.Integer({ minimum: 0, description: 'Workers that may be given new operations now' }),
  capacity: Type.Integer({ minimum: 0, description: 'Operations the usable workers may run at once' }),
  freeCapacity: Type.Integer({
    minimum: 0,
    description: 'Of that capacity, what they are not using now (a worker in several pools counts in each)',
  }),
});

/** What /metrics says of pools, as JSON for the portal's dashboard: one read of the queues and workers. */
export async function statisticsRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/pool-statistics',
    {
      schema: {
        tags: ['worker pools'],
        description: "Every pool's queue depth, oldest wait and workers by health",
        response: { 200: ListOf(PoolStatistics) },
      },
    },
    async () => ({ items: await poolStatistics(ctx.db, Date.now(), ctx.config.workerOfflineAfterMs) }),
  );
}
