import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { requireUser } from '../http/authentication.js';
import { newId } from '../crypto/tokens.js';
import {
  ListOf,
  Name,
  NoContent,
  RefParams,
  createUnderFreeName,
  findByRef,
  inTransaction,
  iso,
} from '../resources/common.js';
import { hashPassword, PASSWORD_RULE } from './passwords.js';
import { refuseProblems, resolveRefs } from '../resources/references.js';
import { newUserRow } from './userRow.js';
import { assertSomeoneManagesUsers } from './lastAdministrator.js';

const Password = Type.String({ ...PASSWORD_RULE, description: `At least ${PASSWORD_RULE.minLength} characters` });
const Email = Type.String({ maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
const TeamRefs = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, uniqueItems: true });
const UserInput = Type.Object(
  {
    name: Name,
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    password: Type.Optional(
      Type.Union([Password, Type.Null()], { description: 'null: signs in only through OpenID Connect' }),
    ),
    teams: Type.Optional(TeamRefs),
  },
  { additionalProperties: false },
);
const UserChange = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    password: Type.Optional(Type.Union([Password, Type.Null()])),
    disabled: Type.Optional(Type.Boolean()),
    unlock: Type.Optional(Type.Literal(true, { description: 'Ends a lockout after failed sign-ins' })),
    teams: Type.Optional(TeamRefs),
  },
  { additionalProperties: false },
);
const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  hasPassword: Type.Boolean(),
  singleSignOn: Type.Boolean(),
  disabled: Type.Boolean(),
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
  lastSignInAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  teams: Type.Array(Type.String()),
});
type UserView = Static<typeof User>;

async function view(db: Store, row: Selectable<Database['users']>): Promise<UserView> {
  const teams = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select('teams.name')
    .where('team_members.user_id', '=', row.id)
    .orderBy('teams.name')
    .execute();
  const locked = row.locked_until !== null && row.locked_until > Date.now();
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    email: row.email,
    hasPassword: row.password_hash !== null,
    singleSignOn: row.oidc_subject !== null,
    disabled: row.disabled === 1,
    lockedUntil: locked ? iso(row.locked_until) : null,
    lastSignInAt: iso(row.last_sign_in_at),
    createdAt: iso(row.created_at)!,
    teams: teams.map((t) => t.name),
  };
}

/** Replaces the user's teams with these (refs: ids or names). */
export async function setTeams(db: Store, userId: string, refs: readonly string[]): Promise<void> {
  const problems: string[] = [];
  const ids = await resolveRefs(db, 'teams', refs, 'teams', problems);
  refuseProblems(problems);
  await db.deleteFrom('team_members').where('user_id', '=', userId).execute();
  if (ids.length)
    await db
      .insertInto('team_members')
      .values(ids.map((team_id) => ({ team_id, user_id: userId })))
      .execute();
}

export async function userRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];
  app.get('/api/users', { schema: { tags, response: { 200: ListOf(User) } } }, async () => {
    const rows = await ctx.db.selectFrom('users').selectAll().orderBy('name').execute();
    return { items: await Promise.all(rows.map((r) => view(ctx.db, r))) };
  });
  app.get('/api/users/:ref', { schema: { tags, params: RefParams, response: { 200: User } } }, async (req) =>
    view(ctx.db, await findByRef(ctx.db, 'users', req.params.ref)),
  );
  app.post('/api/users', { schema: { tags, body: UserInput, response: { 201: User } } }, async (req, reply) => {
    const input = req.body;
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const id = await createUnderFreeName(ctx, 'users', 'A user', input.name, async (tx) => {
      const row = newUserRow({
        id: newId('user'),
        name: input.name,
        displayName: input.displayName ?? input.name,
        email: input.email ?? null,
        passwordHash,
      });
      await tx.db.insertInto('users').values(row).execute();
      await setTeams(tx.db, row.id, input.teams ?? []);
      return row.id;
    });
    return reply.status(201).send(await view(ctx.db, await findByRef(ctx.db, 'users', id)));
  });
  app.put(
    '/api/users/:ref',
    { schema: { tags, params: RefParams, body: UserChange, response: { 200: User } } },
    async (req) => {
      const change = req.body;
      const passwordHash = change.password ? await hashPassword(change.password) : change.password;
      const id = await inTransaction(ctx, async (tx) => {
        const user = await findByRef(tx.db, 'users', req.params.ref);
        const set = {
          ...(change.displayName !== undefined && { display_name: change.displayName }),
          ...(change.email !== undefined && { email: change.email }),
          ...(passwordHash !== undefined && { password_hash: passwordHash }),
          ...(change.disabled !== undefined && { disabled: change.disabled ? 1 : 0 }),
          ...(change.unlock && { locked_until: null, failed_sign_ins: 0 }),
        };
        // A change of teams alone (or of nothing) sets no column, and an empty SET is no SQL.
        if (Object.keys(set).length) await tx.db.updateTable('users').set(set).where('id', '=', user.id).execute();
        if (change.teams) await setTeams(tx.db, user.id, change.teams);
        // A disabled user's sessions end with it.
        if (change.disabled) await tx.db.deleteFrom('sessions').where('user_id', '=', user.id).execute();
        await assertSomeoneManagesUsers(tx.db);
        return user.id;
      });
      return view(ctx.db, await findByRef(ctx.db, 'users', id));
    },
  );
  app.delete(
    '/api/users/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const user = await findByRef(tx.db, 'users', req.params.ref);
        if (user.id === requireUser(req).userId)
          throw new LongshoreError('CONFLICT', 'You cannot delete yourself; another user with user:manage can');
        await tx.db.deleteFrom('users').where('id', '=', user.id).execute();
        await assertSomeoneManagesUsers(tx.db);
      });
      return reply.status(204).send();
    },
  );
}
