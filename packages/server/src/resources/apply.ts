import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { inTransaction } from './common.js';
import { NamedInput, upsertNamed } from './namedResources.js';
import { ProjectInput, upsertProject } from './projects.js';
import { TargetInput, upsertTarget } from './targets.js';

/**
 * Configuration as code: the document users keep in git (`longshore apply -f longshore.yaml`).
 * Everything is created or updated by name in one transaction: all of it applies, or none.
 */
export const ApplyDocument = Type.Object(
  {
    environments: Type.Optional(Type.Array(NamedInput, { maxItems: 500 })),
    workerPools: Type.Optional(Type.Array(NamedInput, { maxItems: 500 })),
    targets: Type.Optional(Type.Array(TargetInput, { maxItems: 1000 })),
    projects: Type.Optional(Type.Array(ProjectInput, { maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type ApplyDocument = Static<typeof ApplyDocument>;

const ApplyResult = Type.Object({
  environments: Type.Array(Type.String()),
  workerPools: Type.Array(Type.String()),
  targets: Type.Array(Type.String()),
  projects: Type.Array(Type.String()),
});

export async function applyRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post('/api/apply', { schema: { tags: ['apply'], body: ApplyDocument, response: { 200: ApplyResult } } }, async (req) => {
    const doc = req.body as ApplyDocument;
    return inTransaction(ctx, async (tx) => {
      for (const e of doc.environments ?? []) await upsertNamed(tx, 'environments', e);
      for (const p of doc.workerPools ?? []) await upsertNamed(tx, 'worker_pools', p);
      for (const t of doc.targets ?? []) await upsertTarget(tx, t);
      for (const p of doc.projects ?? []) await upsertProject(tx, p);
      return {
        environments: (doc.environments ?? []).map((e) => e.name),
        workerPools: (doc.workerPools ?? []).map((p) => p.name),
        targets: (doc.targets ?? []).map((t) => t.name),
        projects: (doc.projects ?? []).map((p) => p.name),
      };
    });
  });
}
