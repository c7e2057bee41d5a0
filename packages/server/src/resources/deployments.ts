import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { maySee } from '../identity/authorization.js';
import { errorResponses } from '../http/openApiResponses.js';
import { newId } from '../crypto/tokens.js';
import { createDeploymentTask } from '../orchestration/taskCreation.js';
import { ListOf, Ref, findByRef, inTransaction, iso, now } from './common.js';
import { releaseForDeployment } from './releases.js';

export const DeploymentInput = Type.Object(
  {
    project: Ref,
    environment: Ref,
    /** A release version; when absent the newest release, or a new one when there is none. */
    release: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

const Deployment = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  environmentId: Type.String(),
  releaseId: Type.String(),
  releaseVersion: Type.String(),
  taskId: Type.String(),
  createdAt: Type.String(),
});

export async function deploymentRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['deployments'];
  app.post(
    '/api/deployments',
    { schema: { tags, body: DeploymentInput, response: { 201: Deployment, ...errorResponses(404) } } },
    async (req, reply) => {
      const input = req.body;
      const created = await inTransaction(ctx, async (tx) => {
        const project = await findByRef(tx.db, 'projects', input.project);
        const environment = await findByRef(tx.db, 'environments', input.environment);
        const release = await releaseForDeployment(tx, project.id, input.release);
        const id = newId('deploy');
        const task = await createDeploymentTask(
          tx,
          {
            deploymentId: id,
            releaseId: release.id,
            releaseVersion: release.version,
            projectName: project.name,
            environmentId: environment.id,
            environmentName: environment.name,
          },
          now(),
        );
        const row = {
          id,
          project_id: project.id,
          release_id: release.id,
          environment_id: environment.id,
          task_id: task.id,
          created_at: task.createdAt,
        };
        await tx.db.insertInto('deployments').values(row).execute();
        return { ...row, releaseVersion: release.version, task };
      });
      await ctx.tasks.start(created.task);
      return reply.status(201).send({
        id: created.id,
        projectId: created.project_id,
        environmentId: created.environment_id,
        releaseId: created.release_id,
        releaseVersion: created.releaseVersion,
        taskId: created.task_id,
        createdAt: iso(created.created_at)!,
      });
    },
  );

  app.get(
    '/api/deployments',
    {
      schema: {
        tags,
        querystring: Type.Object({ project: Type.Optional(Ref) }),
        response: { 200: ListOf(Deployment), ...errorResponses(404) },
      },
    },
    async (req) => {
      const { project } = req.query;
      let q = ctx.db
        .selectFrom('deployments')
        .innerJoin('releases', 'releases.id', 'deployments.release_id')
        .selectAll('deployments')
        .select('releases.version');
      if (project) q = q.where('deployments.project_id', '=', (await findByRef(ctx.db, 'projects', project)).id);
      const rows = await q.orderBy('deployments.created_at', 'desc').limit(200).execute();
      return {
        items: rows
          .filter((r) => maySee(req, 'project:view', { project: r.project_id, environment: r.environment_id }))
          .map((r) => ({
            id: r.id,
            projectId: r.project_id,
            environmentId: r.environment_id,
            releaseId: r.release_id,
            releaseVersion: r.version,
            taskId: r.task_id,
            createdAt: iso(r.created_at)!,
          })),
      };
    },
  );
}
