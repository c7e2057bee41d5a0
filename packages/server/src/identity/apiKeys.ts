import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { requireUser } from '../http/authentication.js';
import { hashToken, newId, newSecretToken } from '../crypto/tokens.js';
import { ListOf, Name, NoContent, RefParams, findByRef, iso } from '../resources/common.js';
import { holdsAnywhere, permissionList } from './grants.js';
import { ALL_PERMISSIONS, type Permission } from './permissions.js';
import { API_KEY_PREFIX } from './userCredentials.js';

export const PermissionName = Type.Unsafe<Permission>({ type: 'string', enum: ALL_PERMISSIONS });

const ApiKeyInput = Type.Object(
  {
    name: Name,
    expiresInDays: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], {
        description: 'Default 90; null for a key that never expires',
      }),
    ),
    permissions: Type.Optional(
      Type.Array(PermissionName, {
        maxItems: ALL_PERMISSIONS.length,
        description: "Only these of the user's permissions; default: all of them",
      }),
    ),
  },
  { additionalProperties: false },
);
const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  permissions: Type.Union([Type.Array(Type.String()), Type.Null()], { description: "null: all of the user's" }),
});
const NewApiKey = Type.Composite([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'Shown once: only its hash is stored' }) }),
]);
const KeyParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const UserKeyParams = Type.Composite([RefParams, KeyParams]);

const DEFAULT_EXPIRY_DAYS = 90;

function view(row: Selectable<Database['api_keys']>): Static<typeof ApiKey> {
  return {
    id: row.id,
    name: row.name,
    createdAt: iso(row.created_at)!,
    lastUsedAt: iso(row.last_used_at),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    permissions: row.permissions === null ? null : permissionList(row.permissions),
  };
}

export async function createApiKey(
  db: Store,
  input: { name: string; userId: string; expiresAt: number | null; permissions: readonly Permission[] | null },
): Promise<Static<typeof NewApiKey>> {
  const key = newSecretToken(API_KEY_PREFIX);
  const row = {
    id: newId('key'),
    name: input.name,
    hash: hashToken(key),
    created_at: Date.now(),
    last_used_at: null,
    user_id: input.userId,
    expires_at: input.expiresAt,
    revoked_at: null,
    permissions: input.permissions === null ? null : JSON.stringify(input.permissions),
  };
  await db.insertInto('api_keys').values(row).execute();
  return { ...view(row), key };
}

/** Revoked keys stay listed (and in the audit log) with when they stopped; they open nothing. */
async function revoke(db: Store, userId: string, id: string): Promise<void> {
  const done = await db
    .updateTable('api_keys')
    .set({ revoked_at: Date.now() })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0)
    throw new LongshoreError('NOT_FOUND', `API key '${id}' does not exist or is already revoked`);
}

const keysOf = (db: Store, userId: string) =>
  db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();

/**
 * Each user's own keys: made for themselves, carrying at most their permissions (fewer when
 * the key lists some), expiring after 90 days unless told otherwise, revoked at once. An
 * administrator (user:manage) lists and revokes other users' keys.
 */
export async function apiKeyRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['api keys'];
  app.get('/api/api-keys', { schema: { tags, response: { 200: ListOf(ApiKey) } } }, async (req) => ({
    items: (await keysOf(ctx.db, requireUser(req).userId)).map(view),
  }));
  app.post(
    '/api/api-keys',
    { schema: { tags, body: ApiKeyInput, response: { 201: NewApiKey } } },
    async (req, reply) => {
      const user = requireUser(req);
      const { name, expiresInDays = DEFAULT_EXPIRY_DAYS, permissions } = req.body;
      const lacking = (permissions ?? []).filter((p) => !holdsAnywhere(user.grants, p));
      if (lacking.length)
        throw new LongshoreError('FORBIDDEN', `A key cannot carry what its user may not do: ${lacking.join(', ')}`, {
          permission: lacking[0],
        });
      const expiresAt = expiresInDays === null ? null : Date.now() + expiresInDays * 86_400_000;
      const made = await createApiKey(ctx.db, {
        name,
        userId: user.userId,
        expiresAt,
        permissions: permissions ? [...new Set(permissions)] : null,
      });
      return reply.status(201).send(made);
    },
  );
  app.delete(
    '/api/api-keys/:id',
    { schema: { tags, params: KeyParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await revoke(ctx.db, requireUser(req).userId, req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/users/:ref/api-keys',
    { schema: { tags, params: RefParams, response: { 200: ListOf(ApiKey) } } },
    async (req) => ({ items: (await keysOf(ctx.db, (await findByRef(ctx.db, 'users', req.params.ref)).id)).map(view) }),
  );
  app.delete(
    '/api/users/:ref/api-keys/:id',
    { schema: { tags, params: UserKeyParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await revoke(ctx.db, (await findByRef(ctx.db, 'users', req.params.ref)).id, req.params.id);
      return reply.status(204).send();
    },
  );
}
