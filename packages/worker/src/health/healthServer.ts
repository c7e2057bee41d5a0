import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LongshoreError } from '@longshore/protocol';
import type { WorkerMetrics } from './workerMetrics.js';

/** What /readyz answers: ready means registered, polling, and the server answering. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface HealthServerOptions {
  port: number;
  /** Default all interfaces: the kubelet probes the pod's IP. */
  host?: string;
  readiness(): Readiness;
  /** False once the worker failed for good: the kubelet should restart it. */
  alive(): boolean;
  metrics: WorkerMetrics;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/livez`, `/readyz` and `/metrics` for the kubelet and Prometheus. Plain node:http: three
 * routes do not need a framework, and the worker stays small while idle. Readiness says why
 * not in its body, so `kubectl describe pod` shows the reason (a used registration token, an
 * unreachable server) instead of a bare 503.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    respond(options, req, res).catch((error: unknown) =>
      send(res, 500, `metrics failed: ${(error as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LongshoreError(
          'CONFIG_INVALID',
          `The worker cannot listen on port ${options.port} for health checks: ${error.code ?? error.message}`,
        ),
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(options: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET only\n');
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/livez':
      return options.alive() ? send(res, 200, 'ok\n') : send(res, 503, 'the worker failed; see its log\n');
    case '/readyz': {
      const { ready, reason } = options.readiness();
      return send(res, ready ? 200 : 503, `${reason}\n`);
    }
    case '/metrics': {
      const body = await options.metrics.registry.metrics();
      res.setHeader('content-type', options.metrics.registry.contentType);
      return send(res, 200, body);
    }
    default:
      return send(res, 404, 'not found: /livez, /readyz and /metrics are served here\n');
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.statusCode = status;
  res.end(body);
}
