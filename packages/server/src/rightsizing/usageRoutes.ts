import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { RefParams, findByRef, iso } from '../resources/common.js';
import { namesById } from '../resources/references.js';
import type { Process } from '../resources/processSchema.js';
import { recommendResources } from './recommendation.js';
import { RECOMMENDATION_OPTIONS, stepRuns } from './stepUsage.js';

const Millis = Type.Integer({ description: 'millicores' });
const Bytes = Type.Integer();
const Run = Type.Object({
  operationId: Type.String(),
  pool: Type.String(),
  recordedAt: Type.String(),
  samples: Type.Integer(),
  peakCpuMillis: Millis,
  meanCpuMillis: Millis,
  peakMemoryBytes: Bytes,
  durationSeconds: Type.Number(),
  requests: Type.Object({ cpuMillis: Millis, memoryBytes: Bytes }),
  oomKilled: Type.Boolean(),
  throttled: Type.Boolean(),
});
const StepUsage = Type.Object({
  step: Type.String(),
  /** What the step asks for now: its own resources, `auto`, or null for the pool default. */
  resources: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Literal('auto'), Type.Null()]),
  runs: Type.Array(Run, { description: 'The measured runs the recommendation is made from, oldest first' }),
  recommendation: Type.Object({
    state: Type.Union([Type.Literal('ready'), Type.Literal('learning')]),
    samples: Type.Integer(),
    cpuMillis: Millis,
    memoryBytes: Bytes,
    memoryLimitBytes: Type.Optional(Bytes),
    method: Type.String(),
  }),
});

/** Each step's measured usage beside what it requests, and what it should request (right-sizing). */
export async function usageRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/projects/:ref/steps/usage',
    {
      schema: {
        tags: ['projects'],
        description: "Each step's CPU and memory as its script pods used them, and the requests recommended from them",
        params: RefParams,
        response: { 200: Type.Object({ items: Type.Array(StepUsage) }) },
      },
    },
    async (req) => {
      const project = await findByRef(ctx.db, 'projects', req.params.ref);
      const pool = await namesById(ctx.db, 'worker_pools');
      const process = JSON.parse(project.process) as Process;
      const items = [];
      for (const step of process.steps) {
        const runs = await stepRuns(ctx.db, project.id, step.name);
        items.push({
          step: step.name,
          resources: step.resources ?? null,
          runs: runs.map((r) => ({
            operationId: r.operationId,
            pool: pool(r.poolId),
            recordedAt: iso(r.recordedAt)!,
            samples: r.samples,
            peakCpuMillis: r.peakCpuMillis,
            meanCpuMillis: r.meanCpuMillis,
            peakMemoryBytes: r.peakMemoryBytes,
            durationSeconds: r.durationSeconds,
            requests: r.requests,
            oomKilled: r.oomKilled,
            throttled: r.throttled,
          })),
          recommendation: recommendResources(runs, RECOMMENDATION_OPTIONS),
        });
      }
      return { items };
    },
  );
}
