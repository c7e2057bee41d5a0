import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { lookUpByRef } from '../resources/common.js';
import type { Requirement, Scope } from './requirements.js';

/**
 * Where a request acts, for the permission check (after validation, before the handler). What
 * names nothing resolves to no id: only a grant for every project covers it, and the handler
 * answers 404 to whoever gets that far.
 */

const project = async (ctx: ServerContext, ref: string): Promise<Scope> => {
  const row = await lookUpByRef(ctx.db, 'projects', ref);
  return row ? { project: row.id, projectName: row.name } : { projectName: ref };
};

export const projectScope = (req: FastifyRequest, ctx: ServerContext): Promise<Scope> =>
  project(ctx, (req.params as { ref: string }).ref);

export async function releaseScope(req: FastifyRequest, ctx: ServerContext): Promise<Scope> {
  const release = await ctx.db
    .selectFrom('releases')
    .innerJoin('projects', 'projects.id', 'releases.project_id')
    .select(['projects.id', 'projects.name'])
    .where('releases.id', '=', (req.params as { id: string }).id)
    .executeTakeFirst();
  return release ? { project: release.id, projectName: release.name } : {};
}

export async function deploymentScope(req: FastifyRequest, ctx: ServerContext): Promise<Scope> {
  const body = req.body as { project: string; environment: string };
  const environment = await lookUpByRef(ctx.db, 'environments', body.environment);
  return {
    ...(await project(ctx, body.project)),
    environmentName: environment?.name ?? body.environment,
    ...(environment && { environment: environment.id }),
  };
}

/** A deployment's task acts on its project and environment; other tasks (health checks, upgrades) on none. */
export async function taskScope(req: FastifyRequest, ctx: ServerContext): Promise<Scope> {
  const deployment = await ctx.db
    .selectFrom('deployments')
    .innerJoin('projects', 'projects.id', 'deployments.project_id')
    .innerJoin('environments', 'environments.id', 'deployments.environment_id')
    .select([
      'projects.id as project',
      'projects.name as projectName',
      'environments.id as environment',
      'environments.name as environmentName',
    ])
    .where('deployments.task_id', '=', (req.params as { id: string }).id)
    .executeTakeFirst();
  return deployment ?? {};
}

/**
 * A document may change many kinds of things: each part needs its own permission. A project that
 * exists needs its process and variables edited (a grant for that project is enough); a new one
 * needs projects created.
 */
export async function applyRequirements(req: FastifyRequest, ctx: ServerContext): Promise<Requirement[]> {
  // The parts of the (validated) document that need permissions; see resources/apply.ts.
  const doc = req.body as {
    environments?: unknown[];
    targets?: unknown[];
    workerPools?: unknown[];
    machinePolicies?: unknown[];
    workers?: unknown[];
    projects?: { name: string; description?: string; process?: unknown; variables?: unknown }[];
  };
  const needs: Requirement[] = [];
  if (doc.environments?.length) needs.push({ permission: 'environment:edit' });
  if (doc.targets?.length) needs.push({ permission: 'target:edit' });
  if (doc.workerPools?.length || doc.machinePolicies?.length || doc.workers?.length)
    needs.push({ permission: 'worker:manage' });
  for (const p of doc.projects ?? []) {
    const scope = await project(ctx, p.name);
    if (scope.project === undefined) needs.push({ permission: 'project:edit', projectName: p.name });
    if (p.process || (scope.project !== undefined && p.description !== undefined))
      needs.push({ permission: 'process:edit', ...scope });
    if (p.variables) needs.push({ permission: 'variable:edit', ...scope });
  }
  return needs;
}
