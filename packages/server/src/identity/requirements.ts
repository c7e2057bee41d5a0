import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import type { Permission } from './permissions.js';

/** Where an action happens, by id: a grant for some projects or environments covers only those. */
export interface Scope {
  project?: string;
  environment?: string;
  /** As the request named them, for the refusal's message. */
  projectName?: string;
  environmentName?: string;
}

export interface Requirement extends Scope {
  permission: Permission;
}

/**
 * What a route needs. `permission: null`: any signed-in user (their own account and keys).
 * `scope` finds the project and environment the request acts on; without it the action is on
 * no project, which a grant scoped to some projects does not cover. `list`: the route answers
 * with what the caller may see of a list, so a scoped grant is enough to ask. `requirements`:
 * a request that needs several permissions (apply), worked out from its body.
 */
export interface RouteRule {
  permission: Permission | null;
  scope?: (req: FastifyRequest, ctx: ServerContext) => Promise<Scope>;
  list?: boolean;
  requirements?: (req: FastifyRequest, ctx: ServerContext) => Promise<Requirement[]>;
}
