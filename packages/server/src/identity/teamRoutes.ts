import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Store } from '../store/database.js';
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
import { namesById, refuseProblems, resolveRef, resolveRefs } from '../resources/references.js';
import { assertSomeoneManagesUsers } from './lastAdministrator.js';

const Refs = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500, uniqueItems: true });
const RoleGrant = Type.Object(
  {
    role: Type.String({ minLength: 1, maxLength: 200, description: 'A role, by name or id' }),
    projects: Type.Optional(
      Type.Union([Refs, Type.Null()], { description: 'Only these projects; null or absent: all' }),
    ),
    environments: Type.Optional(
      Type.Union([Refs, Type.Null()], { description: 'Only these environments; null or absent: all' }),
    ),
  },
  { additionalProperties: false },
);
const TeamInput = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    members: Type.Optional(Refs),
    roles: Type.Optional(Type.Array(RoleGrant, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const Team = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  members: Type.Array(Type.String()),
  roles: Type.Array(
    Type.Object({
      role: Type.String(),
      projects: Type.Union([Type.Array(Type.String()), Type.Null()]),
      environments: Type.Union([Type.Array(Type.String()), Type.Null()]),
    }),
  ),
});
type TeamInput = Static<typeof TeamInput>;

async function view(db: Store, id: string): Promise<Static<typeof Team>> {
  const team = await db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const members = await db
    .selectFrom('team_members')
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select('users.name')
    .where('team_id', '=', id)
    .orderBy('users.name')
    .execute();
  const grants = await db
    .selectFrom('team_roles')
    .innerJoin('roles', 'roles.id', 'team_roles.role_id')
    .select(['roles.name', 'team_roles.projects', 'team_roles.environments'])
    .where('team_id', '=', id)
    .orderBy('team_roles.id')
    .execute();
  const [project, environment] = await Promise.all([namesById(db, 'projects'), namesById(db, 'environments')]);
  const names = (json: string | null, name: (id: string) => string) =>
    json === null ? null : (JSON.parse(json) as string[]).map(name);
  return {
    id,
    name: team.name,
    description: team.description,
    members: members.map((m) => m.name),
    roles: grants.map((g) => ({
      role: g.name,
      projects: names(g.projects, project),
      environments: names(g.environments, environment),
    })),
  };
}

/** Sets a team's members and roles as the input gives them (absent: left as they are), refs resolved to ids. */
async function setMembership(db: Store, teamId: string, input: TeamInput): Promise<void> {
  const problems: string[] = [];
  const users = input.members && (await resolveRefs(db, 'users', input.members, 'members', problems));
  const rows = [];
  for (const [i, grant] of (input.roles ?? []).entries()) {
    const role = await resolveRef(db, 'roles', grant.role, `roles[${i}].role`, problems);
    const projects = grant.projects
      ? await resolveRefs(db, 'projects', grant.projects, `roles[${i}].projects`, problems)
      : null;
    const environments = grant.environments
      ? await resolveRefs(db, 'environments', grant.environments, `roles[${i}].environments`, problems)
      : null;
    rows.push({
      id: newId('grant'),
      team_id: teamId,
      role_id: role ?? '',
      projects: projects && JSON.stringify(projects),
      environments: environments && JSON.stringify(environments),
    });
  }
  refuseProblems(problems, 'The team names what does not exist: ');
  if (users) {
    await db.deleteFrom('team_members').where('team_id', '=', teamId).execute();
    if (users.length)
      await db
        .insertInto('team_members')
        .values(users.map((user_id) => ({ team_id: teamId, user_id })))
        .execute();
  }
  if (input.roles) {
    await db.deleteFrom('team_roles').where('team_id', '=', teamId).execute();
    if (rows.length) await db.insertInto('team_roles').values(rows).execute();
  }
}

/** Teams hold users and roles; a role can be held for some projects and environments only. */
export async function teamRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];
  app.get('/api/teams', { schema: { tags, response: { 200: ListOf(Team) } } }, async () => {
    const rows = await ctx.db.selectFrom('teams').select('id').orderBy('name').execute();
    return { items: await Promise.all(rows.map((r) => view(ctx.db, r.id))) };
  });
  app.get('/api/teams/:ref', { schema: { tags, params: RefParams, response: { 200: Team } } }, async (req) =>
    view(ctx.db, (await findByRef(ctx.db, 'teams', req.params.ref)).id),
  );
  app.post('/api/teams', { schema: { tags, body: TeamInput, response: { 201: Team } } }, async (req, reply) => {
    const id = await createUnderFreeName(ctx, 'teams', 'A team', req.body.name, async (tx) => {
      const row = {
        id: newId('team'),
        name: req.body.name.normalize('NFC'),
        description: req.body.description ?? '',
        created_at: Date.now(),
      };
      await tx.db.insertInto('teams').values(row).execute();
      await setMembership(tx.db, row.id, req.body);
      return row.id;
    });
    return reply.status(201).send(await view(ctx.db, id));
  });
  app.put(
    '/api/teams/:ref',
    { schema: { tags, params: RefParams, body: TeamInput, response: { 200: Team } } },
    async (req) => {
      const id = await uniquely(`A team named '${req.body.name}'`, () =>
        inTransaction(ctx, async (tx) => {
          const team = await findByRef(tx.db, 'teams', req.params.ref);
          await assertNameFree(tx.db, 'teams', 'A team', req.body.name, team.id);
          await tx.db
            .updateTable('teams')
            .set({ name: req.body.name.normalize('NFC'), description: req.body.description ?? team.description })
            .where('id', '=', team.id)
            .execute();
          await setMembership(tx.db, team.id, req.body);
          await assertSomeoneManagesUsers(tx.db);
          return team.id;
        }),
      );
      return view(ctx.db, id);
    },
  );
  app.delete(
    '/api/teams/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const team = await findByRef(tx.db, 'teams', req.params.ref);
        await tx.db.deleteFrom('teams').where('id', '=', team.id).execute();
        await assertSomeoneManagesUsers(tx.db);
      });
      return reply.status(204).send();
    },
  );
}
