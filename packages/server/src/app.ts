import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import Fastify, { type FastifyInstance, type FastifyListenOptions, type FastifyRequest } from 'fastify';
import { parseServerConfig, redactServerConfig, type ServerConfigInput } from './config.js';
import type { ServerContext } from './context.js';
import { loadMasterKey } from './crypto/masterKey.js';
import { SecretBox } from './crypto/secretBox.js';
import { loadShippedChart, upgradeChartSource } from './upgrades/shippedChart.js';
import type { RouteEntry } from './http/routeAccess.js';
import { clientErrorHandler, frameworkErrors } from './http/errorHandler.js';
import { ensureDefaultPool } from './resources/namedResources.js';
import { endpointUrl, type ServerEndpoint } from './tls/endpoint.js';
import { composeParts, type ServerParts } from './serverParts.js';
import { registerRoutes } from './http/routeRegistration.js';
import { loadServerCertificate, type ServerCertificate } from './tls/serverCertificate.js';
import { openStore } from './store/database.js';
import { StoreHealth } from './store/storeHealth.js';
import { ensureAdministrator } from './startup/administrator.js';
import { checkMasterKey } from './startup/masterKeyCheck.js';
import { MAX_PATH_PARAM_LENGTH } from './resources/names.js';

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
    // First, while the store is there: its scheduled work stops and its tasks go to the other nodes.
    await parts?.cluster.stop();
    parts?.dispatcher.stop();
    parts?.unservedSteps.stop();
    parts?.healthSchedule.stop();
    parts?.context.audit.stop();
    // Before the store closes: an attempt under way records how it ended.
    await parts?.webhookDeliverer.stop();
    storeHealth.stop();
    await app.close();
    await parts?.signals.stop();
    await db.destroy();
  };
  // Whatever fails on the way up stops what had started.
  try {
    // Before anything writes: a node with another key than the database's must change nothing.
    const masterKey = loadMasterKey(config.dataDir, config.masterKey);
    const box = new SecretBox(masterKey.key);
    await checkMasterKey(db, box, masterKey);
    await storeHealth.start();
    const chartSource = upgradeChartSource(config);
    const chart = chartSource === undefined ? undefined : await loadShippedChart(chartSource);
    const built = composeParts({ config, db, box, endpoint, log: app.log }, chart);
    parts = built;
    const { context: ctx, dispatcher, metrics } = built;
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
        // Fastify hands its listen options to node's server.listen, which takes reusePort (Node >= 22.12); its types lack it.
        const options: FastifyListenOptions & { reusePort: boolean } = {
          host: config.host,
          port: config.port,
          reusePort: config.reusePort,
        };
        await app.listen(options);
        endpoint.url = endpointUrl(config, app.server, certificate !== undefined);
        await built.signals.start();
        await dispatcher.start();
        await built.cluster.start({
          name: config.nodeName ?? `${hostname()}:${(app.server.address() as AddressInfo).port}`,
          url: endpoint.url,
          version: LONGSHORE_VERSION,
        });
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

async function closeAfterFailure(app: FastifyInstance, close: () => Promise<void>): Promise<void> {
  await close().catch((err: unknown) => app.log.error({ err }, 'stopping after a failed start failed'));
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
