import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { WithDefaults } from '../http/validation.js';
import { ListOf, iso } from '../resources/common.js';

const Change = Type.Object({
  path: Type.String(),
  before: Type.Optional(Type.Unknown()),
  after: Type.Optional(Type.Unknown()),
});
const AuditEvent = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  via: Type.String(),
  address: Type.String(),
  action: Type.String(),
  objectKind: Type.Union([Type.String(), Type.Null()]),
  object: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')]),
  status: Type.Integer(),
  changes: Type.Union([Type.Array(Change), Type.Null()], { description: 'What changed, secrets redacted' }),
  detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});
const Time = Type.String({ format: 'date-time', description: 'An ISO 8601 time' });
const AuditQuery = WithDefaults(
  Type.Object(
    {
      actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      object: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      objectKind: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
      since: Type.Optional(Time),
      until: Type.Optional(Time),
      before: Type.Optional(Type.Integer({ minimum: 1, description: 'Entries older than this id: the next page' })),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    },
    { additionalProperties: false },
  ),
);

const epoch = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new LongshoreError('VALIDATION_FAILED', `${name} is not a time: '${value}'`);
  return t;
};

/** The audit log, newest first, by actor, object and time; nothing here changes it. */
export async function auditRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/audit',
    { schema: { tags: ['audit'], querystring: AuditQuery, response: { 200: ListOf(AuditEvent) } } },
    async (req) => {
      const q = req.query;
      const rows = await ctx.audit.query({
        ...(q.actor !== undefined && { actor: q.actor }),
        ...(q.object !== undefined && { object: q.object }),
        ...(q.objectKind !== undefined && { objectKind: q.objectKind }),
        ...(q.since !== undefined && { since: epoch('since', q.since) }),
        ...(q.until !== undefined && { until: epoch('until', q.until) }),
        ...(q.before !== undefined && { before: q.before }),
        limit: q.limit,
      });
      return { items: rows.map(({ actorUserId: _, ...r }) => ({ ...r, at: iso(r.at)! })) };
    },
  );
}
