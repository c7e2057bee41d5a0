import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { requireUser } from '../http/authentication.js';
import { allows, holdsAnywhere, seesEnvironment } from './grants.js';
import type { Permission } from './permissions.js';
import type { Requirement, Scope } from './requirements.js';

/**
 * The one place a user's request is held to its route's rule (routePermissions.ts): after the
 * input is validated (a scope is read from it) and before the handler runs. A refusal names the
 * permission and the scope it was missing for.
 */
export function installAuthorization(app: FastifyInstance, ctx: ServerContext): void {
  app.addHook('preHandler', async (request) => {
    const { access, rule } = request.routeOptions.config;
    if (access !== 'user' || !rule) return;
    const user = requireUser(request);
    if (rule.permission === null) return;
    if (rule.list) {
      if (!holdsAnywhere(user.grants, rule.permission)) throw forbidden(rule.permission, {});
      return;
    }
    const worked = rule.requirements ? await rule.requirements(request, ctx) : [];
    // A request whose parts need nothing (an empty document) still needs the route's own permission.
    const needs: Requirement[] = worked.length
      ? worked
      : [{ permission: rule.permission, ...(rule.scope ? await rule.scope(request, ctx) : {}) }];
    const missing = needs.find((need) => !allows(user.grants, need));
    if (missing) throw forbidden(missing.permission, missing);
  });
}

function forbidden(permission: Permission, scope: Scope): LongshoreError {
  const where = [
    scope.projectName !== undefined && `project '${scope.projectName}'`,
    scope.environmentName !== undefined && `environment '${scope.environmentName}'`,
  ].filter(Boolean);
  return new LongshoreError(
    'FORBIDDEN',
    `This needs permission '${permission}'${where.length ? ` for ${where.join(' in ')}` : ''}, which your roles do not give you; ask an administrator`,
    {
      permission,
      ...(scope.projectName !== undefined && { project: scope.projectName }),
      ...(scope.environmentName !== undefined && { environment: scope.environmentName }),
    },
  );
}

/** For list routes: whether the caller may see an item of the list, where it is. */
export function maySee(request: FastifyRequest, permission: Permission, scope: Scope): boolean {
  return allows(requireUser(request).grants, { permission, ...scope });
}

/** For the list of environments: whether the caller's grants show this one (grants.ts seesEnvironment). */
export function maySeeEnvironment(request: FastifyRequest, environmentId: string): boolean {
  return seesEnvironment(requireUser(request).grants, environmentId);
}
