// Every HTTP route of the server, each plugin registered with who may call it: the probes and
// metrics, the OpenAPI document, the user API and the worker protocol.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { auditRoutes } from '../audit/auditRoutes.js';
import { installAudit } from '../audit/auditHooks.js';
import { healthCheckRoutes } from '../health/healthRoutes.js';
import { apiKeyRoutes } from '../identity/apiKeys.js';
import { installAuthorization } from '../identity/authorization.js';
import { oidcRoutes } from '../identity/oidcRoutes.js';
import { roleRoutes } from '../identity/roleRoutes.js';
import { sessionRoutes } from '../identity/sessionRoutes.js';
import { teamRoutes } from '../identity/teamRoutes.js';
import { userRoutes } from '../identity/userRoutes.js';
import { installCommandRoutes } from '../install/installCommandRoutes.js';
import { taskLogRoutes } from '../logs/taskLogRoutes.js';
import type { ServerMetrics } from '../metrics/serverMetrics.js';
import { statisticsRoutes } from '../metrics/statisticsRoutes.js';
import { BUNDLED_PORTAL, loadPortal } from '../portal/portalFiles.js';
import { portalPages } from '../portal/portalPages.js';
import { applyRoutes } from '../resources/apply.js';
import { deploymentRoutes } from '../resources/deployments.js';
import { machinePolicyRoutes } from '../resources/machinePolicies.js';
import { namedResourceRoutes } from '../resources/namedResources.js';
import { packageRoutes } from '../resources/packages.js';
import { projectRoutes } from '../resources/projects.js';
import { releaseRoutes } from '../resources/releases.js';
import { serverInfoRoutes } from '../resources/serverInfo.js';
import { serverNodeRoutes } from '../cluster/serverNodeRoutes.js';
import { targetRoutes } from '../resources/targets.js';
import { taskRoutes } from '../resources/tasks.js';
import { workerRoutes } from '../resources/workers.js';
import { usageRoutes } from '../rightsizing/usageRoutes.js';
import { agentRoutesPlugin } from '../routes/agentRoutes.js';
import type { StoreHealth } from '../store/storeHealth.js';
import { upgradeRoutes } from '../upgrades/upgradeRoutes.js';
import { webhookRoutes } from '../webhooks/webhookRoutes.js';
import { installAuthentication } from './authentication.js';
import { installErrorHandling } from './errorHandler.js';
import { SECURITY_SCHEMES } from './openApiResponses.js';
import { requireRouteAccess, withAccess, type RouteEntry } from './routeAccess.js';
import type { RouteAccess } from './routeAccessKinds.js';
import { installNulHandling } from './nulCharacters.js';
import { installValidation } from './validation.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function registerRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  storeHealth: StoreHealth,
  metrics: ServerMetrics,
): Promise<readonly RouteEntry[]> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Longshore API', version: LONGSHORE_VERSION },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
  });
  installValidation(app);
  installErrorHandling(app, portalPages(loadPortal(ctx.config.portalDir ?? BUNDLED_PORTAL)));
  const routes = requireRouteAccess(app);
  installAuthentication(app, ctx.db, ctx.box);
  installAuthorization(app, ctx);
  // After the checks of who may call: a caller who may not gets 401 or 403, whatever the body holds.
  installNulHandling(app);
  installAudit(app, ctx.audit);
  app.addHook('onRequest', async (request) => {
    if (READS.has(request.method)) return;
    const broken = storeHealth.broken;
    if (broken) throw new LongshoreError('STORE_UNAVAILABLE', broken);
  });
  const open = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/livez', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async () => {
    await storeHealth.check();
    return { status: 'ready' };
  });
  // Public, as Prometheus scrapers expect: pool names and counts, never a secret.
  app.get('/metrics', open, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const withKey = { config: { access: 'user' as const }, schema: { hide: true } };
  app.get('/api/openapi.json', withKey, async () => app.swagger());
  app.get('/api', withKey, async () => ({ name: 'Longshore', version: LONGSHORE_VERSION }));
  const plugins: [RouteAccess, (scope: FastifyInstance, context: ServerContext) => Promise<void>][] = [
    ['user', namedResourceRoutes('environments')],
    ['user', namedResourceRoutes('worker_pools')],
    ['user', targetRoutes],
    ['user', projectRoutes],
    ['user', releaseRoutes],
    ['user', deploymentRoutes],
    ['user', taskRoutes],
    ['user', taskLogRoutes],
    ['user', packageRoutes],
    ['user', workerRoutes],
    ['user', healthCheckRoutes],
    ['user', upgradeRoutes],
    ['user', statisticsRoutes],
    ['user', machinePolicyRoutes],
    ['user', installCommandRoutes],
    ['user', serverInfoRoutes],
    ['user', serverNodeRoutes],
    ['user', applyRoutes],
    // Signing in is public and declares so on its route.
    ['user', sessionRoutes],
    ['user', oidcRoutes],
    ['user', apiKeyRoutes],
    ['user', userRoutes],
    ['user', teamRoutes],
    ['user', roleRoutes],
    ['user', auditRoutes],
    ['user', usageRoutes],
    ['user', webhookRoutes],
    // Registration is public (its one-time token is in the body) and declares so on its route.
    ['worker', agentRoutesPlugin],
  ];
  for (const [access, plugin] of plugins) await app.register(withAccess(access, plugin, ctx));
  return routes;
}
