import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';
import { parseServerConfig, redactServerConfig, type ServerConfigInput } from './config.js';
import type { ServerContext } from './context.js';
import { SecretBox, loadMasterKey } from './crypto/secretBox.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { UnservedStepWatch } from './dispatch/unservedStepWatch.js';
import { WorkerWakeups } from './dispatch/workerWakeups.js';
import { HealthChecks } from './health/healthChecks.js';
import { healthCheckRoutes } from './health/healthRoutes.js';
import { loadShippedChart, upgradeChartSource, type ShippedChart } from './upgrades/shippedChart.js';
import { upgradeRoutes } from './upgrades/upgradeRoutes.js';
import { statisticsRoutes } from './metrics/statisticsRoutes.js';
import { BUNDLED_PORTAL, loadPortal } from './portal/portalFiles.js';
import { portalPages } from './portal/portalPages.js';
import { WORKER_UPGRADE_TASK_KIND, WorkerUpgrades } from './upgrades/workerUpgrades.js';
import { HealthSchedule } from './health/healthSchedule.js';
import { installAuthentication } from './http/authentication.js';
import { installAuthorization } from './identity/authorization.js';
import { AuditLog } from './audit/auditLog.js';
import { installAudit } from './audit/auditHooks.js';
import { auditRoutes } from './audit/auditRoutes.js';
import { usageRoutes } from './rightsizing/usageRoutes.js';
import { requireRouteAccess, withAccess, type RouteEntry } from './http/routeAccess.js';
import type { RouteAccess } from './http/routeAccessKinds.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './http/errorHandler.js';
import { installValidation } from './http/validation.js';
import { SECURITY_SCHEMES } from './http/openApiResponses.js';
import { TaskLog } from './logs/taskLog.js';
import { poolStatistics } from './metrics/poolStatistics.js';
import { ServerMetrics } from './metrics/serverMetrics.js';
import { taskLogRoutes } from './logs/taskLogRoutes.js';
import { TaskRunner } from './orchestration/taskRunner.js';
import { applyRoutes } from './resources/apply.js';
import { deploymentRoutes } from './resources/deployments.js';
import { machinePolicyRoutes } from './resources/machinePolicies.js';
import { ensureDefaultPool, namedResourceRoutes } from './resources/namedResources.js';
import { packageRoutes } from './resources/packages.js';
import { projectRoutes } from './resources/projects.js';
import { releaseRoutes } from './resources/releases.js';
import { targetRoutes } from './resources/targets.js';
import { taskRoutes } from './resources/tasks.js';
import { workerRoutes } from './resources/workers.js';
import { agentRoutesPlugin } from './routes/agentRoutes.js';
import { installCommandRoutes } from './install/installCommandRoutes.js';
import { serverInfoRoutes } from './resources/serverInfo.js';
import { endpointUrl, type ServerEndpoint } from './tls/endpoint.js';
import { loadServerCertificate, type ServerCertificate } from './tls/serverCertificate.js';
import { openStore } from './store/database.js';
import { StoreHealth } from './store/storeHealth.js';
import { ensureAdministrator } from './startup/administrator.js';
import { apiKeyRoutes } from './identity/apiKeys.js';
import { roleRoutes } from './identity/roleRoutes.js';
import { sessionRoutes } from './identity/sessionRoutes.js';
import { oidcRoutes } from './identity/oidcRoutes.js';
import { teamRoutes } from './identity/teamRoutes.js';
import { userRoutes } from './identity/userRoutes.js';
import { MAX_PATH_PARAM_LENGTH } from './resources/names.js';
import { WebhookDeliverer } from './webhooks/webhookDeliverer.js';
import { WebhookOutbox } from './webhooks/webhookOutbox.js';
import { webhookRoutes } from './webhooks/webhookRoutes.js';

export interface LongshoreServer {
  app: FastifyInstance;
  ctx: ServerContext;
  /** The URL workers and clients reach it at: publicUrl, else the listen address. */
  url: string;
  /** What workers pin (SHA-256 of the certificate, lowercase hex); absent when serving plain HTTP. */
  certificateThumbprint: string | undefined;
  /** Every route and who may call it. */
  routes: readonly RouteEntry[];
  close(): Promise<void>;
}

/** The parts app.ts composes, for what starts and stops them and for tests that drive them. */
export interface ServerParts {
  context: ServerContext;
  dispatcher: Dispatcher;
  tasks: TaskRunner;
  unservedSteps: UnservedStepWatch;
  metrics: ServerMetrics;
  healthSchedule: HealthSchedule;
  webhookDeliverer: WebhookDeliverer;
}

/** A server with all of its parts and routes, not yet listening: tests `app.inject` into it. */
export interface BuiltServer extends Omit<LongshoreServer, 'url'> {
  parts: ServerParts;
  /**
   * Listens, then starts dispatching and resumes the tasks the store holds unfinished. A failure
   * closes the server, so no half-started one keeps listening.
   */
  listen(): Promise<LongshoreServer>;
}

/**
 * Fastify's request fields, with the authorization code a single sign-on brings back in the URL
 * left out: it is single-use and useless without the server's PKCE verifier, but a credential still.
 */
function loggedRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url.replace(/([?&]code=)[^&]*/g, '$1[redacted]'),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Builds and starts the server: store, migrations, routes, dispatch and the resumed tasks. */
export async function startServer(input: ServerConfigInput): Promise<LongshoreServer> {
  return (await buildServer(input)).listen();
}

/** Builds the server, its store (migrated) and its routes without listening or starting any work. */
export async function buildServer(input: ServerConfigInput): Promise<BuiltServer> {
  const config = parseServerConfig(input);
  const certificate = config.insecureHttp ? undefined : await loadServerCertificate(config);
  const endpoint: ServerEndpoint = { url: config.publicUrl ?? '', ...(certificate ? { certificate } : {}) };
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers["x-longshore-api-key"]'],
      serializers: { req: loggedRequest },
    },
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    https: certificate ? { cert: certificate.certPem, key: certificate.keyPem } : null,
  });
  const db = await openStore(config, {
    onIdleError: (err) => app.log.warn({ err }, 'a pooled database connection failed; the next query opens another'),
  });
  const storeHealth = new StoreHealth(config, db, app.log);
  let parts: ServerParts | undefined;
  const close = async (): Promise<void> => {
    parts?.dispatcher.stop();
    parts?.unservedSteps.stop();
    parts?.healthSchedule.stop();
    parts?.context.audit.stop();
    // Before the store closes: an attempt under way records how it ended.
    await parts?.webhookDeliverer.stop();
    storeHealth.stop();
    await app.close();
    await db.destroy();
  };
  // Whatever fails on the way up stops what had started.
  try {
    await storeHealth.start();
    const box = new SecretBox(loadMasterKey(config.dataDir, config.masterKey));
    const chartSource = upgradeChartSource(config);
    const chart = chartSource === undefined ? undefined : await loadShippedChart(chartSource);
    const built = composeParts({ config, db, box, endpoint, log: app.log }, chart);
    parts = built;
    const { context: ctx, dispatcher, tasks, unservedSteps, metrics } = built;
    app.log.info({ config: redactServerConfig(config) }, 'starting Longshore server');
    if (certificate) logCertificate(ctx, certificate);
    else if (!LOOPBACK_HOSTS.has(config.host))
      app.log.warn(
        { host: config.host },
        'serving plain HTTP (insecureHttp) beyond this machine: API keys and worker credentials cross the network readable unless a TLS proxy is in front',
      );

    await ensureDefaultPool(ctx);
    await ensureAdministrator(ctx);
    const routes = await registerRoutes(app, ctx, storeHealth, metrics);
    const certificateThumbprint = certificate?.thumbprint;
    const listen = async (): Promise<LongshoreServer> => {
      try {
        await app.listen({ host: config.host, port: config.port });
        endpoint.url = endpointUrl(config, app.server, certificate !== undefined);
        await dispatcher.start();
        // Before tasks resume: a health check's task is the health checks' to end, not the task runner's.
        await ctx.health.failLeftOvers();
        await tasks.resumeAll();
        unservedSteps.start();
        built.healthSchedule.start();
        ctx.audit.start();
        built.webhookDeliverer.start();
        return { app, ctx, url: endpoint.url, certificateThumbprint, routes, close };
      } catch (error) {
        await closeAfterFailure(app, close);
        throw error;
      }
    };
    return { app, ctx, parts: built, certificateThumbprint, routes, listen, close };
  } catch (error) {
    await closeAfterFailure(app, close);
    throw error;
  }
}

/**
 * The parts in the order they depend on each other: the task runner signals waiting workers, and
 * the dispatcher ends operations whose worker is gone through the task runner.
 */
function composeParts(
  base: Pick<ServerContext, 'config' | 'db' | 'box' | 'endpoint' | 'log'>,
  chart: ShippedChart | undefined,
): ServerParts {
  const { config, db, box, log } = base;
  const taskLog = new TaskLog(db, box);
  const webhookDeliverer = new WebhookDeliverer({
    db,
    box,
    log,
    settings: {
      retry: {
        baseMs: config.webhookRetryBaseMs,
        maxDelayMs: config.webhookRetryMaxDelayMs,
        maxAttempts: config.webhookMaxAttempts,
      },
      timeoutMs: config.webhookTimeoutMs,
      retentionDays: config.webhookDeliveryRetentionDays,
    },
  });
  const webhooks = new WebhookOutbox({ serverUrl: () => base.endpoint.url, wake: () => webhookDeliverer.wake() });
  const wakeups = new WorkerWakeups();
  const upgrades = new WorkerUpgrades({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    chart,
    readyTimeoutSeconds: config.upgradeReadyTimeoutSeconds,
    offlineAfterMs: config.workerOfflineAfterMs,
    serverUrl: () => base.endpoint.url,
  });
  const metrics = new ServerMetrics(() => poolStatistics(db, Date.now(), config.workerOfflineAfterMs));
  const tasks = new TaskRunner({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    // The watch fails steps through the task runner, so it is made after it.
    pools: { stepQueued: (poolId) => unservedSteps.stepQueued(poolId) },
    observer: metrics,
    events: webhooks,
    drivers: {
      [WORKER_UPGRADE_TASK_KIND]: {
        advance: (taskId) => upgrades.advance(taskId),
        cancelRefusal:
          'An upgrade cannot be cancelled: stopping helm half way leaves the release locked. It ends by itself, rolled back if the new worker does not come back in time',
      },
    },
  });
  const unservedSteps = new UnservedStepWatch({
    db,
    taskLog,
    steps: tasks,
    log,
    offlineAfterMs: config.workerOfflineAfterMs,
    timeoutMs: config.noUsableWorkerTimeoutSeconds * 1000,
    sweepIntervalMs: config.sweepIntervalMs,
  });
  const dispatcher = new Dispatcher({
    db,
    box,
    log,
    timings: {
      leaseMs: config.leaseMs,
      restartGraceMs: config.restartGraceMs,
      sweepIntervalMs: config.sweepIntervalMs,
      maxPollWaitMs: config.maxPollWaitMs,
    },
    wakeups,
    operations: tasks,
    observer: metrics,
  });
  const health = new HealthChecks({
    db,
    box,
    log,
    taskLog,
    workers: wakeups,
    events: webhooks,
    afterHealthy: (workerId) => upgrades.afterHealthyCheck(workerId),
  });
  const audit = new AuditLog(db, config.auditRetentionDays, log);
  const healthSchedule = new HealthSchedule({ db, checks: health, log, intervalMs: config.sweepIntervalMs });
  return {
    context: { ...base, taskLog, dispatcher, tasks, health, upgrades, audit, webhooks },
    dispatcher,
    tasks,
    unservedSteps,
    metrics,
    healthSchedule,
    webhookDeliverer,
  };
}

async function closeAfterFailure(app: FastifyInstance, close: () => Promise<void>): Promise<void> {
  await close().catch((err: unknown) => app.log.error({ err }, 'stopping after a failed start failed'));
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

async function registerRoutes(
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

function logCertificate(ctx: ServerContext, certificate: ServerCertificate): void {
  const { thumbprint, source, certFile, notAfter } = certificate;
  ctx.log.info(
    { thumbprint, source, certFile, notAfter },
    source === 'created' ? 'made a self-signed server certificate' : 'serving HTTPS',
  );
  const daysLeft = (notAfter.getTime() - Date.now()) / 86_400_000;
  if (daysLeft < 30) {
    ctx.log.warn(
      { certFile, notAfter },
      daysLeft < 0
        ? 'the server certificate has expired: clients that check dates refuse it; renew it'
        : `the server certificate expires in ${Math.floor(daysLeft)} days; renew it`,
    );
  }
}
