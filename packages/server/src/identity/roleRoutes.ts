import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { newId } from '../crypto/tokens.js';
import {
  Description,
  ListOf,
  Name,
  NoContent,
  RefParams,
  assertNameFree,
  createUnderFreeName,
  findByRef,
  inTransaction,
  uniquely,
} from '../resources/common.js';
import { PermissionName } from './apiKeys.js';
import { permissionList } from './grants.js';
import { assertSomeoneManagesUsers } from './lastAdministrator.js';
import { ALL_PERMISSIONS, BUILT_IN_ROLES, PERMISSIONS } from './permissions.js';

const RoleInput = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    permissions: Type.Array(PermissionName, { maxItems: ALL_PERMISSIONS.length, uniqueItems: true }),
  },
  { additionalProperties: false },
);
const Role = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  builtIn: Type.Boolean(),
  permissions: Type.Array(Type.String()),
});
const Roles = Type.Composite([
  ListOf(Role),
  Type.Object({
    permissions: Type.Array(Type.Object({ name: Type.String(), description: Type.String() }), {
      description: 'Every permission there is',
    }),
  }),
]);

function view(row: Selectable<Database['roles']>): Static<typeof Role> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtIn: row.built_in === 1,
    permissions: row.built_in ? [...(BUILT_IN_ROLES[row.name]?.permissions ?? [])] : permissionList(row.permissions),
  };
}

const builtInRefused = (name: string) =>
  new LongshoreError('CONFLICT', `Role '${name}' is built in and cannot change; make a role of your own instead`);

/** Built-in roles, and roles of one's own made of permissions. */
export async function roleRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];
  app.get('/api/roles', { schema: { tags, response: { 200: Roles } } }, async () => ({
    items: (await ctx.db.selectFrom('roles').selectAll().orderBy('built_in', 'desc').orderBy('name').execute()).map(
      view,
    ),
    permissions: Object.entries(PERMISSIONS).map(([name, description]) => ({ name, description })),
  }));
  app.get('/api/roles/:ref', { schema: { tags, params: RefParams, response: { 200: Role } } }, async (req) =>
    view(await findByRef(ctx.db, 'roles', req.params.ref)),
  );
  app.post('/api/roles', { schema: { tags, body: RoleInput, response: { 201: Role } } }, async (req, reply) => {
    const id = await createUnderFreeName(ctx, 'roles', 'A role', req.body.name, async (tx) => {
      const row = {
        id: newId('role'),
        name: req.body.name.normalize('NFC'),
        description: req.body.description ?? '',
        permissions: JSON.stringify(req.body.permissions),
        built_in: 0,
        created_at: Date.now(),
      };
      await tx.db.insertInto('roles').values(row).execute();
      return row.id;
    });
    return reply.status(201).send(view(await findByRef(ctx.db, 'roles', id)));
  });
  app.put(
    '/api/roles/:ref',
    { schema: { tags, params: RefParams, body: RoleInput, response: { 200: Role } } },
    async (req) => {
      const id = await uniquely(`A role named '${req.body.name}'`, () =>
        inTransaction(ctx, async (tx) => {
          const role = await findByRef(tx.db, 'roles', req.params.ref);
          if (role.built_in) throw builtInRefused(role.name);
          await assertNameFree(tx.db, 'roles', 'A role', req.body.name, role.id);
          await tx.db
            .updateTable('roles')
            .set({
              name: req.body.name.normalize('NFC'),
              description: req.body.description ?? role.description,
              permissions: JSON.stringify(req.body.permissions),
            })
            .where('id', '=', role.id)
            .execute();
          await assertSomeoneManagesUsers(tx.db);
          return role.id;
        }),
      );
      return view(await findByRef(ctx.db, 'roles', id));
    },
  );
  app.delete(
    '/api/roles/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const role = await findByRef(tx.db, 'roles', req.params.ref);
        if (role.built_in) throw builtInRefused(role.name);
        const held = await tx.db
          .selectFrom('team_roles')
          .innerJoin('teams', 'teams.id', 'team_roles.team_id')
          .select('teams.name')
          .where('role_id', '=', role.id)
          .executeTakeFirst();
        if (held)
          throw new LongshoreError(
            'CONFLICT',
            `Role '${role.name}' is held by team '${held.name}'; take it from the team first`,
          );
        await tx.db.deleteFrom('roles').where('id', '=', role.id).execute();
      });
      return reply.status(204).send();
    },
  );
}
