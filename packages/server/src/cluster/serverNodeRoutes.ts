import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ListOf } from '../resources/common.js';

const Time = Type.String({ format: 'date-time' });
const ServerNode = Type.Object({
  id: Type.String({ description: 'New at every start of the process' }),
  name: Type.String({ description: 'nodeName, else host name and port' }),
  url: Type.String({ description: 'Where the node said it is reached' }),
  version: Type.String(),
  startedAt: Time,
  lastHeartbeatAt: Time,
  stoppedAt: Type.Union([Time, Type.Null()], {
    description: 'When it stopped cleanly; null while it runs or if it died',
  }),
  alive: Type.Boolean({ description: 'Heartbeating within nodeLeaseMs and not stopped' }),
  tasks: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), state: Type.String() }), {
    description: 'The running tasks whose lease it holds: the node that advances them',
  }),
});

/** The server nodes sharing this store, their heartbeats and the tasks each advances. */
export async function serverNodeRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/server-nodes',
    {
      schema: {
        tags: ['server'],
        description:
          'The server nodes on this store, alive ones first, with their last heartbeat and the running tasks each holds (one node on SQLite)',
        response: { 200: ListOf(ServerNode) },
      },
    },
    async () => ({ items: await ctx.serverNodes.list() }),
  );
}
