import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LONGSHORE_VERSION } from '@longshore/protocol';
import type { ServerContext } from '../context.js';

const ServerInfo = Type.Object({
  version: Type.String(),
  url: Type.String({ description: 'The URL workers and clients reach the server at' }),
  certificateThumbprint: Type.Union([Type.String(), Type.Null()], {
    description:
      "SHA-256 of the server certificate's DER in lowercase hex, what workers pin (--server-thumbprint); null when serving plain HTTP",
  }),
});

/** What a client needs to connect a worker; behind a key, like everything that is not a probe. */
export async function serverInfoRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/api/server', { schema: { tags: ['server'], response: { 200: ServerInfo } } }, async () => ({
    version: LONGSHORE_VERSION,
    url: ctx.endpoint.url,
    certificateThumbprint: ctx.endpoint.certificate?.thumbprint ?? null,
  }));
}
