import { existsSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { sql } from 'kysely';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import { parseServerConfig, redactServerConfig, type ServerConfigInput } from './config.js';
import type { ServerContext } from './context.js';
import { SecretBox, loadMasterKey } from './crypto/secretBox.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { installAuthentication } from './http/authentication.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './http/errorHandler.js';
import { installValidation } from './http/validation.js';
import { TaskLog } from './logs/taskLog.js';
import { taskLogRoutes } from './logs/taskLogRoutes.js';
import { TaskRunner } from './orchestration/taskRunner.js';
import { applyRoutes } from './resources/apply.js';
import { deploymentRoutes } from './resources/deployments.js';
import { ensureDefaultPool, namedResourceRoutes } from './resources/namedResources.js';
import { packageRoutes } from './resources/packages.js';
import { projectRoutes } from './resources/projects.js';
import { releaseRoutes } from './resources/releases.js';
import { targetRoutes } from './resources/targets.js';
import { taskRoutes } from './resources/tasks.js';
import { createApiKey, workerRoutes } from './resources/workers.js';
import { agentRoutesPlugin } from './routes/agentRoutes.js';
import { installCommandRoutes } from './install/installCommandRoutes.js';
import { serverInfoRoutes } from './resources/serverInfo.js';
import { listenUrl, type ServerEndpoint } from './tls/endpoint.js';
import { loadServerCertificate, type ServerCertificate } from './tls/serverCertificate.js';
import { openStore } from './store/database.js';
import { MAX_PATH_PARAM_LENGTH } from './resources/names.js';

export interface LongshoreServer {
  app: FastifyInstance;
  ctx: ServerContext;
  /** The URL workers and clients reach it at: publicUrl, else the listen address. */
  url: string;
  /** What workers pin (SHA-256 of the certificate, lowercase hex); absent when serving plain HTTP. */
  certificateThumbprint: string | undefined;
  close(): Promise<void>;
}

const ADMIN_KEY_FILE = 'admin-api-key';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Builds and starts the server: store, migrations, routes, dispatch and the resumed tasks. */
export async function startServer(input: ServerConfigInput): Promise<LongshoreServer> {
  const config = parseServerConfig(input);
  const certificate = config.insecureHttp ? undefined : await loadServerCertificate(config);
  const endpoint: ServerEndpoint = { url: '', ...(certificate ? { certificate } : {}) };
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-longshore-api-key"]'] },
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    https: certificate ? { cert: certificate.certPem, key: certificate.keyPem } : null,
  });
  const db = await openStore(config.dataDir);
  const box = new SecretBox(loadMasterKey(config.dataDir, config.masterKey));
  // Services reach each other through the context; the getter lets them be built in any order.
  let ctx!: ServerContext;
  const get = () => ctx;
  ctx = { config, db, box, endpoint, log: app.log, dispatcher: new Dispatcher(get), tasks: new TaskRunner(get), taskLog: new TaskLog(db, box) };
  app.log.info({ config: redactServerConfig(config) }, 'starting Longshore server');
  if (certificate) logCertificate(ctx, certificate);
  else if (!LOOPBACK_HOSTS.has(config.host)) app.log.warn({ host: config.host }, 'serving plain HTTP (insecureHttp) beyond this machine: API keys and worker credentials cross the network readable unless a TLS proxy is in front');

  await ensureDefaultPool(ctx);
  await writeAdminKeyOnFirstStart(ctx);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Longshore API', version: LONGSHORE_VERSION },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  installValidation(app);
  installErrorHandling(app);
  installAuthentication(app, db, box);
  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async () => {
    await sql`SELECT 1`.execute(db);
    return { status: 'ready' };
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api', { schema: { hide: true } }, async () => ({ name: 'Longshore', version: LONGSHORE_VERSION }));
  for (const plugin of [
    namedResourceRoutes('environments'),
    namedResourceRoutes('worker_pools'),
    targetRoutes,
    projectRoutes,
    releaseRoutes,
    deploymentRoutes,
    taskRoutes,
    taskLogRoutes,
    packageRoutes,
    workerRoutes,
    installCommandRoutes,
    serverInfoRoutes,
    applyRoutes,
    agentRoutesPlugin,
  ]) {
    await app.register(async (scope) => plugin(scope, ctx));
  }

  await app.listen({ host: config.host, port: config.port });
  endpoint.url = config.publicUrl ?? listenUrl(config.host, (app.server.address() as AddressInfo).port, certificate !== undefined);
  await ctx.dispatcher.start();
  await ctx.tasks.resumeAll();
  return {
    app,
    ctx,
    url: endpoint.url,
    certificateThumbprint: certificate?.thumbprint,
    async close() {
      ctx.dispatcher.stop();
      await app.close();
      await db.destroy();
    },
  };
}

function logCertificate(ctx: ServerContext, certificate: ServerCertificate): void {
  const { thumbprint, source, certFile, notAfter } = certificate;
  ctx.log.info({ thumbprint, source, certFile, notAfter }, source === 'created' ? 'made a self-signed server certificate' : 'serving HTTPS');
  const daysLeft = (notAfter.getTime() - Date.now()) / 86_400_000;
  if (daysLeft < 30) {
    ctx.log.warn({ certFile, notAfter }, daysLeft < 0 ? 'the server certificate has expired: clients that check dates refuse it; renew it' : `the server certificate expires in ${Math.floor(daysLeft)} days; renew it`);
  }
}

/** The first start writes an admin API key to `<dataDir>/admin-api-key` (0600) for the CLI. */
async function writeAdminKeyOnFirstStart(ctx: ServerContext): Promise<void> {
  const path = join(ctx.config.dataDir, ADMIN_KEY_FILE);
  const any = await ctx.db.selectFrom('api_keys').select('id').executeTakeFirst();
  if (any || existsSync(path)) return;
  const { key } = await createApiKey(ctx, 'admin');
  writeFileSync(path, key + '\n', { mode: 0o600 });
  ctx.log.info({ path }, 'wrote the admin API key');
}
