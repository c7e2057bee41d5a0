import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PortalFile } from './portalFiles.js';

/** Answers a request the router found no route for, or returns false to let it be a 404. */
export type NotFoundFallback = (request: FastifyRequest, reply: FastifyReply) => boolean;

/**
 * The portal's page paths (its router, packages/portal/src/navigation.ts): they load the app, which
 * shows the page. A project's page is `/projects/` and its name as one encoded segment, whatever it holds.
 */
const PAGE_PATH = /^\/(projects|projects\/[^/]+|infrastructure|tasks\/[A-Za-z0-9_-]+|audit|users|account)$/;

const NOT_BUILT =
  'The portal is not built here: run `npm run build` (it builds packages/portal), then restart the server.\n';

/**
 * The portal's files, answered where the router found no route: the API's routes, and every
 * spelling of them, never reach it, and what is not one of the portal's files stays a 404.
 * index.html is revalidated on each load (it names the current build's assets); assets, named
 * by their content hash, are immutable.
 */
export function portalPages(files: Map<string, PortalFile> | undefined): NotFoundFallback {
  return (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = request.url.split('?')[0] ?? '/';
    if (!files) {
      if (path !== '/') return false;
      void reply.status(404).type('text/plain; charset=utf-8').send(NOT_BUILT);
      return true;
    }
    const file = files.get(path) ?? (PAGE_PATH.test(path) ? files.get('/') : undefined);
    if (!file) return false;
    reply
      .header('content-type', file.contentType)
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (file.contentType.startsWith('text/html'))
      reply
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        .header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === file.etag) void reply.status(304).send();
    else if (file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')))
      void reply.header('content-encoding', 'gzip').send(file.gzip);
    else void reply.send(file.body);
    return true;
  };
}
