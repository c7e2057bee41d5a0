import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { requireUser } from '../http/authentication.js';
import { errorResponses } from '../http/openApiResponses.js';
import { NoContent, iso, lookUpByRef } from '../resources/common.js';
import { namesById } from '../resources/references.js';
import { verifyPassword } from './passwords.js';
import { startSession } from './startSession.js';

const SignIn = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const Session = Type.Object({
  token: Type.String({ description: 'Send as "Authorization: Bearer <token>"; shown once' }),
  expiresAt: Type.String(),
  user: Type.Object({ name: Type.String(), displayName: Type.String() }),
});
const Me = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  via: Type.Union([Type.Literal('apiKey'), Type.Literal('session')]),
  grants: Type.Array(
    Type.Object({
      team: Type.String(),
      role: Type.String(),
      permissions: Type.Array(Type.String()),
      projects: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every project' }),
      environments: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every environment' }),
    }),
  ),
});

const refused = () => new LongshoreError('UNAUTHENTICATED', 'The user name or the password is wrong');

/**
 * Signing in with a password gives a session token for the portal. Failures in a row lock the
 * user out for a while (signInAttempts, signInLockoutMinutes); a wrong name and a wrong password
 * get the same answer in the same time, so the answer tells no names.
 */
export async function sessionRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];
  const { signInAttempts, signInLockoutMinutes } = ctx.config;

  app.post(
    '/api/sessions',
    {
      config: { access: 'public' },
      schema: { tags, body: SignIn, response: { 201: Session, ...errorResponses(401) } },
    },
    async (req, reply) => {
      const t = Date.now();
      const user = await lookUpByRef(ctx.db, 'users', req.body.name);
      const good = await verifyPassword(req.body.password, user?.password_hash ?? null);
      if (!user) throw refused();
      if (user.locked_until !== null && user.locked_until > t)
        throw new LongshoreError(
          'UNAUTHENTICATED',
          `Too many failed sign-ins: '${user.name}' is locked until ${new Date(user.locked_until).toISOString()}; an administrator can unlock it`,
        );
      if (!good) {
        const failures = user.failed_sign_ins + 1;
        await ctx.db
          .updateTable('users')
          .set({
            failed_sign_ins: failures >= signInAttempts ? 0 : failures,
            locked_until: failures >= signInAttempts ? t + signInLockoutMinutes * 60_000 : user.locked_until,
          })
          .where('id', '=', user.id)
          .execute();
        throw refused();
      }
      if (user.disabled) throw new LongshoreError('UNAUTHENTICATED', `User '${user.name}' is disabled`);
      const { token, expiresAt } = await startSession(ctx, user, req.ip, { failed_sign_ins: 0, locked_until: null });
      return reply
        .status(201)
        .send({ token, expiresAt: iso(expiresAt)!, user: { name: user.name, displayName: user.display_name } });
    },
  );

  app.delete(
    '/api/sessions/current',
    { schema: { tags, response: { 204: NoContent, ...errorResponses(400) } } },
    async (req, reply) => {
      const user = requireUser(req);
      if (user.via !== 'session')
        throw new LongshoreError('VALIDATION_FAILED', 'Signing out ends a session; revoke an API key instead');
      await ctx.db.deleteFrom('sessions').where('id', '=', user.credentialId).execute();
      return reply.status(204).send();
    },
  );

  app.get('/api/me', { schema: { tags, response: { 200: Me } } }, async (req) => {
    const principal = requireUser(req);
    const user = await ctx.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', principal.userId)
      .executeTakeFirstOrThrow();
    const [project, environment] = await Promise.all([
      namesById(ctx.db, 'projects'),
      namesById(ctx.db, 'environments'),
    ]);
    return {
      id: user.id,
      name: user.name,
      displayName: user.display_name,
      via: principal.via,
      grants: principal.grants.map((g) => ({
        team: g.team,
        role: g.role,
        permissions: [...g.permissions],
        projects: g.projects?.map(project) ?? null,
        environments: g.environments?.map(environment) ?? null,
      })),
    };
  });
}
