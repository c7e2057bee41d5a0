import type { Permission } from './permissions.js';
import type { RouteRule } from './requirements.js';
import { applyRequirements, deploymentScope, projectScope, releaseScope, taskScope } from './scopeOf.js';

const rule = (permission: Permission | null, extra: Omit<RouteRule, 'permission'> = {}): RouteRule => ({
  permission,
  ...extra,
});
const namedResource = (base: string, view: Permission, edit: Permission): Record<string, RouteRule> => ({
  [`GET ${base}`]: rule(view),
  [`GET ${base}/:ref`]: rule(view),
  [`POST ${base}`]: rule(edit),
  [`PUT ${base}/:ref`]: rule(edit),
  [`DELETE ${base}/:ref`]: rule(edit),
});

/**
 * Every route a user's credential opens, and what it needs: the one place the API's permissions
 * are decided. A user route missing here does not register, so the server does not start.
 */
export const ROUTE_RULES: Record<string, RouteRule> = {
  'GET /api': rule(null),
  'GET /api/openapi.json': rule(null),
  'GET /api/server': rule(null),
  'GET /api/me': rule(null),
  'DELETE /api/sessions/current': rule(null),
  'GET /api/api-keys': rule(null),
  'POST /api/api-keys': rule(null),
  'DELETE /api/api-keys/:id': rule(null),

  ...namedResource('/api/environments', 'environment:view', 'environment:edit'),
  // The list shows each caller the environments their grants name, a grant for some projects too.
  'GET /api/environments': rule('environment:view', { list: true }),
  ...namedResource('/api/worker-pools', 'worker:view', 'worker:manage'),
  ...namedResource('/api/targets', 'target:view', 'target:edit'),
  ...namedResource('/api/machine-policies', 'worker:view', 'worker:manage'),

  'GET /api/projects': rule('project:view', { list: true }),
  'GET /api/projects/:ref': rule('project:view', { scope: projectScope }),
  'POST /api/projects': rule('project:edit'),
  'DELETE /api/projects/:ref': rule('project:edit', { scope: projectScope }),
  'PUT /api/projects/:ref/process': rule('process:edit', { scope: projectScope }),
  'GET /api/projects/:ref/variables': rule('variable:view', { scope: projectScope }),
  'GET /api/projects/:ref/variables/sensitive': rule('variable:view-sensitive', { scope: projectScope }),
  'PUT /api/projects/:ref/variables': rule('variable:edit', { scope: projectScope }),
  'GET /api/projects/:ref/releases': rule('project:view', { scope: projectScope }),
  'GET /api/projects/:ref/steps/usage': rule('project:view', { scope: projectScope }),
  'POST /api/projects/:ref/releases': rule('release:create', { scope: projectScope }),
  'GET /api/releases/:id': rule('project:view', { scope: releaseScope }),
  'POST /api/deployments': rule('deployment:create', { scope: deploymentScope }),
  'GET /api/deployments': rule('project:view', { list: true }),

  'GET /api/tasks': rule('task:view', { list: true }),
  'GET /api/tasks/:id': rule('task:view', { scope: taskScope }),
  'GET /api/tasks/:id/log': rule('task:view', { scope: taskScope }),
  'GET /api/tasks/:id/log/stream': rule('task:view', { scope: taskScope }),
  'POST /api/tasks/:id/cancel': rule('task:cancel', { scope: taskScope }),

  'GET /api/packages': rule('package:view'),
  'GET /api/packages/:packageId/:version/content': rule('package:view'),
  'POST /api/packages/:packageId/:version': rule('package:push'),

  'GET /api/workers': rule('worker:view'),
  'GET /api/workers/:ref': rule('worker:view'),
  'GET /api/pool-statistics': rule('worker:view'),
  // Infrastructure, like workers: whoever watches the workers watches the server nodes. Tasks show by id and kind only.
  'GET /api/server-nodes': rule('worker:view'),
  'POST /api/workers/:ref/disable': rule('worker:manage'),
  'POST /api/workers/:ref/enable': rule('worker:manage'),
  'PUT /api/workers/:ref/machine-policy': rule('worker:manage'),
  'DELETE /api/workers/:ref': rule('worker:manage'),
  'POST /api/workers/health-checks': rule('worker:manage'),
  'POST /api/workers/:ref/health-checks': rule('worker:manage'),
  'POST /api/workers/upgrades': rule('worker:manage'),
  'POST /api/workers/:ref/upgrades': rule('worker:manage'),
  'POST /api/registration-tokens': rule('worker:register'),
  'POST /api/workers/install-command': rule('worker:register'),

  'POST /api/apply': rule('project:edit', { requirements: applyRequirements }),

  'GET /api/users': rule('user:manage'),
  'GET /api/users/:ref': rule('user:manage'),
  'POST /api/users': rule('user:manage'),
  'PUT /api/users/:ref': rule('user:manage'),
  'DELETE /api/users/:ref': rule('user:manage'),
  'GET /api/users/:ref/api-keys': rule('user:manage'),
  'DELETE /api/users/:ref/api-keys/:id': rule('user:manage'),
  ...namedResource('/api/teams', 'user:manage', 'user:manage'),
  ...namedResource('/api/roles', 'user:manage', 'user:manage'),
  'GET /api/audit': rule('audit:view'),

  ...namedResource('/api/webhooks', 'webhook:manage', 'webhook:manage'),
  'GET /api/webhooks/:ref/deliveries': rule('webhook:manage'),
  'GET /api/webhooks/:ref/deliveries/:id': rule('webhook:manage'),
  'POST /api/webhooks/:ref/deliveries/:id/redeliver': rule('webhook:manage'),
  'POST /api/webhooks/:ref/test': rule('webhook:manage'),
};

/** The key ROUTE_RULES is read by. */
export const ruleKey = (method: string, url: string): string => `${method} ${url}`;
