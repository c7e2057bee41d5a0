import type { RouteRule } from '../identity/requirements.js';

/**
 * Who may call a route. The guard reads it from the route the router matched, never from the
 * URL: the router decodes paths, so a prefix check on the raw URL let `/%61pi/api-keys` through.
 * - public: anyone (probes, registration with a one-time token in the body);
 * - worker: a worker credential;
 * - workerOrPackageToken: a worker credential, or a script pod's package token (checked against
 *   the route's own parameters by the handler);
 * - user: a user's API key or portal session, with the permission the route's rule names (identity/routePermissions.ts).
 */
export const ROUTE_ACCESS = ['public', 'worker', 'workerOrPackageToken', 'user'] as const;
export type RouteAccess = (typeof ROUTE_ACCESS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** For user routes: the permission it needs and where (set from identity/routePermissions.ts). */
    rule?: RouteRule;
  }
}
