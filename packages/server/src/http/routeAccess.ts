import type { FastifyInstance, FastifyPluginAsync, RouteOptions } from 'fastify';
import { documentRoute } from './openApiResponses.js';
import { ROUTE_ACCESS, type RouteAccess } from './routeAccessKinds.js';
import { ROUTE_RULES, ruleKey } from '../identity/routePermissions.js';
import type { RouteRule } from '../identity/requirements.js';

/** A registered route and who may call it, for tests and the API's documentation. */
export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

const scopeAccess = Symbol('longshore.routeAccess');
type Scoped = FastifyInstance & { [scopeAccess]?: RouteAccess };

/**
 * Every route must declare its access, in its own `config.access` or through the scope it is
 * registered in (`withAccess`); one without either refuses to register, so the server does not
 * start. The route's schema gains its security and the errors it can answer (openApiResponses.ts).
 * Returns the table of routes, filled as they register.
 */
export function requireRouteAccess(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', function (this: Scoped, route: RouteOptions) {
    // Scopes inherit their parent's properties, so nested plugins keep the declaration.
    const access = route.config?.access ?? this[scopeAccess];
    if (access === undefined || !ROUTE_ACCESS.includes(access)) {
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no access (${ROUTE_ACCESS.join(', ')}): refusing to register it`,
      );
    }
    const rule = access === 'user' ? ruleOf(route) : undefined;
    route.config = { ...route.config, access, ...(rule && { rule }) };
    route.schema = documentRoute(route.method, route.url, route.schema, access, rule);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });
  return routes;
}

/** A user route's rule; one the table does not name refuses to register, so none goes unchecked. */
function ruleOf(route: RouteOptions): RouteRule {
  // Fastify adds a HEAD route for each GET: it answers as the GET does.
  const methods = [route.method].flat().map((m) => (m === 'HEAD' ? 'GET' : m));
  const rules = methods.map((m) => ROUTE_RULES[ruleKey(m, route.url)]);
  const [first] = rules;
  if (first === undefined || rules.some((r) => r !== first))
    throw new Error(
      `Route ${methods.join(',')} ${route.url} has no permission rule in identity/routePermissions.ts: refusing to register it`,
    );
  return first;
}

/** The plugin's routes are for `access`, unless a route declares its own. */
export function withAccess<T>(
  access: RouteAccess,
  plugin: (scope: FastifyInstance, options: T) => Promise<void>,
  options: T,
): FastifyPluginAsync {
  return async (scope) => {
    (scope as Scoped)[scopeAccess] = access;
    await plugin(scope, options);
  };
}
