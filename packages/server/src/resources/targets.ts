import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LongshoreError, type OperationTarget } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import type { Database } from '../store/schema.js';
import { newId } from '../crypto/tokens.js';
import {
  ListOf,
  createUnderFreeName,
  Name,
  NamedRow,
  NoContent,
  RefParams,
  Tag,
  findByRef,
  inTransaction,
  iso,
  nameHolder,
  now,
  uniquely,
} from './common.js';
import { normaliseName } from './names.js';
import { assertUnreferenced, namesById, refuseProblems, resolveRefs } from './references.js';

const KubernetesSettings = Type.Object(
  {
    apiUrl: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    namespace: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
    /** Sensitive: encrypted at rest, never returned. Omit on update to keep the stored one. */
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    caCertificate: Type.Optional(Type.String({ maxLength: 65536 })),
    skipTlsVerify: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    description:
      'Required for type kubernetes-cluster (with a token, unless the target already has one); refused for type generic',
  },
);

export const TargetInput = Type.Object(
  {
    name: Name,
    type: Type.Union([Type.Literal('kubernetes-cluster'), Type.Literal('generic')]),
    environments: Type.Array(Name, { minItems: 1, maxItems: 100 }),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 100, default: [] })),
    kubernetes: Type.Optional(KubernetesSettings),
    properties: Type.Optional(
      Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 4000 }), { maxProperties: 100 }),
    ),
  },
  { additionalProperties: false },
);
export type TargetInput = Static<typeof TargetInput>;

const Target = Type.Object({
  ...NamedRow,
  type: Type.String(),
  environments: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  kubernetes: Type.Optional(
    Type.Object({
      apiUrl: Type.String(),
      namespace: Type.String(),
      caCertificate: Type.Optional(Type.String()),
      skipTlsVerify: Type.Optional(Type.Boolean()),
      hasToken: Type.Boolean(),
    }),
  ),
  properties: Type.Optional(Type.Record(Type.String(), Type.String())),
  createdAt: Type.String(),
});

type Row = Database['targets'];
type StoredKubernetes = Omit<Static<typeof KubernetesSettings>, 'token'>;

/** Targets hold environment ids; they are shown by their current names. */
function present(row: Row, environmentName: (id: string) => string): Static<typeof Target> {
  const props = JSON.parse(row.properties) as { kubernetes?: StoredKubernetes; properties?: Record<string, string> };
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    environments: (JSON.parse(row.environments) as string[]).map(environmentName),
    tags: JSON.parse(row.tags) as string[],
    ...(props.kubernetes ? { kubernetes: { ...props.kubernetes, hasToken: row.secret !== null } } : {}),
    ...(props.properties ? { properties: props.properties } : {}),
    createdAt: iso(row.created_at)!,
  };
}

async function presentOne(db: ServerContext['db'], id: string): Promise<Static<typeof Target>> {
  return present(await findByRef(db, 'targets', id), await namesById(db, 'environments'));
}

/**
 * Creates or replaces a target: the one with id `replacing` (which may be renamed), else the one
 * of the input's name. The stored token is kept when the input leaves it out. Everything is
 * checked before anything is written.
 */
export async function upsertTarget(ctx: ServerContext, input: TargetInput, replacing?: string): Promise<string> {
  const name = normaliseName(input.name);
  const holder = await nameHolder(ctx.db, 'targets', name);
  const existingId = replacing ?? holder?.id;
  if (holder && holder.id !== existingId)
    throw new LongshoreError('CONFLICT', `A target named '${holder.name}' already exists`);
  const existing = existingId === undefined ? undefined : await findByRef(ctx.db, 'targets', existingId);
  const problems: string[] = [];
  const environments = await resolveRefs(ctx.db, 'environments', input.environments, 'environments', problems);
  refuseProblems(problems, `target '${name}': `);
  if (input.type === 'kubernetes-cluster' && !input.kubernetes) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `target '${name}': a kubernetes-cluster target needs kubernetes.apiUrl, .namespace and .token`,
    );
  }
  if (input.type === 'generic' && input.kubernetes) {
    throw new LongshoreError(
      'VALIDATION_FAILED',
      `target '${name}': kubernetes settings are only for type kubernetes-cluster`,
    );
  }
  let secret: string | null = existing?.secret ?? null;
  let stored: { kubernetes?: StoredKubernetes; properties?: Record<string, string> } = {};
  if (input.kubernetes) {
    const { token, ...rest } = input.kubernetes;
    if (token !== undefined) secret = ctx.box.seal(token);
    if (secret === null)
      throw new LongshoreError('VALIDATION_FAILED', `target '${name}': kubernetes.token is required`);
    stored = { kubernetes: rest };
  } else {
    secret = null;
  }
  if (input.properties) stored.properties = input.properties;
  const values = {
    name,
    type: input.type,
    environments: JSON.stringify(environments),
    tags: JSON.stringify(input.tags ?? []),
    properties: JSON.stringify(stored),
    secret,
  };
  if (existing) {
    await ctx.db.updateTable('targets').set(values).where('id', '=', existing.id).execute();
    return existing.id;
  }
  const id = newId('target');
  await uniquely(`A target named '${name}'`, () =>
    ctx.db
      .insertInto('targets')
      .values({ id, ...values, created_at: now() })
      .execute(),
  );
  return id;
}

/** The target as an operation carries it: the token decrypted, because the script needs it. */
export function operationTarget(ctx: Pick<ServerContext, 'box'>, row: Row): OperationTarget {
  const props = JSON.parse(row.properties) as { kubernetes?: StoredKubernetes };
  const type = row.type as OperationTarget['type'];
  if (type === 'kubernetes-cluster' && props.kubernetes && row.secret) {
    return { id: row.id, name: row.name, type, kubernetes: { ...props.kubernetes, token: ctx.box.open(row.secret) } };
  }
  return { id: row.id, name: row.name, type };
}

export async function targetRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['targets'];
  app.get('/api/targets', { schema: { tags, response: { 200: ListOf(Target) } } }, async () => {
    const rows = await ctx.db.selectFrom('targets').selectAll().orderBy('name').execute();
    const environmentName = await namesById(ctx.db, 'environments');
    return { items: rows.map((r) => present(r, environmentName)) };
  });
  app.get('/api/targets/:ref', { schema: { tags, params: RefParams, response: { 200: Target } } }, async (req) =>
    presentOne(ctx.db, req.params.ref),
  );
  app.post('/api/targets', { schema: { tags, body: TargetInput, response: { 201: Target } } }, async (req, reply) => {
    const id = await createUnderFreeName(ctx, 'targets', 'A target', req.body.name, (tx) => upsertTarget(tx, req.body));
    return reply.status(201).send(await presentOne(ctx.db, id));
  });
  app.put(
    '/api/targets/:ref',
    { schema: { tags, params: RefParams, body: TargetInput, response: { 200: Target } } },
    async (req) => {
      const ref = req.params.ref;
      const id = await inTransaction(ctx, async (tx) =>
        upsertTarget(tx, req.body, (await findByRef(tx.db, 'targets', ref)).id),
      );
      return presentOne(ctx.db, id);
    },
  );
  app.delete(
    '/api/targets/:ref',
    { schema: { tags, params: RefParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await inTransaction(ctx, async (tx) => {
        const row = await findByRef(tx.db, 'targets', req.params.ref);
        await assertUnreferenced(tx.db, 'targets', row);
        await tx.db.deleteFrom('targets').where('id', '=', row.id).execute();
      });
      return reply.status(204).send();
    },
  );
}
