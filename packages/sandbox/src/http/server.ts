// The HTTPS front: authenticate, work out the request (requestInfo), authorize with RBAC,
// dispatch (discovery, health, OpenAPI, resources), and write one audit entry per request.
// Every failure is a Status answer; no client input can throw past handle(). Upgrade requests
// (pods/exec, attach, portforward) take the same path, with the socket handed over to the
// handler once authorized (see podStreams.ts).
import { createServer, type Server } from 'node:https';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errors } from '../errors.js';
import { ANONYMOUS, type UserInfo } from '../auth/user.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, versionInfo } from '../discovery/discovery.js';
import { openApiDocument, openApiIndex } from '../discovery/openapi.js';
import { authorize, forbiddenMessage, type RequestAttributes } from '../rbac/evaluate.js';
import { findResource } from '../resources/registry.js';
import { authenticate } from './authn.js';
import type { ServerContext, UpgradeRequest } from './context.js';
import { requestInfo, type RequestInfo } from './requestInfo.js';
import { handleResource } from './resourceHandler.js';
import { readBody, sendError, sendJson } from './respond.js';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export class ApiServer {
  private readonly server: Server;

  constructor(
    private readonly sc: ServerContext,
    tls: TlsMaterial,
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      void this.handle(req, res);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      // Refusals are ordinary HTTP answers on the same socket, written by the usual handlers.
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.on('finish', () => socket.end());
      void this.handle(req, res, { socket, head });
    });
    // Longer than client-go's idle timeout (90 s), so the server never closes a connection a
    // client is about to reuse (that race surfaces as spurious EOF errors in controllers).
    this.server.keepAliveTimeout = 120_000;
    this.server.headersTimeout = 130_000;
    this.server.requestTimeout = 0;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.sc.watches.closeAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, upgrade?: UpgradeRequest): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const method = req.method ?? 'GET';
    let user: UserInfo = ANONYMOUS;
    let info: RequestInfo | undefined;
    let code = 500;
    try {
      info = requestInfo(method, url.pathname, url.searchParams);
      try {
        user = authenticate(this.sc, req);
      } catch (err) {
        user = { username: '', groups: [] };
        throw err;
      }
      const attrs: RequestAttributes = info.isResourceRequest
        ? {
            user,
            verb: info.verb,
            isResourceRequest: true,
            namespace: info.namespace,
            apiGroup: info.group,
            resource: info.resource,
            subresource: info.subresource,
            name: info.name,
          }
        : { user, verb: info.verb, isResourceRequest: false, path: url.pathname };
      if (!authorize(this.sc.rbac, attrs).allowed) {
        throw errors.forbidden(
          forbiddenMessage(attrs),
          info.isResourceRequest
            ? {
                ...(info.name ? { name: info.name } : {}),
                ...(info.group ? { group: info.group } : {}),
                kind: info.resource ?? '',
              }
            : {},
        );
      }
      code = info.isResourceRequest
        ? await this.resource(req, res, url, info, user, upgrade)
        : this.nonResource(res, url.pathname, req);
    } catch (err) {
      code = sendError(res, err);
    } finally {
      this.sc.audit.record({
        user: user.username,
        groups: user.groups,
        verb: info?.verb ?? method.toLowerCase(),
        method,
        path: url.pathname + url.search,
        ...(info?.isResourceRequest
          ? {
              apiGroup: info.group,
              apiVersion: info.version,
              resource: info.resource,
              ...(info.subresource ? { subresource: info.subresource } : {}),
              ...(info.namespace ? { namespace: info.namespace } : {}),
              ...(info.name ? { name: info.name } : {}),
            }
          : {}),
        code,
        userAgent: req.headers['user-agent'],
      });
    }
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    info: RequestInfo,
    user: UserInfo,
    upgrade: UpgradeRequest | undefined,
  ): Promise<number> {
    const def = info.resource ? findResource(info.group, info.version, info.resource) : undefined;
    if (!def) throw errors.notFoundPath();
    if (!def.namespaced && info.namespace !== undefined && info.resource !== 'namespaces') throw errors.notFoundPath();
    // An upgrade request's socket carries the stream protocol, not a body.
    const body = !upgrade && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await readBody(req) : '';
    return handleResource(this.sc, { req, res, url, info, user, def, body, ...(upgrade ? { upgrade } : {}) });
  }

  private nonResource(res: ServerResponse, path: string, req: IncomingMessage): number {
    const parts = path.split('/').filter(Boolean);
    const json = (body: unknown): number => {
      sendJson(res, 200, body);
      return 200;
    };
    if (['/healthz', '/livez', '/readyz'].includes(path) || /^\/(healthz|livez|readyz)\//.test(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('ok');
      return 200;
    }
    if (path === '/version' || path === '/version/') return json(versionInfo());
    if (path === '/api' || path === '/api/') return json(apiVersions(this.sc.serverAddress));
    if (path === '/apis' || path === '/apis/') return json(apiGroupList());
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList('', parts[1]!);
      if (doc) return json(doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroupDoc(parts[1]!);
      if (doc) return json(doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(parts[1]!, parts[2]!);
      if (doc) return json(doc);
    }
    if (path === '/openapi/v3' || path === '/openapi/v3/') return json(openApiIndex());
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const rest = parts.slice(2);
      const doc =
        rest[0] === 'api' && rest.length === 2
          ? openApiDocument('', rest[1]!)
          : rest[0] === 'apis' && rest.length === 3
            ? openApiDocument(rest[1]!, rest[2]!)
            : undefined;
      if (doc) return json(doc);
    }
    void req;
    if (parts[0] === 'api' || parts[0] === 'apis') throw errors.notFoundPath();
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
    return 404;
  }
}
