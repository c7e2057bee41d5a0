import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { LONGSHORE_VERSION, LongshoreError } from '@longshore/protocol';
import type { ServerContext } from '../context.js';
import { errorResponses } from '../http/openApiResponses.js';
import { WithDefaults } from '../http/validation.js';
import { findByRef, Name, nameHolder } from '../resources/common.js';
import { createRegistrationToken } from '../resources/workers.js';
import { checkExtraValueKey, helmCommand, releaseName, type HelmInstall } from './helmCommand.js';

export const InstallCommandInput = WithDefaults(
  Type.Object(
    {
      pools: Type.Array(Name, {
        minItems: 1,
        maxItems: 50,
        description: 'The worker pools the worker serves; each must exist',
      }),
      // The chart's limits: the name is also a label value (63 characters), and the release is named after it.
      name: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 63,
          pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$',
          description: 'The worker name; default: the release name',
        }),
      ),
      namespace: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 63,
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          description:
            'The Kubernetes namespace, created if missing; default: longshore, or where a registered worker of this name runs',
        }),
      ),
      values: Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), {
        maxProperties: 100,
        default: {},
        description: 'More chart values, by dotted path',
      }),
      expiresInMinutes: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, description: "Lifetime of the command's registration token" }),
      ),
    },
    { additionalProperties: false },
  ),
);

const InstallCommand = Type.Object({
  command: Type.String({ description: 'One line for a shell with helm and access to the cluster' }),
  reinstall: Type.Boolean({
    description:
      'True for a Kubernetes worker already registered under this name: the command has no token, and the worker reuses the credential its chart kept on `helm uninstall`',
  }),
  token: Type.Optional(
    Type.String({ description: 'The single-use registration token in the command (not for a reinstall)' }),
  ),
  expiresAt: Type.Optional(Type.String()),
  helm: Type.Object({
    release: Type.String(),
    chart: Type.String(),
    version: Type.String(),
    namespace: Type.String(),
    values: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
  }),
});

/** The chart's worker.pools takes names without whitespace or commas (they travel in one environment variable). */
const CHART_POOL_NAME = /^[^,\s]+$/;

/**
 * `longshore workers install-command` and the portal's wizard: the whole helm command for a new
 * Kubernetes worker, with a fresh single-use token. Nothing is stored but the token.
 */
export async function installCommandRoutes(scope: FastifyInstance, ctx: ServerContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/workers/install-command',
    {
      schema: {
        tags: ['workers'],
        body: InstallCommandInput,
        response: { 201: InstallCommand, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const input = req.body;
      for (const key of Object.keys(input.values)) checkExtraValueKey(key);
      const pools: string[] = [];
      for (const ref of input.pools) {
        const { name } = await findByRef(ctx.db, 'worker_pools', ref);
        if (!CHART_POOL_NAME.test(name)) {
          throw new LongshoreError(
            'VALIDATION_FAILED',
            `Worker pool '${name}' has whitespace or a comma in its name, which the chart's worker.pools cannot carry; rename the pool`,
            { pool: name },
          );
        }
        if (!pools.includes(name)) pools.push(name);
      }
      // Without a name the chart names the worker after the release.
      const existing = await registeredWorker(ctx, input.name ?? releaseName(undefined), pools, input.namespace);
      const namespace = input.namespace ?? existing?.namespace ?? 'longshore';
      const registration = existing
        ? undefined
        : await createRegistrationToken(ctx, {
            pools,
            ...(input.expiresInMinutes ? { expiresInMinutes: input.expiresInMinutes } : {}),
          });
      const { url, certificate } = ctx.endpoint;
      // A pin only for a certificate workers cannot check otherwise, reached directly: behind a TLS-terminating proxy (plain HTTP here) there is none to pin.
      const thumbprint = certificate?.pin && url.startsWith('https://') ? certificate.thumbprint : undefined;
      // The registered spelling: the kept credential is for exactly that name.
      const name = input.name === undefined ? undefined : (existing?.name ?? input.name);
      const helm: HelmInstall = {
        release: releaseName(input.name),
        chart: ctx.config.workerChart,
        version: LONGSHORE_VERSION,
        namespace,
        values: {
          'server.url': url,
          ...(thumbprint ? { 'server.certificateThumbprint': thumbprint } : {}),
          ...(registration ? { 'registration.token': registration.token } : {}),
          ...(name !== undefined ? { 'worker.name': name } : {}),
          'worker.pools': pools,
          ...input.values,
        },
      };
      const issued = registration ? { token: registration.token, expiresAt: registration.expiresAt } : {};
      return reply.status(201).send({ command: helmCommand(helm), reinstall: existing !== undefined, ...issued, helm });
    },
  );
}

/**
 * A Kubernetes worker already registered under this name is reinstalled, not refused: the chart
 * keeps its credential Secret on `helm uninstall`, and with no token it reuses that credential,
 * so the same worker (same id, pools and history) comes back. What would keep that from working
 * is refused here: another kind of worker, another namespace (the Secret is not there), other
 * pools (they came with the registration; a reinstall cannot change them).
 */
async function registeredWorker(
  ctx: ServerContext,
  name: string,
  pools: string[],
  namespace: string | undefined,
): Promise<{ name: string; namespace?: string } | undefined> {
  const taken = await nameHolder(ctx.db, 'workers', name);
  if (!taken) return undefined;
  const row = await findByRef(ctx.db, 'workers', taken.id);
  const retire = `or delete it first (longshore workers delete ${row.name}) to register a new worker`;
  if (row.executor !== 'kubernetes')
    throw new LongshoreError(
      'CONFLICT',
      `A worker named '${row.name}' is already registered (a ${row.executor} worker): choose another name, ${retire}`,
    );
  const registeredIn = (JSON.parse(row.metadata) as Record<string, string>).namespace;
  if (namespace !== undefined && registeredIn !== undefined && namespace !== registeredIn) {
    throw new LongshoreError(
      'CONFLICT',
      `Worker '${row.name}' runs in namespace ${registeredIn}, where its chart keeps its credential: reinstall it there (leave namespace out), ${retire} in ${namespace}`,
    );
  }
  const poolIds = JSON.parse(row.pools) as string[];
  const served = poolIds.length
    ? (await ctx.db.selectFrom('worker_pools').select('name').where('id', 'in', poolIds).execute()).map((p) => p.name)
    : [];
  if (served.length !== pools.length || !served.every((p) => pools.includes(p))) {
    throw new LongshoreError(
      'CONFLICT',
      `Worker '${row.name}' serves the pools ${served.sort().join(', ')}, which came with its registration and a reinstall keeps: ask for those, ${retire} for other pools`,
    );
  }
  return { name: row.name, ...(registeredIn !== undefined ? { namespace: registeredIn } : {}) };
}
